// Master and purchase orders: scoped reads (a station sees its own orders, a supplier only the POs
// addressed to it, staff everything) and the purchase-order lifecycle of PRODUCT.md §5.3. Every
// transition is one guarded UPDATE (… WHERE status = $from AND version = $v) so concurrent double
// actions have exactly one effect; in the same transaction it appends the status history, applies
// its side effects (stock on receipt, contract caps on cancel/decline/close), re-derives the master
// order's status under a lock on the master order, and writes the outbox event.
import type { TObject } from '@sinclair/typebox'
import { sql } from 'kysely'
import { writeWithCommit, type Db } from '../../db/index.js'
import { isoMs, rawRows } from '../../db/prepared.js'
import type { PurchaseOrderStatus } from '../../db/schema.js'
import { audienceOf, type Audience } from '../../lib/audience.js'
import type { Actor } from '../../lib/permissions.js'
import { invalidTransition, notFound, problem, type ProblemItem } from '../../lib/problems.js'
import { decodeCursor, encodeCursor, page } from '../../lib/cursor.js'
import { documentTotals, lineNet, fromScaled, toScaled } from '../../lib/money.js'
import { emitEvents } from '../../lib/outbox.js'
import { businessDate, releaseContractPacks } from '../contracts/pricing.service.js'
import { addStock } from '../stock/stock.service.js'
import { deriveMasterStatus } from './master-status.js'
import { assertDocumentReference } from './documents-ref.js'
import {
  ListPurchaseOrdersQuery, PurchaseOrderLinePlatform, PurchaseOrderLineStation, PurchaseOrderLineSupplier, PurchaseOrderPlatform, PurchaseOrderStation, PurchaseOrderSupplier, TotalsSchema,
  type ConfirmInput, type InvoiceInput, type ListMasterOrdersInput, type ListPurchaseOrdersInput, type ReasonInput, type ReceiveInput, type ShipInput
} from './orders.schemas.js'

// ---- views -----------------------------------------------------------------------------------

export interface TotalsView { net: string, vat: string, gross: string, currency: string }

/** Every field of every audience; the route's serializer keeps what the caller may see. */
export interface PurchaseOrderLineView {
  id: string
  lineNo: number
  articleId: string
  articleCode: string
  articleName: string
  supplierRef: string
  packLabel: string
  unitsPerPack: number
  vatRate: string
  priceSource: 'CONTRACT' | 'CATALOG'
  contractLineId: string | null
  packs: number
  desiredDeliveryDate: string
  confirmedDeliveryDate: string | null
  packsReceived: number | null
  discrepancy: string | null
  supplierPackPrice: string
  supplierLineNet: string
  feePct: string
  stationPackPrice: string
  lineNet: string
}

export interface PurchaseOrderView {
  id: string
  number: string
  masterOrderId: string
  stationId: string
  supplierId: string
  status: PurchaseOrderStatus
  currency: string
  totals: TotalsView
  supplierTotals: TotalsView
  marginNet: string
  invoicedTotals: TotalsView | null
  invoicedSupplierTotals: TotalsView | null
  carrier: string | null
  trackingNumber: string | null
  deliveryNoteDocumentId: string | null
  signedDeliveryNoteDocumentId: string | null
  invoiceNumber: string | null
  invoiceDate: string | null
  statusReason: string | null
  createdAt: Date | string
  confirmedAt: Date | string | null
  shippedAt: Date | string | null
  receivedAt: Date | string | null
  closedAt: Date | string | null
  invoicedAt: Date | string | null
  archivedAt: Date | string | null
  cancelledAt: Date | string | null
  updatedAt: Date | string
  version: number
  lines?: PurchaseOrderLineView[]
}

export interface MasterOrderView {
  id: string
  number: string
  stationId: string
  cartId: string
  status: string
  supplierCount: number
  totals: TotalsView
  supplierTotals: TotalsView
  marginNet: string
  createdAt: Date | string
  updatedAt: Date | string
  version: number
  purchaseOrders?: PurchaseOrderView[]
}

const totals = (net: string, vat: string, gross: string, currency: string): TotalsView => ({ net, vat, gross, currency })
export const margin = (stationNet: string, supplierNet: string): string => fromScaled(toScaled(stationNet, 2) - toScaled(supplierNet, 2), 2)

/**
 * A purchase-order row as the read queries below return it: columns already aliased to the view's
 * keys, timestamps already RFC 3339 text, the margin computed by PostgreSQL, and — when asked for —
 * the lines aggregated as JSON in the view's shape.
 */
interface PoRow {
  id: string
  number: string
  masterOrderId: string
  stationId: string
  supplierId: string
  status: PurchaseOrderStatus
  currency: string
  supplierNet: string
  supplierVat: string
  supplierGross: string
  stationNet: string
  stationVat: string
  stationGross: string
  invoicedSupplierNet: string | null
  invoicedSupplierVat: string | null
  invoicedSupplierGross: string | null
  invoicedStationNet: string | null
  invoicedStationVat: string | null
  invoicedStationGross: string | null
  marginNet: string
  carrier: string | null
  trackingNumber: string | null
  deliveryNoteDocumentId: string | null
  signedDeliveryNoteDocumentId: string | null
  invoiceNumber: string | null
  invoiceDate: string | null
  statusReason: string | null
  createdAt: string
  confirmedAt: string | null
  shippedAt: string | null
  receivedAt: string | null
  closedAt: string | null
  invoicedAt: string | null
  archivedAt: string | null
  cancelledAt: string | null
  updatedAt: string
  version: number
  lines?: PurchaseOrderLineView[]
}

/** A purchase_order_lines row as read: the view's fields under their column names. */
type LineRow = Omit<PurchaseOrderLineView, 'packs' | 'lineNet'> & { purchaseOrderId: string, packsOrdered: number, stationLineNet: string }

// Hot reads (PO list, PO and master-order detail) are plain SQL texts built once per query shape,
// run without Kysely's plugins: no query tree to build and compile per call, no CamelCasePlugin copy
// of every row (columns are aliased to their camelCase keys here), constant texts for the naming
// client's statement cache. Timestamps arrive as the exact text the JSON serializer would have
// written for the Date (RFC 3339, milliseconds truncated, UTC), so no Date is parsed per column.

const camel = (snake: string): string => snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
const aliased = (expr: string, key: string): string => `${expr} AS "${key}"`

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
 * How a value is written into JSON (the hot reads below): `str` quoted as is (text that never needs
 * escaping: uuids, decimals, dates, formatted timestamps), `text` escaped by PostgreSQL, `num` bare,
 * `json` already JSON text.
 */
type JsonKind = 'str' | 'text' | 'num' | 'json'
interface JsonField { sql: string, as: JsonKind }
const str = (sql: string): JsonField => ({ sql, as: 'str' })
const text = (sql: string): JsonField => ({ sql, as: 'text' })
const num = (sql: string): JsonField => ({ sql, as: 'num' })

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

export function lineView (l: LineRow): PurchaseOrderLineView {
  return {
    id: l.id,
    lineNo: l.lineNo,
    articleId: l.articleId,
    articleCode: l.articleCode,
    articleName: l.articleName,
    supplierRef: l.supplierRef,
    packLabel: l.packLabel,
    unitsPerPack: l.unitsPerPack,
    vatRate: l.vatRate,
    priceSource: l.priceSource,
    contractLineId: l.contractLineId,
    packs: l.packsOrdered,
    desiredDeliveryDate: l.desiredDeliveryDate,
    confirmedDeliveryDate: l.confirmedDeliveryDate,
    packsReceived: l.packsReceived,
    discrepancy: l.discrepancy,
    supplierPackPrice: l.supplierPackPrice,
    supplierLineNet: l.supplierLineNet,
    feePct: l.feePct,
    stationPackPrice: l.stationPackPrice,
    lineNet: l.stationLineNet
  }
}

function poView (r: PoRow, lines: PurchaseOrderLineView[] | undefined): PurchaseOrderView {
  const currency = r.currency
  return {
    id: r.id,
    number: r.number,
    masterOrderId: r.masterOrderId,
    stationId: r.stationId,
    supplierId: r.supplierId,
    status: r.status,
    currency,
    totals: { net: r.stationNet, vat: r.stationVat, gross: r.stationGross, currency },
    supplierTotals: { net: r.supplierNet, vat: r.supplierVat, gross: r.supplierGross, currency },
    marginNet: r.marginNet,
    invoicedTotals: r.invoicedStationNet !== null && r.invoicedStationVat !== null && r.invoicedStationGross !== null
      ? { net: r.invoicedStationNet, vat: r.invoicedStationVat, gross: r.invoicedStationGross, currency }
      : null,
    invoicedSupplierTotals: r.invoicedSupplierNet !== null && r.invoicedSupplierVat !== null && r.invoicedSupplierGross !== null
      ? { net: r.invoicedSupplierNet, vat: r.invoicedSupplierVat, gross: r.invoicedSupplierGross, currency }
      : null,
    carrier: r.carrier,
    trackingNumber: r.trackingNumber,
    deliveryNoteDocumentId: r.deliveryNoteDocumentId,
    signedDeliveryNoteDocumentId: r.signedDeliveryNoteDocumentId,
    invoiceNumber: r.invoiceNumber,
    invoiceDate: r.invoiceDate,
    statusReason: r.statusReason,
    createdAt: r.createdAt,
    confirmedAt: r.confirmedAt,
    shippedAt: r.shippedAt,
    receivedAt: r.receivedAt,
    closedAt: r.closedAt,
    invoicedAt: r.invoicedAt,
    archivedAt: r.archivedAt,
    cancelledAt: r.cancelledAt,
    updatedAt: r.updatedAt,
    version: r.version,
    // one object shape whether or not lines are embedded; the serializers skip undefined
    lines
  }
}

interface MoRow {
  id: string
  number: string
  stationId: string
  cartId: string
  status: string
  supplierCount: number
  currency: string
  supplierNet: string
  supplierVat: string
  supplierGross: string
  stationNet: string
  stationVat: string
  stationGross: string
  createdAt: Date
  updatedAt: Date
  version: number
}

const MO_COLUMNS = ['id', 'number', 'stationId', 'cartId', 'status', 'supplierCount', 'currency', 'supplierNet', 'supplierVat', 'supplierGross', 'stationNet', 'stationVat', 'stationGross', 'createdAt', 'updatedAt', 'version'] as const

function moView (r: MoRow): MasterOrderView {
  return {
    id: r.id,
    number: r.number,
    stationId: r.stationId,
    cartId: r.cartId,
    status: r.status,
    supplierCount: r.supplierCount,
    totals: totals(r.stationNet, r.stationVat, r.stationGross, r.currency),
    supplierTotals: totals(r.supplierNet, r.supplierVat, r.supplierGross, r.currency),
    marginNet: margin(r.stationNet, r.supplierNet),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    version: r.version
  }
}

// ---- reads -----------------------------------------------------------------------------------

/** The created_at text with microseconds: a JS Date would lose them and break the keyset. */
const CURSOR_TS = sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

const PO_BY_ID = `SELECT ${PO_SELECT}, ${LINES_JSON} FROM purchase_orders po WHERE po.id = $1::uuid`
const PO_BY_ID_TEXTS = {
  platform: PO_BY_ID,
  station: `${PO_BY_ID} AND po.station_id = $2::uuid`,
  supplier: `${PO_BY_ID} AND po.supplier_id = $2::uuid`
}

function scopedPo (db: Db, actor: Actor, id: string) {
  let q = db.selectFrom('purchaseOrders').select('id').where('id', '=', id)
  if (actor.role === 'STATION') q = q.where('stationId', '=', actor.organizationId)
  if (actor.role === 'SUPPLIER') q = q.where('supplierId', '=', actor.organizationId)
  return q
}

/**
 * One query: the PO in the caller's scope with its lines, as the object view (what mutations answer
 * through the audience serializer; GET answers getPurchaseOrderJson below).
 */
export async function getPurchaseOrder (db: Db, actor: Actor, id: string): Promise<PurchaseOrderView> {
  const rows = actor.role === 'STATION'
    ? await rawRows<PoRow>(db, PO_BY_ID_TEXTS.station, [id, actor.organizationId])
    : actor.role === 'SUPPLIER'
      ? await rawRows<PoRow>(db, PO_BY_ID_TEXTS.supplier, [id, actor.organizationId])
      : await rawRows<PoRow>(db, PO_BY_ID_TEXTS.platform, [id])
  const row = rows[0]
  if (row === undefined) throw notFound('Purchase order')
  return poView(row, row.lines ?? [])
}

// ---- responses written by PostgreSQL ----------------------------------------------------------
//
// The two hot reads, GET /v1/purchase-orders/:id and the PO list, answer with JSON that PostgreSQL
// writes in the caller's view and returns as ONE text column, which the route sends as the body:
// no row objects in Node, no JSON.parse of the lines, no second serialization. Each object is one
// format() whose template and arguments are generated from the audience's response schema (its
// keys, in its order), so a field outside the caller's view (PRODUCT.md §2.2) cannot appear, and a
// schema field without SQL below, or written in a way its schema does not allow, fails at start-up.
// Values are what the object views serialize to: decimals as their text, dates as YYYY-MM-DD,
// timestamps as RFC 3339 UTC with truncated milliseconds (isoMs), free text escaped by
// PostgreSQL's JSON writer, nulls as null. (format() rather than to_json(row) or
// json_build_object(): the same compact JSON for a fraction of their cost in PostgreSQL, which
// matters on the list: 50 objects per page.) The object views (poView) remain for mutations and
// master orders; test/domains/orders/po-json.test.ts checks per audience that both paths agree.

interface SchemaNode { type?: string, format?: string, pattern?: string, anyOf?: SchemaNode[], $ref?: string, items?: SchemaNode }

/** Refuses a field whose writing does not fit its schema (a number quoted, free text unescaped…). */
function checkField (schema: SchemaNode, f: JsonField, what: string): boolean {
  const variants = (schema.anyOf ?? [schema]).filter(v => v.type !== 'null')
  const nullable = variants.length < (schema.anyOf ?? [schema]).length
  const fits = variants.every(v => {
    switch (f.as) {
      case 'num': return v.type === 'integer' || v.type === 'number'
      case 'str': return v.type === 'string' && (v.format === 'uuid' || v.format === 'date' || v.format === 'date-time' || v.pattern !== undefined)
      case 'text': return v.type === 'string'
      case 'json': return v.type === 'object' || v.type === 'array' || v.$ref !== undefined
    }
    return false
  })
  if (!fits || variants.length === 0) throw new Error(`${what}: written as ${f.as}, which its schema does not allow`)
  return nullable
}

const sqlLiteral = (s: string): string => `'${s.replace(/'/g, "''")}'`

/** A JSON text as a format() template and its arguments (nested objects inlined into the template). */
interface JsonTemplate { template: string, args: string[] }

/** `schema`'s properties (but `omit`), in order, as a JSON object template. */
function jsonObject (schema: TObject, fields: Readonly<Record<string, JsonField & { inline?: JsonTemplate }>>, what: string, omit?: string): JsonTemplate {
  let template = '{'
  const args: string[] = []
  for (const [key, prop] of Object.entries(schema.properties as Record<string, SchemaNode>)) {
    if (key === omit) continue
    const f = fields[key]
    if (f === undefined) throw new Error(`${what}: no SQL for the view field "${key}"`)
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(key)) throw new Error(`${what}: unexpected key ${key}`)
    template += `${template === '{' ? '' : ','}"${key}":`
    if (checkField(prop, f, `${what}.${key}`)) {
      // format() writes NULL as nothing: a nullable value is one expression, NULL or its JSON text
      template += '%s'
      args.push(`coalesce(${f.as === 'str' ? `'"' || ${f.sql} || '"'` : f.as === 'text' ? `to_json(${f.sql})::text` : `(${f.sql})::text`}, 'null')`)
    } else if (f.inline !== undefined) {
      template += f.inline.template
      args.push(...f.inline.args)
    } else {
      template += f.as === 'str' ? '"%s"' : '%s'
      args.push(f.as === 'text' ? `to_json(${f.sql})` : f.sql)
    }
  }
  return { template: template + '}', args }
}

/** One text expression writing a JSON template. */
function formatSql (t: JsonTemplate): string {
  if (t.args.length > 99) throw new Error(`a JSON object of ${t.args.length} values does not fit one format() call`)
  return `format(${sqlLiteral(t.template.replace(/%(?!s)/g, '%%'))}, ${t.args.join(', ')})`
}

/** A totals object (TotalsSchema) from the `<prefix>_net/_vat/_gross` columns of `po`. */
function totalsSql (prefix: string, nullable: boolean): JsonField & { inline?: JsonTemplate } {
  const fields: Record<string, JsonField> = { net: str(`po.${prefix}_net`), vat: str(`po.${prefix}_vat`), gross: str(`po.${prefix}_gross`), currency: text('po.currency') }
  const obj = jsonObject(TotalsSchema, fields, 'TotalsSchema')
  if (!nullable) return { as: 'json', sql: formatSql(obj), inline: obj }
  const amounts = Object.keys(TotalsSchema.properties).filter(k => k !== 'currency')
  return { as: 'json', sql: `CASE WHEN ${amounts.map(k => `po.${prefix}_${k} IS NOT NULL`).join(' AND ')} THEN ${formatSql(obj)} END` }
}

/** The PO views' fields (PurchaseOrder*), over `purchase_orders po`; `lines` is added per view. */
const PO_JSON: Record<string, JsonField & { inline?: JsonTemplate }> = {
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
  const linesSchema = (view.properties as Record<string, SchemaNode>).lines
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

export interface PurchaseOrderJson { version: number, body: string }

/** The PO in the caller's scope and view, with its lines, as the response body (one query). */
export async function getPurchaseOrderJson (db: Db, actor: Actor, id: string): Promise<PurchaseOrderJson> {
  const audience = audienceOf(actor)
  const rows = await rawRows<PurchaseOrderJson>(db, PO_JSON_BY_ID[audience], audience === 'platform' ? [id] : [id, actor.organizationId])
  const row = rows[0]
  if (row === undefined) throw notFound('Purchase order')
  return row
}

const dayStart = (d: string): Date => new Date(`${d}T00:00:00.000Z`)
const nextDayStart = (d: string): Date => new Date(dayStart(d).getTime() + 86_400_000)

/** The list's SQL text for one shape (which filters are present), built once per shape. */
const listTexts = new Map<number, string>()

const F_STATION_SCOPE = 1
const F_SUPPLIER_SCOPE = 2
const F_STATION = 4
const F_SUPPLIER = 8
const F_STATUS = 16
const F_FROM = 32
const F_TO = 64
const F_CURSOR = 128
const F_LINES = 256
/** the largest page ListPurchaseOrdersQuery accepts */
const MAX_PAGE = Number((ListPurchaseOrdersQuery.properties.limit as { maximum?: number }).maximum ?? 200)

/**
 * One row for a page: `items`, the page's items in the caller's view joined by commas (the inside
 * of the JSON array); `n`, the rows found (limit + 1 means there is a next page); `cursorTs` and
 * `cursorId`, the keyset of the page's last item (created_at with microseconds: a JS Date would
 * lose them and break the keyset). The caller's limit is the last parameter.
 */
function listText (shape: number): string {
  let text = listTexts.get(shape)
  if (text !== undefined) return text
  const where: string[] = []
  let n = 0
  const param = (cast: string): string => `$${++n}${cast}`
  if ((shape & F_STATION_SCOPE) !== 0) where.push(`po.station_id = ${param('::uuid')}`)
  if ((shape & F_SUPPLIER_SCOPE) !== 0) where.push(`po.supplier_id = ${param('::uuid')}`)
  if ((shape & F_STATION) !== 0) where.push(`po.station_id = ${param('::uuid')}`)
  if ((shape & F_SUPPLIER) !== 0) where.push(`po.supplier_id = ${param('::uuid')}`)
  if ((shape & F_STATUS) !== 0) where.push(`po.status = ${param('')}`)
  if ((shape & F_FROM) !== 0) where.push(`po.created_at >= ${param('::timestamptz')}`)
  if ((shape & F_TO) !== 0) where.push(`po.created_at < ${param('::timestamptz')}`)
  if ((shape & F_CURSOR) !== 0) where.push(`(po.created_at, po.id) < (${param('::timestamptz')}, ${param('::uuid')})`)
  const limit = param('::int')
  const audience: Audience = (shape & F_STATION_SCOPE) !== 0 ? 'station' : (shape & F_SUPPLIER_SCOPE) !== 0 ? 'supplier' : 'platform'
  const order = 'po.created_at DESC, po.id DESC'
  const rows = `SELECT ${poJsonSql(audience, (shape & F_LINES) !== 0)} AS j, po.created_at, po.id,
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
    (shape & (F_STATION_SCOPE | F_STATION)) !== 0 ? 'station' : '',
    (shape & (F_SUPPLIER_SCOPE | F_SUPPLIER)) !== 0 ? 'supplier' : '',
    (shape & F_STATUS) !== 0 ? 'status' : ''
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

interface PageRow { items: string, n: number, cursorTs: string | null, cursorId: string | null }

/** A page of POs in the caller's scope and view, newest first, as the response body `{ items, nextCursor }`. */
export async function listPurchaseOrdersJson (db: Db, actor: Actor, q: ListPurchaseOrdersInput): Promise<string> {
  const limit = q.limit ?? 50
  let shape = 0
  const params: unknown[] = []
  if (actor.role === 'STATION') { shape |= F_STATION_SCOPE; params.push(actor.organizationId) }
  if (actor.role === 'SUPPLIER') { shape |= F_SUPPLIER_SCOPE; params.push(actor.organizationId) }
  if (q.stationId !== undefined) { shape |= F_STATION; params.push(q.stationId) }
  if (q.supplierId !== undefined) { shape |= F_SUPPLIER; params.push(q.supplierId) }
  if (q.status !== undefined) { shape |= F_STATUS; params.push(q.status) }
  if (q.from !== undefined) { shape |= F_FROM; params.push(dayStart(q.from)) }
  if (q.to !== undefined) { shape |= F_TO; params.push(nextDayStart(q.to)) }
  if (q.cursor !== undefined) {
    const [ts, id] = decodeCursor(q.cursor, 2)
    if (typeof ts !== 'string' || typeof id !== 'string') throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
    shape |= F_CURSOR
    params.push(ts, id)
  }
  if (q.include === 'lines') shape |= F_LINES
  params.push(limit)
  const row = (await rawRows<PageRow>(db, listText(shape), params))[0] as PageRow
  const next = row.n > limit && row.cursorTs !== null && row.cursorId !== null ? JSON.stringify(encodeCursor([row.cursorTs, row.cursorId])) : 'null'
  return `{"items":[${row.items}],"nextCursor":${next}}`
}

export async function listPurchaseOrderEvents (db: Db, actor: Actor, id: string, q: { limit?: number, cursor?: string }) {
  const po = await scopedPo(db, actor, id).executeTakeFirst()
  if (po === undefined) throw notFound('Purchase order')
  const limit = q.limit ?? 50
  let query = db.selectFrom('purchaseOrderEvents').select(['id', 'fromStatus', 'toStatus', 'actorUserId', 'actorRole', 'at', 'note'])
    .where('purchaseOrderId', '=', id).orderBy('id').limit(limit + 1)
  if (q.cursor !== undefined) {
    const [after] = decodeCursor(q.cursor, 1)
    if (typeof after !== 'number') throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
    query = query.where('id', '>', after)
  }
  return page(await query.execute(), limit, r => [r.id])
}

export async function listMasterOrders (db: Db, actor: Actor, q: ListMasterOrdersInput): Promise<{ items: MasterOrderView[], nextCursor: string | null }> {
  const limit = q.limit ?? 50
  let query = db.selectFrom('masterOrders').select(MO_COLUMNS).select(CURSOR_TS.as('cursorTs'))
    .orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(limit + 1)
  if (actor.role === 'STATION') query = query.where('stationId', '=', actor.organizationId)
  if (q.stationId !== undefined) query = query.where('stationId', '=', q.stationId)
  if (q.status !== undefined) query = query.where('status', '=', q.status)
  if (q.from !== undefined) query = query.where('createdAt', '>=', dayStart(q.from))
  if (q.to !== undefined) query = query.where('createdAt', '<', nextDayStart(q.to))
  if (q.cursor !== undefined) {
    const [ts, id] = decodeCursor(q.cursor, 2)
    if (typeof ts !== 'string' || typeof id !== 'string') throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
    query = query.where(sql<boolean>`(created_at, id) < (${ts}::timestamptz, ${id}::uuid)`)
  }
  const rows = await query.execute()
  const p = page(rows, limit, r => [r.cursorTs, r.id])
  return { items: p.items.map(moView), nextCursor: p.nextCursor }
}

const POS_OF_MASTER = `SELECT ${PO_SELECT}, ${LINES_JSON} FROM purchase_orders po WHERE po.master_order_id = $1::uuid ORDER BY po.number`

export async function getMasterOrder (db: Db, actor: Actor, id: string): Promise<MasterOrderView> {
  let q = db.selectFrom('masterOrders').select(MO_COLUMNS).where('id', '=', id)
  if (actor.role === 'STATION') q = q.where('stationId', '=', actor.organizationId)
  if (actor.role === 'SUPPLIER') throw notFound('Master order')
  const row = await q.executeTakeFirst()
  if (row === undefined) throw notFound('Master order')
  const pos = await rawRows<PoRow>(db, POS_OF_MASTER, [id])
  return { ...moView(row), purchaseOrders: pos.map(p => poView(p, p.lines ?? [])) }
}

// ---- transitions -----------------------------------------------------------------------------

export type PurchaseOrderVerb = 'confirm' | 'decline' | 'ship' | 'receive' | 'close' | 'invoice' | 'archive' | 'cancel'

interface TransitionRule {
  from: readonly PurchaseOrderStatus[]
  to: PurchaseOrderStatus
  event: string
  /** the timestamp column the transition stamps */
  stamp: string | null
}

/** PRODUCT.md §5.3. Who may act is RBAC (role) + the scoped read (own station / own supplier). */
export const TRANSITIONS: Record<PurchaseOrderVerb, TransitionRule> = {
  confirm: { from: ['PLACED'], to: 'CONFIRMED', event: 'purchase_order.confirmed', stamp: 'confirmed_at' },
  decline: { from: ['PLACED'], to: 'DECLINED', event: 'purchase_order.declined', stamp: null },
  ship: { from: ['CONFIRMED'], to: 'SHIPPED', event: 'purchase_order.shipped', stamp: 'shipped_at' },
  receive: { from: ['SHIPPED'], to: 'RECEIVED', event: 'purchase_order.received', stamp: 'received_at' },
  close: { from: ['RECEIVED'], to: 'CLOSED', event: 'purchase_order.closed', stamp: 'closed_at' },
  invoice: { from: ['CLOSED'], to: 'INVOICED', event: 'purchase_order.invoiced', stamp: 'invoiced_at' },
  archive: { from: ['INVOICED'], to: 'ARCHIVED', event: 'purchase_order.archived', stamp: 'archived_at' },
  cancel: { from: ['PLACED', 'CONFIRMED'], to: 'CANCELLED', event: 'purchase_order.cancelled', stamp: 'cancelled_at' }
}

export type TransitionInput =
  | { verb: 'confirm', body: ConfirmInput }
  | { verb: 'decline', body: ReasonInput }
  | { verb: 'ship', body: ShipInput }
  | { verb: 'receive', body: ReceiveInput }
  | { verb: 'close', body: Record<string, never> }
  | { verb: 'invoice', body: InvoiceInput }
  | { verb: 'archive', body: Record<string, never> }
  | { verb: 'cancel', body: ReasonInput }

interface LockedPo {
  id: string
  number: string
  status: PurchaseOrderStatus
  version: number
  stationId: string
  supplierId: string
  masterOrderId: string
  currency: string
  tolerancePct: string
}

/** A PO's lines as LineRow objects (the view's fields under their row names), in line order. */
const ROW_KEYS: Partial<Record<keyof PurchaseOrderLineView, keyof LineRow>> = { packs: 'packsOrdered', lineNet: 'stationLineNet' }
const LOCKED_LINES_JSON = `(SELECT coalesce(json_agg(json_build_object('purchaseOrderId', l.purchase_order_id, ${Object.entries(LINE_JSON)
  .map(([key, f]) => `'${ROW_KEYS[key as keyof PurchaseOrderLineView] ?? key}', ${f.sql}`).join(', ')}) ORDER BY l.line_no), '[]'::json)
  FROM purchase_order_lines l WHERE l.purchase_order_id = po.id)`

/** Checks that `lines` names every PO line exactly once; returns their index by line id. */
/**
 * A supplier commits to deliver: a date before today (France's business date, as everywhere
 * else) is a typo or a back-dated promise, never a delivery that can still happen.
 */
function assertDeliveryDatesAhead (given: ReadonlyArray<{ confirmedDeliveryDate: string }>): void {
  const today = businessDate()
  const errors: ProblemItem[] = []
  given.forEach((g, i) => {
    if (g.confirmedDeliveryDate < today && errors.length < 50) errors.push({ pointer: `/lines/${i}/confirmedDeliveryDate`, code: 'DELIVERY_DATE_TOO_EARLY', detail: `${g.confirmedDeliveryDate} is in the past; the earliest delivery date is today, ${today}` })
  })
  if (errors.length > 0) throw problem('DELIVERY_DATE_TOO_EARLY', `A confirmed delivery date cannot be in the past (today is ${today})`, { errors })
}

function matchLines (poLines: readonly LineRow[], given: ReadonlyArray<{ lineId: string }>): Map<string, number> {
  const known = new Set(poLines.map(l => l.id))
  const seen = new Map<string, number>()
  const errors: ProblemItem[] = []
  given.forEach((g, i) => {
    if (!known.has(g.lineId)) errors.push({ pointer: `/lines/${i}/lineId`, code: 'UNKNOWN_LINE', detail: 'not a line of this purchase order' })
    else if (seen.has(g.lineId)) errors.push({ pointer: `/lines/${i}/lineId`, code: 'DUPLICATE_LINE', detail: 'this line is listed twice' })
    else seen.set(g.lineId, i)
  })
  for (const l of poLines) {
    if (!seen.has(l.id) && errors.length < 50) errors.push({ pointer: '/lines', code: 'MISSING_LINE', detail: `line ${l.lineNo} (${l.id}) is missing` })
  }
  if (errors.length > 0) throw problem('BUSINESS_RULE_VIOLATED', 'Every line of the purchase order must be listed exactly once', { errors })
  return seen
}

/** Σ packs per contract line (a cap is reserved and released per contract line). */
function packsPerContractLine (lines: ReadonlyArray<{ contractLineId: string | null, packs: number }>): Array<[string, number]> {
  const m = new Map<string, number>()
  for (const l of lines) if (l.contractLineId !== null && l.packs > 0) m.set(l.contractLineId, (m.get(l.contractLineId) ?? 0) + l.packs)
  // sorted: concurrent releases/reservations touch contract lines in one order (no deadlock)
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

/**
 * Applies one lifecycle action. `expectedVersion` is the If-Match version (412 when stale).
 * Runs inside the caller's transaction (the audit plugin's).
 */
export async function transitionPurchaseOrder (db: Db, actor: Actor, id: string, input: TransitionInput, expectedVersion?: number): Promise<PurchaseOrderView> {
  const rule = TRANSITIONS[input.verb]
  // Read the PO in the caller's scope and lock its master order: every transition of a sibling
  // takes the same lock first, so the sibling statuses read below are never stale (§5.4 under
  // concurrency). The PO row itself is protected by the guarded update.
  const scope = actor.role === 'STATION' ? sql`AND po.station_id = ${actor.organizationId}::uuid` : actor.role === 'SUPPLIER' ? sql`AND po.supplier_id = ${actor.organizationId}::uuid` : sql``
  // The lines come in the same statement. Its snapshot predates a wait for the lock, but lines
  // change only in transitions, which bump the PO's version: if one committed meanwhile, the
  // guarded update below (status and version) refuses, so stale lines are never acted upon.
  const needsLines = input.verb !== 'ship' && input.verb !== 'archive'
  const found = await sql<LockedPo & { lines: LineRow[] | null }>`
    SELECT po.id, po.number, po.status, po.version, po.station_id, po.supplier_id, po.master_order_id, po.currency,
      (SELECT receiving_tolerance_pct FROM settings) AS tolerance_pct,
      ${needsLines ? sql.raw(LOCKED_LINES_JSON) : sql`NULL`} AS lines
    FROM purchase_orders po JOIN master_orders mo ON mo.id = po.master_order_id
    WHERE po.id = ${id}::uuid ${scope}
    FOR UPDATE OF mo`.execute(db)
  const po = found.rows[0]
  if (po === undefined) throw notFound('Purchase order')
  if (!rule.from.includes(po.status)) throw invalidTransition('purchase order', po.status, input.verb)
  if (expectedVersion !== undefined && expectedVersion !== po.version) {
    throw problem('PRECONDITION_FAILED', `If-Match "${expectedVersion}" does not match the current ETag "${po.version}"`)
  }

  const lines: LineRow[] = po.lines ?? []

  // Verb-specific validation and the columns the guarded update sets.
  const set: Array<ReturnType<typeof sql>> = []
  let note: string | null = null
  switch (input.verb) {
    case 'confirm':
      matchLines(lines, input.body.lines)
      assertDeliveryDatesAhead(input.body.lines)
      break
    case 'decline':
    case 'cancel':
      note = input.body.reason
      set.push(sql`status_reason = ${input.body.reason}`)
      break
    case 'ship':
      await assertDocumentReference(db, actor, input.body.deliveryNoteDocumentId, '/deliveryNoteDocumentId')
      note = `${input.body.carrier} ${input.body.trackingNumber}`
      set.push(sql`carrier = ${input.body.carrier}`, sql`tracking_no = ${input.body.trackingNumber}`, sql`delivery_note_doc_id = ${input.body.deliveryNoteDocumentId}::uuid`)
      break
    case 'receive': {
      await assertDocumentReference(db, actor, input.body.signedDeliveryNoteDocumentId, '/signedDeliveryNoteDocumentId')
      matchLines(lines, input.body.lines)
      const tolerance = 10_000n + toScaled(po.tolerancePct, 2)
      const errors: ProblemItem[] = []
      const byId = new Map(lines.map(l => [l.id, l]))
      input.body.lines.forEach((g, i) => {
        const l = byId.get(g.lineId) as LineRow
        const max = (BigInt(l.packsOrdered) * tolerance) / 10_000n
        if (BigInt(g.packsReceived) > max) {
          errors.push({ pointer: `/lines/${i}/packsReceived`, code: 'RECEIVED_EXCEEDS_ORDERED', detail: `${g.packsReceived} packs received, ${l.packsOrdered} ordered, at most ${max} accepted (tolerance ${po.tolerancePct} %)` })
        }
      })
      if (errors.length > 0) throw problem('RECEIVED_EXCEEDS_ORDERED', 'Received quantities exceed what was ordered beyond the receiving tolerance', { errors })
      set.push(sql`signed_note_doc_id = ${input.body.signedDeliveryNoteDocumentId}::uuid`)
      break
    }
    case 'invoice': {
      // What was delivered is what is billed: both sides on received packs (§5.3).
      const sup = documentTotals(lines.map(l => ({ net: lineNet(l.supplierPackPrice, l.packsReceived ?? 0), vatRate: l.vatRate })))
      const sta = documentTotals(lines.map(l => ({ net: lineNet(l.stationPackPrice, l.packsReceived ?? 0), vatRate: l.vatRate })))
      note = input.body.invoiceNumber
      set.push(
        sql`invoice_number = ${input.body.invoiceNumber}`, sql`invoice_date = ${input.body.invoiceDate}::date`,
        sql`invoiced_supplier_net = ${sup.net}::numeric, invoiced_supplier_vat = ${sup.vat}::numeric, invoiced_supplier_gross = ${sup.gross}::numeric`,
        sql`invoiced_station_net = ${sta.net}::numeric, invoiced_station_vat = ${sta.vat}::numeric, invoiced_station_gross = ${sta.gross}::numeric`
      )
      break
    }
    case 'close':
    case 'archive':
      break
  }
  if (rule.stamp !== null) set.push(sql`${sql.ref(rule.stamp)} = now()`)

  // The guarded update and the status-history row in one statement; the sibling statuses are read
  // in the same statement, after the master-order lock above, so they are current.
  const updated = await sql<{ version: number, siblings: PurchaseOrderStatus[] | null }>`
    WITH u AS (
      UPDATE purchase_orders SET status = ${rule.to}, version = version + 1, updated_at = now()${set.length > 0 ? sql`, ${sql.join(set)}` : sql``}
      WHERE id = ${po.id}::uuid AND status = ${po.status} AND version = ${po.version}
      RETURNING id, version
    ), e AS (
      INSERT INTO purchase_order_events (purchase_order_id, from_status, to_status, actor_user_id, actor_role, note)
      SELECT id, ${po.status}, ${rule.to}, ${actor.userId}::uuid, ${actor.role}, ${note} FROM u
    )
    SELECT u.version,
      (SELECT array_agg(s.status::text) FROM purchase_orders s WHERE s.master_order_id = ${po.masterOrderId}::uuid AND s.id <> ${po.id}::uuid) AS siblings
    FROM u`.execute(db)
  const row = updated.rows[0]
  if (row === undefined) {
    // Another request changed the PO between our read and the update: exactly one wins.
    const now = await db.selectFrom('purchaseOrders').select('status').where('id', '=', po.id).executeTakeFirst()
    throw invalidTransition('purchase order', now?.status ?? po.status, input.verb)
  }

  // Line changes and side effects.
  if (input.verb === 'confirm') {
    const ids = input.body.lines.map(l => l.lineId)
    const dates = input.body.lines.map(l => l.confirmedDeliveryDate)
    await sql`UPDATE purchase_order_lines l SET confirmed_delivery_date = x.d
      FROM unnest(${ids}::uuid[], ${dates}::date[]) AS x(id, d) WHERE l.id = x.id AND l.purchase_order_id = ${po.id}::uuid`.execute(db)
  } else if (input.verb === 'receive') {
    const ids = input.body.lines.map(l => l.lineId)
    const packs = input.body.lines.map(l => l.packsReceived)
    const notes = input.body.lines.map(l => l.discrepancy ?? null)
    await sql`UPDATE purchase_order_lines l SET packs_received = x.p, discrepancy = x.n
      FROM unnest(${ids}::uuid[], ${packs}::int[], ${notes}::text[]) AS x(id, p, n) WHERE l.id = x.id AND l.purchase_order_id = ${po.id}::uuid`.execute(db)
    const byId = new Map(lines.map(l => [l.id, l]))
    await addStock(db, actor, po.stationId, input.body.lines.map(g => {
      const l = byId.get(g.lineId) as LineRow
      return { articleId: l.articleId, units: g.packsReceived * l.unitsPerPack }
    }), { reason: 'PO_RECEIPT', refType: 'PURCHASE_ORDER', refId: po.id })
  } else if (input.verb === 'cancel' || input.verb === 'decline') {
    for (const [cl, packs] of packsPerContractLine(lines.map(l => ({ contractLineId: l.contractLineId, packs: l.packsOrdered })))) {
      await releaseContractPacks(db, cl, packs)
    }
  } else if (input.verb === 'close') {
    // Receiving less than ordered and closing gives the shortfall back to the contract (§4.2).
    const shortfall = lines.map(l => ({ contractLineId: l.contractLineId, packs: Math.max(0, l.packsOrdered - (l.packsReceived ?? 0)) }))
    for (const [cl, packs] of packsPerContractLine(shortfall)) await releaseContractPacks(db, cl, packs)
  }

  // The response is read now; the master status and the outbox event, whose results nothing
  // needs, travel with the COMMIT (writeWithCommit): one round trip for both and the audit event.
  const view = await getPurchaseOrder(db, actor, po.id)
  await refreshMasterStatus(db, po.masterOrderId, [...(row.siblings ?? []), rule.to])
  await emitEvents(db, [{
    type: rule.event,
    organizationIds: [po.stationId, po.supplierId],
    payload: { purchaseOrderId: po.id, number: po.number, stationId: po.stationId, supplierId: po.supplierId, fromStatus: po.status, status: rule.to, version: row.version }
  }])
  return view
}

/**
 * Writes the derived master status (the caller holds the master-order lock). The version is bumped
 * on every child transition, not only when the status changes: the master order's representation
 * embeds its purchase orders, and its ETag must change whenever they do.
 */
async function refreshMasterStatus (db: Db, masterOrderId: string, children: readonly PurchaseOrderStatus[]): Promise<void> {
  const status = deriveMasterStatus(children)
  await writeWithCommit(db, sql`UPDATE master_orders SET status = ${status}, version = version + 1, updated_at = now() WHERE id = ${masterOrderId}::uuid`)
}
