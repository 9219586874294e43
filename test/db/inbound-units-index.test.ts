// Migration 0017: the lines' (purchase_order_id, line_no) constraint INCLUDEs units_per_pack, so the
// replenishment's inbound-PO term (Σ packs ordered × units per pack over a station's open orders)
// reads the lines index-only; down restores the previous column list. (The plan itself is checked
// on the bench dataset, where the replenishment scenario lists the scans of the terms statement:
// on a handful of test rows PostgreSQL picks whatever is cheapest for them.)
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { sql } from 'kysely'
import { createDb, type DbHandle } from '../../src/db/index.js'
import { down, up } from '../../db/migrations/0017-inbound-units-index.js'
import { createDatabaseFromTemplate } from '../helpers/db.js'

let h: DbHandle
beforeAll(async () => {
  const url = await createDatabaseFromTemplate(`${inject('dbPrefix')}_inbound_units`)
  h = createDb({ connectionString: url, poolSize: 1, statementTimeoutMs: 30_000, connectTimeoutMs: 10_000 })
})
afterAll(async () => { await h.destroy() })

const included = async (): Promise<string[]> => (await sql<{ def: string }>`
  SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indexrelid = 'purchase_order_lines_purchase_order_id_line_no_key'::regclass`.execute(h.db))
  .rows.map(r => (/INCLUDE \((.*)\)/.exec(r.def)?.[1] ?? '').split(', ')).flat()

describe('migration 0017 (the inbound-PO walk is index-only)', () => {
  it('up INCLUDEs units_per_pack and keeps the uniqueness; down restores the previous list', async () => {
    expect(await included()).toContain('units_per_pack')
    const { rows } = await sql<{ unique: boolean }>`SELECT indisunique AS unique FROM pg_index WHERE indexrelid = 'purchase_order_lines_purchase_order_id_line_no_key'::regclass`.execute(h.db)
    expect(rows).toEqual([{ unique: true }])
    await down(h.db)
    expect(await included()).not.toContain('units_per_pack')
    expect(await included()).toContain('confirmed_delivery_date')
    await up(h.db)
    expect(await included()).toContain('units_per_pack')
  })
})
