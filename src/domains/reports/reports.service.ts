// Reports (PRODUCT.md §11): who sees what, over which period, and the figures derived from the
// aggregates of reports.queries.ts (rates, projections, margins, totals — computed from groups,
// never from rows).
//
// Scope (§2.1 "reports": all / own station / own supplier): platform staff see every station and
// supplier and may narrow with stationId / supplierId; a station sees its own orders, stock and
// transfers only, a supplier its own orders and contracts only. A station naming another station
// (a supplier another supplier) is answered 404, as any row outside the caller's scope; naming
// the other party (a station filtering on a supplier) narrows within its scope.
import type { Db } from '../../db/index.js'
import { audienceOf, type Audience } from '../../lib/audience.js'
import { fromScaled, normalize, sumAmounts, toScaled } from '../../lib/money.js'
import type { Actor } from '../../lib/permissions.js'
import { AppError, notFound } from '../../lib/problems.js'
import { businessDate } from '../contracts/pricing.service.js'
import {
  contractWatchQuery, lowStockCountsQuery, lowStockItemsQuery, openOrdersQuery, pendingTransfersQuery, performanceQuery,
  spendQuery, stationUtilizationQuery, utilizationQuery, type ContractFilter, type SpendRow
} from './reports.queries.js'
import {
  MAX_PERIOD_DAYS, MAX_REPORT_ITEMS, OPEN_PO_STATUSES, PENDING_TRANSFER_STATUSES, type SpendBasis, type SpendGroup, type UtilizationInput
} from './reports.schemas.js'

export interface ReportScope {
  audience: Audience
  /** only this station's rows (always the caller's own station for a station user) */
  stationId: string | null
  /** only this supplier's rows (always the caller's own supplier for a supplier user) */
  supplierId: string | null
}

export interface Period {
  from: string
  to: string
  /** first instant of `from` (UTC) */
  start: string
  /** first instant after `to` (UTC) */
  end: string
}

const DAY = 86_400_000
const dayMs = (d: string): number => Date.parse(`${d}T00:00:00.000Z`)
const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

/** The caller's scope with the stationId / supplierId filters of the query (404 for another organization's). */
export function reportScope (actor: Actor, q: { stationId?: string, supplierId?: string }): ReportScope {
  const audience = audienceOf(actor)
  if (audience === 'station') {
    if (q.stationId !== undefined && q.stationId !== actor.organizationId) throw notFound('Station')
    return { audience, stationId: actor.organizationId, supplierId: q.supplierId ?? null }
  }
  if (audience === 'supplier') {
    if (q.supplierId !== undefined && q.supplierId !== actor.organizationId) throw notFound('Supplier')
    return { audience, stationId: q.stationId ?? null, supplierId: actor.organizationId }
  }
  return { audience, stationId: q.stationId ?? null, supplierId: q.supplierId ?? null }
}

/** [from, to] in UTC days: `to` defaults to today, `from` to 364 days before `to`; at most MAX_PERIOD_DAYS days. */
export function reportPeriod (q: { from?: string, to?: string }, now: Date = new Date()): Period {
  const to = q.to ?? now.toISOString().slice(0, 10)
  const from = q.from ?? dayOf(dayMs(to) - 364 * DAY)
  const days = (dayMs(to) - dayMs(from)) / DAY + 1
  if (days < 1) {
    throw new AppError('VALIDATION_FAILED', `from (${from}) is after to (${to})`, { errors: [{ pointer: '/from', code: 'INVALID_PERIOD', detail: 'from must not be after to' }] })
  }
  if (days > MAX_PERIOD_DAYS) {
    throw new AppError('VALIDATION_FAILED', `The period covers ${days} days; at most ${MAX_PERIOD_DAYS}`, { errors: [{ pointer: '/from', code: 'PERIOD_TOO_LONG', detail: `at most ${MAX_PERIOD_DAYS} days` }] })
  }
  return { from, to, start: `${from}T00:00:00.000Z`, end: `${dayOf(dayMs(to) + DAY)}T00:00:00.000Z` }
}

const amount = (v: string | null | undefined): string => normalize(v ?? '0', 2)
const minus = (a: string, b: string): string => fromScaled(toScaled(a, 2) - toScaled(b, 2), 2)
const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits

// ---- spend ------------------------------------------------------------------------------------

export interface SpendFigures {
  purchaseOrders?: number
  lines?: number
  packs?: number
  stationNet: string
  supplierNet: string
  marginNet: string
}
export interface SpendItem extends SpendFigures { key: string, code: string | null, name: string }
export interface SpendReport {
  from: string
  to: string
  groupBy: SpendGroup
  basis: SpendBasis
  currency: 'EUR'
  items: SpendItem[]
  totals: SpendFigures
}

const byLines = (group: SpendGroup): boolean => group === 'article' || group === 'category'

function spendItem (r: SpendRow, group: SpendGroup): SpendItem {
  const stationNet = amount(r.stationNet)
  const supplierNet = amount(r.supplierNet)
  const counts = byLines(group) ? { lines: r.lines ?? 0, packs: r.packs ?? 0 } : { purchaseOrders: r.purchaseOrders ?? 0 }
  return { key: r.key, code: r.code, name: r.name, ...counts, stationNet, supplierNet, marginNet: minus(stationNet, supplierNet) }
}

/** Largest net first (the caller's side), then by name; months in calendar order. */
function sortSpend (items: SpendItem[], group: SpendGroup, audience: Audience): SpendItem[] {
  if (group === 'month') return items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const side = (i: SpendItem): bigint => toScaled(audience === 'supplier' ? i.supplierNet : i.stationNet, 2)
  return items.sort((a, b) => {
    const d = side(b) - side(a)
    if (d !== 0n) return d > 0n ? 1 : -1
    return a.name.localeCompare(b.name) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  })
}

function spendTotals (items: readonly SpendItem[], group: SpendGroup): SpendFigures {
  const stationNet = sumAmounts(items.map(i => i.stationNet))
  const supplierNet = sumAmounts(items.map(i => i.supplierNet))
  const sum = (f: (i: SpendItem) => number | undefined): number => items.reduce((n, i) => n + (f(i) ?? 0), 0)
  const counts = byLines(group) ? { lines: sum(i => i.lines), packs: sum(i => i.packs) } : { purchaseOrders: sum(i => i.purchaseOrders) }
  return { ...counts, stationNet, supplierNet, marginNet: minus(stationNet, supplierNet) }
}

export async function spendReport (db: Db, scope: ReportScope, period: Period, groupBy: SpendGroup, basis: SpendBasis): Promise<SpendReport> {
  const rows = (await spendQuery(scope, period, groupBy, basis).execute(db)).rows
  const items = sortSpend(rows.map(r => spendItem(r, groupBy)), groupBy, scope.audience)
  // the totals cover every group, the list at most MAX_REPORT_ITEMS (far above the scale targets)
  return { from: period.from, to: period.to, groupBy, basis, currency: 'EUR', items: items.slice(0, MAX_REPORT_ITEMS), totals: spendTotals(items, groupBy) }
}

// ---- supplier performance ---------------------------------------------------------------------

export interface PerformanceItem {
  supplierId: string
  supplierName: string
  purchaseOrders: number
  declined: number
  cancelled: number
  confirmed: number
  received: number
  avgConfirmationHours: number | null
  avgLeadTimeDays: number | null
  receivedLines: number
  datedLines: number
  onTimeLines: number
  onTimeRate: number | null
  orderedPacks: number
  receivedPacks: number
  fillRate: number | null
}

const ratio = (n: number, d: number): number | null => (d > 0 ? round(n / d, 4) : null)
const decimal = (v: string | null): number | null => (v === null ? null : Number(v))

export async function performanceReport (db: Db, scope: ReportScope, period: Period): Promise<{ from: string, to: string, items: PerformanceItem[] }> {
  const rows = (await performanceQuery(scope, period).execute(db)).rows
  const items = rows.map(r => {
    const receivedLines = r.receivedLines ?? 0
    const datedLines = r.datedLines ?? 0
    const onTimeLines = r.onTimeLines ?? 0
    const orderedPacks = r.orderedPacks ?? 0
    const receivedPacks = r.receivedPacks ?? 0
    return {
      supplierId: r.supplierId,
      supplierName: r.supplierName,
      purchaseOrders: r.purchaseOrders,
      declined: r.declined,
      cancelled: r.cancelled,
      confirmed: r.confirmed,
      received: r.received,
      avgConfirmationHours: decimal(r.avgConfirmationHours),
      avgLeadTimeDays: decimal(r.avgLeadTimeDays),
      receivedLines,
      datedLines,
      onTimeLines,
      onTimeRate: ratio(onTimeLines, datedLines),
      orderedPacks,
      receivedPacks,
      fillRate: ratio(receivedPacks, orderedPacks)
    }
  })
  return { from: period.from, to: period.to, items }
}

// ---- contract utilization ---------------------------------------------------------------------

export interface ContractPeriodShare {
  /** days of the validity period elapsed on `today`, inclusive, within [0, total] */
  elapsed: number
  total: number
  elapsedPct: number
}

export function periodShare (validFrom: string, validUntil: string, today: string): ContractPeriodShare {
  const total = (dayMs(validUntil) - dayMs(validFrom)) / DAY + 1
  const elapsed = Math.min(total, Math.max(0, (dayMs(today) - dayMs(validFrom)) / DAY + 1))
  return { elapsed, total, elapsedPct: round((elapsed / total) * 100, 2) }
}

/** Packs extrapolated linearly to the end of the period (null before it starts). */
export function projectPacks (packs: number, share: ContractPeriodShare): number | null {
  return share.elapsed === 0 ? null : Math.round((packs * share.total) / share.elapsed)
}

const pctOf = (n: number | null, d: number | null): number | null => (n === null || d === null || d === 0 ? null : round((n / d) * 100, 2))

const DEFAULT_CONTRACT_STATUSES = ['ACTIVE', 'SUSPENDED'] as const

export async function utilizationReport (db: Db, scope: ReportScope, input: UtilizationInput, today: string = businessDate()): Promise<{ asOf: string, items: Array<Record<string, unknown>> }> {
  const filter: ContractFilter = {
    statuses: input.status !== undefined ? [input.status] : DEFAULT_CONTRACT_STATUSES,
    supplierId: scope.supplierId,
    contractId: input.contractId ?? null,
    today
  }
  if (scope.audience === 'station' && scope.stationId !== null) {
    const rows = (await stationUtilizationQuery(filter, scope.stationId).execute(db)).rows
    return {
      asOf: today,
      items: rows.map(r => {
        const share = periodShare(r.validFrom, r.validUntil, today)
        return { ...r, receivedPacks: r.receivedPacks ?? 0, elapsedPct: share.elapsedPct, projectedPacks: projectPacks(r.orderedPacks, share) }
      })
    }
  }
  const rows = (await utilizationQuery(filter).execute(db)).rows
  return {
    asOf: today,
    items: rows.map(r => {
      const share = periodShare(r.validFrom, r.validUntil, today)
      const projectedPacks = projectPacks(r.orderedPacks, share)
      return {
        ...r,
        allowancePct: normalize(r.allowancePct, 2),
        remainingPacks: r.capPacks === null ? null : r.capPacks - r.orderedPacks,
        usedPct: pctOf(r.orderedPacks, r.committedPacks),
        elapsedPct: share.elapsedPct,
        projectedPacks,
        projectedPct: pctOf(projectedPacks, r.committedPacks)
      }
    })
  }
}

// ---- dashboard --------------------------------------------------------------------------------

export async function dashboardReport (db: Db, scope: ReportScope, today: string = businessDate()): Promise<Record<string, unknown>> {
  const withStock = scope.audience !== 'supplier'
  const withContracts = scope.audience !== 'station'
  const [open, lowCounts, lowItems, transfers, contracts] = await Promise.all([
    openOrdersQuery(scope).execute(db),
    withStock ? lowStockCountsQuery(scope.stationId).execute(db) : undefined,
    withStock ? lowStockItemsQuery(scope.stationId).execute(db) : undefined,
    withStock ? pendingTransfersQuery(scope.stationId).execute(db) : undefined,
    withContracts ? contractWatchQuery(scope.supplierId, today).execute(db) : undefined
  ])
  const openBy = new Map(open.rows.map(r => [r.status, r]))
  const report: Record<string, unknown> = {
    asOf: today,
    currency: 'EUR',
    openOrders: OPEN_PO_STATUSES.map(status => {
      const r = openBy.get(status)
      return { status, purchaseOrders: r?.purchaseOrders ?? 0, stationNet: amount(r?.stationNet), supplierNet: amount(r?.supplierNet) }
    })
  }
  if (lowCounts !== undefined && lowItems !== undefined && transfers !== undefined) {
    const c = lowCounts.rows[0] ?? { levels: 0, critical: 0, out: 0 }
    report.lowStock = {
      ...c,
      items: lowItems.rows.map(r => ({ ...r, severity: r.quantity === 0 ? 'OUT' : r.quantity <= r.criticalThreshold ? 'CRITICAL' : 'LOW' }))
    }
    const byStatus = new Map(transfers.rows.map(r => [r.status, r.transfers]))
    report.pendingTransfers = PENDING_TRANSFER_STATUSES.map(status => ({ status, transfers: byStatus.get(status) ?? 0 }))
  }
  if (contracts !== undefined) {
    const first = contracts.rows[0]
    report.contracts = {
      nearCap: first?.nearCapTotal ?? 0,
      endingSoon: first?.endingSoonTotal ?? 0,
      items: contracts.rows.map(r => ({
        contractId: r.contractId,
        contractNumber: r.contractNumber,
        contractName: r.contractName,
        supplierId: r.supplierId,
        supplierName: r.supplierName,
        validUntil: r.validUntil,
        daysLeft: r.daysLeft,
        linesNearCap: r.linesNearCap,
        maxUsedPct: decimal(r.maxUsedPct)
      }))
    }
  }
  return report
}
