// Master orders and purchase orders: scoped reads and the purchase-order lifecycle (PRODUCT.md
// §5.3–§5.4). Who may act: RBAC decides the role (403), the service's scoped read decides the row
// (a station's own orders, a supplier's own POs; 404 otherwise). Staff act on behalf of either side
// and the status history records who did it.
import { Type } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { App } from '../../lib/route.js'
import { actorOf, dbOf, expectedVersion, withEtag } from '../../lib/route.js'
import type { Permission } from '../../lib/permissions.js'
import { IdParams, ProblemRef } from '../../lib/schemas.js'
import {
  ConfirmBody, EmptyBody, EventsQuery, InvoiceBody, ListMasterOrdersQuery, ListPurchaseOrdersQuery, MasterOrderDetailPlatform,
  MasterOrderDetailStation, MasterOrderPlatform, MasterOrderStation, PurchaseOrderEventSchema, PurchaseOrderLinePlatform,
  PurchaseOrderLineStation, PurchaseOrderLineSupplier, PurchaseOrderPlatform, PurchaseOrderStation, PurchaseOrderSupplier,
  ReasonBody, ReceiveBody, ShipBody, orderRefs
} from './orders.schemas.js'
import { getMasterOrder, getPurchaseOrderJson, listMasterOrders, listPurchaseOrderEvents, listPurchaseOrdersJson } from './orders.reads.js'
import { transitionPurchaseOrder, type PurchaseOrderVerb, type TransitionInput } from './orders.transitions.js'
import { sendJson, views } from './views.js'

const pageOf = (item: Parameters<typeof Type.Ref>[0], id: string) => Type.Object({
  items: Type.Array(Type.Ref(item)),
  nextCursor: Type.Union([Type.String(), Type.Null()])
}, { $id: id })

const PurchaseOrderPagePlatform = pageOf(PurchaseOrderPlatform, 'PurchaseOrderPagePlatform')
const PurchaseOrderPageSupplier = pageOf(PurchaseOrderSupplier, 'PurchaseOrderPageSupplier')
const PurchaseOrderPageStation = pageOf(PurchaseOrderStation, 'PurchaseOrderPageStation')
const MasterOrderPagePlatform = pageOf(MasterOrderPlatform, 'MasterOrderPagePlatform')
const MasterOrderPageStation = pageOf(MasterOrderStation, 'MasterOrderPageStation')
const PurchaseOrderEventPage = pageOf(PurchaseOrderEventSchema, 'PurchaseOrderEventPage')

export const purchaseOrderViews = views({ platform: PurchaseOrderPlatform, supplier: PurchaseOrderSupplier, station: PurchaseOrderStation }, [PurchaseOrderLinePlatform, PurchaseOrderLineSupplier, PurchaseOrderLineStation])
export const purchaseOrderPageViews = views({ platform: PurchaseOrderPagePlatform, supplier: PurchaseOrderPageSupplier, station: PurchaseOrderPageStation }, orderRefs)
// Suppliers never reach master orders (RBAC 403); the station view stands in for the third slot.
export const masterOrderDetailViews = views({ platform: MasterOrderDetailPlatform, supplier: MasterOrderDetailStation, station: MasterOrderDetailStation }, orderRefs)
const masterOrderPageViews = views({ platform: MasterOrderPagePlatform, supplier: MasterOrderPageStation, station: MasterOrderPageStation }, [MasterOrderPlatform, MasterOrderStation])

const errors = { '4xx': ProblemRef, '5xx': ProblemRef }
const ActionHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ maxLength: 64, description: 'ETag from a previous read; a stale one answers 412' })),
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$', description: '1–255 visible ASCII characters; retained 24 h per user.' }))
})

interface ActionSpec {
  verb: PurchaseOrderVerb
  permission: Permission
  summary: string
  description: string
  body: typeof EmptyBody | typeof ConfirmBody | typeof ReasonBody | typeof ShipBody | typeof ReceiveBody | typeof InvoiceBody
}

const ACTIONS: ActionSpec[] = [
  { verb: 'confirm', permission: 'purchase_orders:confirm', body: ConfirmBody, summary: 'Confirm a purchase order', description: 'PLACED → CONFIRMED. The supplier of the PO (or platform staff on its behalf) gives a confirmed delivery date for every line, each exactly once; a date before today (France) is refused with 422 DELIVERY_DATE_TOO_EARLY.' },
  { verb: 'decline', permission: 'purchase_orders:decline', body: ReasonBody, summary: 'Decline a purchase order', description: 'PLACED → DECLINED (final). The supplier of the PO or platform staff, with a reason. Releases the contract quantities the PO had reserved; sibling POs are untouched.' },
  { verb: 'ship', permission: 'purchase_orders:ship', body: ShipBody, summary: 'Ship a purchase order', description: 'CONFIRMED → SHIPPED. The supplier of the PO or platform staff, with carrier, tracking number and the delivery-note document.' },
  { verb: 'receive', permission: 'purchase_orders:receive', body: ReceiveBody, summary: 'Receive a purchase order', description: 'SHIPPED → RECEIVED. The ordering station or platform staff: packs received for every line, the signed delivery note, optional discrepancy per line. Adds packs received × units per pack to the station\'s stock with one stock movement per line. More than ordered is refused beyond the receiving tolerance in settings (422 RECEIVED_EXCEEDS_ORDERED).' },
  { verb: 'close', permission: 'purchase_orders:close', body: EmptyBody, summary: 'Close a purchase order', description: 'RECEIVED → CLOSED. The ordering station or platform staff. A shortfall (received < ordered) is given back to the contract caps.' },
  { verb: 'invoice', permission: 'purchase_orders:invoice', body: InvoiceBody, summary: 'Invoice a purchase order', description: 'CLOSED → INVOICED. Platform staff only: invoice number and date; invoice amounts are computed on received packs, supplier and station side.' },
  { verb: 'archive', permission: 'purchase_orders:archive', body: EmptyBody, summary: 'Archive a purchase order', description: 'INVOICED → ARCHIVED (final). Platform staff only.' },
  { verb: 'cancel', permission: 'purchase_orders:cancel', body: ReasonBody, summary: 'Cancel a purchase order', description: 'PLACED or CONFIRMED → CANCELLED (final). The ordering station or platform staff, with a reason. Releases the contract quantities the PO had reserved; sibling POs are untouched.' }
]

/** Registers the order view schemas in a plugin's context (domain plugins are encapsulated; checkout answers a master order too). */
export function addOrderSchemas (app: App): void {
  for (const s of [
    PurchaseOrderLinePlatform, PurchaseOrderLineSupplier, PurchaseOrderLineStation, PurchaseOrderPlatform, PurchaseOrderSupplier, PurchaseOrderStation,
    MasterOrderPlatform, MasterOrderStation, MasterOrderDetailPlatform, MasterOrderDetailStation, PurchaseOrderEventSchema,
    PurchaseOrderPagePlatform, PurchaseOrderPageSupplier, PurchaseOrderPageStation, MasterOrderPagePlatform, MasterOrderPageStation, PurchaseOrderEventPage
  ]) app.addSchema(s)
}

export default async function ordersRoutes (app: App): Promise<void> {
  addOrderSchemas(app)

  app.get('/v1/master-orders', {
    config: { access: 'master_orders:read' },
    schema: {
      tags: ['orders'],
      operationId: 'listMasterOrders',
      summary: 'List master orders',
      description: 'Newest first, keyset-paginated. Platform staff see every station\'s master orders with both price sides; a station user sees its own station\'s, with station prices only. Suppliers may not (403). Filters: status, stationId, created-date range [from, to].',
      querystring: ListMasterOrdersQuery,
      response: { 200: masterOrderPageViews.schema, ...errors }
    }
  }, async (request, reply) => {
    const actor = actorOf(request)
    masterOrderPageViews.use(reply, actor)
    return await listMasterOrders(app.db, actor, request.query)
  })

  app.get('/v1/master-orders/:id', {
    config: { access: 'master_orders:read' },
    schema: {
      tags: ['orders'],
      operationId: 'getMasterOrder',
      summary: 'Get a master order with its purchase orders',
      description: 'The master order, its derived status and its purchase orders with their lines. Platform staff: any, both price sides; a station user: its own station\'s, station prices only (404 otherwise). ETag from the version; If-None-Match answers 304.',
      params: IdParams,
      response: { 200: masterOrderDetailViews.schema, 304: Type.Null({ description: 'Not modified' }), ...errors }
    }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const mo = await getMasterOrder(app.db, actor, request.params.id)
    if (withEtag(request, reply, mo.version)) return null
    masterOrderDetailViews.use(reply, actor)
    return mo
  })

  app.get('/v1/purchase-orders', {
    config: { access: 'purchase_orders:read' },
    schema: {
      tags: ['orders'],
      operationId: 'listPurchaseOrders',
      summary: 'List purchase orders',
      description: 'Newest first, keyset-paginated. Platform staff see every PO with both price sides; a station user its own station\'s POs with station prices; a supplier user only the POs addressed to it, with supplier prices. Filters: status, stationId, supplierId, created-date range [from, to]. Lines are embedded with include=lines.',
      querystring: ListPurchaseOrdersQuery,
      response: { 200: purchaseOrderPageViews.schema, ...errors }
    }
  }, async (request, reply) => {
    // PostgreSQL writes the page in the caller's view (orders.sql.ts); sent as is
    return sendJson(reply, await listPurchaseOrdersJson(app.db, actorOf(request), request.query))
  })

  app.get('/v1/purchase-orders/:id', {
    config: { access: 'purchase_orders:read' },
    schema: {
      tags: ['orders'],
      operationId: 'getPurchaseOrder',
      summary: 'Get a purchase order with its lines',
      description: 'Platform staff: any PO, both price sides; a station user: its own station\'s POs, station prices; a supplier user: POs addressed to it, supplier prices (404 otherwise). ETag from the version; If-None-Match answers 304.',
      params: IdParams,
      response: { 200: purchaseOrderViews.schema, 304: Type.Null({ description: 'Not modified' }), ...errors }
    }
  }, async (request, reply) => {
    // PostgreSQL writes the PO in the caller's view (orders.sql.ts); sent as is
    const po = await getPurchaseOrderJson(app.db, actorOf(request), request.params.id)
    if (withEtag(request, reply, po.version)) return null
    return sendJson(reply, po.body)
  })

  app.get('/v1/purchase-orders/:id/events', {
    config: { access: 'purchase_orders:read' },
    schema: {
      tags: ['orders'],
      operationId: 'listPurchaseOrderEvents',
      summary: 'Status history of a purchase order',
      description: 'Every transition, oldest first: from, to, who (user and role), when, note. Same scope as reading the PO.',
      params: IdParams,
      querystring: EventsQuery,
      response: { 200: Type.Ref(PurchaseOrderEventPage), ...errors }
    }
  }, async (request) => await listPurchaseOrderEvents(app.db, actorOf(request), request.params.id, request.query))

  for (const a of ACTIONS) {
    app.post(`/v1/purchase-orders/:id/${a.verb}`, {
      config: { access: a.permission, audit: { action: `purchase_order.${a.verb}`, entity: 'purchase_order' } },
      schema: {
        tags: ['orders'],
        operationId: `${a.verb}PurchaseOrder`,
        summary: a.summary,
        description: `${a.description} Any other transition is 409 INVALID_TRANSITION with currentStatus; If-Match with a stale ETag is 412. Appends to the status history, emits purchase_order.* to the outbox and re-derives the master order's status in the same transaction.`,
        params: IdParams,
        headers: ActionHeaders,
        body: a.body,
        response: { 200: purchaseOrderViews.schema, ...errors }
      }
    }, async (request: FastifyRequest, reply: FastifyReply) => {
      const actor = actorOf(request)
      const { id } = request.params as { id: string }
      const input = { verb: a.verb, body: request.body } as TransitionInput
      const po = await transitionPurchaseOrder(dbOf(request), actor, id, input, expectedVersion(request))
      void reply.header('etag', `"${po.version}"`)
      return purchaseOrderViews.respond(reply, actor, po)
    })
  }
}
