// Contacts of stations and suppliers (API.md "Organizations and users"): list, add, update,
// delete. Contacts are only ever shown in full, to staff and to the organization's own users.
import { defineRoute } from '../../lib/define-route.js'
import { actorOf, dbOf, etagOf, expectedVersion, type App } from '../../lib/route.js'
import { IdParams, Page } from '../../lib/schemas.js'
import { Contact, ContactParams, CreateContactBody, UpdateContactBody } from './contacts.schemas.js'
import * as svc from './contacts.service.js'
import { ListQuery } from './shared.schemas.js'
import { NoContent, TAG, fullOnly } from './shared.routes.js'

const contactPage = fullOnly(Page(Contact))

export default async function contactsRoutes (app: App): Promise<void> {
  defineRoute(app, {
    method: 'GET',
    url: '/v1/organizations/:id/contacts',
    operationId: 'listContacts',
    tag: TAG,
    summary: 'List an organization\'s contacts',
    description: 'Platform staff (contacts of any station or supplier) and the organization\'s own users; another organization is a 404 for station and supplier users. Ordered by name, keyset-paginated.',
    access: 'organizations:read',
    params: IdParams,
    querystring: ListQuery,
    response: { 200: contactPage.schema }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const result = await svc.listContacts(app.db, actor, request.params.id, request.query)
    contactPage.use(reply, actor)
    return result
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/organizations/:id/contacts',
    operationId: 'createContact',
    tag: TAG,
    summary: 'Add a contact to a station or supplier',
    description: 'ADMIN, MANAGER, and station and supplier users for their own organization (another one: 404). HANDLER: 403 (update only). Adds a contact; with `isPrimary: true` it becomes the primary contact and the previous one is demoted in the same transaction. Personal values are recorded as "[changed]" in the audit trail.',
    access: 'contacts:write',
    audit: { action: 'contact.create', entity: 'contact' },
    params: IdParams,
    body: CreateContactBody,
    response: { 201: Contact }
  }, async (request, reply) => {
    const contact = await svc.createContact(dbOf(request), actorOf(request), request.params.id, request.body)
    void reply.code(201).header('etag', etagOf(contact.version))
    return contact
  })

  defineRoute(app, {
    method: 'PATCH',
    url: '/v1/organizations/:id/contacts/:contactId',
    operationId: 'updateContact',
    tag: TAG,
    summary: 'Update a contact',
    description: 'Platform staff, and station and supplier users for their own organization (another one: 404). Any subset of fullName, position, phone, email, isPrimary (`true` demotes the current primary contact atomically). If-Match with a stale ETag answers 412.',
    access: 'contacts:update',
    audit: { action: 'contact.update', entity: 'contact' },
    params: ContactParams,
    ifMatch: true,
    body: UpdateContactBody,
    response: { 200: Contact }
  }, async (request, reply) => {
    const contact = await svc.updateContact(dbOf(request), actorOf(request), request.params.id, request.params.contactId, request.body, expectedVersion(request))
    request.audit = { entityId: contact.id }
    void reply.header('etag', etagOf(contact.version))
    return contact
  })

  defineRoute(app, {
    method: 'DELETE',
    url: '/v1/organizations/:id/contacts/:contactId',
    operationId: 'deleteContact',
    tag: TAG,
    summary: 'Delete a contact',
    description: 'ADMIN, MANAGER, and station and supplier users for their own organization (another one: 404). HANDLER: 403. Deletes the contact for good (personal data is not kept once the person is no longer a contact). If-Match with a stale ETag answers 412.',
    access: 'contacts:write',
    audit: { action: 'contact.delete', entity: 'contact' },
    params: ContactParams,
    ifMatch: true,
    response: { 204: NoContent }
  }, async (request, reply) => {
    await svc.deleteContact(dbOf(request), actorOf(request), request.params.id, request.params.contactId, expectedVersion(request))
    request.audit = { entityId: request.params.contactId, changes: { organizationId: request.params.id } }
    void reply.code(204)
    return null
  })
}
