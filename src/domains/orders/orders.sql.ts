// The constant SQL texts of the hot orders reads (PO list, PO and master-order detail), run through
// rawRows without Kysely's plugins: no query tree to build and compile per call, no CamelCasePlugin
// copy of every row (columns are aliased to their camelCase keys here), constant texts for the
// naming client's statement cache. Timestamps arrive as the exact text the JSON serializer would
// have written for the Date (RFC 3339, milliseconds truncated, UTC), so no Date is parsed per column.
// test/domains/orders/sql-texts.test.ts keeps every text in a reviewed snapshot file.
//
// Two kinds of texts:
// - rows (PoRow, orders.views.ts) for the object views: mutations' answers and master orders;
// - JSON written by PostgreSQL in the caller's view and returned as ONE text column, which the
//   route sends as the body (GET /v1/purchase-orders/:id and the PO list): no row objects in Node,
//   no JSON.parse of the lines, no second serialization. They are generated from the audience's
//   response schema (json-sql.ts), so a field outside the caller's view (PRODUCT.md §2.2) cannot
//   appear; test/domains/orders/po-json.test.ts checks per audience that both paths agree.
import type { TObject } from '@sinclair/typebox'
import { isoMs } from '../../db/prepared.js'
import type { Audience } from '../../lib/audience.js'
import { formatSql, jsonObject, num, propertiesOf, str, text, type JsonField, type NestedJsonField } from './json-sql.js'
import {
  ListPurchaseOrdersQuery, PurchaseOrderLinePlatform, PurchaseOrderLineStation, PurchaseOrderLineSupplier, PurchaseOrderPlatform, PurchaseOrderStation,
  PurchaseOrderSupplier, TotalsSchema
} from './orders.schemas.js'
import type { LineRow, PurchaseOrderLineView } from './orders.views.js'

const camel = (snake: string): string => snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
const aliased = (expr: string, key: string): string => `${expr} AS "${key}"`

// ---- rows ------------------------------------------------------------------------------------

const PO_PLAIN = [
  'id', 'number', 'master_order_id', 'station_id', 'supplier_id', 'status', 'currency',
  'supplier_net', 'supplier_vat', 'supplier_gross', 'station_net', 'station_vat', 'station_gross',
  'invoiced_supplier_net', 'invoiced_supplier_vat', 'invoiced_supplier_gross', 'invoiced_station_net', 'invoiced_station_vat', 'invoiced_station_gross',
  'carrier', 'invoice_number', 'invoice_date', 'status_reason', 'version'
] as const
const PO_RENAMED = [['tracking_no', 'trackingNumber'], ['delivery_note_doc_id', 'deliveryNoteDocumentId'], ['signed_note_doc_id', 'signedDeliveryNoteDocumentId']] as const
const PO_TIMESTAMPS = ['created_at', 'confirmed_at', 'shipped_at', 'received_at', 'closed_at', 'invoiced_at', 'archived_at', 'cancelled_at', 'updated_at'] as const

/** The select list of a PoRow from `purchase_orders po`. */
const PO_SELECT = [
  ...PO_PLAIN.map(c => aliased(`po.${c}`, camel(c))),
  ...PO_RENAMED.map(([c, key]) => aliased(`po.${c}`, key)),
  ...PO_TIMESTAMPS.map(c => aliased(isoMs(`po.${c}`), camel(c))),
  // numeric(14,2) − numeric(14,2) keeps 2 decimals: the same text as margin()
  aliased('po.station_net - po.supplier_net', 'marginNet')
].join(', ')

/**
 * Every field of a line view (PurchaseOrderLine*), over `purchase_order_lines l`: decimals as their
 * text (the exact strings the views carry), dates as date values (ISO, YYYY-MM-DD).
 */
const LINE_JSON: Record<keyof PurchaseOrderLineView, JsonField> = {
  id: str('l.id'),
  lineNo: num('l.line_no'),
  articleId: str('l.article_id'),
  articleCode: text('l.article_code'),
  articleName: text('l.article_name'),
  supplierRef: text('l.supplier_ref'),
  packLabel: text('l.pack_label'),
  unitsPerPack: num('l.units_per_pack'),
  vatRate: str('l.vat_rate::text'),
  priceSource: text('l.price_source'),
  contractLineId: str('l.contract_line_id'),
  packs: num('l.packs_ordered'),
  desiredDeliveryDate: str('l.desired_delivery_date'),
  confirmedDeliveryDate: str('l.confirmed_delivery_date'),
  packsReceived: num('l.packs_received'),
  discrepancy: text('l.discrepancy'),
  supplierPackPrice: str('l.supplier_pack_price::text'),
  supplierLineNet: str('l.supplier_line_net::text'),
  feePct: str('l.fee_pct::text'),
  stationPackPrice: str('l.station_pack_price::text'),
  lineNet: str('l.station_line_net::text')
}

/** A PO's lines in the PurchaseOrderLineView shape, ordered by line number, as one JSON array. */
const LINES_JSON = `(SELECT coalesce(json_agg(json_build_object(${Object.entries(LINE_JSON).map(([key, f]) => `'${key}', ${f.sql}`).join(', ')}) ORDER BY l.line_no), '[]'::json)
  FROM purchase_order_lines l WHERE l.purchase_order_id = po.id) AS "lines"`

/** The line view keys a LineRow holds under another name. */
const ROW_KEYS: Readonly<Partial<Record<string, keyof LineRow>>> = { packs: 'packsOrdered', lineNet: 'stationLineNet' } satisfies Partial<Record<keyof PurchaseOrderLineView, keyof LineRow>>

/** A PO's lines as LineRow objects (the view's fields under their row names), in line order: the transitions' locking read. */
export const LOCKED_LINES_JSON = `(SELECT coalesce(json_agg(json_build_object('purchaseOrderId', l.purchase_order_id, ${Object.entries(LINE_JSON)
  .map(([key, f]) => `'${ROW_KEYS[key] ?? key}', ${f.sql}`).join(', ')}) ORDER BY l.line_no), '[]'::json)
  FROM purchase_order_lines l WHERE l.purchase_order_id = po.id)`

const PO_BY_ID = `SELECT ${PO_SELECT}, ${LINES_JSON} FROM purchase_orders po WHERE po.id = $1::uuid`

/** One PO row with its lines in the caller's scope: $1 the PO id, $2 the caller's station or supplier. */
export const PO_BY_ID_TEXTS: Readonly<Record<Audience, string>> = {
  platform: PO_BY_ID,
  station: `${PO_BY_ID} AND po.station_id = $2::uuid`,
  supplier: `${PO_BY_ID} AND po.supplier_id = $2::uuid`
}

/** The PO rows of a master order ($1), with their lines, by number. */
export const POS_OF_MASTER = `SELECT ${PO_SELECT}, ${LINES_JSON} FROM purchase_orders po WHERE po.master_order_id = $1::uuid ORDER BY po.number`

// ---- JSON in the caller's view ----------------------------------------------------------------

/** A totals object (TotalsSchema) from the `<prefix>_net/_vat/_gross` columns of `po`. */
function totalsSql (prefix: string, nullable: boolean): NestedJsonField {
  const fields: Record<string, JsonField> = { net: str(`po.${prefix}_net`), vat: str(`po.${prefix}_vat`), gross: str(`po.${prefix}_gross`), currency: text('po.currency') }
  const obj = jsonObject(TotalsSchema, fields, 'TotalsSchema')
  if (!nullable) return { as: 'json', sql: formatSql(obj), inline: obj }
  const amounts = Object.keys(TotalsSchema.properties).filter(k => k !== 'currency')
  return { as: 'json', sql: `CASE WHEN ${amounts.map(k => `po.${prefix}_${k} IS NOT NULL`).join(' AND ')} THEN ${formatSql(obj)} END` }
}

/** The PO views' fields (PurchaseOrder*), over `purchase_orders po`; `lines` is added per view. */
const PO_JSON: Record<string, NestedJsonField> = {
  id: str('po.id'),
  number: text('po.number'),
  masterOrderId: str('po.master_order_id'),
  stationId: str('po.station_id'),
  supplierId: str('po.supplier_id'),
  status: text('po.status'),
  currency: text('po.currency'),
  totals: totalsSql('station', false),
  supplierTotals: totalsSql('supplier', false),
  // numeric(14,2) − numeric(14,2) keeps 2 decimals: the same text as margin()
  marginNet: str('(po.station_net - po.supplier_net)'),
  invoicedTotals: totalsSql('invoiced_station', true),
  invoicedSupplierTotals: totalsSql('invoiced_supplier', true),
  carrier: text('po.carrier'),
  trackingNumber: text('po.tracking_no'),
  deliveryNoteDocumentId: str('po.delivery_note_doc_id'),
  signedDeliveryNoteDocumentId: str('po.signed_note_doc_id'),
  invoiceNumber: text('po.invoice_number'),
  invoiceDate: str('po.invoice_date'),
  statusReason: text('po.status_reason'),
  ...Object.fromEntries(PO_TIMESTAMPS.map(c => [camel(c), str(isoMs(`po.${c}`))])),
  version: num('po.version')
}

const PO_VIEWS: Record<Audience, TObject> = { platform: PurchaseOrderPlatform, supplier: PurchaseOrderSupplier, station: PurchaseOrderStation }
const LINE_VIEWS: TObject[] = [PurchaseOrderLinePlatform, PurchaseOrderLineSupplier, PurchaseOrderLineStation]

/** One PO of `purchase_orders po` in `audience`'s view as JSON text, its lines embedded or left out. */
function poJsonSql (audience: Audience, withLines: boolean): string {
  const view = PO_VIEWS[audience]
  const linesSchema = propertiesOf(view).lines
  const fields = { ...PO_JSON }
  if (linesSchema !== undefined && withLines) {
    const line = LINE_VIEWS.find(l => l.$id === linesSchema.items?.$ref)
    if (line === undefined) throw new Error(`${String(view.$id)}: unknown line view ${String(linesSchema.items?.$ref)}`)
    fields.lines = {
      as: 'json',
      sql: `(SELECT coalesce('[' || string_agg(${formatSql(jsonObject(line, LINE_JSON, String(line.$id)))}, ',' ORDER BY l.line_no) || ']', '[]')
        FROM purchase_order_lines l WHERE l.purchase_order_id = po.id)`
    }
  }
  return formatSql(jsonObject(view, fields, String(view.$id), withLines ? undefined : 'lines'))
}

/**
 * GET /v1/purchase-orders/:id per audience: the version (ETag) and the PO with its lines as JSON
 * text; $1 the PO id, $2 the caller's station or supplier (the scope: another party's PO is no row).
 * Exported for the bench's ceiling server, which runs the platform text as is.
 */
export const PO_JSON_BY_ID: Readonly<Record<Audience, string>> = {
  platform: `SELECT po.version AS "version", ${poJsonSql('platform', true)} AS "body" FROM purchase_orders po WHERE po.id = $1::uuid`,
  station: `SELECT po.version AS "version", ${poJsonSql('station', true)} AS "body" FROM purchase_orders po WHERE po.id = $1::uuid AND po.station_id = $2::uuid`,
  supplier: `SELECT po.version AS "version", ${poJsonSql('supplier', true)} AS "body" FROM purchase_orders po WHERE po.id = $1::uuid AND po.supplier_id = $2::uuid`
}

// ---- the PO list -----------------------------------------------------------------------------

/**
 * The shape of a list query: which scope and filters are present, one bit each. The parameters
 * follow in this order, the caller's limit last.
 */
export const LIST = {
  STATION_SCOPE: 1,
  SUPPLIER_SCOPE: 2,
  STATION: 4,
  SUPPLIER: 8,
  STATUS: 16,
  FROM: 32,
  TO: 64,
  CURSOR: 128,
  LINES: 256
} as const

/** the largest page ListPurchaseOrdersQuery accepts */
const MAX_PAGE = Number(ListPurchaseOrdersQuery.properties.limit.maximum ?? 200)

/** The list's SQL text for one shape, built once per shape. */
const listTexts = new Map<number, string>()

/**
 * One row for a page: `items`, the page's items in the caller's view joined by commas (the inside
 * of the JSON array); `n`, the rows found (limit + 1 means there is a next page); `cursorTs` and
 * `cursorId`, the keyset of the page's last item (created_at with microseconds: a JS Date would
 * lose them and break the keyset). The caller's limit is the last parameter.
 */
export function listText (shape: number): string {
  let text = listTexts.get(shape)
  if (text !== undefined) return text
  const where: string[] = []
  let n = 0
  const param = (cast: string): string => `$${++n}${cast}`
  if ((shape & LIST.STATION_SCOPE) !== 0) where.push(`po.station_id = ${param('::uuid')}`)
  if ((shape & LIST.SUPPLIER_SCOPE) !== 0) where.push(`po.supplier_id = ${param('::uuid')}`)
  if ((shape & LIST.STATION) !== 0) where.push(`po.station_id = ${param('::uuid')}`)
  if ((shape & LIST.SUPPLIER) !== 0) where.push(`po.supplier_id = ${param('::uuid')}`)
  if ((shape & LIST.STATUS) !== 0) where.push(`po.status = ${param('')}`)
  if ((shape & LIST.FROM) !== 0) where.push(`po.created_at >= ${param('::timestamptz')}`)
  if ((shape & LIST.TO) !== 0) where.push(`po.created_at < ${param('::timestamptz')}`)
  if ((shape & LIST.CURSOR) !== 0) where.push(`(po.created_at, po.id) < (${param('::timestamptz')}, ${param('::uuid')})`)
  const limit = param('::int')
  const audience: Audience = (shape & LIST.STATION_SCOPE) !== 0 ? 'station' : (shape & LIST.SUPPLIER_SCOPE) !== 0 ? 'supplier' : 'platform'
  const order = 'po.created_at DESC, po.id DESC'
  const rows = `SELECT ${poJsonSql(audience, (shape & LIST.LINES) !== 0)} AS j, po.created_at, po.id,
      row_number() OVER (ORDER BY ${order}) AS rn
    FROM purchase_orders po${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`
  // With LIMIT $n, PostgreSQL re-plans this large target list on every execution (a generic plan
  // guesses 10 % of the table, so it never wins). When one index gives both the filter and the
  // order (at most one of station, supplier, status: purchase_orders_list/_station/_supplier/_status),
  // that plan is right whatever the parameters, so the statement is written for a generic plan:
  // the caller's limit stops the scan through the row_number() run condition and a constant LIMIT
  // (the largest page + 1) keeps it fast-start. With two of them the best plan depends on the values
  // (a big station and a big supplier: walk one index; small ones: intersect both and sort), and a
  // generic plan would pick from average selectivities: those shapes keep LIMIT $n and custom plans.
  const equalities = new Set([
    (shape & (LIST.STATION_SCOPE | LIST.STATION)) !== 0 ? 'station' : '',
    (shape & (LIST.SUPPLIER_SCOPE | LIST.SUPPLIER)) !== 0 ? 'supplier' : '',
    (shape & LIST.STATUS) !== 0 ? 'status' : ''
  ].filter(c => c !== ''))
  const page = equalities.size <= 1
    ? `SELECT w.j, w.created_at, w.id, w.rn FROM (${rows}) w WHERE w.rn <= ${limit} + 1 LIMIT ${MAX_PAGE + 1}`
    : `${rows} ORDER BY ${order} LIMIT ${limit} + 1`
  text = `SELECT coalesce(string_agg(p.j, ',' ORDER BY p.rn) FILTER (WHERE p.rn <= ${limit}), '') AS "items", count(*)::int AS "n",
      max(to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) FILTER (WHERE p.rn = ${limit}) AS "cursorTs",
      max(p.id::text) FILTER (WHERE p.rn = ${limit}) AS "cursorId"
    FROM (${page}) p`
  listTexts.set(shape, text)
  return text
}
