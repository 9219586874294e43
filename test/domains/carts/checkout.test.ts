// Checkout (PRODUCT.md §5.2, invariants 1–5): one master order + one PO per supplier, idempotent
// replays, refusals that change nothing, concurrency on one cart and on one capped contract line,
// and frozen prices.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { bearer, countAudit, createTestApp, expectProblem } from '../../helpers/app.js'
import { createContract } from '../../helpers/factories.js'
import { addLine, checkout, get, keysDeep, offeredArticle, staff, station, supplier, type Party } from '../orders/fixtures.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

async function masterOrdersOf (stationId: string): Promise<number> {
  const r = await app.db.selectFrom('masterOrders').select(eb => eb.fn.countAll<number>().as('n')).where('stationId', '=', stationId).executeTakeFirstOrThrow()
  return Number(r.n)
}
async function openCart (stationId: string) {
  return await app.db.selectFrom('carts').selectAll().where('stationId', '=', stationId).orderBy('createdAt', 'desc').executeTakeFirst()
}
async function orderedPacks (contractLineId: string): Promise<number> {
  return (await app.db.selectFrom('contractLines').select('orderedPacks').where('id', '=', contractLineId).executeTakeFirstOrThrow()).orderedPacks
}

/** A station whose cart holds one line from each of `n` suppliers. */
async function filledCart (n = 2, packs = 2): Promise<{ st: Party, suppliers: Party[] }> {
  const st = await station(app)
  const suppliers: Party[] = []
  for (let i = 0; i < n; i++) {
    const sup = await supplier(app)
    suppliers.push(sup)
    const { articleId } = await offeredArticle(app, sup.id)
    expect((await addLine(app, st.token, st.id, { articleId, supplierId: sup.id, packs })).statusCode).toBe(201)
  }
  return { st, suppliers }
}

describe('checkout', () => {
  it('creates one master order and one PO per supplier holding only its lines, and emits the outbox events', async () => {
    const st = await station(app)
    const [s1, s2] = [await supplier(app), await supplier(app)]
    const x = await offeredArticle(app, s1.id)
    const y = await offeredArticle(app, s1.id)
    const z = await offeredArticle(app, s2.id)
    for (const [articleId, supplierId] of [[x.articleId, s1.id], [z.articleId, s2.id], [y.articleId, s1.id]] as const) await addLine(app, st.token, st.id, { articleId, supplierId, packs: 3 })
    const before = await countAudit(app, { action: 'cart.checkout' })
    const res = await checkout(app, st.token, st.id)
    expect(res.statusCode, res.body).toBe(201)
    expect(await countAudit(app, { action: 'cart.checkout' })).toBe(before + 1)
    const mo = res.json()
    const audit = await app.db.selectFrom('auditEvents').select(['entityType', 'entityId', 'actorUserId']).where('action', '=', 'cart.checkout').where('entityId', '=', mo.id).executeTakeFirstOrThrow()
    expect(audit).toEqual({ entityType: 'master_order', entityId: mo.id, actorUserId: st.userId })
    expect(mo.supplierCount).toBe(2)
    const bySupplier = Object.fromEntries(mo.purchaseOrders.map((p: { supplierId: string, lines: Array<{ articleId: string }> }) => [p.supplierId, p.lines.map(l => l.articleId)]))
    expect(bySupplier).toEqual({ [s1.id]: [x.articleId, y.articleId], [s2.id]: [z.articleId] })
    const lines = await app.db.selectFrom('purchaseOrderLines').select(['supplierId', 'stationId']).where('purchaseOrderId', 'in', mo.purchaseOrders.map((p: { id: string }) => p.id)).execute()
    expect(lines).toHaveLength(3)
    expect(lines.every(l => l.stationId === st.id)).toBe(true)

    const events = await app.db.selectFrom('outboxEvents').select(['type', 'organizationIds', 'payload']).where(eb => eb.or([
      eb(eb.ref('payload'), '@>', JSON.stringify({ masterOrderId: mo.id }) as never),
      ...mo.purchaseOrders.map((p: { id: string }) => eb(eb.ref('payload'), '@>', JSON.stringify({ purchaseOrderId: p.id }) as never))
    ])).execute()
    expect(events.map(e => e.type).sort()).toEqual(['master_order.created', 'purchase_order.placed', 'purchase_order.placed'])
    expect(events.find(e => e.type === 'master_order.created')?.organizationIds).toEqual([st.id])
    expect(events.find(e => e.type === 'master_order.created')?.payload).toEqual({ masterOrderId: mo.id, number: mo.number, stationId: st.id, purchaseOrderIds: mo.purchaseOrders.map((p: { id: string }) => p.id) })
    for (const p of mo.purchaseOrders as Array<{ id: string, number: string, supplierId: string }>) {
      expect(events.find(e => (e.payload as { purchaseOrderId?: string }).purchaseOrderId === p.id)?.payload).toEqual({ purchaseOrderId: p.id, number: p.number, stationId: st.id, supplierId: p.supplierId, status: 'PLACED', version: 1 })
    }
    for (const e of events.filter(e => e.type === 'purchase_order.placed')) {
      expect(e.organizationIds).toEqual([st.id, (e.payload as { supplierId: string }).supplierId])
    }
    const history = await app.db.selectFrom('purchaseOrderEvents').select(['fromStatus', 'toStatus', 'actorUserId']).where('purchaseOrderId', '=', mo.purchaseOrders[0].id).execute()
    expect(history).toEqual([{ fromStatus: null, toStatus: 'PLACED', actorUserId: st.userId }])
  })

  it('requires an Idempotency-Key', async () => {
    const { st } = await filledCart(1)
    expectProblem(await app.inject({ method: 'POST', url: `/v1/stations/${st.id}/cart/checkout`, headers: bearer(st.token), payload: {} }), 400, 'IDEMPOTENCY_KEY_REQUIRED')
    expect(await masterOrdersOf(st.id)).toBe(0)
    // the key check comes after authentication and RBAC: no key tells nothing to a caller who may not check out
    const url = `/v1/stations/${st.id}/cart/checkout`
    expectProblem(await app.inject({ method: 'POST', url, payload: {} }), 401)
    expectProblem(await app.inject({ method: 'POST', url, headers: bearer((await supplier(app)).token), payload: {} }), 403)
    // a malformed key is a validation failure with a pointer
    const bad = await app.inject({ method: 'POST', url, headers: { ...bearer(st.token), 'idempotency-key': 'with space' }, payload: {} })
    expectProblem(bad, 400, 'VALIDATION_FAILED')
    expect(await masterOrdersOf(st.id)).toBe(0)
  })

  it('refuses an empty cart (422) and a cart already checked out (409)', async () => {
    const fresh = await station(app)
    expectProblem(await checkout(app, fresh.token, fresh.id), 422, 'CART_EMPTY')
    await get(app, fresh.token, `/v1/stations/${fresh.id}/cart`)
    expectProblem(await checkout(app, fresh.token, fresh.id), 422, 'CART_EMPTY')

    const { st } = await filledCart(1)
    expect((await checkout(app, st.token, st.id)).statusCode).toBe(201)
    const before = await countAudit(app)
    expectProblem(await checkout(app, st.token, st.id), 409, 'CART_ALREADY_CHECKED_OUT')
    expect(await countAudit(app)).toBe(before)
    expect(await masterOrdersOf(st.id)).toBe(1)
  })

  it('rejects every failing line at once and changes nothing', async () => {
    const st = await station(app)
    const sup = await supplier(app)
    const ok = await offeredArticle(app, sup.id)
    const moq = await offeredArticle(app, sup.id, { moqPacks: 5, packMultiple: 5 })
    const capped = await offeredArticle(app, sup.id)
    const contract = await createContract(app.db, sup.id, [{ articleId: capped.articleId, packPrice: '2.0000', committedPacks: 4 }])
    await addLine(app, st.token, st.id, { articleId: ok.articleId, supplierId: sup.id, packs: 1 })
    await addLine(app, st.token, st.id, { articleId: moq.articleId, supplierId: sup.id, packs: 3 })
    await addLine(app, st.token, st.id, { articleId: capped.articleId, supplierId: sup.id, packs: 5 })
    const before = await countAudit(app)
    const body = expectProblem(await checkout(app, st.token, st.id), 422, 'CHECKOUT_REJECTED')
    expect((body.errors as Array<{ pointer: string, code: string }>).map(e => [e.pointer, e.code])).toEqual([
      ['/lines/1/packs', 'BELOW_MOQ'],
      ['/lines/1/packs', 'NOT_A_MULTIPLE'],
      ['/lines/2/packs', 'CONTRACT_CAP_EXCEEDED']
    ])
    expect(await countAudit(app)).toBe(before)
    expect(await masterOrdersOf(st.id)).toBe(0)
    expect(await orderedPacks(contract.lineIds[0] as string)).toBe(0)
    expect((await openCart(st.id))?.status).toBe('OPEN')
  })

  it('keeps suppliers out (403) and other stations out (404)', async () => {
    const { st, suppliers } = await filledCart(1)
    const other = await station(app)
    expectProblem(await checkout(app, (suppliers[0] as Party).token, st.id), 403, 'FORBIDDEN')
    expectProblem(await checkout(app, other.token, st.id), 404, 'NOT_FOUND')
    expect(await masterOrdersOf(st.id)).toBe(0)
    const h = await staff(app)
    expect((await checkout(app, h.token, st.id)).statusCode).toBe(201)
  })
})

describe('idempotency', () => {
  it('replays the identical response for the same key, and refuses the key on another request', async () => {
    const { st } = await filledCart(2)
    const key = randomUUID()
    const first = await checkout(app, st.token, st.id, key)
    expect(first.statusCode).toBe(201)
    const again = await checkout(app, st.token, st.id, key)
    expect(again.statusCode).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.body).toBe(first.body)
    const keys = keysDeep(again.json())
    for (const f of ['supplierPackPrice', 'supplierLineNet', 'supplierTotals', 'feePct', 'marginNet', 'contractLineId']) expect(keys.has(f), f).toBe(false)
    expect(await masterOrdersOf(st.id)).toBe(1)

    // staff replays also keep their own view (both sides)
    const h = await staff(app)
    const { st: st2 } = await filledCart(1)
    const k2 = randomUUID()
    const s1 = await checkout(app, h.token, st2.id, k2)
    const s2 = await checkout(app, h.token, st2.id, k2)
    expect(s2.body).toBe(s1.body)
    expect(s2.json().supplierTotals).toBeDefined()
    // the same key on another request (another station's checkout) is 422
    const { st: st3 } = await filledCart(1)
    expectProblem(await checkout(app, h.token, st3.id, k2), 422, 'IDEMPOTENCY_KEY_REUSED')
    expect(await masterOrdersOf(st3.id)).toBe(0)
  })

  it('50 concurrent checkouts of one cart with one key: exactly one master order, the rest replay or 409', async () => {
    const { st } = await filledCart(3)
    const key = randomUUID()
    const results = await Promise.all(Array.from({ length: 50 }, async () => await checkout(app, st.token, st.id, key)))
    const created = results.filter(r => r.statusCode === 201)
    expect(results.every(r => r.statusCode === 201 || r.statusCode === 409), results.map(r => r.statusCode).join(',')).toBe(true)
    expect(new Set(created.map(r => r.json().id)).size).toBe(1)
    expect(created.filter(r => r.headers['idempotent-replayed'] !== 'true')).toHaveLength(1)
    for (const r of results.filter(r => r.statusCode === 409)) expect(['IDEMPOTENCY_IN_PROGRESS', 'CART_ALREADY_CHECKED_OUT']).toContain(r.json().code)
    expect(await masterOrdersOf(st.id)).toBe(1)
    expect(await countAudit(app, { action: 'cart.checkout' })).toBeGreaterThan(0)
  })

  it('50 concurrent checkouts of one cart with different keys: exactly one master order, the others 409', async () => {
    const { st } = await filledCart(3)
    const results = await Promise.all(Array.from({ length: 50 }, async () => await checkout(app, st.token, st.id)))
    expect(results.filter(r => r.statusCode === 201)).toHaveLength(1)
    for (const r of results.filter(r => r.statusCode !== 201)) expectProblem(r, 409, 'CART_ALREADY_CHECKED_OUT')
    expect(await masterOrdersOf(st.id)).toBe(1)
    const pos = await app.db.selectFrom('purchaseOrders').select('id').where('stationId', '=', st.id).execute()
    expect(pos).toHaveLength(3)
  })
})

describe('contract caps under concurrency', () => {
  it('never exceeds the cap, and failed checkouts reserve nothing on any line', async () => {
    const sup = await supplier(app)
    const roomy = await offeredArticle(app, sup.id)
    const tight = await offeredArticle(app, sup.id)
    const contract = await createContract(app.db, sup.id, [
      { articleId: roomy.articleId, packPrice: '1.0000', committedPacks: 100000 },
      { articleId: tight.articleId, packPrice: '1.0000', committedPacks: 10, allowancePct: '5.00' }
    ])
    const [roomyLine, tightLine] = contract.lineIds as [string, string]
    const stations: Party[] = []
    for (let i = 0; i < 12; i++) {
      const st = await station(app)
      await addLine(app, st.token, st.id, { articleId: roomy.articleId, supplierId: sup.id, packs: 7 })
      await addLine(app, st.token, st.id, { articleId: tight.articleId, supplierId: sup.id, packs: 3 })
      stations.push(st)
    }
    const results = await Promise.all(stations.map(async st => await checkout(app, st.token, st.id)))
    const ok = results.filter(r => r.statusCode === 201).length
    // cap 10 × 1.05 = 10.5 → 10 packs: three checkouts of 3 fit, a fourth does not
    expect(ok).toBe(3)
    for (const r of results.filter(r => r.statusCode !== 201)) expect(['CONTRACT_CAP_EXCEEDED', 'CHECKOUT_REJECTED']).toContain(r.json().code)
    expect(await orderedPacks(tightLine)).toBe(9)
    expect(await orderedPacks(roomyLine)).toBe(7 * ok)
    for (const [i, st] of stations.entries()) {
      expect((await openCart(st.id))?.status).toBe((results[i] as { statusCode: number }).statusCode === 201 ? 'CHECKED_OUT' : 'OPEN')
    }
  })
})

describe('price freezing', () => {
  it('keeps PO lines unchanged when the offer, the contract or the article change afterwards', async () => {
    const st = await station(app)
    const sup = await supplier(app)
    const h = await staff(app)
    const cat = await offeredArticle(app, sup.id, { catalogPackPrice: '7.5000' })
    const con = await offeredArticle(app, sup.id)
    const contract = await createContract(app.db, sup.id, [{ articleId: con.articleId, packPrice: '4.0000' }], { feePct: '10.00' })
    await addLine(app, st.token, st.id, { articleId: cat.articleId, supplierId: sup.id, packs: 2 })
    await addLine(app, st.token, st.id, { articleId: con.articleId, supplierId: sup.id, packs: 2 })
    const mo = (await checkout(app, st.token, st.id)).json()
    const poUrl = `/v1/purchase-orders/${String(mo.purchaseOrders[0].id)}`
    const before = (await get(app, h.token, poUrl)).json()
    expect(before.lines.map((l: { supplierPackPrice: string, stationPackPrice: string }) => [l.supplierPackPrice, l.stationPackPrice])).toEqual([['7.5000', '8.1000'], ['4.0000', '4.4000']])

    await app.db.updateTable('offers').set({ catalogPackPrice: '99.0000', packLabel: 'changed', unitsPerPack: 7 }).where('id', '=', cat.offerId).execute()
    await app.db.updateTable('contractLines').set({ packPrice: '50.0000' }).where('id', '=', contract.lineIds[0] as string).execute()
    await app.db.updateTable('contracts').set({ feePct: '30.00' }).where('id', '=', contract.id).execute()
    await app.db.updateTable('articles').set({ name: 'Renamed', vatRate: '5.50' }).where('id', 'in', [cat.articleId, con.articleId]).execute()

    const after = (await get(app, h.token, poUrl)).json()
    expect(after).toEqual(before)
  })
})
