// Stations (API.md "Organizations and users"): list, read, create, update, deactivate, activate.
import { defineRoute } from '../../lib/define-route.js'
import { missingBodyAsEmpty } from '../../lib/empty-body.js'
import { actorOf, dbOf, etagOf, expectedVersion, type App } from '../../lib/route.js'
import { IdParams, Page } from '../../lib/schemas.js'
import { audienceSerializer } from '../../lib/audience.js'
import { CreateStationBody, Station, StationBriefForStation, StationBriefForSupplier, StationListQuery, UpdateStationBody } from './stations.schemas.js'
import * as svc from './stations.service.js'
import { ActivationBody, IfNoneMatchHeaders } from './shared.schemas.js'
import { TAG, fullOnly, sendCascade, sendViewed } from './shared.routes.js'

// lists: platform staff get the full view, the others the brief view of their audience
const stationPage = audienceSerializer({ platform: Page(Station), station: Page(StationBriefForStation), supplier: Page(StationBriefForSupplier) })
// single rows: the brief view of the caller's audience unless the row is shown in full
const stationBrief = audienceSerializer({ platform: Station, station: StationBriefForStation, supplier: StationBriefForSupplier })
const stationFull = fullOnly(Station)

export default async function stationsRoutes (app: App): Promise<void> {
  defineRoute(app, {
    method: 'GET',
    url: '/v1/stations',
    operationId: 'listStations',
    tag: TAG,
    summary: 'List stations',
    description: 'Everyone. Platform staff see every station in full. A station user sees active stations (and its own) as `{ id, code, name }`; a supplier user sees active stations as `{ id, name }`. Filters: `q` (name or code fragment), `active`, `groupId`, `city` (platform staff only; 403 otherwise). Ordered by name, keyset-paginated.',
    access: 'organizations:read',
    querystring: StationListQuery,
    response: { 200: stationPage.schema }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const result = await svc.listStations(app.db, actor, request.query)
    stationPage.use(reply, actor)
    return result
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/stations/:id',
    operationId: 'getStation',
    tag: TAG,
    summary: 'Read a station',
    description: 'Everyone, within their scope. Platform staff and the station\'s own users get the full station; other station users get `{ id, code, name }` and supplier users `{ id, name }` of an active station; an inactive station of someone else is a 404. Returns an ETag; If-None-Match answers 304.',
    access: 'organizations:read',
    params: IdParams,
    headers: IfNoneMatchHeaders,
    notModified: true,
    response: { 200: stationBrief.schema }
  }, async (request, reply) => sendViewed(request, reply, await svc.getStation(app.db, actorOf(request), request.params.id), stationFull, stationBrief))

  defineRoute(app, {
    method: 'POST',
    url: '/v1/stations',
    operationId: 'createStation',
    tag: TAG,
    summary: 'Create a station',
    description: 'ADMIN and MANAGER. Creates the station and its organization (active, version 1). The code is unique (409 DUPLICATE) and immutable afterwards; the group, when given, must exist and be active (422). `isActive`, `version` and `id` are not accepted (400).',
    access: 'organizations:create',
    audit: { action: 'station.create', entity: 'station' },
    body: CreateStationBody,
    response: { 201: Station }
  }, async (request, reply) => {
    const station = await svc.createStation(dbOf(request), actorOf(request), request.body)
    void reply.code(201).header('etag', etagOf(station.version))
    return station
  })

  defineRoute(app, {
    method: 'PATCH',
    url: '/v1/stations/:id',
    operationId: 'updateStation',
    tag: TAG,
    summary: 'Update a station',
    description: 'Platform staff (ADMIN, MANAGER, HANDLER); station and supplier users get 403 (a station manages only its contacts). Any subset of name, groupId (an active group, or null), address (the fields sent replace those stored), phone, email. The code is immutable. Bumps the version; If-Match with a stale ETag answers 412.',
    access: 'stations:update',
    audit: { action: 'station.update', entity: 'station' },
    params: IdParams,
    ifMatch: true,
    body: UpdateStationBody,
    response: { 200: Station }
  }, async (request, reply) => {
    const station = await svc.updateStation(dbOf(request), actorOf(request), request.params.id, request.body, expectedVersion(request))
    void reply.header('etag', etagOf(station.version))
    return station
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/stations/:id/deactivate',
    operationId: 'deactivateStation',
    tag: TAG,
    summary: 'Deactivate a station',
    description: 'ADMIN and MANAGER. Deactivates the station and, in the same transaction, all its users (their tokens stop working at once): a closed station must not keep ordering. The station disappears for station and supplier users; existing orders stay. Idempotent on an inactive station. The audit event records the number of users deactivated. If-Match with a stale ETag answers 412.',
    access: 'organizations:activate',
    audit: { action: 'station.deactivate', entity: 'station' },
    params: IdParams,
    ifMatch: true,
    body: ActivationBody,
    preValidation: missingBodyAsEmpty, // the body is optional: none reads as {}
    response: { 200: Station }
  }, async (request, reply) =>
    sendCascade(request, reply, await svc.deactivateStation(dbOf(request), actorOf(request), request.params.id, expectedVersion(request)), request.body.reason))

  defineRoute(app, {
    method: 'POST',
    url: '/v1/stations/:id/activate',
    operationId: 'activateStation',
    tag: TAG,
    summary: 'Activate a station',
    description: 'ADMIN and MANAGER. Activates the station only: its users stay inactive until reactivated one by one. Its group must be active (422). Idempotent on an active station. If-Match with a stale ETag answers 412.',
    access: 'organizations:activate',
    audit: { action: 'station.activate', entity: 'station' },
    params: IdParams,
    ifMatch: true,
    body: ActivationBody,
    preValidation: missingBodyAsEmpty, // the body is optional: none reads as {}
    response: { 200: Station }
  }, async (request, reply) =>
    sendCascade(request, reply, await svc.activateStation(dbOf(request), actorOf(request), request.params.id, expectedVersion(request)), request.body.reason))
}
