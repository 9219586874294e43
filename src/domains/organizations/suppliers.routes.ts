// Suppliers and their sites (API.md "Organizations and users"): list, read, create, update,
// deactivate, activate a supplier; list, add, update, delete its sites.
import { defineRoute } from '../../lib/define-route.js'
import { missingBodyAsEmpty } from '../../lib/empty-body.js'
import { actorOf, dbOf, etagOf, expectedVersion, type App } from '../../lib/route.js'
import { IdParams, Page } from '../../lib/schemas.js'
import { audienceSerializer } from '../../lib/audience.js'
import {
  CreateSupplierBody, SiteInput, SiteParams, Supplier, SupplierBrief, SupplierListQuery, SupplierSite, SupplierSiteBrief, UpdateSiteBody, UpdateSupplierBody
} from './suppliers.schemas.js'
import * as svc from './suppliers.service.js'
import { ActivationBody, IfNoneMatchHeaders, ListQuery } from './shared.schemas.js'
import { NoContent, TAG, fullOnly, sendCascade, sendViewed } from './shared.routes.js'

// Lists: platform staff get the full view; the others the brief view of their audience. A
// supplier's list of suppliers only ever holds its own supplier, hence the full view there.
const supplierPage = audienceSerializer({ platform: Page(Supplier), station: Page(SupplierBrief), supplier: Page(Supplier) })
const sitePage = audienceSerializer({ platform: Page(SupplierSite), station: Page(SupplierSiteBrief), supplier: Page(SupplierSite) })
// single rows: the brief view of the caller's audience unless the row is shown in full
const supplierBrief = audienceSerializer({ platform: Supplier, station: SupplierBrief, supplier: Supplier })
const supplierFull = fullOnly(Supplier)

export default async function suppliersRoutes (app: App): Promise<void> {
  // ---- suppliers -----------------------------------------------------------------------------

  defineRoute(app, {
    method: 'GET',
    url: '/v1/suppliers',
    operationId: 'listSuppliers',
    tag: TAG,
    summary: 'List suppliers',
    description: 'Everyone. Platform staff see every supplier in full, with its sites; a station user sees active suppliers as `{ id, name }`; a supplier user sees only its own supplier, in full. Filters: `q` (name fragment), `active`. Ordered by name, keyset-paginated.',
    access: 'organizations:read',
    querystring: SupplierListQuery,
    response: { 200: supplierPage.schema }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const result = await svc.listSuppliers(app.db, actor, request.query)
    supplierPage.use(reply, actor)
    return result
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/suppliers/:id',
    operationId: 'getSupplier',
    tag: TAG,
    summary: 'Read a supplier',
    description: 'Everyone, within their scope. Platform staff and the supplier\'s own users get the full supplier with its sites (contacts: GET /v1/organizations/{id}/contacts); a station user gets `{ id, name }` of an active supplier; anything else is a 404. Returns an ETag; If-None-Match answers 304.',
    access: 'organizations:read',
    params: IdParams,
    headers: IfNoneMatchHeaders,
    notModified: true,
    response: { 200: supplierBrief.schema }
  }, async (request, reply) => sendViewed(request, reply, await svc.getSupplier(app.db, actorOf(request), request.params.id), supplierFull, supplierBrief))

  defineRoute(app, {
    method: 'POST',
    url: '/v1/suppliers',
    operationId: 'createSupplier',
    tag: TAG,
    summary: 'Create a supplier',
    description: 'ADMIN and MANAGER. Creates the supplier, its organization and its sites: at least one site, exactly one primary (a single site is primary by default; otherwise 422). The SIRET (14 digits) is unique when given (409 DUPLICATE).',
    access: 'organizations:create',
    audit: { action: 'supplier.create', entity: 'supplier' },
    body: CreateSupplierBody,
    response: { 201: Supplier }
  }, async (request, reply) => {
    const supplier = await svc.createSupplier(dbOf(request), actorOf(request), request.body)
    void reply.code(201).header('etag', etagOf(supplier.version))
    return supplier
  })

  defineRoute(app, {
    method: 'PATCH',
    url: '/v1/suppliers/:id',
    operationId: 'updateSupplier',
    tag: TAG,
    summary: 'Update a supplier',
    description: 'Platform staff: any field. A supplier user: its own supplier\'s email, phone, website and address (name and SIRET are the platform\'s call: 403; another supplier: 404). Station users: 403. Bumps the version; If-Match with a stale ETag answers 412. Sites are managed under /v1/suppliers/{id}/sites.',
    access: 'suppliers:update',
    audit: { action: 'supplier.update', entity: 'supplier' },
    params: IdParams,
    ifMatch: true,
    body: UpdateSupplierBody,
    response: { 200: Supplier }
  }, async (request, reply) => {
    const supplier = await svc.updateSupplier(dbOf(request), actorOf(request), request.params.id, request.body, expectedVersion(request))
    void reply.header('etag', etagOf(supplier.version))
    return supplier
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/suppliers/:id/deactivate',
    operationId: 'deactivateSupplier',
    tag: TAG,
    summary: 'Deactivate a supplier',
    description: 'ADMIN and MANAGER. Deactivates the supplier, its users (their tokens stop working at once) and its catalog offers, in one transaction; existing orders stay. The audit event records how many users and offers were deactivated. Idempotent on an inactive supplier. If-Match with a stale ETag answers 412.',
    access: 'organizations:activate',
    audit: { action: 'supplier.deactivate', entity: 'supplier' },
    params: IdParams,
    ifMatch: true,
    body: ActivationBody,
    preValidation: missingBodyAsEmpty, // the body is optional: none reads as {}
    response: { 200: Supplier }
  }, async (request, reply) =>
    sendCascade(request, reply, await svc.deactivateSupplier(dbOf(request), actorOf(request), request.params.id, expectedVersion(request)), request.body.reason))

  defineRoute(app, {
    method: 'POST',
    url: '/v1/suppliers/:id/activate',
    operationId: 'activateSupplier',
    tag: TAG,
    summary: 'Activate a supplier',
    description: 'ADMIN and MANAGER. Activates the supplier only: its users and offers stay inactive until reactivated one by one. Idempotent on an active supplier. If-Match with a stale ETag answers 412.',
    access: 'organizations:activate',
    audit: { action: 'supplier.activate', entity: 'supplier' },
    params: IdParams,
    ifMatch: true,
    body: ActivationBody,
    preValidation: missingBodyAsEmpty, // the body is optional: none reads as {}
    response: { 200: Supplier }
  }, async (request, reply) =>
    sendCascade(request, reply, await svc.activateSupplier(dbOf(request), actorOf(request), request.params.id, expectedVersion(request)), request.body.reason))

  // ---- supplier sites ------------------------------------------------------------------------

  defineRoute(app, {
    method: 'GET',
    url: '/v1/suppliers/:id/sites',
    operationId: 'listSupplierSites',
    tag: TAG,
    summary: 'List a supplier\'s sites',
    description: 'Platform staff (any supplier, full view), the supplier\'s own users (full view) and station users (`{ id, name }` of an active supplier\'s sites); another supplier\'s sites are a 404 for a supplier user. Ordered by name, keyset-paginated.',
    access: 'organizations:read',
    params: IdParams,
    querystring: ListQuery,
    response: { 200: sitePage.schema }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const result = await svc.listSites(app.db, actor, request.params.id, request.query)
    sitePage.use(reply, actor)
    return result
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/suppliers/:id/sites',
    operationId: 'createSupplierSite',
    tag: TAG,
    summary: 'Add a site to a supplier',
    description: 'ADMIN, MANAGER, and a supplier user for its own supplier (another supplier: 404). HANDLER and station users: 403. Adds a site; with `isPrimary: true` it becomes the primary site and the previous one is demoted in the same transaction.',
    access: 'sites:write',
    audit: { action: 'supplier_site.create', entity: 'supplier_site' },
    params: IdParams,
    body: SiteInput,
    response: { 201: SupplierSite }
  }, async (request, reply) => {
    const site = await svc.createSite(dbOf(request), actorOf(request), request.params.id, request.body)
    void reply.code(201).header('etag', etagOf(site.version))
    return site
  })

  defineRoute(app, {
    method: 'PATCH',
    url: '/v1/suppliers/:id/sites/:siteId',
    operationId: 'updateSupplierSite',
    tag: TAG,
    summary: 'Update a supplier site',
    description: 'Platform staff, and a supplier user for its own supplier (another supplier: 404). Station users: 403. Name, address, isPrimary. `isPrimary: true` demotes the current primary site atomically (parallel requests are serialized on the supplier); `isPrimary: false` on the primary site is refused (422): a supplier always keeps one. If-Match with a stale ETag answers 412.',
    access: 'sites:update',
    audit: { action: 'supplier_site.update', entity: 'supplier_site' },
    params: SiteParams,
    ifMatch: true,
    body: UpdateSiteBody,
    response: { 200: SupplierSite }
  }, async (request, reply) => {
    const site = await svc.updateSite(dbOf(request), actorOf(request), request.params.id, request.params.siteId, request.body, expectedVersion(request))
    request.audit = { entityId: site.id }
    void reply.header('etag', etagOf(site.version))
    return site
  })

  defineRoute(app, {
    method: 'DELETE',
    url: '/v1/suppliers/:id/sites/:siteId',
    operationId: 'deleteSupplierSite',
    tag: TAG,
    summary: 'Delete a supplier site',
    description: 'ADMIN, MANAGER, and a supplier user for its own supplier (another supplier: 404). HANDLER and station users: 403. Deletes a site that is not the primary one (422 otherwise: make another site primary first). If-Match with a stale ETag answers 412.',
    access: 'sites:write',
    audit: { action: 'supplier_site.delete', entity: 'supplier_site' },
    params: SiteParams,
    ifMatch: true,
    response: { 204: NoContent }
  }, async (request, reply) => {
    await svc.deleteSite(dbOf(request), actorOf(request), request.params.id, request.params.siteId, expectedVersion(request))
    request.audit = { entityId: request.params.siteId, changes: { supplierId: request.params.id } }
    void reply.code(204)
    return null
  })
}
