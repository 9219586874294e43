// The stock invariant under concurrency (PRODUCT.md §6, QUALITY.md): rounds of 50 parallel mixed
// operations — adjustments, consumptions, counts over HTTP and PO-style receipts through
// applyStockDeltas — on a few articles of two stations, each touching several articles in random
// order. After every round, for every (station, article): Σ stock_movements.delta = quantity ≥ 0,
// every answer is a 200 or a 422 INSUFFICIENT_STOCK (never a deadlock, a lost update or a 5xx),
// and the stock.low events are exactly the downward crossings the ledger replays.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import type { App } from '../../../src/lib/route.js'
import { applyStockDeltas } from '../../../src/domains/stock/stock.service.js'
import { AppError } from '../../../src/lib/problems.js'
import { createTestApp } from '../../helpers/app.js'
import { adjust, articles, consume, count, ledger, lowEvents, patch, staff, station, stockUrl, type Party } from './helpers.js'

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

  it('5 rounds × 50 parallel mixed operations: Σ movements = quantity ≥ 0, stock.low = the ledger\'s crossings', async () => {
    const h = await staff(app)
    const stations = [await station(app), await station(app)]
    const ids = await articles(app, 4)
    const actor = { userId: h.userId, role: 'HANDLER' as const, organizationId: h.id, organizationKind: 'PLATFORM' as const }
    for (const st of stations) {
      await adjust(app, h, st.id, ids.map(articleId => ({ articleId, delta: 60 })))
      for (const articleId of ids) expect((await patch(app, h.token, stockUrl(st.id, `/${articleId}`), { alertThreshold: ALERT, criticalThreshold: 10 })).statusCode).toBe(200)
    }
    const random = rng(20261213)
    const pick = (): string[] => {
      const shuffled = [...ids].sort(() => random() - 0.5)
      return shuffled.slice(0, 1 + Math.floor(random() * ids.length))
    }
    const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1))

    for (let round = 0; round < 5; round++) {
      const ops = Array.from({ length: 50 }, (_, i) => {
        const st = stations[i % 2] as Party
        // the station's own user or staff
        const who = random() < 0.5 ? st : h
        const kind = int(0, 3)
        const arts = pick()
        if (kind === 0) return async () => await adjust(app, who, st.id, arts.map(articleId => ({ articleId, delta: random() < 0.5 ? -int(1, 30) : int(1, 40) })))
        if (kind === 1) return async () => await consume(app, who, st.id, arts.map(articleId => ({ articleId, units: int(1, 25) })))
        if (kind === 2) return async () => await count(app, who, st.id, arts.map(articleId => ({ articleId, counted: int(0, 90) })))
        return async () => {
          try {
            await app.db.transaction().execute(async trx => await applyStockDeltas(trx, actor, st.id, arts.map(articleId => ({ articleId, delta: int(1, 50) })), { reason: 'PO_RECEIPT', refType: 'PURCHASE_ORDER', refId: randomUUID() }))
            return { statusCode: 200, body: 'receipt' }
          } catch (err) {
            return { statusCode: 500, body: String(err) }
          }
        }
      })
      const results = await Promise.all(ops.map(async op => await op()))
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
  }, 120_000)
})
