// The transfer workflow of PRODUCT.md §6 (rules in transfers.rules.ts). Every action is one guarded
// UPDATE (… WHERE id = $1 AND status = ANY($from) AND version = $read) that also appends the status
// history and updates the lines in the same statement, so concurrent double actions have exactly one
// effect: the second waits for the first's row lock, finds the status moved on and answers 409.
// Stock moves through applyStockDeltas in the same transaction: shipping takes the granted units
// off the source station (TRANSFER_OUT; 422 INSUFFICIENT_STOCK when they are no longer there, and
// the whole action rolls back), receiving adds the received units to the requesting station
// (TRANSFER_IN). The outbox event `transfer.<past participle>` goes to both stations.
import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../../db/index.js'
import type { Actor } from '../../lib/permissions.js'
import { emitEvents } from '../../lib/outbox.js'
import { invalidTransition, notFound, problem, type ProblemItem } from '../../lib/problems.js'
import { applyStockDeltas } from '../stock/stock.service.js'
import { checkDocumentReference, readableDocumentType, type DocumentReference } from '../documents/documents.service.js'
import type { DocumentType } from '../documents/documents.schemas.js'
import { getTransfer, type TransferDetailView } from './transfers.reads.js'
import { TRANSFER_RULES, type TransferParty, type TransferStatus, type TransferVerb } from './transfers.rules.js'
import type { CancelInput, ConfirmInput, NoteInput, ReceiveInput, RejectInput, SettleInput, ShipInput } from './transfers.schemas.js'

export type TransferTransitionInput =
  | { verb: 'confirm', body: ConfirmInput }
  | { verb: 'reject', body: RejectInput }
  | { verb: 'cancel', body: CancelInput }
  | { verb: 'prepare', body: NoteInput }
  | { verb: 'ship', body: ShipInput }
  | { verb: 'receive', body: ReceiveInput }
  | { verb: 'close', body: Record<string, never> }
  | { verb: 'settle', body: SettleInput }
  | { verb: 'archive', body: Record<string, never> }

/** A line as the transition reads it, with the source station's current stock of its article. */
interface CurrentLine {
  id: string
  articleId: string
  unitsRequested: number
  unitsGranted: number | null
  unitsShipped: number | null
  sourceQuantity: number
}

interface Current {
  id: string
  number: string
  status: TransferStatus
  version: number
  requestingStationId: string
  sourceStationId: string
  lines: CurrentLine[] | null
  /** the type of the document the body references when the caller may read it (null otherwise, or no reference) */
  documentType: DocumentType | null
}

/**
 * The document an action's body references (PRODUCT.md §8): shipping needs a delivery note,
 * receiving the signed one, either a document the caller may read (422 DOCUMENT_NOT_USABLE).
 * Checked in the transition's first read; documents never change and a reader never loses access,
 * so the answer holds until COMMIT (and the foreign key keeps the reference from dangling).
 */
function referencedDocument (input: TransferTransitionInput): DocumentReference | undefined {
  switch (input.verb) {
    case 'ship': return { id: input.body.deliveryNoteDocumentId, type: 'DELIVERY_NOTE', pointer: '/deliveryNoteDocumentId' }
    case 'receive': return { id: input.body.signedDeliveryNoteDocumentId, type: 'SIGNED_DELIVERY_NOTE', pointer: '/signedDeliveryNoteDocumentId' }
    default: return undefined
  }
}

const PARTY_WORDS: Record<TransferParty, string> = { source: 'the source station', requesting: 'the requesting station', platform: 'platform staff' }

/** A station involved in the transfer acts only on its own side's steps; staff act on behalf of either. */
function assertParty (actor: Actor, verb: TransferVerb, party: TransferParty, t: Current): void {
  if (actor.role !== 'STATION') return
  const own = party === 'source' ? t.sourceStationId : party === 'requesting' ? t.requestingStationId : null
  if (own !== actor.organizationId) {
    throw problem('NOT_ALLOWED_FOR_PARTY', `Only ${PARTY_WORDS[party]} (or platform staff on its behalf) may ${verb} transfer ${t.number}`)
  }
}

/** Checks that `given` names known lines at most once and every line `required` keeps; returns the index by line id. */
function matchLines (lines: readonly CurrentLine[], given: ReadonlyArray<{ lineId: string }>, required: (l: CurrentLine) => boolean): Map<string, number> {
  const known = new Set(lines.map(l => l.id))
  const seen = new Map<string, number>()
  const errors: ProblemItem[] = []
  given.forEach((g, i) => {
    if (!known.has(g.lineId)) errors.push({ pointer: `/lines/${i}/lineId`, code: 'UNKNOWN_LINE', detail: 'not a line of this transfer' })
    else if (seen.has(g.lineId)) errors.push({ pointer: `/lines/${i}/lineId`, code: 'DUPLICATE_LINE', detail: 'this line is listed twice' })
    else seen.set(g.lineId, i)
  })
  for (const l of lines) {
    if (required(l) && !seen.has(l.id)) errors.push({ pointer: '/lines', code: 'MISSING_LINE', detail: `line ${l.id} (article ${l.articleId}) is missing` })
  }
  if (errors.length > 0) throw problem('BUSINESS_RULE_VIOLATED', 'The lines do not match the transfer\'s lines', { errors: errors.slice(0, 50) })
  return seen
}

function throwIf (errors: ProblemItem[], code: 'BUSINESS_RULE_VIOLATED' | 'INSUFFICIENT_STOCK', detail: string): void {
  if (errors.length > 0) throw problem(code, detail, { errors: errors.slice(0, 50) })
}

/**
 * Applies one workflow action as `actor`. `expectedVersion` is the If-Match version (412 when
 * stale). Runs inside the caller's transaction (the audit plugin's); any refusal leaves nothing.
 */
export async function transitionTransfer (db: Db, actor: Actor, id: string, input: TransferTransitionInput, expectedVersion?: number): Promise<TransferDetailView> {
  const rule = TRANSFER_RULES[input.verb]
  const scope = actor.role === 'STATION'
    ? sql`AND (t.requesting_station_id = ${actor.organizationId}::uuid OR t.source_station_id = ${actor.organizationId}::uuid)`
    : sql``
  const needsLines = input.verb === 'confirm' || input.verb === 'receive'
  const document = referencedDocument(input)
  // Not locked: the guarded update below re-checks status and version, so nothing read here is
  // acted upon if another action committed meanwhile.
  const found = await sql<Current>`
    SELECT t.id, t.number, t.status, t.version, t.requesting_station_id, t.source_station_id,
      ${needsLines
        ? sql`(SELECT json_agg(json_build_object('id', l.id, 'articleId', l.article_id, 'unitsRequested', l.units_requested, 'unitsGranted', l.units_granted,
            'unitsShipped', l.units_shipped, 'sourceQuantity', coalesce(s.quantity, 0)))
          FROM transfer_lines l LEFT JOIN stock_levels s ON s.station_id = t.source_station_id AND s.article_id = l.article_id
          WHERE l.transfer_id = t.id)`
        : sql`NULL`} AS lines,
      ${document !== undefined ? readableDocumentType(db, actor, document.id) : sql`NULL`} AS document_type
    FROM transfers t WHERE t.id = ${id}::uuid ${scope}`.execute(db)
  const t = found.rows[0]
  if (t === undefined) throw notFound('Transfer')
  assertParty(actor, input.verb, rule.party, t)
  if (!rule.from.includes(t.status)) throw invalidTransition('transfer', t.status, input.verb)
  if (expectedVersion !== undefined && expectedVersion !== t.version) {
    throw problem('PRECONDITION_FAILED', `If-Match "${expectedVersion}" does not match the current ETag "${t.version}"`)
  }
  if (document !== undefined) checkDocumentReference(t.documentType, document)
  const lines = t.lines ?? []

  // Verb-specific checks, the columns the guarded update sets, the history note, and the line
  // update that rides in the same statement (its RETURNING gives the stock to move).
  const set: RawBuilder<unknown>[] = [sql`status = ${rule.to}`, sql`version = version + 1`, sql`updated_at = now()`]
  if (rule.stamp !== null) set.push(sql`${sql.ref(rule.stamp)} = now()`)
  let note: string | null = null
  let lineUpdate: RawBuilder<unknown> | null = null
  switch (input.verb) {
    case 'confirm': {
      const byId = new Map(lines.map(l => [l.id, l]))
      matchLines(lines, input.body.lines, () => true)
      const rules: ProblemItem[] = []
      const stock: ProblemItem[] = []
      input.body.lines.forEach((g, i) => {
        const l = byId.get(g.lineId) as CurrentLine
        if (g.unitsGranted > l.unitsRequested) rules.push({ pointer: `/lines/${i}/unitsGranted`, code: 'GRANTED_EXCEEDS_REQUESTED', detail: `${g.unitsGranted} units granted, ${l.unitsRequested} requested` })
        else if (g.unitsGranted > l.sourceQuantity) stock.push({ pointer: `/lines/${i}/unitsGranted`, code: 'INSUFFICIENT_STOCK', detail: `${g.unitsGranted} units granted, ${l.sourceQuantity} in stock at the source station` })
      })
      if (rules.length === 0 && input.body.lines.every(g => g.unitsGranted === 0)) {
        rules.push({ pointer: '/lines', code: 'NOTHING_GRANTED', detail: 'grant at least one unit, or reject the transfer' })
      }
      throwIf(rules, 'BUSINESS_RULE_VIOLATED', 'Granted units must not exceed the requested units')
      throwIf(stock, 'INSUFFICIENT_STOCK', 'The source station does not hold the units granted')
      lineUpdate = sql`UPDATE transfer_lines l SET units_granted = x.g
        FROM u, unnest(${input.body.lines.map(g => g.lineId)}::uuid[], ${input.body.lines.map(g => g.unitsGranted)}::int[]) AS x(id, g)
        WHERE l.transfer_id = u.id AND l.id = x.id
        RETURNING l.article_id, 0 AS units`
      break
    }
    case 'reject':
      note = input.body.reason
      set.push(sql`status_reason = ${input.body.reason}`)
      break
    case 'cancel':
      note = input.body.reason ?? null
      set.push(sql`status_reason = ${note}`)
      break
    case 'prepare':
      note = input.body.note ?? null
      break
    case 'ship':
      note = input.body.note ?? null
      set.push(sql`delivery_note_doc_id = ${input.body.deliveryNoteDocumentId}::uuid`)
      // what was granted leaves the source station
      lineUpdate = sql`UPDATE transfer_lines l SET units_shipped = l.units_granted
        FROM u WHERE l.transfer_id = u.id
        RETURNING l.article_id, l.units_shipped AS units`
      break
    case 'receive': {
      const byId = new Map(lines.map(l => [l.id, l]))
      // lines that shipped nothing may be left out (they receive 0)
      const seen = matchLines(lines, input.body.lines, l => (l.unitsShipped ?? 0) > 0)
      const errors: ProblemItem[] = []
      input.body.lines.forEach((g, i) => {
        const shipped = (byId.get(g.lineId) as CurrentLine).unitsShipped ?? 0
        if (g.unitsReceived > shipped) errors.push({ pointer: `/lines/${i}/unitsReceived`, code: 'RECEIVED_EXCEEDS_SHIPPED', detail: `${g.unitsReceived} units received, ${shipped} shipped` })
      })
      throwIf(errors, 'BUSINESS_RULE_VIOLATED', 'Received units must not exceed the shipped units')
      const all = lines.map(l => {
        const g = input.body.lines[seen.get(l.id) ?? -1]
        return { id: l.id, units: g?.unitsReceived ?? 0, note: g?.note ?? null }
      })
      set.push(sql`signed_note_doc_id = ${input.body.signedDeliveryNoteDocumentId}::uuid`)
      lineUpdate = sql`UPDATE transfer_lines l SET units_received = x.r, note = x.n
        FROM u, unnest(${all.map(a => a.id)}::uuid[], ${all.map(a => a.units)}::int[], ${all.map(a => a.note)}::text[]) AS x(id, r, n)
        WHERE l.transfer_id = u.id AND l.id = x.id
        RETURNING l.article_id, l.units_received AS units`
      break
    }
    case 'settle':
      note = `${input.body.settlementRef} ${input.body.settlementAmount}`
      set.push(sql`settlement_ref = ${input.body.settlementRef}`, sql`settlement_amount = ${input.body.settlementAmount}::numeric`)
      break
    case 'close':
    case 'archive':
      break
  }

  const updated = await sql<{ version: number, moved: Array<{ articleId: string, units: number }> | null }>`
    WITH u AS (
      UPDATE transfers SET ${sql.join(set)}
      WHERE id = ${t.id}::uuid AND status = ANY(${[...rule.from]}::text[]) AND version = ${t.version}
      RETURNING id, version
    ), e AS (
      INSERT INTO transfer_events (transfer_id, from_status, to_status, actor_user_id, actor_role, note)
      SELECT id, ${t.status}, ${rule.to}, ${actor.userId}::uuid, ${actor.role}, ${note} FROM u
    )${lineUpdate !== null ? sql`, l AS (${lineUpdate})` : sql``}
    SELECT u.version,
      ${lineUpdate !== null ? sql`(SELECT json_agg(json_build_object('articleId', l.article_id, 'units', l.units)) FROM l)` : sql`NULL`} AS moved
    FROM u`.execute(db)
  const row = updated.rows[0]
  if (row === undefined) {
    // Another action changed the transfer between our read and the update: exactly one wins.
    const now = await db.selectFrom('transfers').select('status').where('id', '=', t.id).executeTakeFirst()
    if (now !== undefined && rule.from.includes(now.status)) throw problem('CONCURRENT_UPDATE', 'The transfer changed while this action ran; read it again and retry')
    throw invalidTransition('transfer', now?.status ?? t.status, input.verb)
  }

  // Stock, in the same transaction: a refusal (INSUFFICIENT_STOCK) rolls the action back.
  const moved = row.moved ?? []
  if (input.verb === 'ship') {
    await applyStockDeltas(db, actor, t.sourceStationId, moved.map(m => ({ articleId: m.articleId, delta: -m.units })), { reason: 'TRANSFER_OUT', refType: 'TRANSFER', refId: t.id })
  } else if (input.verb === 'receive') {
    await applyStockDeltas(db, actor, t.requestingStationId, moved.map(m => ({ articleId: m.articleId, delta: m.units })), { reason: 'TRANSFER_IN', refType: 'TRANSFER', refId: t.id })
  }

  const view = await getTransfer(db, actor, t.id)
  await emitEvents(db, [{
    type: rule.event,
    organizationIds: [t.requestingStationId, t.sourceStationId],
    payload: { transferId: t.id, number: t.number, requestingStationId: t.requestingStationId, sourceStationId: t.sourceStationId, fromStatus: t.status, status: rule.to, version: row.version }
  }])
  return view
}
