// The purchase-order lifecycle of PRODUCT.md §5.3: the frame every transition shares. One locking
// read (the PO in the caller's scope, its master order locked), one guarded UPDATE
// (… WHERE status = $from AND version = $v) so concurrent double actions have exactly one effect,
// in the same statement the status-history row; then the verb's effects (orders.steps.ts), the
// master order's status re-derived under the lock, and the outbox event. All of it runs in the
// caller's transaction (the audit plugin's).
import { sql } from 'kysely'
import { writeWithCommit, type Db } from '../../db/index.js'
import type { PurchaseOrderStatus } from '../../db/schema.js'
import { emitEvents } from '../../lib/outbox.js'
import type { Actor } from '../../lib/permissions.js'
import { invalidTransition, notFound, problem } from '../../lib/problems.js'
import { checkDocumentReference, readableDocumentType, type DocumentReference } from '../documents/documents.service.js'
import { deriveMasterStatus } from './master-status.js'
import { getPurchaseOrder } from './orders.reads.js'
import type { ConfirmInput, EmptyInput, InvoiceInput, ReasonInput, ReceiveInput, ShipInput } from './orders.schemas.js'
import { LOCKED_LINES_JSON } from './orders.sql.js'
import { referencedDocument, STEPS, type LockedPo, type Step } from './orders.steps.js'
import type { PurchaseOrderView } from './orders.views.js'

/** What each verb's request body carries. */
export interface TransitionBodies {
  confirm: ConfirmInput
  decline: ReasonInput
  ship: ShipInput
  receive: ReceiveInput
  close: EmptyInput
  invoice: InvoiceInput
  archive: EmptyInput
  cancel: ReasonInput
}

export type PurchaseOrderVerb = keyof TransitionBodies

/** A verb with its body (the union over every verb by default). */
export type TransitionInput<V extends PurchaseOrderVerb = PurchaseOrderVerb> = { [K in V]: { verb: K, body: TransitionBodies[K] } }[V]

interface TransitionRule {
  from: readonly PurchaseOrderStatus[]
  to: PurchaseOrderStatus
  event: string
  /** the timestamp column the transition stamps */
  stamp: string | null
  /** the step reads the PO's lines */
  readsLines: boolean
}

/** PRODUCT.md §5.3. Who may act is RBAC (role) + the scoped read (own station / own supplier). */
export const TRANSITIONS: Record<PurchaseOrderVerb, TransitionRule> = {
  confirm: { from: ['PLACED'], to: 'CONFIRMED', event: 'purchase_order.confirmed', stamp: 'confirmed_at', readsLines: true },
  decline: { from: ['PLACED'], to: 'DECLINED', event: 'purchase_order.declined', stamp: null, readsLines: true },
  ship: { from: ['CONFIRMED'], to: 'SHIPPED', event: 'purchase_order.shipped', stamp: 'shipped_at', readsLines: false },
  receive: { from: ['SHIPPED'], to: 'RECEIVED', event: 'purchase_order.received', stamp: 'received_at', readsLines: true },
  close: { from: ['RECEIVED'], to: 'CLOSED', event: 'purchase_order.closed', stamp: 'closed_at', readsLines: true },
  invoice: { from: ['CLOSED'], to: 'INVOICED', event: 'purchase_order.invoiced', stamp: 'invoiced_at', readsLines: true },
  archive: { from: ['INVOICED'], to: 'ARCHIVED', event: 'purchase_order.archived', stamp: 'archived_at', readsLines: false },
  cancel: { from: ['PLACED', 'CONFIRMED'], to: 'CANCELLED', event: 'purchase_order.cancelled', stamp: 'cancelled_at', readsLines: true }
}

/**
 * Reads the PO in the caller's scope and locks its master order: every transition of a sibling
 * takes the same lock first, so the sibling statuses read by the guarded update are never stale
 * (§5.4 under concurrency). The PO row itself is protected by the guarded update. The lines come
 * in the same statement. Its snapshot predates a wait for the lock, but lines change only in
 * transitions, which bump the PO's version: if one committed meanwhile, the guarded update
 * (status and version) refuses, so stale lines are never acted upon. The document a ship or
 * receive references is checked in the same statement (its type when the caller may read it):
 * documents never change and a reader never loses access, so this read stays true until COMMIT,
 * and the foreign key of migration 0013 keeps the reference from dangling.
 */
async function lockPurchaseOrder (db: Db, actor: Actor, id: string, withLines: boolean, document: DocumentReference | undefined): Promise<LockedPo | undefined> {
  const scope = actor.role === 'STATION' ? sql`AND po.station_id = ${actor.organizationId}::uuid` : actor.role === 'SUPPLIER' ? sql`AND po.supplier_id = ${actor.organizationId}::uuid` : sql``
  const found = await sql<LockedPo>`
    SELECT po.id, po.number, po.status, po.version, po.station_id, po.supplier_id, po.master_order_id, po.currency,
      (SELECT receiving_tolerance_pct FROM settings) AS tolerance_pct,
      ${withLines ? sql.raw(LOCKED_LINES_JSON) : sql`NULL`} AS lines,
      ${document !== undefined ? readableDocumentType(db, actor, document.id) : sql`NULL`} AS document_type
    FROM purchase_orders po JOIN master_orders mo ON mo.id = po.master_order_id
    WHERE po.id = ${id}::uuid ${scope}
    FOR UPDATE OF mo`.execute(db)
  return found.rows[0]
}

/** The verb's step, its body typed by its verb. */
async function stepOf<V extends PurchaseOrderVerb> (db: Db, actor: Actor, po: LockedPo, input: TransitionInput<V>): Promise<Step> {
  return await STEPS[input.verb]({ db, actor, po, lines: po.lines ?? [] }, input.body)
}

/**
 * The guarded update and the status-history row in one statement; the sibling statuses are read
 * in the same statement, after the master-order lock, so they are current. No row: another request
 * changed the PO between the locking read and the update.
 */
async function guardedUpdate (db: Db, actor: Actor, po: LockedPo, rule: TransitionRule, step: Step): Promise<{ version: number, siblings: PurchaseOrderStatus[] | null } | undefined> {
  const set = rule.stamp !== null ? [...step.set, sql`${sql.ref(rule.stamp)} = now()`] : step.set
  const updated = await sql<{ version: number, siblings: PurchaseOrderStatus[] | null }>`
    WITH u AS (
      UPDATE purchase_orders SET status = ${rule.to}, version = version + 1, updated_at = now()${set.length > 0 ? sql`, ${sql.join(set)}` : sql``}
      WHERE id = ${po.id}::uuid AND status = ${po.status} AND version = ${po.version}
      RETURNING id, version
    ), e AS (
      INSERT INTO purchase_order_events (purchase_order_id, from_status, to_status, actor_user_id, actor_role, note)
      SELECT id, ${po.status}, ${rule.to}, ${actor.userId}::uuid, ${actor.role}, ${step.note} FROM u
    )
    SELECT u.version,
      (SELECT array_agg(s.status::text) FROM purchase_orders s WHERE s.master_order_id = ${po.masterOrderId}::uuid AND s.id <> ${po.id}::uuid) AS siblings
    FROM u`.execute(db)
  return updated.rows[0]
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

/**
 * Applies one lifecycle action. `expectedVersion` is the If-Match version (412 when stale).
 * Runs inside the caller's transaction (the audit plugin's).
 */
export async function transitionPurchaseOrder (db: Db, actor: Actor, id: string, input: TransitionInput, expectedVersion?: number): Promise<PurchaseOrderView> {
  const rule = TRANSITIONS[input.verb]
  const document = referencedDocument(input)
  const po = await lockPurchaseOrder(db, actor, id, rule.readsLines, document)
  if (po === undefined) throw notFound('Purchase order')
  if (!rule.from.includes(po.status)) throw invalidTransition('purchase order', po.status, input.verb)
  if (expectedVersion !== undefined && expectedVersion !== po.version) {
    throw problem('PRECONDITION_FAILED', `If-Match "${expectedVersion}" does not match the current ETag "${po.version}"`)
  }
  if (document !== undefined) checkDocumentReference(po.documentType, document)

  const step = await stepOf(db, actor, po, input)
  const row = await guardedUpdate(db, actor, po, rule, step)
  if (row === undefined) {
    // Another request changed the PO between our read and the update: exactly one wins.
    const now = await db.selectFrom('purchaseOrders').select('status').where('id', '=', po.id).executeTakeFirst()
    throw invalidTransition('purchase order', now?.status ?? po.status, input.verb)
  }
  if (step.apply !== undefined) await step.apply()

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
