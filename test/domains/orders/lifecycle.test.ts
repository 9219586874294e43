// The whole journey through HTTP: a cart across three suppliers → checkout → every PO confirmed,
// shipped, received, closed, invoiced and archived, with totals checked to the cent (§4.4), stock
// checked in base units, contract caps and the derived master status followed at every step.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { createTestApp } from '../../helpers/app.js'
import { createContract } from '../../helpers/factories.js'
import { act, addLine, checkout, documentOf, get, offeredArticle, staff, station, supplier, type Party } from './fixtures.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

describe('cart → checkout → purchase-order lifecycle', () => {
  let st: Party, a: Party, b: Party, c: Party, handler: Party
  let a1: string, a2: string, b1: string, c1: string, contractLineId: string

  beforeAll(async () => {
    st = await station(app)
    ;[a, b, c] = [await supplier(app), await supplier(app), await supplier(app)]
    handler = await staff(app)
    a1 = (await offeredArticle(app, a.id, { catalogPackPrice: '99.0000', vatRate: '20.00' })).articleId
    a2 = (await offeredArticle(app, a.id, { catalogPackPrice: '3.3333', vatRate: '5.50' })).articleId
    b1 = (await offeredArticle(app, b.id, { catalogPackPrice: '0.0050', vatRate: '20.00', unitsPerPack: 250 })).articleId
    c1 = (await offeredArticle(app, c.id, { catalogPackPrice: '100.0000', vatRate: '10.00', unitsPerPack: 12 })).articleId
    const contract = await createContract(app.db, a.id, [{ articleId: a1, packPrice: '12.3456', committedPacks: 1000 }], { feePct: '8.00' })
    contractLineId = contract.lineIds[0] as string
  })

  it('runs end to end', async () => {
    for (const [articleId, supplierId, packs] of [[a1, a.id, 7], [a2, a.id, 15], [b1, b.id, 1], [c1, c.id, 3]] as const) {
      expect((await addLine(app, st.token, st.id, { articleId, supplierId, packs })).statusCode).toBe(201)
    }
    const cart = (await get(app, st.token, `/v1/stations/${st.id}/cart`)).json()
    expect(cart.lines.map((l: { problems: unknown[] }) => l.problems)).toEqual([[], [], [], []])
    expect(cart.lines[0]).toMatchObject({ priceSource: 'CONTRACT', stationPackPrice: '13.3332', lineNet: '93.33' })
    expect(cart.lines[0].supplierPackPrice).toBeUndefined()
    expect(cart.totals).toEqual({ net: '471.34', vat: '54.04', gross: '525.38', currency: 'EUR' })

    const res = await checkout(app, st.token, st.id)
    expect(res.statusCode, res.body).toBe(201)
    const mo = res.json()
    expect(mo.number).toMatch(/^MO-\d{4}-\d{6}$/)
    expect(mo).toMatchObject({ stationId: st.id, status: 'PLACED', supplierCount: 3, totals: { net: '471.34', vat: '54.04', gross: '525.38', currency: 'EUR' } })
    expect(mo.supplierTotals).toBeUndefined()
    expect(mo.purchaseOrders).toHaveLength(3)

    // Platform staff see both sides; master totals = Σ PO totals on each side.
    const full = (await get(app, handler.token, `/v1/master-orders/${mo.id}`)).json()
    expect(full.supplierTotals).toEqual({ net: '436.43', vat: '50.03', gross: '486.46', currency: 'EUR' })
    expect(full.marginNet).toBe('34.91')
    const poOf = (sid: string) => full.purchaseOrders.find((p: { supplierId: string }) => p.supplierId === sid)
    const poA = poOf(a.id)
    const poB = poOf(b.id)
    const poC = poOf(c.id)
    expect(poA.number).toMatch(/^PO-\d{4}-\d{6}$/)
    expect(poA.lines.map((l: { articleId: string }) => l.articleId)).toEqual([a1, a2])
    expect(poA.supplierTotals).toEqual({ net: '136.42', vat: '20.03', gross: '156.45', currency: 'EUR' })
    expect(poA.totals).toEqual({ net: '147.33', vat: '21.64', gross: '168.97', currency: 'EUR' })
    expect(poA.lines[0]).toMatchObject({ priceSource: 'CONTRACT', contractLineId, supplierPackPrice: '12.3456', feePct: '8.00', stationPackPrice: '13.3332', supplierLineNet: '86.42', lineNet: '93.33', packs: 7 })
    expect(poA.lines[1]).toMatchObject({ priceSource: 'CATALOG', supplierPackPrice: '3.3333', stationPackPrice: '3.6000', supplierLineNet: '50.00', lineNet: '54.00' })
    expect(poB.supplierTotals).toEqual({ net: '0.01', vat: '0.00', gross: '0.01', currency: 'EUR' })
    expect(poB.totals).toEqual({ net: '0.01', vat: '0.00', gross: '0.01', currency: 'EUR' })
    expect(poC.supplierTotals).toEqual({ net: '300.00', vat: '30.00', gross: '330.00', currency: 'EUR' })
    expect(poC.totals).toEqual({ net: '324.00', vat: '32.40', gross: '356.40', currency: 'EUR' })

    // The cart is closed and linked; the next cart starts empty.
    const closed = await app.db.selectFrom('carts').selectAll().where('id', '=', cart.id).executeTakeFirstOrThrow()
    expect(closed).toMatchObject({ status: 'CHECKED_OUT', masterOrderId: mo.id })
    expect(closed.checkedOutAt).not.toBeNull()
    const next = (await get(app, st.token, `/v1/stations/${st.id}/cart`)).json()
    expect(next.id).not.toBe(cart.id)
    expect(next.lines).toEqual([])
    const cl = await app.db.selectFrom('contractLines').select('orderedPacks').where('id', '=', contractLineId).executeTakeFirstOrThrow()
    expect(cl.orderedPacks).toBe(7)

    const masterStatus = async () => (await get(app, st.token, `/v1/master-orders/${mo.id}`)).json().status
    const run = async (token: string, po: { id: string }, verb: string, body: object = {}) => {
      const r = await act(app, token, po.id, verb, body)
      expect(r.statusCode, `${verb}: ${r.body}`).toBe(200)
      return r.json()
    }
    const confirmAll = (po: { lines: Array<{ id: string }> }) => ({ lines: po.lines.map(l => ({ lineId: l.id, confirmedDeliveryDate: '2099-06-28' })) })

    // confirm: the supplier itself for A and B, staff on behalf of C
    expect((await run(a.token, poA, 'confirm', confirmAll(poA))).status).toBe('CONFIRMED')
    expect(await masterStatus()).toBe('PARTIALLY_CONFIRMED')
    await run(b.token, poB, 'confirm', confirmAll(poB))
    await run(handler.token, poC, 'confirm', confirmAll(poC))
    expect(await masterStatus()).toBe('CONFIRMED')

    // each supplier ships with the delivery note it uploaded
    for (const [p, po] of [[a, poA], [b, poB], [c, poC]] as const) {
      const note = await documentOf(app, p, 'SUPPLIER', 'DELIVERY_NOTE')
      const shipped = await run(p.token, po, 'ship', { carrier: 'Geodis', trackingNumber: `T-${String(po.number)}`, deliveryNoteDocumentId: note })
      expect(shipped).toMatchObject({ status: 'SHIPPED', carrier: 'Geodis', deliveryNoteDocumentId: note })
      expect(shipped.totals).toBeUndefined()
    }
    expect(await masterStatus()).toBe('SHIPPED')

    // receive: A short on its contract line, B and C in full, with the signed note the station uploaded
    const doc = await documentOf(app, st, 'STATION', 'SIGNED_DELIVERY_NOTE')
    const recA = await run(st.token, poA, 'receive', { signedDeliveryNoteDocumentId: doc, lines: [{ lineId: poA.lines[0].id, packsReceived: 5, discrepancy: '2 packs missing' }, { lineId: poA.lines[1].id, packsReceived: 15 }] })
    expect(recA.lines.map((l: { packsReceived: number }) => l.packsReceived)).toEqual([5, 15])
    expect(await masterStatus()).toBe('PARTIALLY_RECEIVED')
    await run(st.token, poB, 'receive', { signedDeliveryNoteDocumentId: doc, lines: [{ lineId: poB.lines[0].id, packsReceived: 1 }] })
    await run(handler.token, poC, 'receive', { signedDeliveryNoteDocumentId: doc, lines: [{ lineId: poC.lines[0].id, packsReceived: 3 }] })
    expect(await masterStatus()).toBe('RECEIVED')

    // stock in base units, and Σ movements = level
    const levels = await app.db.selectFrom('stockLevels').select(['articleId', 'quantity']).where('stationId', '=', st.id).execute()
    expect(Object.fromEntries(levels.map(l => [l.articleId, l.quantity]))).toEqual({ [a1]: 500, [a2]: 1500, [b1]: 250, [c1]: 36 })
    const moves = await app.db.selectFrom('stockMovements').select(['articleId', 'delta', 'reason', 'refId', 'refType']).where('stationId', '=', st.id).execute()
    expect(moves).toHaveLength(4)
    expect(moves.every(m => m.reason === 'PO_RECEIPT' && m.refType === 'PURCHASE_ORDER')).toBe(true)
    expect(moves.find(m => m.articleId === a1)).toMatchObject({ delta: 500, refId: poA.id })

    for (const po of [poA, poB, poC]) await run(st.token, po, 'close')
    expect(await masterStatus()).toBe('CLOSED')
    // closing with a shortfall gives it back to the contract
    expect((await app.db.selectFrom('contractLines').select('orderedPacks').where('id', '=', contractLineId).executeTakeFirstOrThrow()).orderedPacks).toBe(5)

    const invA = await run(handler.token, poA, 'invoice', { invoiceNumber: 'FA-1', invoiceDate: '2099-07-01' })
    expect(invA).toMatchObject({
      status: 'INVOICED',
      invoiceNumber: 'FA-1',
      invoiceDate: '2099-07-01',
      invoicedSupplierTotals: { net: '111.73', vat: '15.10', gross: '126.83', currency: 'EUR' },
      invoicedTotals: { net: '120.67', vat: '16.30', gross: '136.97', currency: 'EUR' }
    })
    expect(await masterStatus()).toBe('PARTIALLY_INVOICED')
    await run(handler.token, poB, 'invoice', { invoiceNumber: 'FB-1', invoiceDate: '2099-07-01' })
    await run(handler.token, poC, 'invoice', { invoiceNumber: 'FC-1', invoiceDate: '2099-07-01' })
    for (const po of [poA, poB, poC]) await run(handler.token, po, 'archive')
    expect(await masterStatus()).toBe('ARCHIVED')

    const events = (await get(app, a.token, `/v1/purchase-orders/${poA.id}/events`)).json().items
    expect(events.map((e: { toStatus: string }) => e.toStatus)).toEqual(['PLACED', 'CONFIRMED', 'SHIPPED', 'RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED'])
    expect(events[3]).toMatchObject({ fromStatus: 'SHIPPED', actorUserId: st.userId, actorRole: 'STATION' })
    const outbox = await app.db.selectFrom('outboxEvents').select(['type']).where(sql<boolean>`payload @> ${JSON.stringify({ purchaseOrderId: poA.id })}::jsonb`).execute()
    expect(outbox.map(o => o.type).sort()).toEqual(['purchase_order.archived', 'purchase_order.closed', 'purchase_order.confirmed', 'purchase_order.invoiced', 'purchase_order.placed', 'purchase_order.received', 'purchase_order.shipped'])
  })
})
