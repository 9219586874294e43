// The stock invariant under concurrency (PRODUCT.md §6, QUALITY.md): rounds of 50 parallel mixed
// operations — adjustments, consumptions, counts over HTTP, receipts of real purchase orders
// (cart → checkout → confirm → ship with the supplier's delivery note, then received over HTTP in
// the round), transfers between the two stations shipped (−source, may be refused: 422) and
// received (+destination) in the rounds, and direct receipts through applyStockDeltas — on a few
// articles of two stations, each touching several articles in random order. After every round, for every (station, article): Σ stock_movements.delta = quantity ≥ 0,
// every answer is a 200 or a 422 INSUFFICIENT_STOCK (never a deadlock, a lost update or a 5xx),
// and the stock.low events are exactly the downward crossings the ledger replays.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import type { App } from '../../../src/lib/route.js'
import { applyStockDeltas } from '../../../src/domains/stock/stock.service.js'
import { AppError } from '../../../src/lib/problems.js'
import { createTestApp } from '../../helpers/app.js'
import { createOffer } from '../../helpers/factories.js'
import { adjust, articles, consume, count, ledger, lowEvents, patch, staff, station, stockUrl, type Party } from './helpers.js'
import { act as poAct, addLine, bodyFor as poBody, checkout, orderDocs, supplier } from '../orders/fixtures.js'
import { act as trAct, bodyFor as trBody, createTransfer, stationDocs, type TransferJson } from '../transfers/fixtures.js'

/** Units per pack of the supplier's offers. */
const PACK = 5

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const ALERT = 30

/** A small deterministic PRNG (mulberry32): the same operations every run. */
function rng (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6D2B79F5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('stock invariant', () => {
  it('applyStockDeltas decreases an existing level (the proposed insert row once failed the CHECK)', async () => {
    const st = await station(app)
    const h = await staff(app)
    const [x] = await articles(app, 1) as [string]
    const actor = { userId: h.userId, role: 'HANDLER' as const, organizationId: h.id, organizationKind: 'PLATFORM' as const }
    const ref = () => ({ reason: 'ADJUSTMENT' as const, refType: 'TEST', refId: randomUUID() })
    await app.db.transaction().execute(async trx => await applyStockDeltas(trx, actor, st.id, [{ articleId: x, delta: 10 }], ref()))
    const changes = await app.db.transaction().execute(async trx => await applyStockDeltas(trx, actor, st.id, [{ articleId: x, delta: -4 }], ref()))
    expect(changes).toEqual([{ articleId: x, before: 10, after: 6, alertThreshold: 0, criticalThreshold: 0 }])
    await expect(app.db.transaction().execute(async trx => await applyStockDeltas(trx, actor, st.id, [{ articleId: x, delta: -7 }], ref()))).rejects.toSatisfy(e => e instanceof AppError && e.code === 'INSUFFICIENT_STOCK')
    expect(await ledger(app, st.id)).toEqual([{ articleId: x, quantity: 6, sum: 6, movements: 2 }])
  })

  it('INSUFFICIENT_STOCK points into the caller\'s body only when the caller says where (pointerOf); else no pointer, the detail names the articles', async () => {
    const st = await station(app)
    const h = await staff(app)
    const [x, y] = await articles(app, 2) as [string, string]
    const actor = { userId: h.userId, role: 'HANDLER' as const, organizationId: h.id, organizationKind: 'PLATFORM' as const }
    const ref = () => ({ reason: 'ADJUSTMENT' as const, refType: 'TEST', refId: randomUUID() })
    await app.db.transaction().execute(async trx => await applyStockDeltas(trx, actor, st.id, [{ articleId: x, delta: 3 }], ref()))
    const refused = async (pointerOf?: (articleId: string) => string): Promise<AppError> => {
      try {
        await app.db.transaction().execute(async trx => await applyStockDeltas(trx, actor, st.id, [{ articleId: x, delta: -5 }, { articleId: y, delta: -1 }], ref(), pointerOf !== undefined ? { pointerOf } : {}))
      } catch (err) {
        if (err instanceof AppError) return err
        throw err
      }
      throw new Error('not refused')
    }
    const plain = await refused()
    expect(plain.code).toBe('INSUFFICIENT_STOCK')
    expect(plain.errors).toBeUndefined()
    expect(plain.message).toContain(x)
    expect(plain.message).toContain(y)
    const pointed = await refused(a => a === x ? '/lines/4/units' : '/lines/0/units')
    expect(pointed.errors).toHaveLength(2)
    expect(pointed.errors).toEqual(expect.arrayContaining([
      { pointer: '/lines/4/units', code: 'INSUFFICIENT_STOCK', detail: expect.stringContaining(x) },
      { pointer: '/lines/0/units', code: 'INSUFFICIENT_STOCK', detail: expect.stringContaining(y) }
    ]))
    expect(await ledger(app, st.id)).toEqual([{ articleId: x, quantity: 3, sum: 3, movements: 1 }])
  })

  it('5 rounds × 50 parallel mixed operations — stock writes, real PO receipts, transfer ships and receipts: Σ movements = quantity ≥ 0, stock.low = the ledger\'s crossings', async () => {
    const h = await staff(app)
    const stations = [await station(app), await station(app)] as [Party, Party]
    const ids = await articles(app, 4)
    const actor = { userId: h.userId, role: 'HANDLER' as const, organizationId: h.id, organizationKind: 'PLATFORM' as const }
    // a supplier offering every article (5 units a pack), and the documents ship and receive reference
    const sup = await supplier(app)
    for (const articleId of ids) await createOffer(app.db, articleId, sup.id, { unitsPerPack: PACK })
    for (const st of stations) {
      await adjust(app, h, st.id, ids.map(articleId => ({ articleId, delta: 60 })))
      for (const articleId of ids) expect((await patch(app, h.token, stockUrl(st.id, `/${articleId}`), { alertThreshold: ALERT, criticalThreshold: 10 })).statusCode).toBe(200)
      await stationDocs(app, { ...st, role: 'STATION' })
    }
    const random = rng(20261213)
    const pick = (): string[] => {
      const shuffled = [...ids].sort(() => random() - 0.5)
      return shuffled.slice(0, 1 + Math.floor(random() * ids.length))
    }
    const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1))
    const expectOk = (what: string, r: { statusCode: number, body: string }): void => { expect(r.statusCode, `${what}: ${r.body.slice(0, 300)}`).toBe(200) }

    /** A purchase order of the station for `arts`, through cart → checkout → confirm → ship (HTTP): SHIPPED, ready to receive. */
    async function shippedOrder (st: Party, arts: string[]): Promise<{ poId: string, body: object }> {
      for (const articleId of arts) {
        const r = await addLine(app, st.token, st.id, { articleId, supplierId: sup.id, packs: int(1, 6) })
        expect(r.statusCode, r.body).toBe(201)
      }
      const mo = await checkout(app, st.token, st.id)
      expect(mo.statusCode, mo.body).toBe(201)
      const po = (mo.json() as { purchaseOrders: Array<{ id: string, lines: Array<{ id: string, packs: number }> }> }).purchaseOrders[0]
      if (po === undefined) throw new Error('checkout made no purchase order')
      const o = { lineIds: po.lines.map(l => l.id), docs: await orderDocs(app, st, sup) }
      for (const verb of ['confirm', 'ship']) expectOk(`PO ${verb}`, await poAct(app, h.token, po.id, verb, poBody(verb, o)))
      return { poId: po.id, body: poBody('receive', o, po.lines.map(l => l.packs)) }
    }

    /** A transfer from `src` to `dst` of `arts`, requested, confirmed (what the source holds now) and prepared: ready to ship. */
    async function preparedTransfer (src: Party, dst: Party, arts: string[]): Promise<TransferJson | undefined> {
      const created = await createTransfer(app, h.token, { requestingStationId: dst.id, sourceStationId: src.id, lines: arts.map(articleId => ({ articleId, units: int(1, 15) })) })
      expect(created.statusCode, created.body).toBe(201)
      const t = created.json() as TransferJson
      const held = new Map((await ledger(app, src.id)).map(r => [r.articleId, r.quantity ?? 0]))
      const lines = t.lines.map(l => ({ lineId: l.id, unitsGranted: Math.min(l.unitsRequested, held.get(l.articleId) ?? 0) }))
      if (lines.every(l => l.unitsGranted === 0)) return undefined
      expectOk('transfer confirm', await trAct(app, h.token, t.id, 'confirm', { lines }))
      const prepared = await trAct(app, h.token, t.id, 'prepare', {})
      expectOk('transfer prepare', prepared)
      return prepared.json() as TransferJson
    }

    let shippedTransfers: TransferJson[] = []
    const tally = { poReceipts: 0, transferShips: 0, transferShipsRefused: 0, transferReceipts: 0 }
    for (let round = 0; round < 5; round++) {
      // set up (sequential): 6 purchase orders to receive, 4 transfers to ship — on the same pairs
      const orders: Array<{ poId: string, body: object }> = []
      for (let i = 0; i < 6; i++) orders.push(await shippedOrder(stations[i % 2] as Party, pick()))
      const toShip: TransferJson[] = []
      for (let i = 0; i < 4; i++) {
        const t = await preparedTransfer(stations[(round + i) % 2] as Party, stations[(round + i + 1) % 2] as Party, pick())
        if (t !== undefined) toShip.push(t)
      }
      const toReceive = shippedTransfers
      shippedTransfers = []

      type Result = { statusCode: number, body: string }
      const special: Array<() => Promise<Result>> = [
        ...orders.map(o => async () => {
          const r = await poAct(app, h.token, o.poId, 'receive', o.body)
          if (r.statusCode === 200) tally.poReceipts++
          return r
        }),
        ...toShip.map(t => async () => {
          // the source station's own user or staff
          const source = t.sourceStationId === stations[0].id ? stations[0] : stations[1]
          const r = await trAct(app, random() < 0.5 ? h.token : source.token, t.id, 'ship', trBody('ship', t))
          if (r.statusCode === 200) { tally.transferShips++; shippedTransfers.push(r.json() as TransferJson) } else tally.transferShipsRefused++
          return r
        }),
        ...toReceive.map(t => async () => {
          const r = await trAct(app, h.token, t.id, 'receive', trBody('receive', t))
          if (r.statusCode === 200) tally.transferReceipts++
          return r
        })
      ]
      const ops: Array<() => Promise<Result>> = [...special]
      while (ops.length < 50) {
        const st = stations[ops.length % 2] as Party
        // the station's own user or staff
        const who = random() < 0.5 ? st : h
        const kind = int(0, 3)
        const arts = pick()
        if (kind === 0) ops.push(async () => await adjust(app, who, st.id, arts.map(articleId => ({ articleId, delta: random() < 0.5 ? -int(1, 30) : int(1, 40) }))))
        else if (kind === 1) ops.push(async () => await consume(app, who, st.id, arts.map(articleId => ({ articleId, units: int(1, 25) }))))
        else if (kind === 2) ops.push(async () => await count(app, who, st.id, arts.map(articleId => ({ articleId, counted: int(0, 90) }))))
        else {
          ops.push(async () => {
            try {
              await app.db.transaction().execute(async trx => await applyStockDeltas(trx, actor, st.id, arts.map(articleId => ({ articleId, delta: int(1, 50) })), { reason: 'PO_RECEIPT', refType: 'PURCHASE_ORDER', refId: randomUUID() }))
              return { statusCode: 200, body: 'receipt' }
            } catch (err) {
              return { statusCode: 500, body: String(err) }
            }
          })
        }
      }
      // a deterministic interleaving: the receipts and ships land among the stock writes
      const order = ops.map(op => ({ op, k: random() })).sort((a, b) => a.k - b.k).map(x => x.op)
      const results = await Promise.all(order.map(async op => await op()))
      const unexpected = results.filter(r => r.statusCode !== 200 && !(r.statusCode === 422 && r.body.includes('INSUFFICIENT_STOCK')))
      expect(unexpected.map(r => `${r.statusCode} ${r.body.slice(0, 200)}`), `round ${round}`).toEqual([])
      expect(results.filter(r => r.statusCode === 200).length, `round ${round}: most operations succeed`).toBeGreaterThan(20)

      for (const st of stations) {
        const rows = await ledger(app, st.id)
        expect(rows).toHaveLength(ids.length)
        for (const row of rows) {
          expect(row.quantity as number, `round ${round}`).toBeGreaterThanOrEqual(0)
          expect(row.sum, `round ${round} station ${st.id} article ${row.articleId}`).toBe(row.quantity)
        }
      }
    }
    // the rounds did mix every kind in: receipts of real orders, transfer ships and receipts
    expect(tally.poReceipts).toBe(30)
    expect(tally.transferShips).toBeGreaterThan(0)
    expect(tally.transferReceipts).toBe(tally.transferShips - shippedTransfers.length)
    const reasons = await sql<{ reason: string }>`
      SELECT DISTINCT reason FROM stock_movements WHERE station_id = ANY(${stations.map(s => s.id)}::uuid[]) ORDER BY 1`.execute(app.db)
    expect(reasons.rows.map(r => r.reason)).toEqual(['ADJUSTMENT', 'CONSUMPTION', 'COUNT', 'PO_RECEIPT', 'TRANSFER_IN', 'TRANSFER_OUT'])
    const poMoves = await sql<{ n: number }>`SELECT count(*)::int AS n FROM stock_movements WHERE reason = 'PO_RECEIPT' AND ref_type = 'PURCHASE_ORDER'
      AND ref_id IN (SELECT id FROM purchase_orders WHERE station_id = ANY(${stations.map(s => s.id)}::uuid[]))`.execute(app.db)
    expect(poMoves.rows[0]?.n).toBeGreaterThan(0)

    // stock.low: exactly one event per downward crossing of the alert threshold in the ledger
    // (movement ids follow the order the level changed in: each change holds the level's row lock)
    for (const st of stations) {
      for (const articleId of ids) {
        const { rows } = await sql<{ delta: number, ref: string | null }>`
          SELECT delta, ref_id::text AS ref FROM stock_movements WHERE station_id = ${st.id}::uuid AND article_id = ${articleId}::uuid ORDER BY id`.execute(app.db)
        let q = 0
        let crossings = 0
        for (const m of rows) {
          const after = q + m.delta
          if (q > ALERT && after <= ALERT) crossings++
          expect(after).toBeGreaterThanOrEqual(0)
          q = after
        }
        expect(await lowEvents(app, st.id, articleId), `station ${st.id} article ${articleId}`).toHaveLength(crossings)
      }
    }
  }, 300_000)
})
