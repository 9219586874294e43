// Shared by the report scenarios (reports-platform, reports-station, reports-uncached): the year
// of the dataset (the 365 days before its anchor date), the report requests for one caller, the
// plan check of every statement those requests run, and the cold timings taken in setup.
import { ANCHOR } from '../dataset/generate.js'
import { checkPlan, compiled } from '../lib/plan.js'
import type { BenchContext } from '../lib/types.js'
import {
  contractWatchQuery, lowStockCountsQuery, lowStockItemsQuery, openOrdersQuery, pendingTransfersQuery, performanceQuery, spendQuery,
  stationUtilizationQuery, utilizationQuery
} from '../../../src/domains/reports/reports.queries.js'
import { reportPeriod, type ReportScope } from '../../../src/domains/reports/reports.service.js'
import { businessDate } from '../../../src/domains/contracts/pricing.service.js'

const DAY = 86_400_000
/** One year of the dataset: the 365 days before its anchor. */
export const YEAR = { from: new Date(Date.parse(ANCHOR) - 365 * DAY).toISOString().slice(0, 10), to: new Date(Date.parse(ANCHOR) - DAY).toISOString().slice(0, 10) }

/** Every report for one caller over that year: spend in each grouping and basis, utilization, performance, dashboard. */
export function reportPaths (period = YEAR): string[] {
  const q = `from=${period.from}&to=${period.to}`
  const spend = ['supplier', 'station', 'article', 'category', 'month'].flatMap(g => ['ordered', 'received'].map(b => `/v1/reports/spend?${q}&groupBy=${g}&basis=${b}`))
  return [...spend, `/v1/reports/supplier-performance?${q}`, '/v1/reports/contract-utilization', '/v1/reports/dashboard']
}

/** EXPLAINs every statement the caller's reports run (custom and generic plans): a sequential scan of a big table throws. */
export async function checkReportPlans (ctx: BenchContext, scope: ReportScope): Promise<string[]> {
  const period = reportPeriod(YEAR)
  const today = businessDate()
  const contracts = { statuses: ['ACTIVE', 'SUSPENDED'], supplierId: scope.supplierId, contractId: null, today }
  const statements = [
    ...(['supplier', 'station', 'article', 'category', 'month'] as const).flatMap(g => (['ordered', 'received'] as const).map(b => [`spend ${g} ${b}`, spendQuery(scope, period, g, b)] as const)),
    ['performance', performanceQuery(scope, period)] as const,
    ['utilization', scope.audience === 'station' && scope.stationId !== null ? stationUtilizationQuery(contracts, scope.stationId) : utilizationQuery(contracts)] as const,
    ['open orders', openOrdersQuery(scope)] as const,
    ...(scope.audience === 'supplier' ? [] : [['low stock counts', lowStockCountsQuery(scope.stationId)] as const, ['low stock items', lowStockItemsQuery(scope.stationId)] as const, ['pending transfers', pendingTransfersQuery(scope.stationId)] as const]),
    ...(scope.audience === 'station' ? [] : [['contract watch', contractWatchQuery(scope.supplierId, today)] as const])
  ]
  // Platform staff's reports read every order of the year (about half of the table on this
  // dataset) and the dashboard's open orders include RECEIVED and CLOSED ones (a third of it): a
  // sequential scan of purchase_orders is then the cheapest plan, and PostgreSQL picks it as soon
  // as recent pages lack a visibility map. The issue's rule — never a scan of purchase_order_lines —
  // and every other table's stay checked; station and supplier scopes may scan nothing big.
  const allowed = new Set(scope.audience === 'platform' ? ['purchase_orders'] : [])
  const violations: string[] = []
  for (const [label, statement] of statements) {
    const r = await checkPlan(ctx.pool, `reports ${scope.audience} ${label}`, compiled(statement), allowed)
    violations.push(...r.violations.map(v => `${label}: ${v}`))
  }
  if (violations.length > 0) throw new Error(`report statements scan big tables: ${violations.join('; ')}`)
  return [`plans: ${statements.length} report statements EXPLAINed (custom and generic plans), no sequential scan of a big table${allowed.size > 0 ? ` but ${[...allowed].join(', ')} (platform-wide: most of the table)` : ''}`]
}

/** Each path requested once (a cache miss: the report computed), timed; the notes list them. */
export async function coldTimings (ctx: BenchContext, token: string, paths: readonly string[]): Promise<string[]> {
  const out: string[] = []
  for (const p of paths) {
    const t = performance.now()
    const r = await ctx.api('GET', p, { token })
    const ms = performance.now() - t
    if (r.status !== 200) throw new Error(`${p} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`)
    const cache = r.headers.get('x-report-cache') ?? '?'
    const bytes = JSON.stringify(r.body).length
    out.push(`${p.replace(/^\/v1\/reports\//, '').replace(/from=[^&]+&to=[^&]+&?/, '')}: ${ms.toFixed(0)} ms (${cache}, ${(bytes / 1024).toFixed(0)} KiB)`)
  }
  return out
}
