// The SQL of the reports (PRODUCT.md §11): one aggregate statement per report figure, over
// indexed columns, returning groups — never the rows they are computed from. Written as `sql`
// templates (LATERAL, ANY(ARRAY(…)), FILTER and GROUP BY over a range are clearer in SQL than in
// the builder); test/domains/reports keeps their text as snapshots and EXPLAINs them.
//
// Two shapes reach the order lines, both driven by the range of orders and both index-only on the
// covering indexes of migration 0012, so no plan ever scans purchase_order_lines sequentially and
// the work follows the period asked for, not the size of the table:
// - grouped by a line column (article, category, contract line): `l.purchase_order_id =
//   ANY (ARRAY(<the orders of the range>))` — PostgreSQL sorts the ids and walks the lines' index
//   once, in order;
// - grouped by an order column (supplier, station, month) with figures computed from the lines
//   (received nets, on-time lines): a LATERAL aggregate per order, which also sees the order's own
//   columns (its reception date).
//
// Money: sums of the frozen line and order nets (numeric) are exact. A received net is
// round(pack price × packs received, 2) per line — src/lib/money.ts's lineNet, which the invoice
// applies (half-up: PostgreSQL's round(numeric) rounds half away from zero, the same on these
// non-negative amounts). It is the one place SQL rounds money: doing it in JavaScript would mean
// loading every line. Days are UTC days of the order's creation, as GET /v1/purchase-orders
// filters them; reception on time compares the reception's date in France with the promised date.
import { sql, type RawBuilder } from 'kysely'
import type { Period, ReportScope } from './reports.service.js'
import type { SpendBasis, SpendGroup } from './reports.schemas.js'
import { DASHBOARD_ITEMS, ENDING_WITHIN_DAYS, MAX_REPORT_ITEMS, NEAR_CAP_PCT } from './reports.schemas.js'

const NOT_GIVEN_UP = sql`po.status NOT IN ('CANCELLED', 'DECLINED')`
const RECEIVED = sql`po.status IN ('RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED')`

/** The orders of the scope created in the period (UTC days, `to` inclusive). */
function ordersIn (scope: ReportScope, period: Period, status: RawBuilder<unknown> | null): RawBuilder<boolean> {
  const parts = [sql`po.created_at >= ${period.start}::timestamptz`, sql`po.created_at < ${period.end}::timestamptz`]
  if (scope.stationId !== null) parts.push(sql`po.station_id = ${scope.stationId}::uuid`)
  if (scope.supplierId !== null) parts.push(sql`po.supplier_id = ${scope.supplierId}::uuid`)
  if (status !== null) parts.push(sql`${status}`)
  return sql<boolean>`${sql.join(parts, sql` AND `)}`
}

// ---- spend ------------------------------------------------------------------------------------

export interface SpendRow {
  key: string
  code: string | null
  name: string
  purchaseOrders: number | null
  lines: number | null
  packs: number | null
  stationNet: string | null
  supplierNet: string | null
}

const ORDER_KEYS = {
  supplier: sql`po.supplier_id::text`,
  station: sql`po.station_id::text`,
  month: sql`to_char(po.created_at AT TIME ZONE 'UTC', 'YYYY-MM')`
} as const

/** Labels of an order-column group (`g` holds key, purchase_orders and the nets). */
function orderGroupLabels (group: 'supplier' | 'station' | 'month'): RawBuilder<unknown> {
  if (group === 'supplier') return sql`SELECT g.key, NULL::text AS code, s.name, g.purchase_orders, NULL::int8 AS lines, NULL::int8 AS packs, g.station_net, g.supplier_net FROM g JOIN suppliers s ON s.id = g.key::uuid`
  if (group === 'station') return sql`SELECT g.key, st.code, st.name, g.purchase_orders, NULL::int8 AS lines, NULL::int8 AS packs, g.station_net, g.supplier_net FROM g JOIN stations st ON st.id = g.key::uuid`
  return sql`SELECT g.key, NULL::text AS code, g.key AS name, g.purchase_orders, NULL::int8 AS lines, NULL::int8 AS packs, g.station_net, g.supplier_net FROM g`
}

/** Spend grouped by supplier, station or month: order totals, or received nets from each order's lines. */
function spendByOrder (scope: ReportScope, period: Period, group: 'supplier' | 'station' | 'month', basis: SpendBasis): RawBuilder<SpendRow> {
  const key = ORDER_KEYS[group]
  const groups = basis === 'ordered'
    ? sql`SELECT ${key} AS key, count(*) AS purchase_orders, sum(po.station_net) AS station_net, sum(po.supplier_net) AS supplier_net
        FROM purchase_orders po
        WHERE ${ordersIn(scope, period, NOT_GIVEN_UP)}
        GROUP BY 1`
    : sql`SELECT ${key} AS key, count(*) AS purchase_orders, sum(x.station_net) AS station_net, sum(x.supplier_net) AS supplier_net
        FROM purchase_orders po
        CROSS JOIN LATERAL (
          SELECT sum(round(l.station_pack_price * l.packs_received, 2)) AS station_net,
                 sum(round(l.supplier_pack_price * l.packs_received, 2)) AS supplier_net
          FROM purchase_order_lines l WHERE l.purchase_order_id = po.id) x
        WHERE ${ordersIn(scope, period, RECEIVED)}
        GROUP BY 1`
  return sql<SpendRow>`WITH g AS (${groups}) ${orderGroupLabels(group)}`
}

/** Spend grouped by article or its category, from the lines of the period's orders. */
function spendByLine (scope: ReportScope, period: Period, group: 'article' | 'category', basis: SpendBasis): RawBuilder<SpendRow> {
  const figures = basis === 'ordered'
    ? sql`count(*) AS lines, sum(l.packs_ordered) AS packs, sum(l.station_line_net) AS station_net, sum(l.supplier_line_net) AS supplier_net`
    : sql`count(*) AS lines, sum(l.packs_received) AS packs, sum(round(l.station_pack_price * l.packs_received, 2)) AS station_net,
          sum(round(l.supplier_pack_price * l.packs_received, 2)) AS supplier_net`
  const g = sql`SELECT l.article_id, ${figures}
    FROM purchase_order_lines l
    WHERE l.purchase_order_id = ANY (ARRAY(SELECT po.id FROM purchase_orders po WHERE ${ordersIn(scope, period, basis === 'ordered' ? NOT_GIVEN_UP : RECEIVED)}))
    GROUP BY l.article_id`
  if (group === 'article') {
    return sql<SpendRow>`WITH g AS (${g})
      SELECT a.id::text AS key, a.code, a.name, NULL::int8 AS purchase_orders, g.lines, g.packs, g.station_net, g.supplier_net
      FROM g JOIN articles a ON a.id = g.article_id`
  }
  return sql<SpendRow>`WITH g AS (${g})
    SELECT a.category AS key, a.category AS code, a.category AS name, NULL::int8 AS purchase_orders,
      sum(g.lines)::int8 AS lines, sum(g.packs)::int8 AS packs, sum(g.station_net) AS station_net, sum(g.supplier_net) AS supplier_net
    FROM g JOIN articles a ON a.id = g.article_id
    GROUP BY a.category`
}

export function spendQuery (scope: ReportScope, period: Period, group: SpendGroup, basis: SpendBasis): RawBuilder<SpendRow> {
  return group === 'article' || group === 'category' ? spendByLine(scope, period, group, basis) : spendByOrder(scope, period, group, basis)
}

// ---- supplier performance ---------------------------------------------------------------------

export interface PerformanceRow {
  supplierId: string
  supplierName: string
  purchaseOrders: number
  declined: number
  cancelled: number
  confirmed: number
  received: number
  avgConfirmationHours: string | null
  avgLeadTimeDays: string | null
  receivedLines: number | null
  datedLines: number | null
  onTimeLines: number | null
  orderedPacks: number | null
  receivedPacks: number | null
}

export function performanceQuery (scope: ReportScope, period: Period): RawBuilder<PerformanceRow> {
  return sql<PerformanceRow>`WITH g AS (
      SELECT po.supplier_id, count(*) AS purchase_orders,
        count(*) FILTER (WHERE po.status = 'DECLINED') AS declined,
        count(*) FILTER (WHERE po.status = 'CANCELLED') AS cancelled,
        count(po.confirmed_at) AS confirmed,
        count(po.received_at) AS received,
        round(avg(extract(epoch FROM po.confirmed_at - po.created_at)) / 3600, 2) AS avg_confirmation_hours,
        round(avg(extract(epoch FROM po.received_at - po.created_at)) / 86400, 2) AS avg_lead_time_days,
        sum(x.lines)::int8 AS received_lines, sum(x.dated)::int8 AS dated_lines, sum(x.on_time)::int8 AS on_time_lines,
        sum(x.ordered)::int8 AS ordered_packs, sum(x.received)::int8 AS received_packs
      FROM purchase_orders po
      LEFT JOIN LATERAL (
        SELECT count(*) AS lines, count(l.confirmed_delivery_date) AS dated,
          count(*) FILTER (WHERE (po.received_at AT TIME ZONE 'Europe/Paris')::date <= l.confirmed_delivery_date) AS on_time,
          sum(l.packs_ordered) AS ordered, sum(l.packs_received) AS received
        FROM purchase_order_lines l
        WHERE l.purchase_order_id = po.id AND po.received_at IS NOT NULL) x ON true
      WHERE ${ordersIn(scope, period, null)}
      GROUP BY po.supplier_id)
    SELECT g.supplier_id, s.name AS supplier_name, g.purchase_orders, g.declined, g.cancelled, g.confirmed, g.received,
      g.avg_confirmation_hours, g.avg_lead_time_days, g.received_lines, g.dated_lines, g.on_time_lines, g.ordered_packs, g.received_packs
    FROM g JOIN suppliers s ON s.id = g.supplier_id
    ORDER BY s.name, g.supplier_id`
}

// ---- contract utilization ---------------------------------------------------------------------

export interface ContractFilter {
  /** effective statuses (an ACTIVE contract past validUntil is EXPIRED) */
  statuses: readonly string[]
  supplierId: string | null
  contractId: string | null
  /** today (France) */
  today: string
}

function effectiveStatus (today: string): RawBuilder<string> {
  return sql<string>`CASE WHEN c.status = 'ACTIVE' AND c.valid_until < ${today}::date THEN 'EXPIRED' ELSE c.status END`
}

function contractsWhere (f: ContractFilter): RawBuilder<boolean> {
  const parts = [sql`(${effectiveStatus(f.today)}) = ANY (${[...f.statuses]}::text[])`]
  if (f.supplierId !== null) parts.push(sql`c.supplier_id = ${f.supplierId}::uuid`)
  if (f.contractId !== null) parts.push(sql`c.id = ${f.contractId}::uuid`)
  return sql<boolean>`${sql.join(parts, sql` AND `)}`
}

export interface UtilizationRow {
  contractId: string
  contractNumber: string
  contractName: string
  supplierId: string
  supplierName: string
  status: string
  validFrom: string
  validUntil: string
  contractLineId: string
  articleId: string
  articleCode: string
  articleName: string
  committedPacks: number | null
  allowancePct: string
  capPacks: number | null
  orderedPacks: number
  receivedPacks: number
}

/** Every line of the contracts filtered, with its cap, its counter and the packs received on it. */
export function utilizationQuery (f: ContractFilter): RawBuilder<UtilizationRow> {
  return sql<UtilizationRow>`
    SELECT c.id AS contract_id, c.number AS contract_number, c.name AS contract_name, c.supplier_id, s.name AS supplier_name,
      ${effectiveStatus(f.today)} AS status, c.valid_from, c.valid_until,
      cl.id AS contract_line_id, cl.article_id, a.code AS article_code, a.name AS article_name,
      cl.committed_packs, cl.allowance_pct,
      CASE WHEN cl.committed_packs IS NULL THEN NULL ELSE floor(cl.committed_packs * (1 + cl.allowance_pct / 100))::int END AS cap_packs,
      cl.ordered_packs, coalesce(r.received, 0) AS received_packs
    FROM contracts c
    JOIN suppliers s ON s.id = c.supplier_id
    JOIN contract_lines cl ON cl.contract_id = c.id
    JOIN articles a ON a.id = cl.article_id
    LEFT JOIN LATERAL (SELECT sum(l.packs_received) AS received FROM purchase_order_lines l WHERE l.contract_line_id = cl.id) r ON true
    WHERE ${contractsWhere(f)}
    ORDER BY c.number, a.code
    LIMIT ${MAX_REPORT_ITEMS}`
}

export interface StationUtilizationRow {
  contractId: string
  contractNumber: string
  status: string
  validFrom: string
  validUntil: string
  articleId: string
  articleCode: string
  articleName: string
  orderedPacks: number
  receivedPacks: number | null
}

/**
 * A station's own packs on the contract lines that priced its orders. An order is priced by a
 * contract only on a day the contract covers, so only the station's orders created from the day
 * before the earliest validFrom of the contracts asked for are read.
 */
export function stationUtilizationQuery (f: ContractFilter, stationId: string): RawBuilder<StationUtilizationRow> {
  return sql<StationUtilizationRow>`WITH k AS (
      SELECT c.id, c.number, ${effectiveStatus(f.today)} AS status, c.valid_from, c.valid_until FROM contracts c WHERE ${contractsWhere(f)}
    ), g AS (
      SELECT l.contract_line_id, sum(l.packs_ordered) AS ordered, sum(l.packs_received) AS received
      FROM purchase_order_lines l
      WHERE l.purchase_order_id = ANY (ARRAY(
          SELECT po.id FROM purchase_orders po
          WHERE po.station_id = ${stationId}::uuid AND ${NOT_GIVEN_UP}
            AND po.created_at >= (SELECT min(k.valid_from) - 1 FROM k)::timestamp AT TIME ZONE 'UTC'))
        AND l.contract_line_id IS NOT NULL
      GROUP BY l.contract_line_id)
    SELECT k.id AS contract_id, k.number AS contract_number, k.status, k.valid_from, k.valid_until,
      cl.article_id, a.code AS article_code, a.name AS article_name, g.ordered AS ordered_packs, g.received AS received_packs
    FROM g
    JOIN contract_lines cl ON cl.id = g.contract_line_id
    JOIN k ON k.id = cl.contract_id
    JOIN articles a ON a.id = cl.article_id
    ORDER BY k.number, a.code
    LIMIT ${MAX_REPORT_ITEMS}`
}

// ---- dashboard --------------------------------------------------------------------------------

export interface OpenOrdersRow { status: string, purchaseOrders: number, stationNet: string, supplierNet: string }

export function openOrdersQuery (scope: ReportScope): RawBuilder<OpenOrdersRow> {
  const parts = [sql`po.status IN ('PLACED', 'CONFIRMED', 'SHIPPED', 'RECEIVED', 'CLOSED')`]
  if (scope.stationId !== null) parts.push(sql`po.station_id = ${scope.stationId}::uuid`)
  if (scope.supplierId !== null) parts.push(sql`po.supplier_id = ${scope.supplierId}::uuid`)
  return sql<OpenOrdersRow>`SELECT po.status, count(*) AS purchase_orders, sum(po.station_net) AS station_net, sum(po.supplier_net) AS supplier_net
    FROM purchase_orders po WHERE ${sql.join(parts, sql` AND `)} GROUP BY po.status`
}

export interface LowStockCounts { levels: number, critical: number, out: number }
export interface LowStockRow {
  stationId: string
  stationCode: string
  articleId: string
  articleCode: string
  articleName: string
  quantity: number
  alertThreshold: number
  criticalThreshold: number
}

const lowLevels = (stationId: string | null): RawBuilder<boolean> => stationId === null
  ? sql<boolean>`sl.quantity <= sl.alert_threshold`
  : sql<boolean>`sl.quantity <= sl.alert_threshold AND sl.station_id = ${stationId}::uuid`

export function lowStockCountsQuery (stationId: string | null): RawBuilder<LowStockCounts> {
  return sql<LowStockCounts>`SELECT count(*) AS levels, count(*) FILTER (WHERE sl.quantity <= sl.critical_threshold) AS critical,
      count(*) FILTER (WHERE sl.quantity = 0) AS out
    FROM stock_levels sl WHERE ${lowLevels(stationId)}`
}

export function lowStockItemsQuery (stationId: string | null): RawBuilder<LowStockRow> {
  return sql<LowStockRow>`SELECT sl.station_id, st.code AS station_code, sl.article_id, a.code AS article_code, a.name AS article_name,
      sl.quantity, sl.alert_threshold, sl.critical_threshold
    FROM stock_levels sl
    JOIN stations st ON st.id = sl.station_id
    JOIN articles a ON a.id = sl.article_id
    WHERE ${lowLevels(stationId)}
    ORDER BY sl.quantity = 0 DESC, sl.quantity <= sl.critical_threshold DESC,
      sl.quantity::float8 / nullif(sl.alert_threshold, 0) NULLS FIRST, st.code, a.code
    LIMIT ${DASHBOARD_ITEMS}`
}

export interface PendingTransfersRow { status: string, transfers: number }

export function pendingTransfersQuery (stationId: string | null): RawBuilder<PendingTransfersRow> {
  const involved = stationId === null ? sql`` : sql`AND (t.requesting_station_id = ${stationId}::uuid OR t.source_station_id = ${stationId}::uuid)`
  return sql<PendingTransfersRow>`SELECT t.status, count(*) AS transfers FROM transfers t
    WHERE t.status NOT IN ('REJECTED', 'CANCELLED', 'ARCHIVED') ${involved} GROUP BY t.status`
}

export interface ContractWatchRow {
  contractId: string
  contractNumber: string
  contractName: string
  supplierId: string
  supplierName: string
  validUntil: string
  daysLeft: number
  linesNearCap: number
  maxUsedPct: string | null
  endingSoon: boolean
  total: number
  nearCapTotal: number
  endingSoonTotal: number
}

/** ACTIVE contracts (not past validUntil) with a line near its cap or ending soon, the counts over all of them. */
export function contractWatchQuery (supplierId: string | null, today: string): RawBuilder<ContractWatchRow> {
  const own = supplierId === null ? sql`` : sql`AND c.supplier_id = ${supplierId}::uuid`
  return sql<ContractWatchRow>`WITH w AS (
      SELECT c.id AS contract_id, c.number AS contract_number, c.name AS contract_name, c.supplier_id, c.valid_until,
        (c.valid_until - ${today}::date) AS days_left,
        count(cl.id) FILTER (WHERE cl.committed_packs IS NOT NULL AND cl.ordered_packs * 100 >= cl.committed_packs * ${NEAR_CAP_PCT}::int) AS lines_near_cap,
        max(round(100.0 * cl.ordered_packs / cl.committed_packs, 2)) AS max_used_pct,
        c.valid_until <= ${today}::date + ${ENDING_WITHIN_DAYS}::int AS ending_soon
      FROM contracts c LEFT JOIN contract_lines cl ON cl.contract_id = c.id
      WHERE c.status = 'ACTIVE' AND c.valid_until >= ${today}::date ${own}
      GROUP BY c.id),
    h AS (SELECT * FROM w WHERE w.lines_near_cap > 0 OR w.ending_soon)
    SELECT h.*, s.name AS supplier_name, count(*) OVER () AS total,
      count(*) FILTER (WHERE h.lines_near_cap > 0) OVER () AS near_cap_total,
      count(*) FILTER (WHERE h.ending_soon) OVER () AS ending_soon_total
    FROM h JOIN suppliers s ON s.id = h.supplier_id
    ORDER BY h.ending_soon DESC, CASE WHEN h.ending_soon THEN h.valid_until END, h.max_used_pct DESC NULLS LAST, h.valid_until, h.contract_number
    LIMIT ${DASHBOARD_ITEMS}`
}
