// Stations, station groups, suppliers, supplier sites and contacts (API.md "Organizations and
// users"). What a caller sees of another organization is decided by serialization: each response
// is written with the schema of the caller's view (full for platform staff and the organization's
// own users, brief — names and codes — for the others), so a field of the full view never leaves
// for a party that may not see it (PRODUCT.md §2.1).
import { Type, type TSchema } from '@sinclair/typebox'
import type { FastifyReply } from 'fastify'
import { audienceSerializer, type AudienceSerializer } from '../../lib/audience.js'
import type { App } from '../../lib/route.js'
import { actorOf, dbOf, etagOf, expectedVersion, withEtag } from '../../lib/route.js'
import { IdParams, IfMatchHeaders, ProblemRef } from '../../lib/schemas.js'
import {
  ActivationBody, Contact, ContactParams, CreateContactBody, CreateStationBody, CreateStationGroupBody, CreateSupplierBody,
  IfNoneMatchHeaders, ListQuery, Page, SiteInput, SiteParams, Station, StationBriefForStation, StationBriefForSupplier,
  StationGroup, StationGroupBrief, StationGroupListQuery, StationListQuery, Supplier, SupplierBrief, SupplierListQuery,
  SupplierSite, SupplierSiteBrief, UpdateContactBody, UpdateSiteBody, UpdateStationBody, UpdateStationGroupBody, UpdateSupplierBody
} from './organizations.schemas.js'
import * as svc from './organizations.service.js'

const TAGS = ['organizations']
const problems = { '4xx': ProblemRef, '5xx': ProblemRef }
const NotModified = Type.Null({ description: 'Not modified (If-None-Match matched the ETag)' })
const NoContent = Type.Null({ description: 'Deleted' })

/** One schema for every audience: the row is only ever shown in full (staff, own organization). */
const fullOnly = (schema: TSchema): AudienceSerializer => audienceSerializer({ platform: schema, station: schema, supplier: schema })

// Lists: platform staff get the full view; the others the brief view of their audience. A
// supplier's list of suppliers only ever holds its own supplier, hence the full view there.
const stationPage = audienceSerializer({ platform: Page(Station), station: Page(StationBriefForStation), supplier: Page(StationBriefForSupplier) })
const groupPage = audienceSerializer({ platform: Page(StationGroup), station: Page(StationGroupBrief), supplier: Page(StationGroupBrief) })
const supplierPage = audienceSerializer({ platform: Page(Supplier), station: Page(SupplierBrief), supplier: Page(Supplier) })
const sitePage = audienceSerializer({ platform: Page(SupplierSite), station: Page(SupplierSiteBrief), supplier: Page(SupplierSite) })
const contactPage = fullOnly(Page(Contact))

// Single rows: the brief view of the caller's audience unless the row is shown in full.
const stationBrief = audienceSerializer({ platform: Station, station: StationBriefForStation, supplier: StationBriefForSupplier })
const stationFull = fullOnly(Station)
const groupBrief = audienceSerializer({ platform: StationGroup, station: StationGroupBrief, supplier: StationGroupBrief })
const groupFull = fullOnly(StationGroup)
const supplierBrief = audienceSerializer({ platform: Supplier, station: SupplierBrief, supplier: Supplier })
const supplierFull = fullOnly(Supplier)

/** Deactivate / activate take an optional body: a bodiless POST is read as `{}`. */
async function emptyBodyAsObject (request: { body: unknown }): Promise<void> {
  request.body ??= {}
}

/** Serializes a single read with the caller's view and answers 304 when the ETag matches. */
function sendViewed<F extends { version: number }, B extends { version: number }> (
  request: Parameters<typeof actorOf>[0], reply: FastifyReply, viewed: svc.Viewed<F, B>, full: AudienceSerializer, brief: AudienceSerializer
): F | B | FastifyReply {
  // a 304 carries no body at all (returning null would serialize "null")
  if (withEtag(request, reply, viewed.value.version)) return reply.send()
  ;(viewed.full ? full : brief).use(reply, actorOf(request))
  return viewed.value
}

export default async function organizationsRoutes (app: App): Promise<void> {
  // ---- stations ------------------------------------------------------------------------------

  app.get('/v1/stations', {
    config: { access: 'organizations:read' },
    schema: {
      tags: TAGS,
      operationId: 'listStations',
      summary: 'List stations',
      description: 'Everyone. Platform staff see every station in full. A station user sees active stations (and its own) as `{ id, code, name }`; a supplier user sees active stations as `{ id, name }`. Filters: `q` (name or code fragment), `active`, `groupId`, `city` (platform staff only; 403 otherwise). Ordered by name, keyset-paginated.',
      querystring: StationListQuery,
      response: { 200: stationPage.schema, ...problems }
    }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const result = await svc.listStations(app.db, actor, request.query)
    stationPage.use(reply, actor)
    return result
  })

  app.get('/v1/stations/:id', {
    config: { access: 'organizations:read' },
    schema: {
      tags: TAGS,
      operationId: 'getStation',
      summary: 'Read a station',
      description: 'Everyone, within their scope. Platform staff and the station\'s own users get the full station; other station users get `{ id, code, name }` and supplier users `{ id, name }` of an active station; an inactive station of someone else is a 404. Returns an ETag; If-None-Match answers 304.',
      params: IdParams,
      headers: IfNoneMatchHeaders,
      response: { 200: stationBrief.schema, 304: NotModified, ...problems }
    }
  }, async (request, reply) => sendViewed(request, reply, await svc.getStation(app.db, actorOf(request), request.params.id), stationFull, stationBrief))

  app.post('/v1/stations', {
    config: { access: 'organizations:create', audit: { action: 'station.create', entity: 'station' } },
    schema: {
      tags: TAGS,
      operationId: 'createStation',
      summary: 'Create a station',
      description: 'ADMIN and MANAGER. Creates the station and its organization (active, version 1). The code is unique (409 DUPLICATE) and immutable afterwards; the group, when given, must exist and be active (422). `isActive`, `version` and `id` are not accepted (400).',
      body: CreateStationBody,
      response: { 201: Station, ...problems }
    }
  }, async (request, reply) => {
    const station = await svc.createStation(dbOf(request), actorOf(request), request.body)
    void reply.code(201).header('etag', etagOf(station.version))
    return station
  })

  app.patch('/v1/stations/:id', {
    config: { access: 'stations:update', audit: { action: 'station.update', entity: 'station' } },
    schema: {
      tags: TAGS,
      operationId: 'updateStation',
      summary: 'Update a station',
      description: 'Platform staff (ADMIN, MANAGER, HANDLER); station and supplier users get 403 (a station manages only its contacts). Any subset of name, groupId (an active group, or null), address (the fields sent replace those stored), phone, email. The code is immutable. Bumps the version; If-Match with a stale ETag answers 412.',
      params: IdParams,
      headers: IfMatchHeaders,
      body: UpdateStationBody,
      response: { 200: Station, ...problems }
    }
  }, async (request, reply) => {
    const station = await svc.updateStation(dbOf(request), actorOf(request), request.params.id, request.body, expectedVersion(request))
    void reply.header('etag', etagOf(station.version))
    return station
  })

  app.post('/v1/stations/:id/deactivate', {
    preValidation: emptyBodyAsObject,
    config: { access: 'organizations:activate', audit: { action: 'station.deactivate', entity: 'station' } },
    schema: {
      tags: TAGS,
      operationId: 'deactivateStation',
      summary: 'Deactivate a station',
      description: 'ADMIN and MANAGER. Deactivates the station and, in the same transaction, all its users (their tokens stop working at once): a closed station must not keep ordering. The station disappears for station and supplier users; existing orders stay. Idempotent on an inactive station. The audit event records the number of users deactivated. If-Match with a stale ETag answers 412.',
      params: IdParams,
      headers: IfMatchHeaders,
      body: ActivationBody,
      response: { 200: Station, ...problems }
    }
  }, async (request, reply) => {
    const { value, changes } = await svc.deactivateStation(dbOf(request), actorOf(request), request.params.id, expectedVersion(request))
    request.audit = { changes: { ...changes, reason: request.body?.reason ?? null } }
    void reply.header('etag', etagOf(value.version))
    return value
  })

  app.post('/v1/stations/:id/activate', {
    preValidation: emptyBodyAsObject,
    config: { access: 'organizations:activate', audit: { action: 'station.activate', entity: 'station' } },
    schema: {
      tags: TAGS,
      operationId: 'activateStation',
      summary: 'Activate a station',
      description: 'ADMIN and MANAGER. Activates the station only: its users stay inactive until reactivated one by one. Its group must be active (422). Idempotent on an active station. If-Match with a stale ETag answers 412.',
      params: IdParams,
      headers: IfMatchHeaders,
      body: ActivationBody,
      response: { 200: Station, ...problems }
    }
  }, async (request, reply) => {
    const { value, changes } = await svc.activateStation(dbOf(request), actorOf(request), request.params.id, expectedVersion(request))
    request.audit = { changes: { ...changes, reason: request.body?.reason ?? null } }
    void reply.header('etag', etagOf(value.version))
    return value
  })

  // ---- station groups ------------------------------------------------------------------------

  app.get('/v1/station-groups', {
    config: { access: 'station_groups:read' },
    schema: {
      tags: TAGS,
      operationId: 'listStationGroups',
      summary: 'List station groups',
      description: 'Platform staff (full view) and station users (active groups as `{ id, name }`); supplier users get 403. Filters: `q` (name fragment), `active`. Ordered by name, keyset-paginated.',
      querystring: StationGroupListQuery,
      response: { 200: groupPage.schema, ...problems }
    }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const result = await svc.listStationGroups(app.db, actor, request.query)
    groupPage.use(reply, actor)
    return result
  })

  app.get('/v1/station-groups/:id', {
    config: { access: 'station_groups:read' },
    schema: {
      tags: TAGS,
      operationId: 'getStationGroup',
      summary: 'Read a station group',
      description: 'Platform staff (full view) and station users (`{ id, name }` of an active group; an inactive one is a 404); supplier users get 403. Returns an ETag; If-None-Match answers 304.',
      params: IdParams,
      headers: IfNoneMatchHeaders,
      response: { 200: groupBrief.schema, 304: NotModified, ...problems }
    }
  }, async (request, reply) => sendViewed(request, reply, await svc.getStationGroup(app.db, actorOf(request), request.params.id), groupFull, groupBrief))

  app.post('/v1/station-groups', {
    config: { access: 'organizations:create', audit: { action: 'station_group.create', entity: 'station_group' } },
    schema: {
      tags: TAGS,
      operationId: 'createStationGroup',
      summary: 'Create a station group',
      description: 'ADMIN and MANAGER. Creates an active group. Names are unique, case-insensitively (409 DUPLICATE).',
      body: CreateStationGroupBody,
      response: { 201: StationGroup, ...problems }
    }
  }, async (request, reply) => {
    const group = await svc.createStationGroup(dbOf(request), actorOf(request), request.body)
    void reply.code(201).header('etag', etagOf(group.version))
    return group
  })

  app.patch('/v1/station-groups/:id', {
    config: { access: 'station_groups:update', audit: { action: 'station_group.update', entity: 'station_group' } },
    schema: {
      tags: TAGS,
      operationId: 'updateStationGroup',
      summary: 'Update a station group',
      description: 'Platform staff (ADMIN, MANAGER, HANDLER); others get 403. Name and/or description. Bumps the version; If-Match with a stale ETag answers 412.',
      params: IdParams,
      headers: IfMatchHeaders,
      body: UpdateStationGroupBody,
      response: { 200: StationGroup, ...problems }
    }
  }, async (request, reply) => {
    const group = await svc.updateStationGroup(dbOf(request), actorOf(request), request.params.id, request.body, expectedVersion(request))
    void reply.header('etag', etagOf(group.version))
    return group
  })

  app.post('/v1/station-groups/:id/deactivate', {
    preValidation: emptyBodyAsObject,
    config: { access: 'organizations:activate', audit: { action: 'station_group.deactivate', entity: 'station_group' } },
    schema: {
      tags: TAGS,
      operationId: 'deactivateStationGroup',
      summary: 'Deactivate a station group',
      description: 'ADMIN and MANAGER. Deactivates the group, all its active stations and their users, in one transaction (the audit event records how many). Idempotent on an inactive group. If-Match with a stale ETag answers 412.',
      params: IdParams,
      headers: IfMatchHeaders,
      body: ActivationBody,
      response: { 200: StationGroup, ...problems }
    }
  }, async (request, reply) => {
    const { value, changes } = await svc.deactivateStationGroup(dbOf(request), actorOf(request), request.params.id, expectedVersion(request))
    request.audit = { changes: { ...changes, reason: request.body?.reason ?? null } }
    void reply.header('etag', etagOf(value.version))
    return value
  })

  app.post('/v1/station-groups/:id/activate', {
    preValidation: emptyBodyAsObject,
    config: { access: 'organizations:activate', audit: { action: 'station_group.activate', entity: 'station_group' } },
    schema: {
      tags: TAGS,
      operationId: 'activateStationGroup',
      summary: 'Activate a station group',
      description: 'ADMIN and MANAGER. Activates the group only: its stations stay inactive until each is activated. Idempotent on an active group. If-Match with a stale ETag answers 412.',
      params: IdParams,
      headers: IfMatchHeaders,
      body: ActivationBody,
      response: { 200: StationGroup, ...problems }
    }
  }, async (request, reply) => {
    const { value, changes } = await svc.activateStationGroup(dbOf(request), actorOf(request), request.params.id, expectedVersion(request))
    request.audit = { changes: { ...changes, reason: request.body?.reason ?? null } }
    void reply.header('etag', etagOf(value.version))
    return value
  })

  // ---- suppliers -----------------------------------------------------------------------------

  app.get('/v1/suppliers', {
    config: { access: 'organizations:read' },
    schema: {
      tags: TAGS,
      operationId: 'listSuppliers',
      summary: 'List suppliers',
      description: 'Everyone. Platform staff see every supplier in full, with its sites; a station user sees active suppliers as `{ id, name }`; a supplier user sees only its own supplier, in full. Filters: `q` (name fragment), `active`. Ordered by name, keyset-paginated.',
      querystring: SupplierListQuery,
      response: { 200: supplierPage.schema, ...problems }
    }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const result = await svc.listSuppliers(app.db, actor, request.query)
    supplierPage.use(reply, actor)
    return result
  })

  app.get('/v1/suppliers/:id', {
    config: { access: 'organizations:read' },
    schema: {
      tags: TAGS,
      operationId: 'getSupplier',
      summary: 'Read a supplier',
      description: 'Everyone, within their scope. Platform staff and the supplier\'s own users get the full supplier with its sites (contacts: GET /v1/organizations/{id}/contacts); a station user gets `{ id, name }` of an active supplier; anything else is a 404. Returns an ETag; If-None-Match answers 304.',
      params: IdParams,
      headers: IfNoneMatchHeaders,
      response: { 200: supplierBrief.schema, 304: NotModified, ...problems }
    }
  }, async (request, reply) => sendViewed(request, reply, await svc.getSupplier(app.db, actorOf(request), request.params.id), supplierFull, supplierBrief))

  app.post('/v1/suppliers', {
    config: { access: 'organizations:create', audit: { action: 'supplier.create', entity: 'supplier' } },
    schema: {
      tags: TAGS,
      operationId: 'createSupplier',
      summary: 'Create a supplier',
      description: 'ADMIN and MANAGER. Creates the supplier, its organization and its sites: at least one site, exactly one primary (a single site is primary by default; otherwise 422). The SIRET (14 digits) is unique when given (409 DUPLICATE).',
      body: CreateSupplierBody,
      response: { 201: Supplier, ...problems }
    }
  }, async (request, reply) => {
    const supplier = await svc.createSupplier(dbOf(request), actorOf(request), request.body)
    void reply.code(201).header('etag', etagOf(supplier.version))
    return supplier
  })

  app.patch('/v1/suppliers/:id', {
    config: { access: 'suppliers:update', audit: { action: 'supplier.update', entity: 'supplier' } },
    schema: {
      tags: TAGS,
      operationId: 'updateSupplier',
      summary: 'Update a supplier',
      description: 'Platform staff: any field. A supplier user: its own supplier\'s email, phone, website and address (name and SIRET are the platform\'s call: 403; another supplier: 404). Station users: 403. Bumps the version; If-Match with a stale ETag answers 412. Sites are managed under /v1/suppliers/{id}/sites.',
      params: IdParams,
      headers: IfMatchHeaders,
      body: UpdateSupplierBody,
      response: { 200: Supplier, ...problems }
    }
  }, async (request, reply) => {
    const supplier = await svc.updateSupplier(dbOf(request), actorOf(request), request.params.id, request.body, expectedVersion(request))
    void reply.header('etag', etagOf(supplier.version))
    return supplier
  })

  app.post('/v1/suppliers/:id/deactivate', {
    preValidation: emptyBodyAsObject,
    config: { access: 'organizations:activate', audit: { action: 'supplier.deactivate', entity: 'supplier' } },
    schema: {
      tags: TAGS,
      operationId: 'deactivateSupplier',
      summary: 'Deactivate a supplier',
      description: 'ADMIN and MANAGER. Deactivates the supplier, its users (their tokens stop working at once) and its catalog offers, in one transaction; existing orders stay. The audit event records how many users and offers were deactivated. Idempotent on an inactive supplier. If-Match with a stale ETag answers 412.',
      params: IdParams,
      headers: IfMatchHeaders,
      body: ActivationBody,
      response: { 200: Supplier, ...problems }
    }
  }, async (request, reply) => {
    const { value, changes } = await svc.deactivateSupplier(dbOf(request), actorOf(request), request.params.id, expectedVersion(request))
    request.audit = { changes: { ...changes, reason: request.body?.reason ?? null } }
    void reply.header('etag', etagOf(value.version))
    return value
  })

  app.post('/v1/suppliers/:id/activate', {
    preValidation: emptyBodyAsObject,
    config: { access: 'organizations:activate', audit: { action: 'supplier.activate', entity: 'supplier' } },
    schema: {
      tags: TAGS,
      operationId: 'activateSupplier',
      summary: 'Activate a supplier',
      description: 'ADMIN and MANAGER. Activates the supplier only: its users and offers stay inactive until reactivated one by one. Idempotent on an active supplier. If-Match with a stale ETag answers 412.',
      params: IdParams,
      headers: IfMatchHeaders,
      body: ActivationBody,
      response: { 200: Supplier, ...problems }
    }
  }, async (request, reply) => {
    const { value, changes } = await svc.activateSupplier(dbOf(request), actorOf(request), request.params.id, expectedVersion(request))
    request.audit = { changes: { ...changes, reason: request.body?.reason ?? null } }
    void reply.header('etag', etagOf(value.version))
    return value
  })

  // ---- supplier sites ------------------------------------------------------------------------

  app.get('/v1/suppliers/:id/sites', {
    config: { access: 'organizations:read' },
    schema: {
      tags: TAGS,
      operationId: 'listSupplierSites',
      summary: 'List a supplier\'s sites',
      description: 'Platform staff (any supplier, full view), the supplier\'s own users (full view) and station users (`{ id, name }` of an active supplier\'s sites); another supplier\'s sites are a 404 for a supplier user. Ordered by name, keyset-paginated.',
      params: IdParams,
      querystring: ListQuery,
      response: { 200: sitePage.schema, ...problems }
    }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const result = await svc.listSites(app.db, actor, request.params.id, request.query)
    sitePage.use(reply, actor)
    return result
  })

  app.post('/v1/suppliers/:id/sites', {
    config: { access: 'sites:write', audit: { action: 'supplier_site.create', entity: 'supplier_site' } },
    schema: {
      tags: TAGS,
      operationId: 'createSupplierSite',
      summary: 'Add a site to a supplier',
      description: 'ADMIN, MANAGER, and a supplier user for its own supplier (another supplier: 404). HANDLER and station users: 403. Adds a site; with `isPrimary: true` it becomes the primary site and the previous one is demoted in the same transaction.',
      params: IdParams,
      body: SiteInput,
      response: { 201: SupplierSite, ...problems }
    }
  }, async (request, reply) => {
    const site = await svc.createSite(dbOf(request), actorOf(request), request.params.id, request.body)
    void reply.code(201).header('etag', etagOf(site.version))
    return site
  })

  app.patch('/v1/suppliers/:id/sites/:siteId', {
    config: { access: 'sites:update', audit: { action: 'supplier_site.update', entity: 'supplier_site' } },
    schema: {
      tags: TAGS,
      operationId: 'updateSupplierSite',
      summary: 'Update a supplier site',
      description: 'Platform staff, and a supplier user for its own supplier (another supplier: 404). Station users: 403. Name, address, isPrimary. `isPrimary: true` demotes the current primary site atomically (parallel requests are serialized on the supplier); `isPrimary: false` on the primary site is refused (422): a supplier always keeps one. If-Match with a stale ETag answers 412.',
      params: SiteParams,
      headers: IfMatchHeaders,
      body: UpdateSiteBody,
      response: { 200: SupplierSite, ...problems }
    }
  }, async (request, reply) => {
    const site = await svc.updateSite(dbOf(request), actorOf(request), request.params.id, request.params.siteId, request.body, expectedVersion(request))
    request.audit = { entityId: site.id }
    void reply.header('etag', etagOf(site.version))
    return site
  })

  app.delete('/v1/suppliers/:id/sites/:siteId', {
    config: { access: 'sites:write', audit: { action: 'supplier_site.delete', entity: 'supplier_site' } },
    schema: {
      tags: TAGS,
      operationId: 'deleteSupplierSite',
      summary: 'Delete a supplier site',
      description: 'ADMIN, MANAGER, and a supplier user for its own supplier (another supplier: 404). HANDLER and station users: 403. Deletes a site that is not the primary one (422 otherwise: make another site primary first). If-Match with a stale ETag answers 412.',
      params: SiteParams,
      headers: IfMatchHeaders,
      response: { 204: NoContent, ...problems }
    }
  }, async (request, reply) => {
    await svc.deleteSite(dbOf(request), actorOf(request), request.params.id, request.params.siteId, expectedVersion(request))
    request.audit = { entityId: request.params.siteId, changes: { supplierId: request.params.id } }
    void reply.code(204)
    return null
  })

  // ---- contacts ------------------------------------------------------------------------------

  app.get('/v1/organizations/:id/contacts', {
    config: { access: 'organizations:read' },
    schema: {
      tags: TAGS,
      operationId: 'listContacts',
      summary: 'List an organization\'s contacts',
      description: 'Platform staff (contacts of any station or supplier) and the organization\'s own users; another organization is a 404 for station and supplier users. Ordered by name, keyset-paginated.',
      params: IdParams,
      querystring: ListQuery,
      response: { 200: contactPage.schema, ...problems }
    }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const result = await svc.listContacts(app.db, actor, request.params.id, request.query)
    contactPage.use(reply, actor)
    return result
  })

  app.post('/v1/organizations/:id/contacts', {
    config: { access: 'contacts:write', audit: { action: 'contact.create', entity: 'contact' } },
    schema: {
      tags: TAGS,
      operationId: 'createContact',
      summary: 'Add a contact to a station or supplier',
      description: 'ADMIN, MANAGER, and station and supplier users for their own organization (another one: 404). HANDLER: 403 (update only). Adds a contact; with `isPrimary: true` it becomes the primary contact and the previous one is demoted in the same transaction. Personal values are recorded as "[changed]" in the audit trail.',
      params: IdParams,
      body: CreateContactBody,
      response: { 201: Contact, ...problems }
    }
  }, async (request, reply) => {
    const contact = await svc.createContact(dbOf(request), actorOf(request), request.params.id, request.body)
    void reply.code(201).header('etag', etagOf(contact.version))
    return contact
  })

  app.patch('/v1/organizations/:id/contacts/:contactId', {
    config: { access: 'contacts:update', audit: { action: 'contact.update', entity: 'contact' } },
    schema: {
      tags: TAGS,
      operationId: 'updateContact',
      summary: 'Update a contact',
      description: 'Platform staff, and station and supplier users for their own organization (another one: 404). Any subset of fullName, position, phone, email, isPrimary (`true` demotes the current primary contact atomically). If-Match with a stale ETag answers 412.',
      params: ContactParams,
      headers: IfMatchHeaders,
      body: UpdateContactBody,
      response: { 200: Contact, ...problems }
    }
  }, async (request, reply) => {
    const contact = await svc.updateContact(dbOf(request), actorOf(request), request.params.id, request.params.contactId, request.body, expectedVersion(request))
    request.audit = { entityId: contact.id }
    void reply.header('etag', etagOf(contact.version))
    return contact
  })

  app.delete('/v1/organizations/:id/contacts/:contactId', {
    config: { access: 'contacts:write', audit: { action: 'contact.delete', entity: 'contact' } },
    schema: {
      tags: TAGS,
      operationId: 'deleteContact',
      summary: 'Delete a contact',
      description: 'ADMIN, MANAGER, and station and supplier users for their own organization (another one: 404). HANDLER: 403. Deletes the contact for good (personal data is not kept once the person is no longer a contact). If-Match with a stale ETag answers 412.',
      params: ContactParams,
      headers: IfMatchHeaders,
      response: { 204: NoContent, ...problems }
    }
  }, async (request, reply) => {
    await svc.deleteContact(dbOf(request), actorOf(request), request.params.id, request.params.contactId, expectedVersion(request))
    request.audit = { entityId: request.params.contactId, changes: { organizationId: request.params.id } }
    void reply.code(204)
    return null
  })
}
