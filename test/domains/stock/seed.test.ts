// The demo seed's stock: every demo station has levels in every state (fine, low, critical, out
// across the network), the ledger balances (Σ movements = quantity ≥ 0 for every level), critical
// ≤ alert everywhere, and the thresholds that made a level low left their stock.low events.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { sql } from 'kysely'
import { createDb, type DbHandle } from '../../../src/db/index.js'
import { seedDemo } from '../../../db/seed/demo.js'
import { createDatabaseFromTemplate } from '../../helpers/db.js'

let handle: DbHandle
beforeAll(async () => {
  const url = await createDatabaseFromTemplate(`${inject('dbPrefix')}_stock_seed`)
  handle = createDb({ connectionString: url, poolSize: 2, statementTimeoutMs: 60_000, connectTimeoutMs: 10_000 })
  await seedDemo(handle.db)
})
afterAll(async () => { await handle.destroy() })

describe('demo stock', () => {
  it('every demo station has levels; the network shows fine, low, critical and out levels', async () => {
    const { rows } = await sql<{ code: string, levels: number, fine: number, low: number, critical: number, out: number }>`
      SELECT s.code, count(*)::int AS levels,
             count(*) FILTER (WHERE l.quantity > l.alert_threshold)::int AS fine,
             count(*) FILTER (WHERE l.quantity <= l.alert_threshold AND l.quantity > l.critical_threshold)::int AS low,
             count(*) FILTER (WHERE l.quantity <= l.critical_threshold AND l.quantity > 0)::int AS critical,
             count(*) FILTER (WHERE l.quantity = 0)::int AS out
      FROM stock_levels l JOIN stations s ON s.id = l.station_id GROUP BY s.code ORDER BY s.code`.execute(handle.db)
    expect(rows.map(r => r.code)).toEqual(['ST-ANJOU', 'ST-AVIGNON', 'ST-CAVAILLON', 'ST-SAUMUR', 'ST-TOURS'])
    for (const r of rows) {
      expect(r.levels).toBeGreaterThanOrEqual(4)
      expect(r.fine).toBeGreaterThanOrEqual(1)
      expect(r.low + r.critical + r.out, r.code).toBeGreaterThanOrEqual(1)
    }
    const sum = (k: 'low' | 'critical' | 'out'): number => rows.reduce((n, r) => n + r[k], 0)
    expect(sum('low')).toBeGreaterThanOrEqual(3)
    expect(sum('critical')).toBeGreaterThanOrEqual(2)
    expect(sum('out')).toBeGreaterThanOrEqual(2)
  })

  it('the ledger balances, thresholds are consistent, and the movements show counts, consumption and a breakage', async () => {
    const { rows } = await sql<{ quantity: number, sum: number | null, alert: number, critical: number }>`
      SELECT l.quantity, (SELECT sum(delta)::int FROM stock_movements m WHERE m.station_id = l.station_id AND m.article_id = l.article_id) AS sum,
             l.alert_threshold AS alert, l.critical_threshold AS critical
      FROM stock_levels l`.execute(handle.db)
    for (const r of rows) {
      expect(r.sum ?? 0).toBe(r.quantity)
      expect(r.quantity).toBeGreaterThanOrEqual(0)
      expect(r.critical).toBeLessThanOrEqual(r.alert)
    }
    const reasons = await sql<{ reason: string }>`SELECT DISTINCT reason FROM stock_movements ORDER BY reason`.execute(handle.db)
    expect(reasons.rows.map(r => r.reason)).toEqual(expect.arrayContaining(['ADJUSTMENT', 'CONSUMPTION', 'COUNT', 'PO_RECEIPT']))
    const low = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM outbox_events WHERE type = 'stock.low'`.execute(handle.db)
    // every level left low by its thresholds (quantity > 0 then ≤ alert) crossed once
    const lowLevels = await sql<{ n: number }>`SELECT count(*)::int AS n FROM stock_levels WHERE quantity <= alert_threshold AND quantity > 0`.execute(handle.db)
    expect(low.rows[0]?.n).toBe(lowLevels.rows[0]?.n)
  })
})
