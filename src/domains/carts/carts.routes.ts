// The station's cart (PRODUCT.md §5.1) and checkout (§5.2). Access: the station's own STATION
// users and platform staff (suppliers: 403 by RBAC; another station's user: 404 from the service).
// Line changes answer the whole cart with its fresh quote, so a client sees at once what checkout
// would refuse; the cart's version is the ETag and line changes honour If-Match.
import { createdId, defineRoute } from '../../lib/define-route.js'
import type { App } from '../../lib/route.js'
import { actorOf, dbOf, etagOf, expectedVersion } from '../../lib/route.js'
import { addOrderSchemas, masterOrderDetailViews } from '../orders/orders.serializers.js'
import { AddLineBody, CheckoutBody, LineParams, StationParams, UpdateLineBody } from './carts.schemas.js'
import { addCartSchemas, cartViews } from './carts.serializers.js'
import { addCartLine, clearCart, deleteCartLine, getCart, updateCartLine } from './carts.service.js'
import { checkoutCart } from './checkout.service.js'

const WHO = 'Callable by the station\'s own STATION users and by platform staff; suppliers get 403, other stations 404.'

export default async function cartsRoutes (app: App): Promise<void> {
  addOrderSchemas(app)
  addCartSchemas(app)

  defineRoute(app, {
    method: 'GET',
    url: '/v1/stations/:stationId/cart',
    operationId: 'getCart',
    tag: 'carts',
    summary: 'Get the station\'s open cart with a live quote',
    description: `${WHO} Creates the open cart on first use. Each line carries its current station price, price source, line net and every problem checkout would report (ARTICLE_INACTIVE, OFFER_INACTIVE, SUPPLIER_INACTIVE, BELOW_MOQ, NOT_A_MULTIPLE, DELIVERY_DATE_TOO_EARLY, NO_CONTRACT_PRICE, CONTRACT_CAP_EXCEEDED); totals are over the priced lines. Platform staff also see supplier prices. ETag = cart version.`,
    access: 'carts:read',
    params: StationParams,
    response: { 200: cartViews.schema }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const cart = await getCart(app.db, actor, request.params.stationId)
    // The quote moves with prices and dates, not only with the cart's version: no 304 here.
    void reply.header('etag', etagOf(cart.version))
    cartViews.use(reply, actor)
    return cart
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/stations/:stationId/cart/lines',
    operationId: 'addCartLine',
    tag: 'carts',
    summary: 'Add a line to the cart',
    description: `${WHO} Adds (article, supplier, packs, desired delivery date, note) to the open cart, creating the cart if needed. The supplier must have an active offer for an active article (422 otherwise); one line per article × supplier (409 CART_LINE_DUPLICATE — PATCH the line instead). Answers the whole cart with its quote.`,
    access: 'carts:write',
    audit: { action: 'cart.add_line', entity: 'cart' },
    params: StationParams,
    ifMatch: true,
    body: AddLineBody,
    response: { 201: cartViews.schema }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const cart = await addCartLine(dbOf(request), actor, request.params.stationId, request.body, expectedVersion(request))
    const line = cart.lines.find(l => l.articleId === request.body.articleId && l.supplierId === request.body.supplierId)
    void reply.code(201).header('etag', etagOf(cart.version))
    if (line !== undefined) void reply.header('location', `/v1/stations/${request.params.stationId}/cart/lines/${line.id}`)
    return cartViews.respond(reply, actor, cart)
  })

  defineRoute(app, {
    method: 'PATCH',
    url: '/v1/stations/:stationId/cart/lines/:lineId',
    operationId: 'updateCartLine',
    tag: 'carts',
    summary: 'Change a cart line',
    description: `${WHO} Changes the packs, desired delivery date and/or note of a line of the open cart. Answers the whole cart with its quote.`,
    access: 'carts:write',
    audit: { action: 'cart.update_line', entity: 'cart' },
    params: LineParams,
    ifMatch: true,
    body: UpdateLineBody,
    response: { 200: cartViews.schema }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const cart = await updateCartLine(dbOf(request), actor, request.params.stationId, request.params.lineId, request.body, expectedVersion(request))
    void reply.header('etag', etagOf(cart.version))
    return cartViews.respond(reply, actor, cart)
  })

  defineRoute(app, {
    method: 'DELETE',
    url: '/v1/stations/:stationId/cart/lines/:lineId',
    operationId: 'removeCartLine',
    tag: 'carts',
    summary: 'Remove a cart line',
    description: `${WHO} Removes one line from the open cart. Answers the whole cart with its quote.`,
    access: 'carts:write',
    audit: { action: 'cart.remove_line', entity: 'cart' },
    params: LineParams,
    ifMatch: true,
    response: { 200: cartViews.schema }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const cart = await deleteCartLine(dbOf(request), actor, request.params.stationId, request.params.lineId, expectedVersion(request))
    void reply.header('etag', etagOf(cart.version))
    return cartViews.respond(reply, actor, cart)
  })

  defineRoute(app, {
    method: 'DELETE',
    url: '/v1/stations/:stationId/cart/lines',
    operationId: 'clearCart',
    tag: 'carts',
    summary: 'Empty the cart',
    description: `${WHO} Removes every line of the open cart. Answers the (empty) cart.`,
    access: 'carts:write',
    audit: { action: 'cart.clear', entity: 'cart' },
    params: StationParams,
    ifMatch: true,
    response: { 200: cartViews.schema }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const cart = await clearCart(dbOf(request), actor, request.params.stationId, expectedVersion(request))
    void reply.header('etag', etagOf(cart.version))
    return cartViews.respond(reply, actor, cart)
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/stations/:stationId/cart/checkout',
    operationId: 'checkoutCart',
    tag: 'carts',
    summary: 'Check out the cart into a master order and one purchase order per supplier',
    description: `${WHO} Requires an Idempotency-Key header (400 without). In one transaction: locks the cart, refuses an empty cart (422 CART_EMPTY) or one already checked out (409 CART_ALREADY_CHECKED_OUT), re-validates and prices every line (422 CHECKOUT_REJECTED listing every failing line under /lines/<index>/…), reserves contract caps (422 CONTRACT_CAP_EXCEEDED), creates the master order (MO-YYYY-NNNNNN) and one purchase order per supplier (PO-YYYY-NNNNNN) with frozen lines and totals, closes the cart and writes the outbox events (master_order.created, purchase_order.placed). The same key and body replays the first response (Idempotent-Replayed: true); another body is 422 IDEMPOTENCY_KEY_REUSED; a retry while the first runs is 409 IDEMPOTENCY_IN_PROGRESS.`,
    access: 'carts:checkout',
    audit: { action: 'cart.checkout', entity: 'master_order' },
    idempotency: 'required',
    params: StationParams,
    body: CheckoutBody,
    response: { 201: masterOrderDetailViews.schema },
    location: mo => `/v1/master-orders/${createdId(mo) ?? ''}`
  }, async (request, reply) => {
    const actor = actorOf(request)
    const mo = await checkoutCart(dbOf(request), actor, request.params.stationId)
    request.audit = { entityId: mo.id, changes: { stationId: mo.stationId, number: mo.number, cartId: mo.cartId, purchaseOrders: (mo.purchaseOrders ?? []).map(p => ({ id: p.id, number: p.number, supplierId: p.supplierId })) } }
    void reply.code(201)
    return masterOrderDetailViews.respond(reply, actor, mo)
  })
}
