// Migration 0018: the partial indexes stock_levels_low and purchase_orders_station_open INCLUDE the
// columns their reads select (the low-stock reads: quantity and both thresholds; the replenishment's
// open orders: the id), with the same predicates; down restores them without. (The plans are
// checked on the bench dataset, where the report and replenishment scenarios EXPLAIN them: on a
// handful of test rows PostgreSQL picks whatever is cheapest for them.)
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { sql } from 'kysely'
import { createDb, type DbHandle } from '../../src/db/index.js'
import { down, up } from '../../db/migrations/0018-covering-partial-indexes.js'
import { createDatabaseFromTemplate } from '../helpers/db.js'

let h: DbHandle
beforeAll(async () => {
  const url = await createDatabaseFromTemplate(`${inject('dbPrefix')}_covering_partial`)
  h = createDb({ connectionString: url, poolSize: 1, statementTimeoutMs: 30_000, connectTimeoutMs: 10_000 })
})
afterAll(async () => { await h.destroy() })

const definitions = async (): Promise<Record<string, string>> => Object.fromEntries((await sql<{ name: string, def: string }>`
  SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE indexname IN ('stock_levels_low', 'purchase_orders_station_open')`.execute(h.db))
  .rows.map(r => [r.name, r.def]))

describe('migration 0018 (covering partial indexes)', () => {
  it('up INCLUDEs the columns read, with the same predicates; down restores the indexes without them', async () => {
    const after = await definitions()
    expect(after.stock_levels_low).toMatch(/\(station_id, article_id\) INCLUDE \(quantity, alert_threshold, critical_threshold\) WHERE \(quantity <= alert_threshold\)$/)
    expect(after.purchase_orders_station_open).toMatch(/\(station_id\) INCLUDE \(id\) WHERE \(status = ANY \(ARRAY\['PLACED'::text, 'CONFIRMED'::text, 'SHIPPED'::text\]\)\)$/)
    await down(h.db)
    const before = await definitions()
    expect(before.stock_levels_low).toMatch(/\(station_id, article_id\) WHERE \(quantity <= alert_threshold\)$/)
    expect(before.purchase_orders_station_open).toMatch(/\(station_id\) WHERE \(status = ANY/)
    expect(Object.values(before).join(' ')).not.toContain('INCLUDE')
    await up(h.db)
    expect(await definitions()).toEqual(after)
  })
})
