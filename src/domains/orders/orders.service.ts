// Master and purchase orders: scoped reads (a station sees its own orders, a supplier only the POs
// addressed to it, staff everything) and the purchase-order lifecycle of PRODUCT.md §5.3. Every
// transition is one guarded UPDATE (… WHERE status = $from AND version = $v) so concurrent double
// actions have exactly one effect; in the same transaction it appends the status history, applies
// its side effects (stock on receipt, contract caps on cancel/decline/close), re-derives the master
// order's status under a lock on the master order, and writes the outbox event.
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import type { PurchaseOrderStatus } from '../../db/tables/ordering.js'
import type { Actor } from '../../lib/permissions.js'
import { invalidTransition, notFound, problem, type ProblemItem } from '../../lib/problems.js'
import { decodeCursor, page } from '../../lib/cursor.js'
import { documentTotals, lineNet, fromScaled, toScaled } from '../../lib/money.js'
import { emitEvents } from '../../lib/outbox.js'
import { releaseContractPacks } from '../contracts/pricing.service.js'
import { addStock } from '../stock/stock.service.js'
import { deriveMasterStatus } from './master-status.js'
import { assertDocumentReference } from './documents-ref.js'
import type { ConfirmInput, InvoiceInput, ListMasterOrdersInput, ListPurchaseOrdersInput, ReasonInput, ReceiveInput, ShipInput } from './orders.schemas.js'

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
  confirmedAt: Date | null
  shippedAt: Date | null
  receivedAt: Date | null
  closedAt: Date | null
  invoicedAt: Date | null
  archivedAt: Date | null
  cancelledAt: Date | null
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
  carrier: string | null
  trackingNo: string | null
  deliveryNoteDocId: string | null
  signedNoteDocId: string | null
  invoiceNumber: string | null
  invoiceDate: string | null
  statusReason: string | null
  createdAt: Date
  confirmedAt: Date | null
  shippedAt: Date | null
  receivedAt: Date | null
  closedAt: Date | null
  invoicedAt: Date | null
  archivedAt: Date | null
  cancelledAt: Date | null
  updatedAt: Date
  version: number
}

interface LineRow {
  id: string
  purchaseOrderId: string
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
  packsOrdered: number
  desiredDeliveryDate: string
  confirmedDeliveryDate: string | null
  packsReceived: number | null
  discrepancy: string | null
  supplierPackPrice: string
  supplierLineNet: string
  feePct: string
  stationPackPrice: string
  stationLineNet: string
}

const PO_COLUMNS = [
  'id', 'number', 'masterOrderId', 'stationId', 'supplierId', 'status', 'currency',
  'supplierNet', 'supplierVat', 'supplierGross', 'stationNet', 'stationVat', 'stationGross',
  'invoicedSupplierNet', 'invoicedSupplierVat', 'invoicedSupplierGross', 'invoicedStationNet', 'invoicedStationVat', 'invoicedStationGross',
  'carrier', 'trackingNo', 'deliveryNoteDocId', 'signedNoteDocId', 'invoiceNumber', 'invoiceDate', 'statusReason',
  'createdAt', 'confirmedAt', 'shippedAt', 'receivedAt', 'closedAt', 'invoicedAt', 'archivedAt', 'cancelledAt', 'updatedAt', 'version'
] as const

const LINE_COLUMNS = [
  'id', 'purchaseOrderId', 'lineNo', 'articleId', 'articleCode', 'articleName', 'supplierRef', 'packLabel', 'unitsPerPack', 'vatRate',
  'priceSource', 'contractLineId', 'packsOrdered', 'desiredDeliveryDate', 'confirmedDeliveryDate', 'packsReceived', 'discrepancy',
  'supplierPackPrice', 'supplierLineNet', 'feePct', 'stationPackPrice', 'stationLineNet'
] as const

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
  const invoiced = r.invoicedStationNet !== null && r.invoicedStationVat !== null && r.invoicedStationGross !== null
  const invoicedSup = r.invoicedSupplierNet !== null && r.invoicedSupplierVat !== null && r.invoicedSupplierGross !== null
  return {
    id: r.id,
    number: r.number,
    masterOrderId: r.masterOrderId,
    stationId: r.stationId,
    supplierId: r.supplierId,
    status: r.status,
    currency: r.currency,
    totals: totals(r.stationNet, r.stationVat, r.stationGross, r.currency),
    supplierTotals: totals(r.supplierNet, r.supplierVat, r.supplierGross, r.currency),
    marginNet: margin(r.stationNet, r.supplierNet),
    invoicedTotals: invoiced ? totals(r.invoicedStationNet as string, r.invoicedStationVat as string, r.invoicedStationGross as string, r.currency) : null,
    invoicedSupplierTotals: invoicedSup ? totals(r.invoicedSupplierNet as string, r.invoicedSupplierVat as string, r.invoicedSupplierGross as string, r.currency) : null,
    carrier: r.carrier,
    trackingNumber: r.trackingNo,
    deliveryNoteDocumentId: r.deliveryNoteDocId,
    signedDeliveryNoteDocumentId: r.signedNoteDocId,
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
    ...(lines === undefined ? {} : { lines })
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

const dayStart = (d: string): Date => new Date(`${d}T00:00:00.000Z`)
const nextDayStart = (d: string): Date => new Date(dayStart(d).getTime() + 86_400_000)

async function linesOf (db: Db, poIds: readonly string[]): Promise<Map<string, PurchaseOrderLineView[]>> {
  const out = new Map<string, PurchaseOrderLineView[]>(poIds.map(id => [id, []]))
  if (poIds.length === 0) return out
  const rows = await db.selectFrom('purchaseOrderLines').select(LINE_COLUMNS)
    .where(sql<boolean>`purchase_order_id = ANY(${[...poIds]}::uuid[])`)
    .orderBy('purchaseOrderId').orderBy('lineNo')
    .execute()
  for (const r of rows) out.get(r.purchaseOrderId)?.push(lineView(r))
  return out
}

export async function listPurchaseOrders (db: Db, actor: Actor, q: ListPurchaseOrdersInput): Promise<{ items: PurchaseOrderView[], nextCursor: string | null }> {
  const limit = q.limit ?? 50
  let query = db.selectFrom('purchaseOrders').select(PO_COLUMNS).select(CURSOR_TS.as('cursorTs'))
    .orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(limit + 1)
  if (actor.role === 'STATION') query = query.where('stationId', '=', actor.organizationId)
  if (actor.role === 'SUPPLIER') query = query.where('supplierId', '=', actor.organizationId)
  if (q.stationId !== undefined) query = query.where('stationId', '=', q.stationId)
  if (q.supplierId !== undefined) query = query.where('supplierId', '=', q.supplierId)
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
  if (q.include !== 'lines') return { items: p.items.map(r => poView(r, undefined)), nextCursor: p.nextCursor }
  const lines = await linesOf(db, p.items.map(r => r.id))
  return { items: p.items.map(r => poView(r, lines.get(r.id) ?? [])), nextCursor: p.nextCursor }
}

function scopedPo (db: Db, actor: Actor, id: string) {
  let q = db.selectFrom('purchaseOrders').select(PO_COLUMNS).where('id', '=', id)
  if (actor.role === 'STATION') q = q.where('stationId', '=', actor.organizationId)
  if (actor.role === 'SUPPLIER') q = q.where('supplierId', '=', actor.organizationId)
  return q
}

export async function getPurchaseOrder (db: Db, actor: Actor, id: string): Promise<PurchaseOrderView> {
  const row = await scopedPo(db, actor, id).executeTakeFirst()
  if (row === undefined) throw notFound('Purchase order')
  const lines = await linesOf(db, [row.id])
  return poView(row, lines.get(row.id) ?? [])
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

export async function getMasterOrder (db: Db, actor: Actor, id: string): Promise<MasterOrderView> {
  let q = db.selectFrom('masterOrders').select(MO_COLUMNS).where('id', '=', id)
  if (actor.role === 'STATION') q = q.where('stationId', '=', actor.organizationId)
  if (actor.role === 'SUPPLIER') throw notFound('Master order')
  const row = await q.executeTakeFirst()
  if (row === undefined) throw notFound('Master order')
  const pos = await db.selectFrom('purchaseOrders').select(PO_COLUMNS).where('masterOrderId', '=', id).orderBy('number').execute()
  const lines = await linesOf(db, pos.map(p => p.id))
  return { ...moView(row), purchaseOrders: pos.map(p => poView(p, lines.get(p.id) ?? [])) }
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

/** Checks that `lines` names every PO line exactly once; returns their index by line id. */
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
  const found = await sql<LockedPo>`
    SELECT po.id, po.number, po.status, po.version, po.station_id, po.supplier_id, po.master_order_id, po.currency,
      (SELECT receiving_tolerance_pct FROM settings) AS tolerance_pct
    FROM purchase_orders po JOIN master_orders mo ON mo.id = po.master_order_id
    WHERE po.id = ${id}::uuid ${scope}
    FOR UPDATE OF mo`.execute(db)
  const po = found.rows[0]
  if (po === undefined) throw notFound('Purchase order')
  if (!rule.from.includes(po.status)) throw invalidTransition('purchase order', po.status, input.verb)
  if (expectedVersion !== undefined && expectedVersion !== po.version) {
    throw problem('PRECONDITION_FAILED', `If-Match "${expectedVersion}" does not match the current ETag "${po.version}"`)
  }

  const needsLines = input.verb !== 'ship' && input.verb !== 'archive'
  const lines: LineRow[] = needsLines
    ? await db.selectFrom('purchaseOrderLines').select(LINE_COLUMNS).where('purchaseOrderId', '=', po.id).orderBy('lineNo').execute()
    : []

  // Verb-specific validation and the columns the guarded update sets.
  const set: Array<ReturnType<typeof sql>> = []
  let note: string | null = null
  switch (input.verb) {
    case 'confirm':
      matchLines(lines, input.body.lines)
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

  await refreshMasterStatus(db, po.masterOrderId, [...(row.siblings ?? []), rule.to])
  await emitEvents(db, [{
    type: rule.event,
    organizationIds: [po.stationId, po.supplierId],
    payload: { purchaseOrderId: po.id, number: po.number, stationId: po.stationId, supplierId: po.supplierId, fromStatus: po.status, status: rule.to, version: row.version }
  }])
  return await getPurchaseOrder(db, actor, po.id)
}

/**
 * Writes the derived master status (the caller holds the master-order lock). The version is bumped
 * on every child transition, not only when the status changes: the master order's representation
 * embeds its purchase orders, and its ETag must change whenever they do.
 */
async function refreshMasterStatus (db: Db, masterOrderId: string, children: readonly PurchaseOrderStatus[]): Promise<void> {
  const status = deriveMasterStatus(children)
  await sql`UPDATE master_orders SET status = ${status}, version = version + 1, updated_at = now() WHERE id = ${masterOrderId}::uuid`.execute(db)
}
