// A transfer's shipment and reception reference real documents (PRODUCT.md §8, issue 14): ship
// needs a DELIVERY_NOTE, receive a SIGNED_DELIVERY_NOTE, either a document the caller may read.
// Anything else is 422 DOCUMENT_NOT_USABLE at the body field and changes nothing (status, stock,
// history, audit); a missing id and another station's document get the very same answer. Once
// attached, both stations of the transfer read it, a third station does not. The check rides in
// the transition's first read: no statement of its own.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { sql } from 'kysely'
import type { App } from '../../../src/lib/route.js'
import { bearer, countAudit, createTestApp, expectProblem } from '../../helpers/app.js'
import { createDocument } from '../../helpers/factories.js'
import { TINY_PDF, uploadForm } from '../../helpers/multipart.js'
import { act, bodyFor, get, ledger, network, noteOf, signedNoteOf, transferIn, type Network, type Party } from './fixtures.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })
afterEach(() => { vi.restoreAllMocks() })

async function upload (who: Party, type: string): Promise<string> {
  const form = uploadForm(type, TINY_PDF)
  const res = await app.inject({ method: 'POST', url: '/v1/documents', headers: { ...bearer(who.token), ...form.headers }, payload: form.payload })
  expect(res.statusCode, res.body).toBe(201)
  return (res.json() as { id: string }).id
}

const docOf = async (who: Party, type: 'DELIVERY_NOTE' | 'SIGNED_DELIVERY_NOTE' | 'PHOTO'): Promise<string> =>
  (await createDocument(app.db, { userId: who.userId, role: who.role, organizationId: who.id }, type)).id

async function state (n: Network, id: string): Promise<unknown> {
  const t = await app.db.selectFrom('transfers').select(['status', 'version', 'deliveryNoteDocId', 'signedNoteDocId', 'updatedAt']).where('id', '=', id).executeTakeFirstOrThrow()
  const events = await app.db.selectFrom('transferEvents').select('toStatus').where('transferId', '=', id).orderBy('id').execute()
  return { t, events, ledger: await ledger(app, [n.src.id, n.req.id]), audits: await countAudit(app) }
}

/** What a refusal says, without what differs per request. */
const verdict = (body: Record<string, unknown>): unknown => ({ status: body.status, code: body.code, title: body.title, detail: body.detail, errors: body.errors })

describe('a transfer references its delivery notes', () => {
  it('the source uploads a delivery note and ships; then the requesting station reads it, a third station or a supplier does not (and the same for the signed note)', async () => {
    const n = await network(app, { articleCount: 1, stock: 50 })
    const t = await transferIn(app, n, 'IN_PREPARATION', 10)
    const note = await upload(n.src, 'DELIVERY_NOTE')
    expectProblem(await get(app, n.req.token, `/v1/documents/${note}`), 404, 'NOT_FOUND')
    const shipped = await act(app, n.src.token, t.id, 'ship', { deliveryNoteDocumentId: note })
    expect(shipped.statusCode, shipped.body).toBe(200)
    expect(shipped.json()).toMatchObject({ status: 'SHIPPED', deliveryNoteDocumentId: note })
    expect((await get(app, n.req.token, `/v1/documents/${note}`)).json()).toMatchObject({ id: note, type: 'DELIVERY_NOTE', organizationId: n.src.id })
    const content = await get(app, n.req.token, `/v1/documents/${note}/content`)
    expect(content.statusCode).toBe(200)
    expect(content.rawPayload.equals(TINY_PDF)).toBe(true)
    for (const outsider of [n.other, n.supplier]) expectProblem(await get(app, outsider.token, `/v1/documents/${note}`), 404, 'NOT_FOUND')

    const signed = await upload(n.req, 'SIGNED_DELIVERY_NOTE')
    expectProblem(await get(app, n.src.token, `/v1/documents/${signed}`), 404, 'NOT_FOUND')
    const received = await act(app, n.req.token, t.id, 'receive', { signedDeliveryNoteDocumentId: signed, lines: t.lines.map(l => ({ lineId: l.id, unitsReceived: 10 })) })
    expect(received.statusCode, received.body).toBe(200)
    expect(received.json()).toMatchObject({ status: 'RECEIVED', deliveryNoteDocumentId: note, signedDeliveryNoteDocumentId: signed })
    expect((await get(app, n.src.token, `/v1/documents/${signed}/content`)).statusCode).toBe(200)
    for (const outsider of [n.other, n.supplier]) expectProblem(await get(app, outsider.token, `/v1/documents/${signed}`), 404, 'NOT_FOUND')
  })

  it('ship: 422 DOCUMENT_NOT_USABLE for a missing id, a third station\'s document and the requester\'s unattached one — one identical answer — and for the wrong type; nothing changes', async () => {
    const n = await network(app, { articleCount: 2, stock: 50 })
    const t = await transferIn(app, n, 'IN_PREPARATION', [10, 5])
    const before = await state(n, t.id)
    const ship = async (id: string) => await act(app, n.src.token, t.id, 'ship', { deliveryNoteDocumentId: id })
    const answers = []
    for (const id of [randomUUID(), await docOf(n.other, 'DELIVERY_NOTE'), await docOf(n.req, 'DELIVERY_NOTE')]) {
      answers.push(verdict(expectProblem(await ship(id), 422, 'DOCUMENT_NOT_USABLE')))
    }
    expect(answers[0]).toMatchObject({ errors: [{ pointer: '/deliveryNoteDocumentId', code: 'DOCUMENT_NOT_USABLE' }] })
    expect(answers[1]).toEqual(answers[0])
    expect(answers[2]).toEqual(answers[0])
    for (const type of ['SIGNED_DELIVERY_NOTE', 'PHOTO'] as const) {
      const body = expectProblem(await ship(await docOf(n.src, type)), 422, 'DOCUMENT_NOT_USABLE')
      expect(body.errors).toEqual([{ pointer: '/deliveryNoteDocumentId', code: 'DOCUMENT_NOT_USABLE', detail: `is a ${type}; expected DELIVERY_NOTE` }])
    }
    expect(await state(n, t.id)).toEqual(before)
    // staff may reference the source's note (they read every document)
    expect((await act(app, n.handler.token, t.id, 'ship', { deliveryNoteDocumentId: noteOf(n) })).statusCode).toBe(200)
  })

  it('receive: the delivery note (readable by the requester once shipped) is the wrong type; a missing or foreign signed note is refused the same way; no stock moves', async () => {
    const n = await network(app, { articleCount: 1, stock: 50 })
    const t = await transferIn(app, n, 'SHIPPED', 10)
    const before = await state(n, t.id)
    const receive = async (id: string) => await act(app, n.req.token, t.id, 'receive', { ...bodyFor('receive', t), signedDeliveryNoteDocumentId: id })
    const wrong = expectProblem(await receive(noteOf(n)), 422, 'DOCUMENT_NOT_USABLE')
    expect(wrong.errors).toEqual([{ pointer: '/signedDeliveryNoteDocumentId', code: 'DOCUMENT_NOT_USABLE', detail: 'is a DELIVERY_NOTE; expected SIGNED_DELIVERY_NOTE' }])
    const missing = verdict(expectProblem(await receive(randomUUID()), 422, 'DOCUMENT_NOT_USABLE'))
    expect(verdict(expectProblem(await receive(await docOf(n.other, 'SIGNED_DELIVERY_NOTE')), 422, 'DOCUMENT_NOT_USABLE'))).toEqual(missing)
    expect(await state(n, t.id)).toEqual(before)
    expect((await receive(signedNoteOf(n))).statusCode).toBe(200)
  })

  it('scope (404), party (403) and state (409) are answered before the document is looked at', async () => {
    const n = await network(app, { articleCount: 1, stock: 50 })
    const t = await transferIn(app, n, 'CONFIRMED', 10)
    const bad = { deliveryNoteDocumentId: randomUUID() }
    expectProblem(await act(app, n.src.token, t.id, 'ship', bad), 409, 'INVALID_TRANSITION')
    await act(app, n.handler.token, t.id, 'prepare', {})
    expectProblem(await act(app, n.other.token, t.id, 'ship', bad), 404, 'NOT_FOUND')
    expectProblem(await act(app, n.req.token, t.id, 'ship', bad), 403, 'NOT_ALLOWED_FOR_PARTY')
    expectProblem(await act(app, n.supplier.token, t.id, 'ship', bad), 403, 'FORBIDDEN')
  })

  it('the check costs no statement of its own: it is a column of the transition\'s first read', async () => {
    const n = await network(app, { articleCount: 1, stock: 50 })
    const t = await transferIn(app, n, 'IN_PREPARATION', 10)
    const texts: string[] = []
    const original = pg.Client.prototype.query
    vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const first = args[0]
      texts.push(typeof first === 'string' ? first : (first as { text: string }).text)
      return Reflect.apply(original, this, args)
    })
    const res = await act(app, n.src.token, t.id, 'ship', bodyFor('ship', t))
    vi.restoreAllMocks()
    expect(res.statusCode, res.body).toBe(200)
    const touching = texts.filter(x => /\bdocuments\b/.test(x))
    expect(touching).toHaveLength(1)
    expect(touching[0]).toMatch(/FROM transfers t WHERE t\.id/)
  })

  it('the database refuses a reference to no document (foreign keys of migration 0013)', async () => {
    const n = await network(app, { articleCount: 1 })
    const t = await transferIn(app, n, 'REQUESTED', 1)
    await expect(sql`UPDATE transfers SET delivery_note_doc_id = ${randomUUID()}::uuid WHERE id = ${t.id}::uuid`.execute(app.db)).rejects.toThrow(/transfers_delivery_note_doc_fk/)
    await expect(sql`UPDATE transfers SET signed_note_doc_id = ${randomUUID()}::uuid WHERE id = ${t.id}::uuid`.execute(app.db)).rejects.toThrow(/transfers_signed_note_doc_fk/)
  })
})
