// The purchase-order lifecycle (PRODUCT.md §5.3, invariants 6–9): only the listed transitions
// succeed, each for its actor and owner; If-Match; one effect under concurrency; caps released on
// cancel/decline/close; stock on receipt with the receiving tolerance; scoped reads and per-audience
// price visibility on every order endpoint; keyset pagination.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import type { App } from '../../../src/lib/route.js'
import { countAudit, createTestApp, expectProblem } from '../../helpers/app.js'
import { createContract } from '../../helpers/factories.js'
import { PATH_TO, act, addLine, advance, multiSupplierOrder, bodyFor, checkout, get, keysDeep, offeredArticle, orderDocs, placeOrder, staff, station, supplier, type Party, type PlacedOrder } from './fixtures.js'

let app: App
let h: Party
beforeAll(async () => { app = await createTestApp(); h = await staff(app) })
afterAll(async () => { await app.close() })

const VERBS = ['confirm', 'decline', 'ship', 'receive', 'close', 'invoice', 'archive', 'cancel'] as const
const ALLOWED: Record<string, string[]> = {
  PLACED: ['confirm', 'decline', 'cancel'],
  CONFIRMED: ['ship', 'cancel'],
  SHIPPED: ['receive'],
  RECEIVED: ['close'],
  CLOSED: ['invoice'],
  INVOICED: ['archive'],
  ARCHIVED: [],
  CANCELLED: [],
  DECLINED: []
}

async function poRow (id: string) {
  return await app.db.selectFrom('purchaseOrders').select(['status', 'version']).where('id', '=', id).executeTakeFirstOrThrow()
}
async function stockOf (stationId: string, articleId: string): Promise<{ level: number, movements: number, rows: number }> {
  const level = await app.db.selectFrom('stockLevels').select('quantity').where('stationId', '=', stationId).where('articleId', '=', articleId).executeTakeFirst()
  const mv = await app.db.selectFrom('stockMovements').select(eb => [eb.fn.coalesce(eb.fn.sum<number>('delta'), eb.lit(0)).as('s'), eb.fn.countAll<number>().as('n')])
    .where('stationId', '=', stationId).where('articleId', '=', articleId).executeTakeFirstOrThrow()
  return { level: level?.quantity ?? 0, movements: Number(mv.s), rows: Number(mv.n) }
}

describe('transition matrix', () => {
  it('allows exactly the transitions of §5.3 and answers 409 INVALID_TRANSITION with the current status otherwise', async () => {
    for (const [status, path] of Object.entries(PATH_TO)) {
      const o = await placeOrder(app)
      await advance(app, h.token, o, path)
      expect((await poRow(o.poId)).status).toBe(status)
      const before = await poRow(o.poId)
      const audits = await countAudit(app)
      for (const verb of VERBS.filter(v => !(ALLOWED[status] ?? []).includes(v))) {
        const body = expectProblem(await act(app, h.token, o.poId, verb, bodyFor(verb, o)), 409, 'INVALID_TRANSITION')
        expect(body.currentStatus, `${verb} from ${status}`).toBe(status)
      }
      expect(await poRow(o.poId)).toEqual(before)
      expect(await countAudit(app)).toBe(audits)
    }
  })
})

describe('actors and owners', () => {
  let o: PlacedOrder
  let otherStation: Party, otherSupplier: Party
  beforeAll(async () => {
    o = await placeOrder(app, [10, 4])
    otherStation = await station(app)
    otherSupplier = await supplier(app)
  })

  it('refuses the wrong role with 403 and the wrong owner with 404, changing nothing', async () => {
    const before = await poRow(o.poId)
    for (const verb of ['confirm', 'decline', 'ship', 'invoice', 'archive']) expectProblem(await act(app, o.st.token, o.poId, verb, bodyFor(verb, o)), 403, 'FORBIDDEN')
    for (const verb of ['receive', 'close', 'cancel', 'invoice', 'archive']) expectProblem(await act(app, o.sup.token, o.poId, verb, bodyFor(verb, o)), 403, 'FORBIDDEN')
    for (const verb of ['confirm', 'decline', 'ship']) expectProblem(await act(app, otherSupplier.token, o.poId, verb, bodyFor(verb, o)), 404, 'NOT_FOUND')
    for (const verb of ['receive', 'close', 'cancel']) expectProblem(await act(app, otherStation.token, o.poId, verb, bodyFor(verb, o)), 404, 'NOT_FOUND')
    expectProblem(await act(app, h.token, randomUUID(), 'confirm', bodyFor('confirm', o)), 404, 'NOT_FOUND')
    expect(await poRow(o.poId)).toEqual(before)
    // reads
    expectProblem(await get(app, otherStation.token, `/v1/purchase-orders/${o.poId}`), 404, 'NOT_FOUND')
    expectProblem(await get(app, otherSupplier.token, `/v1/purchase-orders/${o.poId}`), 404, 'NOT_FOUND')
    expectProblem(await get(app, otherSupplier.token, `/v1/purchase-orders/${o.poId}/events`), 404, 'NOT_FOUND')
    expectProblem(await get(app, otherStation.token, `/v1/master-orders/${o.moId}`), 404, 'NOT_FOUND')
    expectProblem(await get(app, o.sup.token, `/v1/master-orders/${o.moId}`), 403, 'FORBIDDEN')
    expectProblem(await get(app, o.sup.token, '/v1/master-orders'), 403, 'FORBIDDEN')
    expect((await get(app, otherStation.token, '/v1/purchase-orders')).json().items).toEqual([])
    expect((await get(app, otherSupplier.token, '/v1/purchase-orders')).json().items).toEqual([])
  })

  it('lets each side act on its own PO, staff on behalf of either, and records who did it', async () => {
    const p = await placeOrder(app, [5])
    expect((await act(app, p.sup.token, p.poId, 'confirm', bodyFor('confirm', p))).statusCode).toBe(200)
    expect((await act(app, h.token, p.poId, 'ship', bodyFor('ship', p))).statusCode).toBe(200)
    // a station may cancel only while PLACED or CONFIRMED
    expect((await act(app, p.st.token, p.poId, 'cancel', bodyFor('cancel', p))).json().currentStatus).toBe('SHIPPED')
    expect((await act(app, p.st.token, p.poId, 'receive', bodyFor('receive', p, [5]))).statusCode).toBe(200)
    const events = (await get(app, p.st.token, `/v1/purchase-orders/${p.poId}/events`)).json().items
    expect(events.map((e: { actorRole: string, toStatus: string }) => [e.toStatus, e.actorRole])).toEqual([['PLACED', 'STATION'], ['CONFIRMED', 'SUPPLIER'], ['SHIPPED', 'HANDLER'], ['RECEIVED', 'STATION']])
    expect(events[2].actorUserId).toBe(h.userId)

    const c = await placeOrder(app, [5])
    await advance(app, h.token, c, ['confirm'])
    const cancelled = await act(app, c.st.token, c.poId, 'cancel', { reason: 'no longer needed' })
    expect(cancelled.json()).toMatchObject({ status: 'CANCELLED', statusReason: 'no longer needed' })
  })
})

describe('validation of action bodies', () => {
  it('confirm and receive need every line exactly once', async () => {
    const o = await placeOrder(app, [3, 3])
    const [l1, l2] = o.lineIds as [string, string]
    const bad = [
      { lines: [{ lineId: l1, confirmedDeliveryDate: '2099-01-01' }] },
      { lines: [{ lineId: l1, confirmedDeliveryDate: '2099-01-01' }, { lineId: l1, confirmedDeliveryDate: '2099-01-01' }] },
      { lines: [{ lineId: l1, confirmedDeliveryDate: '2099-01-01' }, { lineId: l2, confirmedDeliveryDate: '2099-01-01' }, { lineId: randomUUID(), confirmedDeliveryDate: '2099-01-01' }] }
    ]
    for (const body of bad) expectProblem(await act(app, o.sup.token, o.poId, 'confirm', body), 422, 'BUSINESS_RULE_VIOLATED')
    expectProblem(await act(app, o.sup.token, o.poId, 'confirm', { lines: [] }), 400, 'VALIDATION_FAILED')
    expectProblem(await act(app, o.sup.token, o.poId, 'decline', {}), 400, 'VALIDATION_FAILED')
    expect((await poRow(o.poId)).status).toBe('PLACED')
    const ok = await act(app, o.sup.token, o.poId, 'confirm', { lines: [{ lineId: l2, confirmedDeliveryDate: '2099-01-02' }, { lineId: l1, confirmedDeliveryDate: '2099-01-01' }] })
    expect(ok.json().lines.map((l: { confirmedDeliveryDate: string }) => l.confirmedDeliveryDate)).toEqual(['2099-01-01', '2099-01-02'])
    await advance(app, h.token, o, ['ship'])
    expectProblem(await act(app, o.st.token, o.poId, 'receive', { ...bodyFor('receive', o), lines: [{ lineId: l1, packsReceived: 3 }] }), 422, 'BUSINESS_RULE_VIOLATED')
    expectProblem(await act(app, h.token, o.poId, 'ship', { carrier: 'x', trackingNumber: 'y', deliveryNoteDocumentId: 'not-a-uuid' }), 400)
  })
})

describe('If-Match and ETag', () => {
  it('answers 412 on a stale ETag, 304 on a current If-None-Match', async () => {
    const o = await placeOrder(app)
    const read = await get(app, o.sup.token, `/v1/purchase-orders/${o.poId}`)
    const etag = String(read.headers.etag)
    expect(etag).toBe('"1"')
    expect((await get(app, o.sup.token, `/v1/purchase-orders/${o.poId}`, { 'if-none-match': etag })).statusCode).toBe(304)
    expectProblem(await act(app, o.sup.token, o.poId, 'confirm', bodyFor('confirm', o), { 'if-match': '"7"' }), 412, 'PRECONDITION_FAILED')
    expect((await poRow(o.poId)).version).toBe(1)
    const ok = await act(app, o.sup.token, o.poId, 'confirm', bodyFor('confirm', o), { 'if-match': etag })
    expect(ok.statusCode).toBe(200)
    expect(ok.headers.etag).toBe('"2"')
    expectProblem(await act(app, o.sup.token, o.poId, 'ship', bodyFor('ship', o), { 'if-match': etag }), 412, 'PRECONDITION_FAILED')
    expect((await get(app, o.sup.token, `/v1/purchase-orders/${o.poId}`, { 'if-none-match': etag })).statusCode).toBe(200)
    const mo = await get(app, o.st.token, `/v1/master-orders/${o.moId}`)
    expect((await get(app, o.st.token, `/v1/master-orders/${o.moId}`, { 'if-none-match': String(mo.headers.etag) })).statusCode).toBe(304)
  })

  it('changes the master order\'s ETag on a child transition that leaves the master status as it is', async () => {
    const { st, sups: [s1], mo } = await multiSupplierOrder(app, 2)
    const [p1, p2] = mo.purchaseOrders
    await advance(app, h.token, { st, sup: s1!, moId: mo.id, poId: p1!.id, lineIds: p1!.lines.map(l => l.id), articleIds: [] }, ['confirm', 'ship'])
    const before = await get(app, st.token, `/v1/master-orders/${String(mo.id)}`)
    expect(before.json().status).toBe('PARTIALLY_SHIPPED')
    await act(app, h.token, p2!.id, 'confirm', bodyFor('confirm', { lineIds: p2!.lines.map(l => l.id) }))
    const after = await get(app, st.token, `/v1/master-orders/${String(mo.id)}`, { 'if-none-match': String(before.headers.etag) })
    expect(after.statusCode).toBe(200)
    expect(after.json().status).toBe('PARTIALLY_SHIPPED')
    expect(after.headers.etag).not.toBe(before.headers.etag)
  })
})

describe('concurrency across the purchase orders of one master order', () => {
  it('parallel confirmations of every sibling leave the master order CONFIRMED, its version bumped once per child', async () => {
    const { st, mo } = await multiSupplierOrder(app, 4)
    const before = (await get(app, st.token, `/v1/master-orders/${mo.id}`)).json()
    const results = await Promise.all(mo.purchaseOrders.map(async p => await act(app, h.token, p.id, 'confirm', bodyFor('confirm', { lineIds: p.lines.map(l => l.id) }))))
    expect(results.map(r => r.statusCode)).toEqual([200, 200, 200, 200])
    const after = (await get(app, st.token, `/v1/master-orders/${mo.id}`)).json()
    expect(after.status).toBe('CONFIRMED')
    expect(after.version).toBe(before.version + 4)
    expect(after.purchaseOrders.map((p: { status: string }) => p.status)).toEqual(['CONFIRMED', 'CONFIRMED', 'CONFIRMED', 'CONFIRMED'])
  })
})

describe('concurrency on one purchase order', () => {
  it('50 parallel receipts: one effect, stock added once, Σ movements = stock', async () => {
    const o = await placeOrder(app, [10, 6])
    await advance(app, h.token, o, ['confirm', 'ship'])
    const audits = await countAudit(app, { action: 'purchase_order.receive' })
    const results = await Promise.all(Array.from({ length: 50 }, async () => await act(app, o.st.token, o.poId, 'receive', bodyFor('receive', o, [10, 6]))))
    expect(results.filter(r => r.statusCode === 200)).toHaveLength(1)
    for (const r of results.filter(r => r.statusCode !== 200)) expectProblem(r, 409, 'INVALID_TRANSITION')
    expect(await countAudit(app, { action: 'purchase_order.receive' })).toBe(audits + 1)
    for (const [i, articleId] of o.articleIds.entries()) {
      const s = await stockOf(o.st.id, articleId)
      expect(s).toEqual({ level: [100, 60][i], movements: [100, 60][i], rows: 1 })
    }
    const events = await app.db.selectFrom('purchaseOrderEvents').select('toStatus').where('purchaseOrderId', '=', o.poId).where('toStatus', '=', 'RECEIVED').execute()
    expect(events).toHaveLength(1)
  })

  it('50 parallel competing actions from PLACED (confirm vs decline): exactly one wins', async () => {
    const o = await placeOrder(app, [4])
    const verbs = Array.from({ length: 50 }, (_, i) => (['confirm', 'decline'] as const)[i % 2] as string)
    const results = await Promise.all(verbs.map(async v => await act(app, h.token, o.poId, v, bodyFor(v, o))))
    expect(results.filter(r => r.statusCode === 200)).toHaveLength(1)
    const history = await app.db.selectFrom('purchaseOrderEvents').select('toStatus').where('purchaseOrderId', '=', o.poId).execute()
    expect(history).toHaveLength(2)
  })

  it('parallel receipts of different POs for the same articles add up (Σ movements = stock)', async () => {
    const st = await station(app)
    const sup = await supplier(app)
    const a = await offeredArticle(app, sup.id, { unitsPerPack: 3 })
    const b = await offeredArticle(app, sup.id, { unitsPerPack: 5 })
    const orders: PlacedOrder[] = []
    for (let i = 0; i < 6; i++) {
      // alternate the line order so concurrent upserts would deadlock if locks were not ordered
      const pair = i % 2 === 0 ? [a, b] : [b, a]
      for (const x of pair) await addLine(app, st.token, st.id, { articleId: x.articleId, supplierId: sup.id, packs: 2 })
      const mo = (await checkout(app, st.token, st.id)).json()
      const po = mo.purchaseOrders[0]
      orders.push({ st, sup, moId: mo.id, poId: po.id, lineIds: po.lines.map((l: { id: string }) => l.id), articleIds: [], docs: await orderDocs(app, st, sup) })
    }
    for (const o of orders) await advance(app, h.token, o, ['confirm', 'ship'])
    const results = await Promise.all(orders.map(async o => await act(app, st.token, o.poId, 'receive', bodyFor('receive', o, [2, 2]))))
    expect(results.map(r => r.statusCode)).toEqual(orders.map(() => 200))
    expect(await stockOf(st.id, a.articleId)).toEqual({ level: 36, movements: 36, rows: 6 })
    expect(await stockOf(st.id, b.articleId)).toEqual({ level: 60, movements: 60, rows: 6 })
  })
})

describe('contract caps after checkout', () => {
  async function cappedOrder (packs: number) {
    const st = await station(app)
    const sup = await supplier(app)
    const x = await offeredArticle(app, sup.id)
    const contract = await createContract(app.db, sup.id, [{ articleId: x.articleId, packPrice: '3.0000', committedPacks: 100 }])
    await addLine(app, st.token, st.id, { articleId: x.articleId, supplierId: sup.id, packs })
    const mo = (await checkout(app, st.token, st.id)).json()
    const po = mo.purchaseOrders[0]
    const line = contract.lineIds[0] as string
    const ordered = async () => (await app.db.selectFrom('contractLines').select('orderedPacks').where('id', '=', line).executeTakeFirstOrThrow()).orderedPacks
    return { o: { st, sup, moId: mo.id, poId: po.id, lineIds: po.lines.map((l: { id: string }) => l.id), articleIds: [x.articleId] } as PlacedOrder, ordered }
  }

  it('cancel and decline release the packs; closing with a shortfall releases the shortfall', async () => {
    const c = await cappedOrder(30)
    expect(await c.ordered()).toBe(30)
    await act(app, c.o.st.token, c.o.poId, 'cancel', { reason: 'changed plans' })
    expect(await c.ordered()).toBe(0)

    const d = await cappedOrder(20)
    await act(app, d.o.sup.token, d.o.poId, 'decline', { reason: 'cannot deliver' })
    expect(await d.ordered()).toBe(0)

    const s = await cappedOrder(20)
    await advance(app, h.token, s.o, ['confirm', 'ship', 'receive'], [12])
    expect(await s.ordered()).toBe(20)
    await advance(app, h.token, s.o, ['close'])
    expect(await s.ordered()).toBe(12)
  })
})

describe('cancel and decline touch one PO only', () => {
  it('re-derives the master status from the remaining siblings', async () => {
    const { st, mo } = await multiSupplierOrder(app, 2)
    const [p1, p2] = mo.purchaseOrders
    const moStatus = async () => (await get(app, h.token, `/v1/master-orders/${String(mo.id)}`)).json()
    await act(app, h.token, p1!.id, 'confirm', bodyFor('confirm', { lineIds: p1!.lines.map(l => l.id) }))
    expect((await moStatus()).status).toBe('PARTIALLY_CONFIRMED')
    await act(app, h.token, p2!.id, 'decline', { reason: 'no stock' })
    const after = await moStatus()
    expect(after.status).toBe('CONFIRMED')
    expect(after.purchaseOrders.map((p: { status: string }) => p.status).sort()).toEqual(['CONFIRMED', 'DECLINED'])
    await act(app, st.token, p1!.id, 'cancel', { reason: 'never mind' })
    expect((await moStatus()).status).toBe('CANCELLED')
  })
})

describe('receiving tolerance', () => {
  it('refuses more than ordered beyond settings.receiving_tolerance_pct', async () => {
    const o = await placeOrder(app, [10])
    await advance(app, h.token, o, ['confirm', 'ship'])
    const body = expectProblem(await act(app, o.st.token, o.poId, 'receive', bodyFor('receive', o, [11])), 422, 'RECEIVED_EXCEEDS_ORDERED')
    expect((body.errors as Array<{ pointer: string }>)[0]?.pointer).toBe('/lines/0/packsReceived')
    expect((await poRow(o.poId)).status).toBe('SHIPPED')
    expect((await stockOf(o.st.id, o.articleIds[0] as string)).level).toBe(0)
    await sql`UPDATE settings SET receiving_tolerance_pct = 10`.execute(app.db)
    try {
      expectProblem(await act(app, o.st.token, o.poId, 'receive', bodyFor('receive', o, [12])), 422, 'RECEIVED_EXCEEDS_ORDERED')
      expect((await act(app, o.st.token, o.poId, 'receive', bodyFor('receive', o, [11]))).statusCode).toBe(200)
    } finally {
      await sql`UPDATE settings SET receiving_tolerance_pct = 0`.execute(app.db)
    }
    expect(await stockOf(o.st.id, o.articleIds[0] as string)).toEqual({ level: 110, movements: 110, rows: 1 })
  })

  it('receiving zero packs of a line moves no stock for it', async () => {
    const o = await placeOrder(app, [4, 4])
    await advance(app, h.token, o, ['confirm', 'ship', 'receive'], [0, 4])
    expect(await stockOf(o.st.id, o.articleIds[0] as string)).toEqual({ level: 0, movements: 0, rows: 0 })
    expect(await stockOf(o.st.id, o.articleIds[1] as string)).toEqual({ level: 40, movements: 40, rows: 1 })
  })
})

describe('price visibility on every order endpoint', () => {
  const STATION_FORBIDDEN = ['supplierPackPrice', 'supplierLineNet', 'supplierTotals', 'invoicedSupplierTotals', 'feePct', 'marginNet', 'contractLineId']
  const SUPPLIER_FORBIDDEN = ['stationPackPrice', 'lineNet', 'totals', 'invoicedTotals', 'feePct', 'marginNet', 'masterOrderId']
  const expectAbsent = (body: unknown, forbidden: string[], what: string) => {
    const keys = keysDeep(body)
    for (const f of forbidden) expect(keys.has(f), `${what} exposes ${f}`).toBe(false)
  }

  it('shows each party only its side', async () => {
    const o = await placeOrder(app, [2])
    await advance(app, h.token, o, ['confirm', 'ship', 'receive', 'close', 'invoice'], [2])
    const stationReads = [
      await get(app, o.st.token, `/v1/purchase-orders/${o.poId}`),
      await get(app, o.st.token, '/v1/purchase-orders'),
      await get(app, o.st.token, `/v1/master-orders/${o.moId}`),
      await get(app, o.st.token, '/v1/master-orders'),
      await get(app, o.st.token, `/v1/purchase-orders/${o.poId}/events`)
    ]
    for (const r of stationReads) { expect(r.statusCode).toBe(200); expectAbsent(r.json(), STATION_FORBIDDEN, `station read ${stationReads.indexOf(r)}`) }
    expect(stationReads[0]?.json()).toMatchObject({ totals: expect.any(Object), invoicedTotals: expect.any(Object) })
    const supplierReads = [
      await get(app, o.sup.token, `/v1/purchase-orders/${o.poId}`),
      await get(app, o.sup.token, '/v1/purchase-orders'),
      await get(app, o.sup.token, `/v1/purchase-orders/${o.poId}/events`)
    ]
    for (const r of supplierReads) { expect(r.statusCode).toBe(200); expectAbsent(r.json(), SUPPLIER_FORBIDDEN, `supplier read ${supplierReads.indexOf(r)}`) }
    expect(supplierReads[0]?.json()).toMatchObject({ supplierTotals: expect.any(Object), invoicedSupplierTotals: expect.any(Object) })
    const staffPo = (await get(app, h.token, `/v1/purchase-orders/${o.poId}`)).json()
    for (const f of ['totals', 'supplierTotals', 'marginNet', 'invoicedTotals', 'invoicedSupplierTotals']) expect(staffPo[f]).toBeDefined()
    expect(staffPo.lines[0]).toMatchObject({ supplierPackPrice: expect.any(String), stationPackPrice: expect.any(String), feePct: expect.any(String) })

    // mutation responses too, including an idempotent replay
    const p = await placeOrder(app, [2])
    const key = randomUUID()
    const confirmed = await act(app, p.sup.token, p.poId, 'confirm', bodyFor('confirm', p), { 'idempotency-key': key })
    const replay = await act(app, p.sup.token, p.poId, 'confirm', bodyFor('confirm', p), { 'idempotency-key': key })
    expect(replay.headers['idempotent-replayed']).toBe('true')
    expect(replay.body).toBe(confirmed.body)
    for (const r of [confirmed, replay]) expectAbsent(r.json(), SUPPLIER_FORBIDDEN, 'supplier confirm')
    // the same key with another body is refused and changes nothing
    expectProblem(await act(app, p.sup.token, p.poId, 'decline', { reason: 'other' }, { 'idempotency-key': key }), 422, 'IDEMPOTENCY_KEY_REUSED')
    expect((await poRow(p.poId)).status).toBe('CONFIRMED')
    const k2 = randomUUID()
    await advance(app, h.token, p, ['ship'])
    const received = await act(app, p.st.token, p.poId, 'receive', bodyFor('receive', p, [2]), { 'idempotency-key': k2 })
    const replay2 = await act(app, p.st.token, p.poId, 'receive', bodyFor('receive', p, [2]), { 'idempotency-key': k2 })
    expect(replay2.body).toBe(received.body)
    for (const r of [received, replay2]) expectAbsent(r.json(), STATION_FORBIDDEN, 'station receive')
  })
})

describe('lists', () => {
  it('pages newest first without gaps or repeats, with filters and tamper-checked cursors', async () => {
    const st = await station(app)
    const sup = await supplier(app)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await placeOrder(app, [1], { st, sup })).poId)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const r = await get(app, st.token, `/v1/purchase-orders?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`)
      expect(r.statusCode).toBe(200)
      const body = r.json()
      expect(body.items.length).toBeLessThanOrEqual(2)
      for (const item of body.items) { seen.push(item.id); expect(item.lines).toBeUndefined() }
      cursor = body.nextCursor
    } while (cursor !== null)
    expect(seen).toEqual([...ids].reverse())
    const withLines = (await get(app, st.token, '/v1/purchase-orders?limit=5&include=lines')).json()
    expect(withLines.items).toHaveLength(5)
    for (const item of withLines.items) expect(item.lines).toHaveLength(1)

    await advance(app, h.token, { st, sup, moId: '', poId: ids[0] as string, lineIds: [], articleIds: [] }, ['cancel'])
    const cancelled = (await get(app, h.token, `/v1/purchase-orders?status=CANCELLED&supplierId=${sup.id}`)).json()
    expect(cancelled.items.map((p: { id: string }) => p.id)).toEqual([ids[0]])
    expect((await get(app, h.token, `/v1/purchase-orders?stationId=${st.id}&limit=200`)).json().items).toHaveLength(5)
    const today = new Date().toISOString().slice(0, 10)
    expect((await get(app, st.token, `/v1/purchase-orders?from=${today}&to=${today}`)).json().items).toHaveLength(5)
    expect((await get(app, st.token, '/v1/purchase-orders?to=2000-01-01')).json().items).toHaveLength(0)

    const mos = (await get(app, st.token, '/v1/master-orders?limit=3')).json()
    expect(mos.items).toHaveLength(3)
    const rest = (await get(app, st.token, `/v1/master-orders?limit=3&cursor=${String(mos.nextCursor)}`)).json()
    expect(rest.items).toHaveLength(2)
    expect(rest.nextCursor).toBeNull()
    expect((await get(app, h.token, `/v1/master-orders?stationId=${st.id}&status=CANCELLED`)).json().items).toHaveLength(1)

    expectProblem(await get(app, st.token, `/v1/purchase-orders?cursor=${String(mos.nextCursor)}x`), 400, 'INVALID_CURSOR')
    expectProblem(await get(app, st.token, '/v1/purchase-orders?status=NOPE'), 400, 'VALIDATION_FAILED')
  })
})
