// Station groups (API.md "Organizations and users"): list, read, create, update, deactivate,
// activate. Supplier users have no access to groups (403 from the permission table).
import { defineRoute } from '../../lib/define-route.js'
import { missingBodyAsEmpty } from '../../lib/empty-body.js'
import { actorOf, dbOf, etagOf, expectedVersion, type App } from '../../lib/route.js'
import { IdParams, Page } from '../../lib/schemas.js'
import { audienceSerializer } from '../../lib/audience.js'
import { CreateStationGroupBody, StationGroup, StationGroupBrief, StationGroupListQuery, UpdateStationGroupBody } from './groups.schemas.js'
import * as svc from './groups.service.js'
import { ActivationBody, IfNoneMatchHeaders } from './shared.schemas.js'
import { TAG, fullOnly, sendCascade, sendViewed } from './shared.routes.js'

// lists: platform staff get the full view, the others the brief view of their audience
const groupPage = audienceSerializer({ platform: Page(StationGroup), station: Page(StationGroupBrief), supplier: Page(StationGroupBrief) })
// single rows: the brief view of the caller's audience unless the row is shown in full
const groupBrief = audienceSerializer({ platform: StationGroup, station: StationGroupBrief, supplier: StationGroupBrief })
const groupFull = fullOnly(StationGroup)

export default async function groupsRoutes (app: App): Promise<void> {
  defineRoute(app, {
    method: 'GET',
    url: '/v1/station-groups',
    operationId: 'listStationGroups',
    tag: TAG,
    summary: 'List station groups',
    description: 'Platform staff (full view) and station users (active groups as `{ id, name }`); supplier users get 403. Filters: `q` (name fragment), `active`. Ordered by name, keyset-paginated.',
    access: 'station_groups:read',
    querystring: StationGroupListQuery,
    response: { 200: groupPage.schema }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const result = await svc.listStationGroups(app.db, actor, request.query)
    groupPage.use(reply, actor)
    return result
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/station-groups/:id',
    operationId: 'getStationGroup',
    tag: TAG,
    summary: 'Read a station group',
    description: 'Platform staff (full view) and station users (`{ id, name }` of an active group; an inactive one is a 404); supplier users get 403. Returns an ETag; If-None-Match answers 304.',
    access: 'station_groups:read',
    params: IdParams,
    headers: IfNoneMatchHeaders,
    notModified: true,
    response: { 200: groupBrief.schema }
  }, async (request, reply) => sendViewed(request, reply, await svc.getStationGroup(app.db, actorOf(request), request.params.id), groupFull, groupBrief))

  defineRoute(app, {
    method: 'POST',
    url: '/v1/station-groups',
    operationId: 'createStationGroup',
    tag: TAG,
    summary: 'Create a station group',
    description: 'ADMIN and MANAGER. Creates an active group. Names are unique, case-insensitively (409 DUPLICATE).',
    access: 'organizations:create',
    audit: { action: 'station_group.create', entity: 'station_group' },
    body: CreateStationGroupBody,
    response: { 201: StationGroup }
  }, async (request, reply) => {
    const group = await svc.createStationGroup(dbOf(request), actorOf(request), request.body)
    void reply.code(201).header('etag', etagOf(group.version))
    return group
  })

  defineRoute(app, {
    method: 'PATCH',
    url: '/v1/station-groups/:id',
    operationId: 'updateStationGroup',
    tag: TAG,
    summary: 'Update a station group',
    description: 'Platform staff (ADMIN, MANAGER, HANDLER); others get 403. Name and/or description. Bumps the version; If-Match with a stale ETag answers 412.',
    access: 'station_groups:update',
    audit: { action: 'station_group.update', entity: 'station_group' },
    params: IdParams,
    ifMatch: true,
    body: UpdateStationGroupBody,
    response: { 200: StationGroup }
  }, async (request, reply) => {
    const group = await svc.updateStationGroup(dbOf(request), actorOf(request), request.params.id, request.body, expectedVersion(request))
    void reply.header('etag', etagOf(group.version))
    return group
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/station-groups/:id/deactivate',
    operationId: 'deactivateStationGroup',
    tag: TAG,
    summary: 'Deactivate a station group',
    description: 'ADMIN and MANAGER. Deactivates the group, all its active stations and their users, in one transaction (the audit event records how many). Idempotent on an inactive group. If-Match with a stale ETag answers 412.',
    access: 'organizations:activate',
    audit: { action: 'station_group.deactivate', entity: 'station_group' },
    params: IdParams,
    ifMatch: true,
    body: ActivationBody,
    preValidation: missingBodyAsEmpty, // the body is optional: none reads as {}
    response: { 200: StationGroup }
  }, async (request, reply) =>
    sendCascade(request, reply, await svc.deactivateStationGroup(dbOf(request), actorOf(request), request.params.id, expectedVersion(request)), request.body.reason))

  defineRoute(app, {
    method: 'POST',
    url: '/v1/station-groups/:id/activate',
    operationId: 'activateStationGroup',
    tag: TAG,
    summary: 'Activate a station group',
    description: 'ADMIN and MANAGER. Activates the group only: its stations stay inactive until each is activated. Idempotent on an active group. If-Match with a stale ETag answers 412.',
    access: 'organizations:activate',
    audit: { action: 'station_group.activate', entity: 'station_group' },
    params: IdParams,
    ifMatch: true,
    body: ActivationBody,
    preValidation: missingBodyAsEmpty, // the body is optional: none reads as {}
    response: { 200: StationGroup }
  }, async (request, reply) =>
    sendCascade(request, reply, await svc.activateStationGroup(dbOf(request), actorOf(request), request.params.id, expectedVersion(request)), request.body.reason))
}
