// Migration 0014: a level's critical threshold never exceeds its alert threshold, enforced by the
// database (stock_levels_thresholds_ordered) as well as by the threshold write (422
// THRESHOLDS_INVALID, test/domains/stock/writes.test.ts). No such row should exist — the app always
// refused them — but a database where one does (written by hand, by an import) is migrated by
// lowering the critical threshold to the alert threshold (version bumped, a process warning says
// how many), never by refusing to start.
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { sql } from 'kysely'
import { createDb, type DbHandle } from '../../src/db/index.js'
import { down, up } from '../../db/migrations/0014-stock-threshold-order.js'
import { createDatabaseFromTemplate } from '../helpers/db.js'
import { createArticle, createStation } from '../helpers/factories.js'

let h: DbHandle
beforeAll(async () => {
  const url = await createDatabaseFromTemplate(`${inject('dbPrefix')}_stock_thresholds`)
  h = createDb({ connectionString: url, poolSize: 2, statementTimeoutMs: 30_000, connectTimeoutMs: 10_000 })
})
afterAll(async () => { await h.destroy() })

async function level (alert: number, critical: number): Promise<{ stationId: string, articleId: string }> {
  const [station, article] = [await createStation(h.db), await createArticle(h.db)]
  await sql`INSERT INTO stock_levels (station_id, article_id, quantity, alert_threshold, critical_threshold)
    VALUES (${station.id}::uuid, ${article.id}::uuid, 7, ${alert}, ${critical})`.execute(h.db)
  return { stationId: station.id, articleId: article.id }
}

async function read (l: { stationId: string, articleId: string }): Promise<{ alert: number, critical: number, quantity: number, version: number }> {
  const { rows } = await sql<{ alert: number, critical: number, quantity: number, version: number }>`
    SELECT alert_threshold AS alert, critical_threshold AS critical, quantity, version FROM stock_levels
    WHERE station_id = ${l.stationId}::uuid AND article_id = ${l.articleId}::uuid`.execute(h.db)
  return rows[0] as { alert: number, critical: number, quantity: number, version: number }
}

describe('migration 0014 (critical threshold ≤ alert threshold)', () => {
  it('the database refuses a level whose critical threshold exceeds its alert threshold, inserted or updated', async () => {
    await expect(level(5, 6)).rejects.toThrow(/stock_levels_thresholds_ordered/)
    const ok = await level(5, 5)
    await expect(sql`UPDATE stock_levels SET alert_threshold = 4 WHERE station_id = ${ok.stationId}::uuid`.execute(h.db)).rejects.toThrow(/stock_levels_thresholds_ordered/)
    expect(await read(ok)).toMatchObject({ alert: 5, critical: 5 })
  })

  it('over rows that violate it: lowers their critical threshold to the alert threshold (version + 1, a warning), leaves the others alone', async () => {
    await down(h.db)
    const bad = await level(3, 9)
    const fine = await level(10, 2)
    const before = await read(fine)
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    await up(h.db)
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^1 stock level\(s\) had a critical threshold above/), { code: 'STOCK_THRESHOLDS_CLAMPED' })
    warn.mockRestore()
    expect(await read(bad)).toEqual({ alert: 3, critical: 3, quantity: 7, version: 2 })
    expect(await read(fine)).toEqual(before)
    await expect(level(1, 2)).rejects.toThrow(/stock_levels_thresholds_ordered/)
  })

  it('on a database without such rows it warns about nothing', async () => {
    await down(h.db)
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    await up(h.db)
    expect(warn).not.toHaveBeenCalled()
    warn.mockRestore()
    const { rows } = await sql<{ valid: boolean }>`SELECT convalidated AS valid FROM pg_constraint WHERE conname = 'stock_levels_thresholds_ordered'`.execute(h.db)
    expect(rows).toEqual([{ valid: true }])
  })
})
