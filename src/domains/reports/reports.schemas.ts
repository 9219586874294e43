// Query and response schemas of the reports (PRODUCT.md §11). Prices follow §2.2 as everywhere:
// one response view per audience, and a figure a party may not see is absent from its view — a
// station's report has no supplier-side amount or margin, a supplier's no station-side amount or
// margin; platform staff see both sides and the margin. Counts, packs and rates carry no price and
// are the same in every view.
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox'
import { Amount, Count as Int32Count, DateString, Int64, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { STATUSES as CONTRACT_STATUSES } from '../contracts/contracts.schemas.js'

/** Counts and sums of packs over many orders: 64-bit (exact up to 2^53 in JSON). */
const Count = (description: string) => Int64({ description })
const Rate = (description: string) => Nullable(Type.Number({ minimum: 0, maximum: 1e9 }), { description })
const Name = (description?: string) => Type.String({ maxLength: 200, ...(description === undefined ? {} : { description }) })
const Code = (description?: string) => Type.String({ maxLength: 64, ...(description === undefined ? {} : { description }) })

/** The most groups or lines a report lists (the scale targets of DATA.md stay far below it). */
export const MAX_REPORT_ITEMS = 100_000

/** The longest period a report covers (days): bounds the work of one request. */
export const MAX_PERIOD_DAYS = 1096

const period = {
  from: Type.Optional(DateString({ description: 'First day of the period (UTC day of the order\'s creation, as in GET /v1/purchase-orders). Default: 364 days before `to`' })),
  to: Type.Optional(DateString({ description: 'Last day of the period, inclusive (UTC). Default: today. At most 1096 days after `from`' }))
}
const filters = {
  stationId: Type.Optional(Uuid({ description: 'Only this station\'s orders. A station user may name only its own station (another: 404)' })),
  supplierId: Type.Optional(Uuid({ description: 'Only this supplier\'s orders. A supplier user may name only itself (another: 404)' }))
}

// ---- spend ------------------------------------------------------------------------------------

export const SPEND_GROUPS = ['supplier', 'station', 'article', 'category', 'month'] as const
export type SpendGroup = typeof SPEND_GROUPS[number]
export const SPEND_BASES = ['ordered', 'received'] as const
export type SpendBasis = typeof SPEND_BASES[number]

export const SpendQuery = Type.Object({
  ...period,
  groupBy: Type.Optional(StringEnum(SPEND_GROUPS, { default: 'supplier', description: 'supplier, station, article, category (of the article) or month (UTC, YYYY-MM)' })),
  basis: Type.Optional(StringEnum(SPEND_BASES, { default: 'ordered', description: 'ordered: the frozen line nets of every order not CANCELLED or DECLINED; received: packs received × the frozen pack price, rounded per line (what is invoiced), for the orders received so far' })),
  ...filters
}, { additionalProperties: false })
export type SpendInput = Static<typeof SpendQuery>

const spendCounts = {
  purchaseOrders: Type.Optional(Count('Orders counted (groupBy supplier, station, month)')),
  lines: Type.Optional(Count('Order lines counted (groupBy article, category; an article appears once per order)')),
  packs: Type.Optional(Count('Packs ordered or received, per the basis (groupBy article, category)'))
}
const stationSide = { stationNet: Amount({ description: 'Station-side net: what the stations pay' }) }
const supplierSide = { supplierNet: Amount({ description: 'Supplier-side net: what Blue Whale pays the suppliers' }) }
const margin = { marginNet: Amount({ description: 'stationNet − supplierNet (platform only)' }) }

const spendItem = (prices: TProperties): TObject => Type.Object({
  key: Code('The group: a supplier, station or article id, a category, or a month YYYY-MM'),
  code: Nullable(Code(), { description: 'Station or article code, the category; null for suppliers and months' }),
  name: Name('Supplier, station or article name, the category, or the month'),
  ...spendCounts,
  ...prices
}, { additionalProperties: false })

const spendReport = (id: string, description: string, prices: TProperties): TObject => Type.Object({
  from: DateString(),
  to: DateString(),
  groupBy: StringEnum(SPEND_GROUPS),
  basis: StringEnum(SPEND_BASES),
  currency: StringEnum(['EUR']),
  items: Type.Array(spendItem(prices), { maxItems: MAX_REPORT_ITEMS, description: 'One per group; by net descending (months in order)' }),
  totals: Type.Object({ ...spendCounts, ...prices }, { additionalProperties: false, description: 'Σ over every group (to the cent)' })
}, { $id: id, description, additionalProperties: false })

export const SpendPlatform = spendReport('SpendReportPlatform', 'Spend as platform staff see it: both sides and the margin', { ...stationSide, ...supplierSide, ...margin })
export const SpendStation = spendReport('SpendReportStation', 'Spend as a station sees it: station-side amounts only', stationSide)
export const SpendSupplier = spendReport('SpendReportSupplier', 'Spend as a supplier sees it: supplier-side amounts only', supplierSide)

// ---- contract utilization ---------------------------------------------------------------------

const ContractStatus = StringEnum(CONTRACT_STATUSES)

export const UtilizationQuery = Type.Object({
  status: Type.Optional(StringEnum(CONTRACT_STATUSES, { description: 'Effective contract status (an ACTIVE contract past validUntil is EXPIRED). Default: ACTIVE and SUSPENDED' })),
  supplierId: filters.supplierId,
  contractId: Type.Optional(Uuid({ description: 'Only this contract (a filter: a contract outside the caller\'s scope gives no lines)' }))
}, { additionalProperties: false })
export type UtilizationInput = Static<typeof UtilizationQuery>

const utilizationBase = {
  contractId: Uuid(),
  contractNumber: Code('e.g. CT-2026-0001'),
  status: ContractStatus,
  validFrom: DateString(),
  validUntil: DateString(),
  articleId: Uuid(),
  articleCode: Code(),
  articleName: Name(),
  elapsedPct: Type.Number({ minimum: 0, maximum: 100, description: 'Share of the validity period elapsed today (France), days counted inclusively' })
}
const UtilizationLineFull = Type.Object({
  ...utilizationBase,
  contractName: Name(),
  supplierId: Uuid(),
  supplierName: Name(),
  contractLineId: Uuid(),
  committedPacks: Nullable(Int32Count({ minimum: 1 }), { description: 'The cap; null: no cap' }),
  allowancePct: Type.String({ pattern: '^\\d{1,4}\\.\\d{2}$', maxLength: 7, description: 'How far above the cap orders may go, %' }),
  capPacks: Nullable(Int64(), { description: 'floor(committed × (1 + allowance %)): the most orders may reach' }),
  orderedPacks: Count('Packs counting against the cap: non-cancelled order lines priced by this line, less the shortfalls given back when a short delivery was closed'),
  receivedPacks: Count('Packs received on order lines priced by this line'),
  remainingPacks: Nullable(Type.Integer({ format: 'int64', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }), { description: 'capPacks − orderedPacks' }),
  usedPct: Rate('orderedPacks ÷ committedPacks × 100 (2 decimals)'),
  projectedPacks: Nullable(Int64(), { description: 'orderedPacks extrapolated linearly to the end of the period: orderedPacks × period days ÷ days elapsed (null before the period starts)' }),
  projectedPct: Rate('projectedPacks ÷ committedPacks × 100 (2 decimals)')
}, { additionalProperties: false })
const UtilizationLineStation = Type.Object({
  ...utilizationBase,
  orderedPacks: Count('Packs this station ordered on non-cancelled, non-declined order lines priced by this contract line'),
  receivedPacks: Count('Packs this station received on those lines'),
  projectedPacks: Nullable(Int64(), { description: 'This station\'s orderedPacks extrapolated linearly to the end of the period' })
}, { additionalProperties: false })

const utilizationReport = (id: string, description: string, line: TObject): TObject => Type.Object({
  asOf: DateString({ description: 'Today (France): the date elapsed shares and projections are computed for' }),
  items: Type.Array(line, { maxItems: MAX_REPORT_ITEMS, description: 'By contract number, then article code' })
}, { $id: id, description, additionalProperties: false })

export const UtilizationPlatform = utilizationReport('ContractUtilizationPlatform', 'Contract lines with their caps, as platform staff and the contract\'s supplier see them (pack counts carry no price)', UtilizationLineFull)
export const UtilizationStation = utilizationReport('ContractUtilizationStation', 'The contract lines a station\'s orders drew on, with that station\'s own packs only: no cap, no other station\'s orders', UtilizationLineStation)

// ---- supplier performance ---------------------------------------------------------------------

export const PerformanceQuery = Type.Object({ ...period, ...filters }, { additionalProperties: false })
export type PerformanceInput = Static<typeof PerformanceQuery>

const PerformanceRow = Type.Object({
  supplierId: Uuid(),
  supplierName: Name(),
  purchaseOrders: Count('Orders placed in the period (every status)'),
  declined: Count('… of which DECLINED'),
  cancelled: Count('… of which CANCELLED'),
  confirmed: Count('… confirmed by the supplier (confirmedAt set)'),
  received: Count('… received by the station (receivedAt set)'),
  avgConfirmationHours: Rate('Mean time from placing to confirmation, hours (2 decimals), over the confirmed orders'),
  avgLeadTimeDays: Rate('Mean time from placing to reception, days (2 decimals), over the received orders'),
  receivedLines: Count('Lines of the received orders'),
  datedLines: Count('… with a confirmed delivery date'),
  onTimeLines: Count('… received on or before their confirmed delivery date (the reception\'s date in France)'),
  onTimeRate: Rate('onTimeLines ÷ datedLines (4 decimals)'),
  orderedPacks: Count('Packs ordered on the received orders'),
  receivedPacks: Count('Packs received on them'),
  fillRate: Rate('receivedPacks ÷ orderedPacks (4 decimals; above 1 when more than ordered was accepted)')
}, { additionalProperties: false })

export const PerformanceReport = Type.Object({
  from: DateString(),
  to: DateString(),
  items: Type.Array(PerformanceRow, { maxItems: MAX_REPORT_ITEMS, description: 'One per supplier with orders in the period, by name' })
}, { $id: 'SupplierPerformanceReport', additionalProperties: false, description: 'The same in every view (no price)' })

// ---- dashboard --------------------------------------------------------------------------------

export const DashboardQuery = Type.Object({}, { additionalProperties: false })

export const OPEN_PO_STATUSES = ['PLACED', 'CONFIRMED', 'SHIPPED', 'RECEIVED', 'CLOSED'] as const
export const PENDING_TRANSFER_STATUSES = ['REQUESTED', 'CONFIRMED', 'IN_PREPARATION', 'SHIPPED', 'RECEIVED', 'CLOSED', 'SETTLED'] as const
export const NEAR_CAP_PCT = 80
export const ENDING_WITHIN_DAYS = 30
export const DASHBOARD_ITEMS = 20

const openOrders = (prices: TProperties) => Type.Array(Type.Object({
  status: StringEnum(OPEN_PO_STATUSES),
  purchaseOrders: Count('Orders in this status'),
  ...prices
}, { additionalProperties: false }), { maxItems: OPEN_PO_STATUSES.length, description: 'Orders not yet invoiced (nor cancelled or declined), per status, every status listed' })

const LowStock = Type.Object({
  levels: Count('Stock levels at or below their alert threshold'),
  critical: Count('… at or below their critical threshold'),
  out: Count('… at zero'),
  items: Type.Array(Type.Object({
    stationId: Uuid(),
    stationCode: Code(),
    articleId: Uuid(),
    articleCode: Code(),
    articleName: Name(),
    quantity: Int32Count(),
    alertThreshold: Int32Count(),
    criticalThreshold: Int32Count(),
    severity: StringEnum(['OUT', 'CRITICAL', 'LOW'])
  }, { additionalProperties: false }), { maxItems: DASHBOARD_ITEMS, description: `The ${DASHBOARD_ITEMS} most urgent: OUT, then CRITICAL, then LOW, lowest quantity ÷ alert threshold first` })
}, { additionalProperties: false })

const PendingTransfers = Type.Array(Type.Object({
  status: StringEnum(PENDING_TRANSFER_STATUSES),
  transfers: Count('Transfers in this status')
}, { additionalProperties: false }), { maxItems: PENDING_TRANSFER_STATUSES.length, description: 'Transfers not in a final status (REJECTED, CANCELLED, ARCHIVED), per status, every status listed' })

const ContractsWatch = Type.Object({
  nearCap: Count(`ACTIVE contracts with a capped line at ${NEAR_CAP_PCT} % of its committed packs or more`),
  endingSoon: Count(`ACTIVE contracts ending within ${ENDING_WITHIN_DAYS} days`),
  items: Type.Array(Type.Object({
    contractId: Uuid(),
    contractNumber: Code(),
    contractName: Name(),
    supplierId: Uuid(),
    supplierName: Name(),
    validUntil: DateString(),
    daysLeft: Int32Count(),
    linesNearCap: Count(`Capped lines at ${NEAR_CAP_PCT} % or more`),
    maxUsedPct: Rate('The highest orderedPacks ÷ committedPacks × 100 of its lines')
  }, { additionalProperties: false }), { maxItems: DASHBOARD_ITEMS, description: `Up to ${DASHBOARD_ITEMS}: ending soonest first, then the most used` })
}, { additionalProperties: false })

const dashboard = (id: string, description: string, props: TProperties): TObject => Type.Object({
  asOf: DateString({ description: 'Today (France)' }),
  currency: StringEnum(['EUR']),
  ...props
}, { $id: id, description, additionalProperties: false })

export const DashboardPlatform = dashboard('DashboardPlatform', 'Every station and supplier: orders with both sides, stock, transfers, contracts', {
  openOrders: openOrders({ ...stationSide, ...supplierSide }), lowStock: LowStock, pendingTransfers: PendingTransfers, contracts: ContractsWatch
})
export const DashboardStation = dashboard('DashboardStation', 'A station: its orders (station side), its stock, the transfers it is part of', {
  openOrders: openOrders(stationSide), lowStock: LowStock, pendingTransfers: PendingTransfers
})
export const DashboardSupplier = dashboard('DashboardSupplier', 'A supplier: its orders (supplier side) and its contracts; no stock', {
  openOrders: openOrders(supplierSide), contracts: ContractsWatch
})
