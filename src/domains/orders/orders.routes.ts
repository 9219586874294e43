// Master orders and purchase orders: scoped reads and the purchase-order lifecycle (PRODUCT.md
// §5.3–§5.4). Who may act: RBAC decides the role (403), the scoped read decides the row (a
// station's own orders, a supplier's own POs; 404 otherwise). Staff act on behalf of either side
// and the status history records who did it.
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { defineRoute } from '../../lib/define-route.js'
import type { Permission } from '../../lib/permissions.js'
import type { App } from '../../lib/route.js'
import { actorOf, dbOf, etagOf, expectedVersion, withEtag } from '../../lib/route.js'
import { IdParams } from '../../lib/schemas.js'
import { getMasterOrder, getPurchaseOrderJson, listMasterOrders, listPurchaseOrderEvents, listPurchaseOrdersJson } from './orders.reads.js'
import { ConfirmBody, EmptyBody, EventsQuery, InvoiceBody, ListMasterOrdersQuery, ListPurchaseOrdersQuery, ReasonBody, ReceiveBody, ShipBody } from './orders.schemas.js'
import { transitionPurchaseOrder, type PurchaseOrderVerb, type TransitionInput } from './orders.transitions.js'
import { sendJson } from '../../lib/views.js'
import { addOrderSchemas, masterOrderDetailViews, masterOrderPageViews, PurchaseOrderEventPage, purchaseOrderPageViews, purchaseOrderViews } from './orders.serializers.js'

// The 304 of the GET detail routes, declared here rather than with `notModified: true` so the
// OpenAPI document keeps the description these routes have always had.
const NotModified = { 304: Type.Null({ description: 'Not modified' }) }

/** One lifecycle action: its route and how its body becomes the transition's input. */
interface Action<V extends PurchaseOrderVerb, B extends TSchema> {
  verb: V
  access: Permission
  body: B
  /** the body as the transition's input (typed per verb) */
  input: (body: Static<B>) => Extract<TransitionInput, { verb: V }>
  summary: string
  description: string
}

/** A row of the table: registers the action's route (a closure, so each row keeps its own body type). */
const action = <V extends PurchaseOrderVerb, B extends TSchema>(a: Action<V, B>) => (app: App): void => { actionRoute(app, a) }

const ACTIONS = [
  action({ verb: 'confirm', access: 'purchase_orders:confirm', body: ConfirmBody, input: body => ({ verb: 'confirm', body }), summary: 'Confirm a purchase order', description: 'PLACED → CONFIRMED. The supplier of the PO (or platform staff on its behalf) gives a confirmed delivery date for every line, each exactly once; a date before today (France) is refused with 422 DELIVERY_DATE_TOO_EARLY.' }),
  action({ verb: 'decline', access: 'purchase_orders:decline', body: ReasonBody, input: body => ({ verb: 'decline', body }), summary: 'Decline a purchase order', description: 'PLACED → DECLINED (final). The supplier of the PO or platform staff, with a reason. Releases the contract quantities the PO had reserved; sibling POs are untouched.' }),
  action({ verb: 'ship', access: 'purchase_orders:ship', body: ShipBody, input: body => ({ verb: 'ship', body }), summary: 'Ship a purchase order', description: 'CONFIRMED → SHIPPED. The supplier of the PO or platform staff, with carrier, tracking number and the delivery note: a DELIVERY_NOTE document the caller may read (uploaded by its organization with POST /v1/documents; staff read every document). Anything else is 422 DOCUMENT_NOT_USABLE at /deliveryNoteDocumentId — the same answer for an id that names no document and for another organization\'s — and nothing changes. Once shipped, the station of the PO may read the note too.' }),
  action({ verb: 'receive', access: 'purchase_orders:receive', body: ReceiveBody, input: body => ({ verb: 'receive', body }), summary: 'Receive a purchase order', description: 'SHIPPED → RECEIVED. The ordering station or platform staff: packs received for every line, the signed delivery note (a SIGNED_DELIVERY_NOTE document the caller may read, else 422 DOCUMENT_NOT_USABLE at /signedDeliveryNoteDocumentId; the supplier may read it once received), optional discrepancy per line. Adds packs received × units per pack to the station\'s stock with one stock movement per line. More than ordered is refused beyond the receiving tolerance in settings (422 RECEIVED_EXCEEDS_ORDERED).' }),
  action({ verb: 'close', access: 'purchase_orders:close', body: EmptyBody, input: body => ({ verb: 'close', body }), summary: 'Close a purchase order', description: 'RECEIVED → CLOSED. The ordering station or platform staff. A shortfall (received < ordered) is given back to the contract caps.' }),
  action({ verb: 'invoice', access: 'purchase_orders:invoice', body: InvoiceBody, input: body => ({ verb: 'invoice', body }), summary: 'Invoice a purchase order', description: 'CLOSED → INVOICED. Platform staff only: invoice number and date; invoice amounts are computed on received packs, supplier and station side.' }),
  action({ verb: 'archive', access: 'purchase_orders:archive', body: EmptyBody, input: body => ({ verb: 'archive', body }), summary: 'Archive a purchase order', description: 'INVOICED → ARCHIVED (final). Platform staff only.' }),
  action({ verb: 'cancel', access: 'purchase_orders:cancel', body: ReasonBody, input: body => ({ verb: 'cancel', body }), summary: 'Cancel a purchase order', description: 'PLACED or CONFIRMED → CANCELLED (final). The ordering station or platform staff, with a reason. Releases the contract quantities the PO had reserved; sibling POs are untouched.' })
]

/** POST /v1/purchase-orders/:id/<verb>: one transition, answered in the caller's view. */
function actionRoute<V extends PurchaseOrderVerb, B extends TSchema> (app: App, a: Action<V, B>): void {
  defineRoute(app, {
    method: 'POST',
    url: `/v1/purchase-orders/:id/${a.verb}`,
    operationId: `${a.verb}PurchaseOrder`,
    tag: 'orders',
    summary: a.summary,
    description: `${a.description} Any other transition is 409 INVALID_TRANSITION with currentStatus; If-Match with a stale ETag is 412. Appends to the status history, emits purchase_order.* to the outbox and re-derives the master order's status in the same transaction.`,
    access: a.access,
    audit: { action: `purchase_order.${a.verb}`, entity: 'purchase_order' },
    params: IdParams,
    ifMatch: true,
    body: a.body,
    response: { 200: purchaseOrderViews.schema }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const po = await transitionPurchaseOrder(dbOf(request), actor, request.params.id, a.input(request.body), expectedVersion(request))
    void reply.header('etag', etagOf(po.version))
    return purchaseOrderViews.respond(reply, actor, po)
  })
}

export default async function ordersRoutes (app: App): Promise<void> {
  addOrderSchemas(app)

  defineRoute(app, {
    method: 'GET',
    url: '/v1/master-orders',
    operationId: 'listMasterOrders',
    tag: 'orders',
    summary: 'List master orders',
    description: 'Newest first, keyset-paginated. Platform staff see every station\'s master orders with both price sides; a station user sees its own station\'s, with station prices only. Suppliers may not (403). Filters: status, stationId, created-date range [from, to].',
    access: 'master_orders:read',
    querystring: ListMasterOrdersQuery,
    response: { 200: masterOrderPageViews.schema }
  }, async (request, reply) => {
    const actor = actorOf(request)
    masterOrderPageViews.use(reply, actor)
    return await listMasterOrders(app.db, actor, request.query)
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/master-orders/:id',
    operationId: 'getMasterOrder',
    tag: 'orders',
    summary: 'Get a master order with its purchase orders',
    description: 'The master order, its derived status and its purchase orders with their lines. Platform staff: any, both price sides; a station user: its own station\'s, station prices only (404 otherwise). ETag from the version; If-None-Match answers 304.',
    access: 'master_orders:read',
    params: IdParams,
    response: { 200: masterOrderDetailViews.schema, ...NotModified }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const mo = await getMasterOrder(app.db, actor, request.params.id)
    if (withEtag(request, reply, mo.version)) return null
    masterOrderDetailViews.use(reply, actor)
    return mo
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/purchase-orders',
    operationId: 'listPurchaseOrders',
    tag: 'orders',
    summary: 'List purchase orders',
    description: 'Newest first, keyset-paginated. Platform staff see every PO with both price sides; a station user its own station\'s POs with station prices; a supplier user only the POs addressed to it, with supplier prices. Filters: status, stationId, supplierId, created-date range [from, to]. Lines are embedded with include=lines.',
    access: 'purchase_orders:read',
    querystring: ListPurchaseOrdersQuery,
    response: { 200: purchaseOrderPageViews.schema }
  }, async (request, reply) => {
    // PostgreSQL writes the page in the caller's view (orders.sql.ts); sent as is
    return sendJson(reply, await listPurchaseOrdersJson(app.db, actorOf(request), request.query))
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/purchase-orders/:id',
    operationId: 'getPurchaseOrder',
    tag: 'orders',
    summary: 'Get a purchase order with its lines',
    description: 'Platform staff: any PO, both price sides; a station user: its own station\'s POs, station prices; a supplier user: POs addressed to it, supplier prices (404 otherwise). ETag from the version; If-None-Match answers 304.',
    access: 'purchase_orders:read',
    params: IdParams,
    response: { 200: purchaseOrderViews.schema, ...NotModified }
  }, async (request, reply) => {
    // PostgreSQL writes the PO in the caller's view (orders.sql.ts); sent as is
    const po = await getPurchaseOrderJson(app.db, actorOf(request), request.params.id)
    if (withEtag(request, reply, po.version)) return null
    return sendJson(reply, po.body)
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/purchase-orders/:id/events',
    operationId: 'listPurchaseOrderEvents',
    tag: 'orders',
    summary: 'Status history of a purchase order',
    description: 'Every transition, oldest first: from, to, who (user and role), when, note. Same scope as reading the PO.',
    access: 'purchase_orders:read',
    params: IdParams,
    querystring: EventsQuery,
    response: { 200: Type.Ref(PurchaseOrderEventPage) }
  }, async (request) => await listPurchaseOrderEvents(app.db, actorOf(request), request.params.id, request.query))

  for (const register of ACTIONS) register(app)
}
