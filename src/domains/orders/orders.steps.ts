// Each lifecycle verb's own part of a purchase-order transition (PRODUCT.md §5.3): what it checks
// before the guarded update, the columns that update sets, the status-history note, and the line
// changes and side effects once the update has won (stock on receipt, contract caps on
// cancel/decline/close). The frame every verb shares — the locking read, the guarded update, the
// master status, the outbox event — is orders.transitions.ts.
import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../../db/index.js'
import type { PurchaseOrderStatus } from '../../db/schema.js'
import { documentTotals, lineNet, toScaled } from '../../lib/money.js'
import type { Actor } from '../../lib/permissions.js'
import { problem, type ProblemItem } from '../../lib/problems.js'
import { businessDate, releaseContractPacks } from '../contracts/pricing.service.js'
import { addStock } from '../stock/stock.service.js'
import type { DocumentReference } from '../documents/documents.service.js'
import type { DocumentType } from '../documents/documents.schemas.js'
import type { ConfirmInput, ReceiveInput } from './orders.schemas.js'
import type { PurchaseOrderVerb, TransitionBodies, TransitionInput } from './orders.transitions.js'
import type { LineRow } from './orders.views.js'

/** The PO as the transition's locking read returns it (its lines when the verb needs them). */
export interface LockedPo {
  id: string
  number: string
  status: PurchaseOrderStatus
  version: number
  stationId: string
  supplierId: string
  masterOrderId: string
  currency: string
  tolerancePct: string
  lines: LineRow[] | null
  /** the type of the document the body references when the caller may read it (null otherwise, or no reference) */
  documentType: DocumentType | null
}

export interface StepContext {
  db: Db
  actor: Actor
  po: LockedPo
  /** the PO's lines in line order (empty for a verb that does not read them) */
  lines: readonly LineRow[]
}

export interface Step {
  /** columns the guarded update sets besides status, version and the transition's timestamp */
  set: Array<RawBuilder<unknown>>
  /** the status-history note */
  note: string | null
  /** line changes and side effects, run once the guarded update has won */
  apply?: () => Promise<void>
}

export type StepOf<V extends PurchaseOrderVerb> = (ctx: StepContext, body: TransitionBodies[V]) => Promise<Step>

// ---- checks on the lines a body lists ----------------------------------------------------------

/** Checks that `given` names every PO line exactly once. */
function matchLines (poLines: readonly LineRow[], given: ReadonlyArray<{ lineId: string }>): void {
  const known = new Set(poLines.map(l => l.id))
  const seen = new Set<string>()
  const errors: ProblemItem[] = []
  given.forEach((g, i) => {
    if (!known.has(g.lineId)) errors.push({ pointer: `/lines/${i}/lineId`, code: 'UNKNOWN_LINE', detail: 'not a line of this purchase order' })
    else if (seen.has(g.lineId)) errors.push({ pointer: `/lines/${i}/lineId`, code: 'DUPLICATE_LINE', detail: 'this line is listed twice' })
    else seen.add(g.lineId)
  })
  for (const l of poLines) {
    if (!seen.has(l.id) && errors.length < 50) errors.push({ pointer: '/lines', code: 'MISSING_LINE', detail: `line ${l.lineNo} (${l.id}) is missing` })
  }
  if (errors.length > 0) throw problem('BUSINESS_RULE_VIOLATED', 'Every line of the purchase order must be listed exactly once', { errors })
}

/** The PO line of each line id (the ids matchLines accepted). */
function lineLookup (lines: readonly LineRow[]): (lineId: string) => LineRow {
  const byId = new Map(lines.map(l => [l.id, l]))
  return lineId => {
    const l = byId.get(lineId)
    if (l === undefined) throw new Error(`line ${lineId} is not a line of the purchase order`)
    return l
  }
}

/**
 * A supplier commits to deliver: a date before today (France's business date, as everywhere
 * else) is a typo or a back-dated promise, never a delivery that can still happen.
 */
function assertDeliveryDatesAhead (given: ConfirmInput['lines']): void {
  const today = businessDate()
  const errors: ProblemItem[] = []
  given.forEach((g, i) => {
    if (g.confirmedDeliveryDate < today && errors.length < 50) errors.push({ pointer: `/lines/${i}/confirmedDeliveryDate`, code: 'DELIVERY_DATE_TOO_EARLY', detail: `${g.confirmedDeliveryDate} is in the past; the earliest delivery date is today, ${today}` })
  })
  if (errors.length > 0) throw problem('DELIVERY_DATE_TOO_EARLY', `A confirmed delivery date cannot be in the past (today is ${today})`, { errors })
}

/** More packs than ordered are accepted up to the receiving tolerance in settings (a percentage). */
function assertWithinTolerance (lines: readonly LineRow[], given: ReceiveInput['lines'], tolerancePct: string): void {
  const tolerance = 10_000n + toScaled(tolerancePct, 2)
  const lineOf = lineLookup(lines)
  const errors: ProblemItem[] = []
  given.forEach((g, i) => {
    const l = lineOf(g.lineId)
    const max = (BigInt(l.packsOrdered) * tolerance) / 10_000n
    if (BigInt(g.packsReceived) > max) {
      errors.push({ pointer: `/lines/${i}/packsReceived`, code: 'RECEIVED_EXCEEDS_ORDERED', detail: `${g.packsReceived} packs received, ${l.packsOrdered} ordered, at most ${max} accepted (tolerance ${tolerancePct} %)` })
    }
  })
  if (errors.length > 0) throw problem('RECEIVED_EXCEEDS_ORDERED', 'Received quantities exceed what was ordered beyond the receiving tolerance', { errors })
}

// ---- effects -------------------------------------------------------------------------------

/** Σ packs per contract line (a cap is reserved and released per contract line). */
function packsPerContractLine (lines: ReadonlyArray<{ contractLineId: string | null, packs: number }>): Array<[string, number]> {
  const m = new Map<string, number>()
  for (const l of lines) if (l.contractLineId !== null && l.packs > 0) m.set(l.contractLineId, (m.get(l.contractLineId) ?? 0) + l.packs)
  // sorted: concurrent releases/reservations touch contract lines in one order (no deadlock)
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

/** Gives packs back to the contract lines that reserved them. */
async function releasePacks (db: Db, lines: ReadonlyArray<{ contractLineId: string | null, packs: number }>): Promise<void> {
  for (const [cl, packs] of packsPerContractLine(lines)) await releaseContractPacks(db, cl, packs)
}

async function recordConfirmedDates (db: Db, poId: string, given: ConfirmInput['lines']): Promise<void> {
  const ids = given.map(l => l.lineId)
  const dates = given.map(l => l.confirmedDeliveryDate)
  await sql`UPDATE purchase_order_lines l SET confirmed_delivery_date = x.d
    FROM unnest(${ids}::uuid[], ${dates}::date[]) AS x(id, d) WHERE l.id = x.id AND l.purchase_order_id = ${poId}::uuid`.execute(db)
}

async function recordReceivedPacks (db: Db, poId: string, given: ReceiveInput['lines']): Promise<void> {
  const ids = given.map(l => l.lineId)
  const packs = given.map(l => l.packsReceived)
  const notes = given.map(l => l.discrepancy ?? null)
  await sql`UPDATE purchase_order_lines l SET packs_received = x.p, discrepancy = x.n
    FROM unnest(${ids}::uuid[], ${packs}::int[], ${notes}::text[]) AS x(id, p, n) WHERE l.id = x.id AND l.purchase_order_id = ${poId}::uuid`.execute(db)
}

/** Packs received × units per pack into the station's stock, one movement per line. */
async function stockReceivedPacks (ctx: StepContext, given: ReceiveInput['lines']): Promise<void> {
  const lineOf = lineLookup(ctx.lines)
  await addStock(ctx.db, ctx.actor, ctx.po.stationId, given.map(g => {
    const l = lineOf(g.lineId)
    return { articleId: l.articleId, units: g.packsReceived * l.unitsPerPack }
  }), { reason: 'PO_RECEIPT', refType: 'PURCHASE_ORDER', refId: ctx.po.id })
}

// ---- the steps -------------------------------------------------------------------------------

const confirm: StepOf<'confirm'> = async ({ db, po, lines }, body) => {
  matchLines(lines, body.lines)
  assertDeliveryDatesAhead(body.lines)
  return { set: [], note: null, apply: async () => { await recordConfirmedDates(db, po.id, body.lines) } }
}

/** decline (supplier) and cancel (station): the reason is kept, the reserved packs go back to the contracts. */
const giveUp: StepOf<'decline' | 'cancel'> = async ({ db, lines }, body) => ({
  set: [sql`status_reason = ${body.reason}`],
  note: body.reason,
  apply: async () => { await releasePacks(db, lines.map(l => ({ contractLineId: l.contractLineId, packs: l.packsOrdered }))) }
})

/**
 * The document a verb's body references (PRODUCT.md §8): shipping needs a delivery note, receiving
 * the signed one, either a document the caller may read. The frame checks it with its locking read
 * (422 DOCUMENT_NOT_USABLE before the step runs); the steps only record it.
 */
export function referencedDocument (input: TransitionInput): DocumentReference | undefined {
  switch (input.verb) {
    case 'ship': return { id: input.body.deliveryNoteDocumentId, type: 'DELIVERY_NOTE', pointer: '/deliveryNoteDocumentId' }
    case 'receive': return { id: input.body.signedDeliveryNoteDocumentId, type: 'SIGNED_DELIVERY_NOTE', pointer: '/signedDeliveryNoteDocumentId' }
    default: return undefined
  }
}

const ship: StepOf<'ship'> = async (_ctx, body) => ({
  set: [sql`carrier = ${body.carrier}`, sql`tracking_no = ${body.trackingNumber}`, sql`delivery_note_doc_id = ${body.deliveryNoteDocumentId}::uuid`],
  note: `${body.carrier} ${body.trackingNumber}`
})

const receive: StepOf<'receive'> = async (ctx, body) => {
  matchLines(ctx.lines, body.lines)
  assertWithinTolerance(ctx.lines, body.lines, ctx.po.tolerancePct)
  return {
    set: [sql`signed_note_doc_id = ${body.signedDeliveryNoteDocumentId}::uuid`],
    note: null,
    apply: async () => {
      await recordReceivedPacks(ctx.db, ctx.po.id, body.lines)
      await stockReceivedPacks(ctx, body.lines)
    }
  }
}

/** Receiving less than ordered and closing gives the shortfall back to the contract (§4.2). */
const close: StepOf<'close'> = async ({ db, lines }) => ({
  set: [],
  note: null,
  apply: async () => { await releasePacks(db, lines.map(l => ({ contractLineId: l.contractLineId, packs: Math.max(0, l.packsOrdered - (l.packsReceived ?? 0)) }))) }
})

/** What was delivered is what is billed: both sides on received packs (§5.3). */
const invoice: StepOf<'invoice'> = async ({ lines }, body) => {
  const sup = documentTotals(lines.map(l => ({ net: lineNet(l.supplierPackPrice, l.packsReceived ?? 0), vatRate: l.vatRate })))
  const sta = documentTotals(lines.map(l => ({ net: lineNet(l.stationPackPrice, l.packsReceived ?? 0), vatRate: l.vatRate })))
  return {
    set: [
      sql`invoice_number = ${body.invoiceNumber}`, sql`invoice_date = ${body.invoiceDate}::date`,
      sql`invoiced_supplier_net = ${sup.net}::numeric, invoiced_supplier_vat = ${sup.vat}::numeric, invoiced_supplier_gross = ${sup.gross}::numeric`,
      sql`invoiced_station_net = ${sta.net}::numeric, invoiced_station_vat = ${sta.vat}::numeric, invoiced_station_gross = ${sta.gross}::numeric`
    ],
    note: body.invoiceNumber
  }
}

const archive: StepOf<'archive'> = async () => ({ set: [], note: null })

export const STEPS: { [V in PurchaseOrderVerb]: StepOf<V> } = { confirm, decline: giveUp, ship, receive, close, invoice, archive, cancel: giveUp }
