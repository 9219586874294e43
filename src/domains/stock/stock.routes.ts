// Station stock (PRODUCT.md §6; §2.1 rows "stock · read" and "stock · adjust / count /
// thresholds"). Reads: platform staff every station; a STATION user its own station in full and
// the quantities of the other active stations. Writes: staff any station, a station its own
// (another station's: 404). Suppliers: 403 everywhere (RBAC).
import type { App } from '../../lib/route.js'
import { defineRoute } from '../../lib/define-route.js'
import { actorOf, dbOf, etagOf, expectedVersion, withEtag } from '../../lib/route.js'
import { Page } from '../../lib/schemas.js'
import { getLevel, levelEtagPart, listAlerts, listMovements, listStock } from './stock.reads.js'
import {
  AdjustmentBody, ConsumptionBody, CountBody, LEVEL_MOVEMENTS, LevelParams, MAX_LINES, MovementListQuery, StationParams,
  StockAlertQuery, StockAlertSchema, StockLevelDetailSchema, StockLevelSchema, StockListQuery, StockMovementSchema, StockOperationSchema,
  ThresholdsBody
} from './stock.schemas.js'
import { adjustStock, consumeStock, countStock, setThresholds } from './stock.writes.js'

const TAG = 'stock'
const READERS = 'Platform staff: every station. A STATION user: its own station in full, and the quantities of the other active stations (their thresholds, low/critical flags and movements are absent). Suppliers: 403.'
const WRITERS = 'Platform staff for any station; a STATION user for its own station only (another station: 404). Suppliers: 403.'
const LINES = `1–${MAX_LINES} lines, each article at most once (400 VALIDATION_FAILED with a DUPLICATE_LINE item per repeated line); every article must exist (422 REFERENCE_NOT_FOUND) and be active (422 ARTICLE_INACTIVE) — stock already held of an article deactivated since may still be changed. All or nothing: a refused line changes nothing.`
const OPERATION = 'Answers the operation: its refId (the movements\' refId and the audit event\'s entity id) and, per line, the quantity before and after with the flags after. A level crossing its alert threshold downward emits one `stock.low` event.'

export default async function stockRoutes (app: App): Promise<void> {
  defineRoute(app, {
    method: 'GET',
    url: '/v1/stock',
    operationId: 'listStock',
    tag: TAG,
    summary: 'List stock levels',
    description: `${READERS} Filters: stationId, articleId, category, low, critical, out (a STATION user filtering on low or critical gets its own station only). Ordered by station then article, keyset-paginated. Only (station, article) pairs that have a level are listed.`,
    access: 'stock:read',
    querystring: StockListQuery,
    response: { 200: Page(StockLevelSchema) }
  }, async request => await listStock(app.db, actorOf(request), request.query))

  defineRoute(app, {
    method: 'GET',
    url: '/v1/stock/alerts',
    operationId: 'listStockAlerts',
    tag: TAG,
    summary: 'List the levels at or below their alert threshold',
    description: 'Platform staff: every station (filter stationId). A STATION user: its own station only (it does not see other stations\' thresholds). Levels with quantity ≤ alert threshold, with their severity (OUT, CRITICAL, LOW); filters articleId, category, critical, out. Ordered by station then article, keyset-paginated. Suppliers: 403.',
    access: 'stock:read',
    querystring: StockAlertQuery,
    response: { 200: Page(StockAlertSchema) }
  }, async request => await listAlerts(app.db, actorOf(request), request.query))

  defineRoute(app, {
    method: 'GET',
    url: '/v1/stations/:stationId/stock/:articleId',
    operationId: 'getStockLevel',
    tag: TAG,
    summary: 'Read a station\'s stock of one article',
    description: `${READERS} Quantity, thresholds, flags, version (ETag; If-None-Match answers 304) and, for the own station and staff, the last ${LEVEL_MOVEMENTS} movements. A station × article that never had a level answers a zero level (version 0) when the article exists (for a STATION user: is active); an unknown article is a 404.`,
    access: 'stock:read',
    params: LevelParams,
    notModified: true,
    response: { 200: StockLevelDetailSchema }
  }, async (request, reply) => {
    const level = await getLevel(app.db, actorOf(request), request.params.stationId, request.params.articleId)
    if (withEtag(request, reply, level.version, levelEtagPart(level))) return null
    return level
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/stations/:stationId/stock-movements',
    operationId: 'listStockMovements',
    tag: TAG,
    summary: 'List a station\'s stock movements',
    description: 'Platform staff for any station; a STATION user for its own station (another station\'s ledger: 404 — stations see each other\'s quantities only). The append-only ledger, newest first, keyset-paginated. Filters: articleId, reason, from/to (days, UTC, inclusive, on the movement time). Suppliers: 403.',
    access: 'stock:read',
    params: StationParams,
    querystring: MovementListQuery,
    response: { 200: Page(StockMovementSchema) }
  }, async request => await listMovements(app.db, actorOf(request), request.params.stationId, request.query))

  defineRoute(app, {
    method: 'POST',
    url: '/v1/stations/:stationId/stock/adjustments',
    operationId: 'adjustStock',
    tag: TAG,
    summary: 'Adjust a station\'s stock',
    description: `${WRITERS} Signed changes with a reason (breakage, found, write-off…): one ADJUSTMENT movement per line; a decrease below zero is 422 INSUFFICIENT_STOCK (pointer per line). ${LINES} ${OPERATION}`,
    access: 'stock:write',
    audit: { action: 'stock.adjust', entity: 'stock_operation' },
    params: StationParams,
    body: AdjustmentBody,
    response: { 200: StockOperationSchema }
  }, async request => {
    const result = await adjustStock(dbOf(request), actorOf(request), request.params.stationId, request.body)
    request.audit = { entityId: result.refId }
    return result
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/stations/:stationId/stock/consumptions',
    operationId: 'declareStockConsumption',
    tag: TAG,
    summary: 'Declare units consumed',
    description: `${WRITERS} Units used by the station: one CONSUMPTION movement (−units) per line; more than on hand is 422 INSUFFICIENT_STOCK (pointer per line). ${LINES} ${OPERATION}`,
    access: 'stock:write',
    audit: { action: 'stock.consume', entity: 'stock_operation' },
    params: StationParams,
    body: ConsumptionBody,
    response: { 200: StockOperationSchema }
  }, async request => {
    const result = await consumeStock(dbOf(request), actorOf(request), request.params.stationId, request.body)
    request.audit = { entityId: result.refId }
    return result
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/stations/:stationId/stock/counts',
    operationId: 'countStock',
    tag: TAG,
    summary: 'Record an inventory count',
    description: `${WRITERS} Counted quantities for many articles in one call: each level is set to the counted quantity with one COUNT movement for the difference (none when the count matches); an article without a level gets one. The differences are computed under the levels' row locks, so changes racing the count are never lost or double-counted. ${LINES} ${OPERATION}`,
    access: 'stock:write',
    audit: { action: 'stock.count', entity: 'stock_operation' },
    params: StationParams,
    body: CountBody,
    response: { 200: StockOperationSchema }
  }, async request => {
    const result = await countStock(dbOf(request), actorOf(request), request.params.stationId, request.body)
    request.audit = { entityId: result.refId }
    return result
  })

  defineRoute(app, {
    method: 'PATCH',
    url: '/v1/stations/:stationId/stock/:articleId',
    operationId: 'setStockThresholds',
    tag: TAG,
    summary: 'Set a level\'s alert and critical thresholds',
    description: `${WRITERS} alertThreshold and/or criticalThreshold (base units); the critical threshold may not exceed the alert threshold (422 THRESHOLDS_INVALID). Creates the level at quantity 0 when the station has none (not for an inactive article: 422). If-Match with the level's ETag (version 0 for a level not yet written); a stale one is 412, and so is \`If-Match: *\` on a level not yet written (it matches a stored level only). A raise that makes the level low emits \`stock.low\`. Quantities never change here.`,
    access: 'stock:write',
    audit: { action: 'stock.set_thresholds', entity: 'stock_level' },
    params: LevelParams,
    ifMatch: true,
    body: ThresholdsBody,
    response: { 200: StockLevelSchema }
  }, async (request, reply) => {
    const { stationId, articleId } = request.params
    // `If-Match: *` matches a stored level only (expectedVersion reads it as no precondition)
    const expected = request.headers['if-match']?.trim() === '*' ? '*' : expectedVersion(request)
    const { before, after, level } = await setThresholds(dbOf(request), actorOf(request), stationId, articleId, request.body, expected)
    request.audit = { entityId: `${stationId}/${articleId}`, changes: { before, after } }
    void reply.header('etag', etagOf(level.version, levelEtagPart(level)))
    return level
  })
}
