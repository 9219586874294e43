// Forecasts, supplier demand and replenishment (PRODUCT.md §7, API.md "Stock, transfers,
// forecasts"). Who may call what:
// - station forecasts (read: `forecasts:read`, write: `forecasts:write`): platform staff for any
//   station, a STATION user for its own (another station's: 404); suppliers 403 (RBAC);
// - supplier demand (`demand:read`): platform staff for any supplier, a SUPPLIER user for itself
//   (another supplier's: 404); stations 403 (RBAC) — aggregated over stations, never per station;
// - replenishment (`forecasts:read`) and replenishment → cart (`carts:write`): platform staff and
//   the station's own users; suppliers 403.
import { defineRoute } from '../../lib/define-route.js'
import type { App } from '../../lib/route.js'
import { actorOf, dbOf, etagOf } from '../../lib/route.js'
import { Page } from '../../lib/schemas.js'
import { Type } from '@sinclair/typebox'
import { addCartSchemas, cartViews } from '../carts/carts.serializers.js'
import {
  DemandListQuery, DemandSchema, ForecastListQuery, ForecastSchema, ForecastUpsertBody, ForecastUpsertResult,
  ReplenishmentItemSchema, ReplenishmentQuery, ReplenishmentSchema, StationParams, SupplierParams, ToCartBody
} from './forecasts.schemas.js'
import { listDemand, listForecasts, upsertForecasts } from './forecasts.service.js'
import { computeReplenishment, replenishmentToCart } from './replenishment.service.js'

const STATION_WHO = 'Platform staff for any station; a STATION user for its own station only (another station\'s: 404). Suppliers: 403 (they read the aggregated demand instead).'

export default async function forecastsRoutes (app: App): Promise<void> {
  for (const s of [ForecastSchema, DemandSchema, ReplenishmentItemSchema]) app.addSchema(s)
  // the cart answer of to-cart is the cart's own representation (GET cart), per audience
  addCartSchemas(app)

  defineRoute(app, {
    method: 'PUT',
    url: '/v1/stations/:stationId/forecasts',
    operationId: 'upsertForecasts',
    tag: 'forecasts',
    summary: 'Publish weekly forecasts (bulk upsert)',
    description: `${STATION_WHO} Creates or replaces the forecast units (base units) of up to 5 000 (article, ISO year, ISO week) lines of the station in one statement; weeks not named are left as they are (units 0 clears a week). All or nothing: a repeated (article, week) is 400 VALIDATION_FAILED (a DUPLICATE_LINE item per repeated line), a week 53 in a year without one 422 BUSINESS_RULE_VIOLATED, an unknown article 422 REFERENCE_NOT_FOUND, each with a pointer per bad line (/lines/<i>/…), and nothing is saved. Answers a summary (inserted, updated, unchanged); one audit event records the same summary.`,
    access: 'forecasts:write',
    audit: { action: 'forecast.upsert', entity: 'station' },
    params: StationParams,
    body: ForecastUpsertBody,
    response: { 200: ForecastUpsertResult }
  }, async (request) => {
    const summary = await upsertForecasts(dbOf(request), actorOf(request), request.params.stationId, request.body.lines)
    request.audit = { entityId: summary.stationId, changes: { ...summary } }
    return summary
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/stations/:stationId/forecasts',
    operationId: 'listForecasts',
    tag: 'forecasts',
    summary: 'List a station\'s forecasts',
    description: `${STATION_WHO} Ordered by article, ISO year and ISO week; keyset-paginated. Filters: \`articleId\`, \`from\` and \`to\` (ISO weeks such as 2026-W49, inclusive).`,
    access: 'forecasts:read',
    params: StationParams,
    querystring: ForecastListQuery,
    response: { 200: Page(Type.Ref(ForecastSchema)) }
  }, async (request) => await listForecasts(app.db, actorOf(request), request.params.stationId, request.query))

  defineRoute(app, {
    method: 'GET',
    url: '/v1/suppliers/:supplierId/demand',
    operationId: 'listSupplierDemand',
    tag: 'forecasts',
    summary: 'Aggregated demand for a supplier\'s articles',
    description: 'Platform staff for any supplier; a SUPPLIER user for itself only (another supplier\'s: 404). Stations: 403. For each article the supplier offers (active offers) and each ISO week, the sum of every station\'s forecast units — never a per-station figure and no station identity. Ordered by article, ISO year and ISO week; keyset-paginated. Filters: `articleId`, `from` and `to` (ISO weeks, inclusive).',
    access: 'demand:read',
    params: SupplierParams,
    querystring: DemandListQuery,
    response: { 200: Page(Type.Ref(DemandSchema)) }
  }, async (request) => await listDemand(app.db, actorOf(request), request.params.supplierId, request.query))

  defineRoute(app, {
    method: 'GET',
    url: '/v1/stations/:stationId/replenishment',
    operationId: 'getReplenishment',
    tag: 'forecasts',
    summary: 'Replenishment proposals with their working',
    description: `${STATION_WHO} For every article of the station (a stock level, a forecast in the window, or an inbound quantity): forecast over lead time + horizon (ISO weeks from the current one; lead time of the chosen offer, days rounded up to weeks) − on hand − inbound POs (PLACED, CONFIRMED, SHIPPED: packs × units per pack) − inbound transfers (SHIPPED to this station: units shipped) + safety stock (the alert threshold) = raw need; packs = ceil(raw need / units per pack), raised to the MOQ, rounded up to the order multiple; 0 when the raw need is ≤ 0 (listed unless \`onlyNeeded=true\`). The offer: a contract price first, then the lowest station price per base unit, then the shortest lead time (prices resolved as the cart does); \`choice\` says why and \`working\` spells out the arithmetic. Station prices only. Keyset-paginated over the station's articles in code order (\`limit\` ≤ 200, default 50; the offers, prices and proposals are computed for the page's articles only, whatever its depth). Changes nothing.`,
    access: 'forecasts:read',
    params: StationParams,
    querystring: ReplenishmentQuery,
    response: { 200: ReplenishmentSchema }
  }, async (request) => {
    const q = request.query
    return await computeReplenishment(app.db, actorOf(request), request.params.stationId, {
      ...(q.horizonWeeks !== undefined ? { horizonWeeks: q.horizonWeeks } : {}),
      ...(q.onlyNeeded !== undefined ? { onlyNeeded: q.onlyNeeded } : {}),
      ...(q.articleId !== undefined ? { articleIds: [q.articleId] } : {}),
      ...(q.limit !== undefined ? { limit: q.limit } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {})
    })
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/stations/:stationId/replenishment/to-cart',
    operationId: 'replenishmentToCart',
    tag: 'forecasts',
    summary: 'Add replenishment proposals to the cart',
    description: 'Platform staff for any station; the station\'s own STATION users (another station\'s: 404); suppliers 403. Recomputes the proposals of the named articles on the server (nothing the client computed is trusted) and puts them into the station\'s open cart in one statement: the chosen offer\'s supplier, the proposed packs (or `packs` when given), delivery today + the offer\'s lead time unless `desiredDeliveryDate` is given. A pair already in the cart gets the new quantity (not added to it). Every refused line at once, nothing added: 422 BUSINESS_RULE_VIOLATED with NO_PROPOSAL, NO_ORDERABLE_OFFER, NOTHING_TO_ORDER (raw need ≤ 0 and no packs given), DUPLICATE_LINE, PACKS_TOO_LARGE per /lines/<i>. Answers the cart with its live quote, as GET cart.',
    access: 'carts:write',
    audit: { action: 'cart.add_replenishment', entity: 'cart' },
    params: StationParams,
    body: ToCartBody,
    response: { 200: cartViews.schema }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const { cart, added } = await replenishmentToCart(dbOf(request), actor, request.params.stationId, request.body)
    request.audit = { entityId: cart.id, changes: { stationId: request.params.stationId, horizonWeeks: request.body.horizonWeeks ?? 4, lines: added } }
    void reply.header('etag', etagOf(cart.version))
    return cartViews.respond(reply, actor, cart)
  })
}
