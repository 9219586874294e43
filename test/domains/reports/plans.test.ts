// The report queries' plans and texts. A database of this file's own is filled with ~13 000
// orders and ~30 000 lines over five years (the fixture dataset copied back in time), analyzed,
// and every report query is EXPLAINed — for the platform over a month, a year and the longest
// period, for a station and a supplier — with the planner's defaults (enable_seqscan on): no
// plan scans purchase_order_lines sequentially, the lines are read from the covering indexes of
// migration 0012, and the aggregates come out of index-only scans. The SQL texts are kept as
// snapshots (__snapshots__/*.sql) so a reviewer sees what a change to them produces.
import { CompiledQuery, sql, type RawBuilder } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import {
  contractWatchQuery, lowStockCountsQuery, lowStockItemsQuery, openOrdersQuery, pendingTransfersQuery, performanceQuery, spendQuery,
  stationUtilizationQuery, utilizationQuery, type ContractFilter
} from '../../../src/domains/reports/reports.queries.js'
import { reportPeriod, type ReportScope } from '../../../src/domains/reports/reports.service.js'
import { DAY, reportsApp, seedDataset, utcDay, type Dataset, type FxParty } from './fixtures.js'

let app: App
let ds: Dataset

beforeAll(async () => {
  ({ app } = await reportsApp('plans', { DATABASE_STATEMENT_TIMEOUT_MS: 120_000 }))
  ds = await seedDataset(app, 99)
  // 150 copies of every order, each 12 days further back: ~13 500 orders over five years
  await sql`
    WITH g AS MATERIALIZED (
      SELECT po.*, k, gen_random_uuid() AS new_po, gen_random_uuid() AS new_mo, gen_random_uuid() AS new_cart
      FROM purchase_orders po CROSS JOIN generate_series(1, 150) AS k),
    c AS (INSERT INTO carts (id, station_id, status, created_at) SELECT new_cart, station_id, 'CHECKED_OUT', created_at - make_interval(days => k * 12) FROM g),
    m AS (INSERT INTO master_orders (id, number, station_id, cart_id, status, supplier_count, supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross, created_at)
      SELECT new_mo, 'MO-X-' || new_mo, station_id, new_cart, 'PLACED', 1, supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross, created_at - make_interval(days => k * 12) FROM g),
    p AS (INSERT INTO purchase_orders (id, number, master_order_id, station_id, supplier_id, status, supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross,
        confirmed_at, received_at, created_at, updated_at)
      SELECT new_po, 'PO-X-' || new_po, new_mo, station_id, supplier_id, status, supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross,
        confirmed_at - make_interval(days => k * 12), received_at - make_interval(days => k * 12), created_at - make_interval(days => k * 12), updated_at FROM g)
    INSERT INTO purchase_order_lines (id, purchase_order_id, line_no, station_id, supplier_id, article_id, contract_line_id, article_code, article_name, supplier_ref, pack_label,
        units_per_pack, supplier_pack_price, fee_pct, station_pack_price, vat_rate, price_source, packs_ordered, supplier_line_net, station_line_net, desired_delivery_date,
        confirmed_delivery_date, packs_received)
      SELECT gen_random_uuid(), g.new_po, l.line_no, l.station_id, l.supplier_id, l.article_id, l.contract_line_id, l.article_code, l.article_name, l.supplier_ref, l.pack_label,
        l.units_per_pack, l.supplier_pack_price, l.fee_pct, l.station_pack_price, l.vat_rate, l.price_source, l.packs_ordered, l.supplier_line_net, l.station_line_net,
        l.desired_delivery_date - g.k * 12, l.confirmed_delivery_date - g.k * 12, l.packs_received
      FROM g JOIN purchase_order_lines l ON l.purchase_order_id = g.id`.execute(app.db)
  for (const t of ['purchase_orders', 'purchase_order_lines', 'contract_lines', 'contracts', 'stock_levels', 'transfers', 'articles']) await sql`VACUUM ANALYZE ${sql.table(t)}`.execute(app.db)
}, 180_000)
afterAll(async () => { await app?.close() })

interface PlanNode { 'Node Type': string, 'Relation Name'?: string, 'Index Name'?: string, Plans?: PlanNode[] }

function nodes (n: PlanNode, out: PlanNode[] = []): PlanNode[] {
  out.push(n)
  for (const c of n.Plans ?? []) nodes(c, out)
  return out
}

const literal = (v: unknown): string => {
  if (typeof v === 'number') return String(v)
  const text = Array.isArray(v) ? `{${v.map(x => `"${String(x)}"`).join(',')}}` : String(v)
  return `'${text.replaceAll("'", "''")}'`
}

/**
 * The plan of `q` with its parameters: as the custom plan a first execution gets, or as the
 * generic plan PostgreSQL may switch to once the service's named statement has run a few times.
 */
async function plan (q: RawBuilder<unknown>, mode: 'custom' | 'generic' = 'custom'): Promise<PlanNode[]> {
  const c = q.compile(app.db)
  return await app.db.connection().execute(async db => {
    const run = async (text: string): Promise<Array<Record<string, unknown>>> => (await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, []))).rows
    await run(`SET plan_cache_mode = force_${mode}_plan`)
    await run(`PREPARE report_plan AS ${c.sql}`)
    try {
      const rows = await run(`EXPLAIN (FORMAT JSON) EXECUTE report_plan${c.parameters.length > 0 ? `(${c.parameters.map(literal).join(', ')})` : ''}`)
      const json = Object.values(rows[0] ?? {})[0] as Array<{ Plan: PlanNode }>
      return nodes((json[0] as { Plan: PlanNode }).Plan)
    } finally {
      await run('DEALLOCATE report_plan')
      await run('RESET plan_cache_mode')
    }
  })
}

const today = utcDay(Date.now())
const platform: ReportScope = { audience: 'platform', stationId: null, supplierId: null }
const station = (): ReportScope => ({ audience: 'station', stationId: (ds.stations[0] as FxParty).id, supplierId: null })
const supplier = (): ReportScope => ({ audience: 'supplier', stationId: null, supplierId: (ds.suppliers[0] as FxParty).id })
const periods = {
  month: reportPeriod({ from: utcDay(Date.now() - 30 * DAY), to: today }),
  year: reportPeriod({ to: today }),
  longest: reportPeriod({ from: utcDay(Date.now() - 1095 * DAY), to: today })
}
const contracts = (): ContractFilter => ({ statuses: ['ACTIVE', 'SUSPENDED'], supplierId: null, contractId: null, today })

function queries (): Array<[string, RawBuilder<unknown>]> {
  const out: Array<[string, RawBuilder<unknown>]> = []
  for (const [pname, period] of Object.entries(periods)) {
    for (const [sname, scope] of [['platform', platform], ['station', station()], ['supplier', supplier()]] as const) {
      for (const group of ['supplier', 'station', 'month', 'article', 'category'] as const) {
        for (const basis of ['ordered', 'received'] as const) out.push([`spend ${group} ${basis} ${sname} ${pname}`, spendQuery(scope, period, group, basis)])
      }
      out.push([`performance ${sname} ${pname}`, performanceQuery(scope, period)])
    }
  }
  out.push(['utilization platform', utilizationQuery(contracts())])
  out.push(['utilization station', stationUtilizationQuery(contracts(), (ds.stations[0] as FxParty).id)])
  for (const [sname, scope] of [['platform', platform], ['station', station()], ['supplier', supplier()]] as const) {
    out.push([`open orders ${sname}`, openOrdersQuery(scope)])
  }
  out.push(['low stock counts', lowStockCountsQuery((ds.stations[0] as FxParty).id)], ['low stock items', lowStockItemsQuery(null)])
  out.push(['pending transfers', pendingTransfersQuery((ds.stations[0] as FxParty).id)], ['contract watch', contractWatchQuery(null, today)])
  return out
}

describe('report query plans', () => {
  it('the dataset is big enough for a sequential scan to be tempting', async () => {
    const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM purchase_order_lines`.execute(app.db)
    expect(r.rows[0]?.n).toBeGreaterThan(20_000)
  })

  it('no report query scans purchase_order_lines sequentially, custom or generic plan (planner defaults, analyzed tables)', async () => {
    const failures: string[] = []
    for (const [name, q] of queries()) {
      for (const mode of ['custom', 'generic'] as const) {
        const lines = (await plan(q, mode)).filter(n => n['Relation Name'] === 'purchase_order_lines')
        for (const n of lines) {
          if (!['Index Only Scan', 'Index Scan', 'Bitmap Heap Scan'].includes(n['Node Type'])) failures.push(`${name} (${mode}): ${n['Node Type']} on purchase_order_lines`)
        }
      }
    }
    expect(failures).toEqual([])
  })

  it('order lines come from the covering indexes, index-only', async () => {
    for (const [name, q] of queries().filter(([n]) => /^spend (article|category)|^spend .* received|^performance|^utilization/.test(n))) {
      const lines = (await plan(q, 'generic')).filter(n => n['Relation Name'] === 'purchase_order_lines')
      expect(lines.length, name).toBeGreaterThan(0)
      for (const n of lines) {
        expect(n['Node Type'], name).toBe('Index Only Scan')
        expect(['purchase_order_lines_purchase_order_id_line_no_key', 'purchase_order_lines_contract_line'], name).toContain(n['Index Name'])
      }
    }
    // the order-level spend reads the purchase orders index-only too
    const header = (await plan(spendQuery(platform, periods.year, 'supplier', 'ordered'))).filter(n => n['Relation Name'] === 'purchase_orders')
    expect(header.map(n => n['Node Type'])).toEqual(['Index Only Scan'])
  })
})

describe('report SQL texts', () => {
  it('are kept as snapshots', async () => {
    const named: Array<[string, RawBuilder<unknown>]> = [
      ['spend-supplier-ordered', spendQuery(station(), periods.year, 'supplier', 'ordered')],
      ['spend-month-received', spendQuery(station(), periods.year, 'month', 'received')],
      ['spend-article-received', spendQuery(supplier(), periods.year, 'article', 'received')],
      ['spend-category-ordered', spendQuery(platform, periods.year, 'category', 'ordered')],
      ['supplier-performance', performanceQuery(station(), periods.year)],
      ['contract-utilization', utilizationQuery(contracts())],
      ['contract-utilization-station', stationUtilizationQuery(contracts(), (ds.stations[0] as FxParty).id)],
      ['dashboard-open-orders', openOrdersQuery(station())],
      ['dashboard-low-stock', lowStockItemsQuery((ds.stations[0] as FxParty).id)],
      ['dashboard-pending-transfers', pendingTransfersQuery((ds.stations[0] as FxParty).id)],
      ['dashboard-contracts', contractWatchQuery(null, today)]
    ]
    for (const [name, q] of named) await expect(`${q.compile(app.db).sql.replace(/\n\s+/g, '\n  ')}\n`).toMatchFileSnapshot(`./__snapshots__/${name}.sql`)
  })
})
