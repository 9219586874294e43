// `Accept: text/csv`: every report as CSV (RFC 4180: comma-separated, CRLF line ends, a header
// row, cells quoted when they hold a comma, a quote or a line break), streamed row by row from the
// report the JSON representation is made of — same figures, same visibility (the columns of a
// view are the fields of that view: a station's CSV has no supplier-side column).
//
// CSV injection (OWASP): a spreadsheet runs a cell starting with = + - @, a tab or a carriage
// return as a formula, so such a cell is prefixed with a single quote — except a plain decimal
// number (a negative margin, "-12.50"), which a spreadsheet reads as the number it is and never
// as a formula.
import { Readable } from 'node:stream'
import type { Audience } from '../../lib/audience.js'
import type { SpendGroup } from './reports.schemas.js'

const FORMULA_START = /^[=+\-@\t\r]/
const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/
const NEEDS_QUOTES = /[",\r\n]/

/** One cell: null/undefined → empty, formula-looking text neutralized, quoted when needed. */
export function csvCell (v: unknown): string {
  if (v === null || v === undefined) return ''
  let s = typeof v === 'string' ? v : String(v)
  if (FORMULA_START.test(s) && !PLAIN_NUMBER.test(s)) s = `'${s}`
  return NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export const csvRow = (cells: readonly unknown[]): string => `${cells.map(csvCell).join(',')}\r\n`

export interface CsvTable {
  /** suggested file name (Content-Disposition) */
  filename: string
  columns: readonly string[]
  rows: Iterable<readonly unknown[]>
}

/** The table as a stream: the header row, then one chunk per row. */
export function csvStream (table: CsvTable): Readable {
  function * lines (): Generator<string> {
    yield csvRow(table.columns)
    for (const r of table.rows) yield csvRow(r)
  }
  return Readable.from(lines(), { objectMode: false })
}

type Obj = Record<string, unknown>
const items = (report: Obj): Obj[] => (Array.isArray(report.items) ? report.items as Obj[] : [])
const pick = (columns: readonly string[], rows: Obj[]): Iterable<unknown[]> => rows.map(r => columns.map(c => r[c]))

function sides (audience: Audience): string[] {
  if (audience === 'platform') return ['stationNet', 'supplierNet', 'marginNet']
  return audience === 'station' ? ['stationNet'] : ['supplierNet']
}

export function spendTable (report: Obj, audience: Audience): CsvTable {
  const group = report.groupBy as SpendGroup
  const counts = group === 'article' || group === 'category' ? ['lines', 'packs'] : ['purchaseOrders']
  const columns = ['key', 'code', 'name', ...counts, ...sides(audience)]
  return { filename: `spend-${group}-${String(report.basis)}-${String(report.from)}-${String(report.to)}.csv`, columns, rows: pick(columns, items(report)) }
}

const UTILIZATION_STATION = ['contractId', 'contractNumber', 'status', 'validFrom', 'validUntil', 'articleId', 'articleCode', 'articleName', 'elapsedPct', 'orderedPacks', 'receivedPacks', 'projectedPacks']
const UTILIZATION_FULL = ['contractId', 'contractNumber', 'contractName', 'supplierId', 'supplierName', 'status', 'validFrom', 'validUntil', 'contractLineId', 'articleId', 'articleCode', 'articleName',
  'committedPacks', 'allowancePct', 'capPacks', 'orderedPacks', 'receivedPacks', 'remainingPacks', 'usedPct', 'elapsedPct', 'projectedPacks', 'projectedPct']

export function utilizationTable (report: Obj, audience: Audience): CsvTable {
  const columns = audience === 'station' ? UTILIZATION_STATION : UTILIZATION_FULL
  return { filename: `contract-utilization-${String(report.asOf)}.csv`, columns, rows: pick(columns, items(report)) }
}

const PERFORMANCE = ['supplierId', 'supplierName', 'purchaseOrders', 'declined', 'cancelled', 'confirmed', 'received', 'avgConfirmationHours', 'avgLeadTimeDays',
  'receivedLines', 'datedLines', 'onTimeLines', 'onTimeRate', 'orderedPacks', 'receivedPacks', 'fillRate']

export function performanceTable (report: Obj): CsvTable {
  return { filename: `supplier-performance-${String(report.from)}-${String(report.to)}.csv`, columns: PERFORMANCE, rows: pick(PERFORMANCE, items(report)) }
}

/**
 * The dashboard is not one table: it is written in long form, one figure per row —
 * section, key (a status, a station/article, a contract), metric, value.
 */
export function dashboardTable (report: Obj, audience: Audience): CsvTable {
  const rows: unknown[][] = []
  const section = (name: string, list: unknown, key: string, metrics: readonly string[]): void => {
    for (const o of (Array.isArray(list) ? list : []) as Obj[]) for (const m of metrics) rows.push([name, o[key], m, o[m]])
  }
  section('openOrders', report.openOrders, 'status', ['purchaseOrders', ...sides(audience).filter(s => s !== 'marginNet')])
  const low = report.lowStock as Obj | undefined
  if (low !== undefined) {
    for (const m of ['levels', 'critical', 'out']) rows.push(['lowStock', '', m, low[m]])
    const keyed = items(low).map(i => ({ ...i, key: `${String(i.stationCode)}/${String(i.articleCode)}` }))
    section('lowStockItem', keyed, 'key', ['articleName', 'quantity', 'alertThreshold', 'criticalThreshold', 'severity'])
  }
  section('pendingTransfers', report.pendingTransfers, 'status', ['transfers'])
  const contracts = report.contracts as Obj | undefined
  if (contracts !== undefined) {
    for (const m of ['nearCap', 'endingSoon']) rows.push(['contracts', '', m, contracts[m]])
    section('contract', items(contracts), 'contractNumber', ['contractName', 'supplierName', 'validUntil', 'daysLeft', 'linesNearCap', 'maxUsedPct'])
  }
  return { filename: `dashboard-${String(report.asOf)}.csv`, columns: ['section', 'key', 'metric', 'value'], rows }
}
