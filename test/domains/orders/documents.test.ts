// A purchase order's shipment and reception reference real documents (PRODUCT.md §8, issue 14):
// ship needs a DELIVERY_NOTE, receive a SIGNED_DELIVERY_NOTE, either a document the caller may
// read. Anything else is 422 DOCUMENT_NOT_USABLE at the body field and changes nothing; a missing
// id and another tenant's document get the very same answer (no existence oracle). Once attached,
// the document is readable by both parties of the order, by nobody else. The check rides in the
// transition's locking read: no statement of its own.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { sql } from 'kysely'
import type { App } from '../../../src/lib/route.js'
import { bearer, countAudit, createTestApp, expectProblem } from '../../helpers/app.js'
import { TINY_PDF, uploadForm } from '../../helpers/multipart.js'
import { act, advance, bodyFor, documentOf, get, placeOrder, staff, station, supplier, type Party, type PlacedOrder } from './fixtures.js'

let app: App
let h: Party
beforeAll(async () => { app = await createTestApp(); h = await staff(app) })
afterAll(async () => { await app.close() })
afterEach(() => { vi.restoreAllMocks() })

async function upload (who: Party, type: string): Promise<string> {
  const form = uploadForm(type, TINY_PDF)
  const res = await app.inject({ method: 'POST', url: '/v1/documents', headers: { ...bearer(who.token), ...form.headers }, payload: form.payload })
  expect(res.statusCode, res.body).toBe(201)
  return (res.json() as { id: string }).id
}

async function poRow (id: string) {
  return await app.db.selectFrom('purchaseOrders').select(['status', 'version', 'deliveryNoteDocId', 'signedNoteDocId', 'updatedAt']).where('id', '=', id).executeTakeFirstOrThrow()
}
async function eventsOf (id: string): Promise<number> {
  return Number((await app.db.selectFrom('purchaseOrderEvents').select(eb => eb.fn.countAll<number>().as('n')).where('purchaseOrderId', '=', id).executeTakeFirstOrThrow()).n)
}
async function stockRows (stationId: string): Promise<number> {
  return Number((await app.db.selectFrom('stockMovements').select(eb => eb.fn.countAll<number>().as('n')).where('stationId', '=', stationId).executeTakeFirstOrThrow()).n)
}

/** What a refusal says, without what differs per request. */
const verdict = (body: Record<string, unknown>): unknown => ({ status: body.status, code: body.code, title: body.title, detail: body.detail, errors: body.errors })

describe('a purchase order references its delivery notes', () => {
  it('the supplier uploads a delivery note and ships; then the station reads it, an uninvolved station or supplier does not (and the same for the signed note)', async () => {
    const o = await placeOrder(app, [4])
    const [otherStation, otherSupplier] = [await station(app), await supplier(app)]
    await advance(app, h.token, o, ['confirm'])

    const note = await upload(o.sup, 'DELIVERY_NOTE')
    expectProblem(await get(app, o.st.token, `/v1/documents/${note}`), 404, 'NOT_FOUND')
    const shipped = await act(app, o.sup.token, o.poId, 'ship', { carrier: 'Geodis', trackingNumber: 'GEO-1', deliveryNoteDocumentId: note })
    expect(shipped.statusCode, shipped.body).toBe(200)
    expect(shipped.json()).toMatchObject({ status: 'SHIPPED', deliveryNoteDocumentId: note })

    expect((await get(app, o.st.token, `/v1/documents/${note}`)).json()).toMatchObject({ id: note, type: 'DELIVERY_NOTE', organizationId: o.sup.id })
    const content = await get(app, o.st.token, `/v1/documents/${note}/content`)
    expect(content.statusCode).toBe(200)
    expect(content.rawPayload.equals(TINY_PDF)).toBe(true)
    for (const outsider of [otherStation, otherSupplier]) {
      expectProblem(await get(app, outsider.token, `/v1/documents/${note}`), 404, 'NOT_FOUND')
      expectProblem(await get(app, outsider.token, `/v1/documents/${note}/content`), 404, 'NOT_FOUND')
    }

    const signed = await upload(o.st, 'SIGNED_DELIVERY_NOTE')
    expectProblem(await get(app, o.sup.token, `/v1/documents/${signed}`), 404, 'NOT_FOUND')
    const received = await act(app, o.st.token, o.poId, 'receive', { signedDeliveryNoteDocumentId: signed, lines: [{ lineId: o.lineIds[0], packsReceived: 4 }] })
    expect(received.statusCode, received.body).toBe(200)
    expect(received.json()).toMatchObject({ status: 'RECEIVED', deliveryNoteDocumentId: note, signedDeliveryNoteDocumentId: signed })
    expect((await get(app, o.sup.token, `/v1/documents/${signed}`)).statusCode).toBe(200)
    for (const outsider of [otherStation, otherSupplier]) expectProblem(await get(app, outsider.token, `/v1/documents/${signed}`), 404, 'NOT_FOUND')
  })

  it('ship: 422 DOCUMENT_NOT_USABLE for a missing id, another tenant\'s document and the other party\'s unattached one — one identical answer — and for the wrong type; nothing changes', async () => {
    const o = await placeOrder(app, [3])
    await advance(app, h.token, o, ['confirm'])
    const rival = await supplier(app)
    const before = await poRow(o.poId)
    const [audits, events] = [await countAudit(app), await eventsOf(o.poId)]
    const ship = async (id: string) => await act(app, o.sup.token, o.poId, 'ship', { carrier: 'Geodis', trackingNumber: 'GEO-2', deliveryNoteDocumentId: id })

    const unreadable = [
      randomUUID(), // never uploaded
      await documentOf(app, rival, 'SUPPLIER', 'DELIVERY_NOTE'), // another supplier's
      await documentOf(app, o.st, 'STATION', 'DELIVERY_NOTE') // the station's, not attached to anything yet
    ]
    const answers = []
    for (const id of unreadable) answers.push(verdict(expectProblem(await ship(id), 422, 'DOCUMENT_NOT_USABLE')))
    expect(answers[0]).toMatchObject({ errors: [{ pointer: '/deliveryNoteDocumentId', code: 'DOCUMENT_NOT_USABLE' }] })
    expect(answers[1]).toEqual(answers[0])
    expect(answers[2]).toEqual(answers[0])

    for (const type of ['SIGNED_DELIVERY_NOTE', 'INVOICE'] as const) {
      const body = expectProblem(await ship(await documentOf(app, o.sup, 'SUPPLIER', type)), 422, 'DOCUMENT_NOT_USABLE')
      expect(body.errors).toEqual([{ pointer: '/deliveryNoteDocumentId', code: 'DOCUMENT_NOT_USABLE', detail: `is a ${type}; expected DELIVERY_NOTE` }])
    }
    expect(await poRow(o.poId)).toEqual(before)
    expect([await countAudit(app), await eventsOf(o.poId)]).toEqual([audits, events])
    expect((await ship(o.docs?.deliveryNote ?? '')).statusCode).toBe(200)
  })

  it('receive: the delivery note (readable by the station once shipped) is the wrong type; a missing or foreign signed note is refused the same way; no stock moves', async () => {
    const o = await placeOrder(app, [5])
    await advance(app, h.token, o, ['confirm', 'ship'])
    const stranger = await station(app)
    const before = await poRow(o.poId)
    const [audits, moves] = [await countAudit(app), await stockRows(o.st.id)]
    const receive = async (id: string) => await act(app, o.st.token, o.poId, 'receive', { ...bodyFor('receive', o, [5]), signedDeliveryNoteDocumentId: id })

    const wrong = expectProblem(await receive(o.docs?.deliveryNote ?? ''), 422, 'DOCUMENT_NOT_USABLE')
    expect(wrong.errors).toEqual([{ pointer: '/signedDeliveryNoteDocumentId', code: 'DOCUMENT_NOT_USABLE', detail: 'is a DELIVERY_NOTE; expected SIGNED_DELIVERY_NOTE' }])
    const missing = verdict(expectProblem(await receive(randomUUID()), 422, 'DOCUMENT_NOT_USABLE'))
    const foreign = verdict(expectProblem(await receive(await documentOf(app, stranger, 'STATION', 'SIGNED_DELIVERY_NOTE')), 422, 'DOCUMENT_NOT_USABLE'))
    expect(foreign).toEqual(missing)
    expect(missing).toMatchObject({ errors: [{ pointer: '/signedDeliveryNoteDocumentId' }] })
    expect(await poRow(o.poId)).toEqual(before)
    expect([await countAudit(app), await stockRows(o.st.id)]).toEqual([audits, moves])
    expect((await receive(o.docs?.signedNote ?? '')).statusCode).toBe(200)
  })

  it('scope (404), role (403) and state (409) are answered before the document is looked at', async () => {
    const o = await placeOrder(app, [2])
    const rival = await supplier(app)
    const bad = { carrier: 'x', trackingNumber: 'y', deliveryNoteDocumentId: randomUUID() }
    expectProblem(await act(app, o.sup.token, o.poId, 'ship', bad), 409, 'INVALID_TRANSITION')
    await advance(app, h.token, o, ['confirm'])
    expectProblem(await act(app, rival.token, o.poId, 'ship', bad), 404, 'NOT_FOUND')
    expectProblem(await act(app, o.st.token, o.poId, 'ship', bad), 403, 'FORBIDDEN')
    expectProblem(await act(app, h.token, o.poId, 'ship', { ...bad, deliveryNoteDocumentId: 'not-a-uuid' }), 400, 'VALIDATION_FAILED')
  })

  it('the check costs no statement of its own: it is a column of the locking read', async () => {
    const o = await placeOrder(app, [2])
    await advance(app, h.token, o, ['confirm'])
    const texts: string[] = []
    const original = pg.Client.prototype.query
    vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const first = args[0]
      texts.push(typeof first === 'string' ? first : (first as { text: string }).text)
      return Reflect.apply(original, this, args)
    })
    const res = await act(app, o.sup.token, o.poId, 'ship', bodyFor('ship', o))
    vi.restoreAllMocks()
    expect(res.statusCode, res.body).toBe(200)
    const touching = texts.filter(t => /\bdocuments\b/.test(t))
    expect(touching).toHaveLength(1)
    expect(touching[0]).toMatch(/FOR UPDATE OF mo/)
  })

  it('50 parallel ships of one PO, half with another supplier\'s note: one succeeds with the supplier\'s own note, the foreign ones never do', async () => {
    const o: PlacedOrder = await placeOrder(app, [2])
    await advance(app, h.token, o, ['confirm'])
    const foreign = await documentOf(app, await supplier(app), 'SUPPLIER', 'DELIVERY_NOTE')
    const own = o.docs?.deliveryNote ?? ''
    const results = await Promise.all(Array.from({ length: 50 }, async (_, i) =>
      await act(app, o.sup.token, o.poId, 'ship', { carrier: 'Geodis', trackingNumber: `GEO-${i}`, deliveryNoteDocumentId: i % 2 === 0 ? own : foreign })))
    const ok = results.filter(r => r.statusCode === 200)
    expect(ok).toHaveLength(1)
    expect(ok[0]?.json().deliveryNoteDocumentId).toBe(own)
    results.forEach((r, i) => {
      if (i % 2 === 1) expect([409, 422], r.body).toContain(r.statusCode)
      else if (r.statusCode !== 200) expect(r.statusCode, r.body).toBe(409)
    })
    expect(await poRow(o.poId)).toMatchObject({ status: 'SHIPPED', deliveryNoteDocId: own })
    const shippedEvents = await sql<{ n: number }>`SELECT count(*)::int AS n FROM purchase_order_events WHERE purchase_order_id = ${o.poId}::uuid AND to_status = 'SHIPPED'`.execute(app.db)
    expect(shippedEvents.rows[0]?.n).toBe(1)
  })

  it('the database refuses a reference to no document (foreign keys of migration 0013)', async () => {
    const o = await placeOrder(app, [1])
    await expect(sql`UPDATE purchase_orders SET delivery_note_doc_id = ${randomUUID()}::uuid WHERE id = ${o.poId}::uuid`.execute(app.db)).rejects.toThrow(/purchase_orders_delivery_note_doc_fk/)
    await expect(sql`UPDATE purchase_orders SET signed_note_doc_id = ${randomUUID()}::uuid WHERE id = ${o.poId}::uuid`.execute(app.db)).rejects.toThrow(/purchase_orders_signed_note_doc_fk/)
    const { rows } = await sql<{ name: string, valid: boolean }>`
      SELECT conname AS name, convalidated AS valid FROM pg_constraint WHERE conname LIKE '%\_doc\_fk' ORDER BY 1`.execute(app.db)
    expect(rows).toEqual([
      { name: 'purchase_orders_delivery_note_doc_fk', valid: true },
      { name: 'purchase_orders_signed_note_doc_fk', valid: true },
      { name: 'transfers_delivery_note_doc_fk', valid: true },
      { name: 'transfers_signed_note_doc_fk', valid: true }
    ])
  })
})
