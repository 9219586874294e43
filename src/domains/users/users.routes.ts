// Users: list, read, create, update, deactivate / activate, personal-data export and GDPR erasure.
// Each route translates HTTP into one service call; who may manage whom is decided in the service
// (PRODUCT.md §2). Audit events record personal values only as "[changed]" (default redaction).
import { Type } from '@sinclair/typebox'
import { defineRoute } from '../../lib/define-route.js'
import { EmptyBody, missingBodyAsEmpty } from '../../lib/empty-body.js'
import type { App } from '../../lib/route.js'
import { actorOf, dbOf, expectedVersion, withEtag } from '../../lib/route.js'
import { IdParams } from '../../lib/schemas.js'
import { redactChanges } from '../audit/audit.service.js'
import { CreateUserBody, ListUsersQuerySchema, PersonalDataSchema, UpdateUserBody, UserPage, UserSchema } from './users.schemas.js'
import { createUser, eraseUser, exportPersonalData, getUser, listUsers, setUserActive, updateUser } from './users.service.js'

const WHO_MANAGES = 'ADMIN manages every role; MANAGER all but ADMIN and MANAGER users; HANDLER only STATION and SUPPLIER users (403 otherwise). Nobody changes their own role or deactivates themselves.'

export default async function usersRoutes (app: App): Promise<void> {
  app.addSchema(UserSchema)
  app.addSchema(UserPage)
  app.addSchema(PersonalDataSchema)
  const UserRef = Type.Ref(UserSchema)

  defineRoute(app, {
    method: 'GET',
    url: '/v1/users',
    operationId: 'listUsers',
    tag: 'users',
    summary: 'List users',
    description: 'Every signed-in user. Platform staff see all users; STATION and SUPPLIER users see only their own organization\'s users. Filters: q (email or name substring), role, organizationId, active. Oldest first, keyset-paginated.',
    access: 'users:read',
    querystring: ListUsersQuerySchema,
    response: { 200: Type.Ref(UserPage) }
  }, async (request) => await listUsers(app.db, actorOf(request), request.query))

  defineRoute(app, {
    method: 'POST',
    url: '/v1/users',
    operationId: 'createUser',
    tag: 'users',
    summary: 'Create a user',
    description: `ADMIN, MANAGER, HANDLER. ${WHO_MANAGES} The role must match the organization's kind (422 ROLE_ORGANIZATION_MISMATCH; unknown organization 422 REFERENCE_NOT_FOUND); the password must follow the policy (422 WEAK_PASSWORD); emails are unique case-insensitively (409 DUPLICATE).`,
    access: 'users:write',
    audit: { action: 'user.create', entity: 'user' },
    body: CreateUserBody,
    response: { 201: UserRef }
  }, async (request, reply) => {
    const user = await createUser(dbOf(request), actorOf(request), request.body)
    void reply.code(201)
    return user
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/users/:id',
    operationId: 'getUser',
    tag: 'users',
    summary: 'Read a user',
    description: 'Every signed-in user, within their read scope (STATION and SUPPLIER users: their own organization; 404 otherwise). Returns an ETag; If-None-Match answers 304.',
    access: 'users:read',
    params: IdParams,
    notModified: true,
    response: { 200: UserRef }
  }, async (request, reply) => {
    const user = await getUser(app.db, actorOf(request), request.params.id)
    if (withEtag(request, reply, user.version)) return null
    return user
  })

  defineRoute(app, {
    method: 'PATCH',
    url: '/v1/users/:id',
    operationId: 'updateUser',
    tag: 'users',
    summary: 'Update a user',
    description: `ADMIN, MANAGER, HANDLER (station and supplier users cannot edit profiles through the API yet; their staff does it). ${WHO_MANAGES} A new role must match the organization's kind; changing a role ends the user's current access tokens. Honours If-Match (412).`,
    access: 'users:write',
    audit: { action: 'user.update', entity: 'user' },
    params: IdParams,
    ifMatch: true,
    body: UpdateUserBody,
    response: { 200: UserRef }
  }, async (request) => {
    const { user, previousRole } = await updateUser(dbOf(request), actorOf(request), request.params.id, request.body, expectedVersion(request))
    const changes = redactChanges(request.body) as Record<string, unknown>
    if (request.body.role !== undefined) changes.role = { from: previousRole, to: request.body.role }
    request.audit = { changes }
    return user
  })

  for (const [verb, active] of [['deactivate', false], ['activate', true]] as const) {
    defineRoute(app, {
      method: 'POST',
      url: `/v1/users/:id/${verb}`,
      operationId: `${verb}User`,
      tag: 'users',
      summary: `${verb === 'activate' ? 'Activate' : 'Deactivate'} a user`,
      description: active
        ? `ADMIN, MANAGER, HANDLER. ${WHO_MANAGES} Access tokens issued before the last deactivation stay invalid. Erased accounts cannot be reactivated (409). Honours If-Match.`
        : `ADMIN, MANAGER, HANDLER. ${WHO_MANAGES} The user can no longer sign in; their sessions are revoked and their access tokens stop working on every instance within a second. Honours If-Match.`,
      access: 'users:write',
      audit: { action: `user.${verb}`, entity: 'user' },
      params: IdParams,
      ifMatch: true,
      body: EmptyBody,
      preValidation: missingBodyAsEmpty,
      response: { 200: UserRef }
    }, async (request) => {
      const user = await setUserActive(dbOf(request), actorOf(request), request.params.id, active, expectedVersion(request))
      request.audit = { changes: { isActive: active } }
      return user
    })
  }

  defineRoute(app, {
    method: 'GET',
    url: '/v1/users/:id/personal-data',
    operationId: 'exportUserPersonalData',
    tag: 'users',
    summary: 'Export a person\'s data (GDPR access)',
    description: 'ADMIN, or the person themselves (403 for others within the caller\'s read scope, 404 outside it). Profile, sessions (with IP and user agent) and the audit events the person performed (identifiers and actions).',
    access: 'users:read',
    params: IdParams,
    response: { 200: Type.Ref(PersonalDataSchema) }
  }, async (request) => await exportPersonalData(app.db, actorOf(request), request.params.id))

  defineRoute(app, {
    method: 'POST',
    url: '/v1/users/:id/erase',
    operationId: 'eraseUser',
    tag: 'users',
    summary: 'Erase a person (GDPR)',
    description: 'ADMIN only, never on themselves. Anonymizes name, email (erased-<id>@erased.invalid) and phone, makes the password unusable, deactivates the account, revokes its sessions and strips their IP and user agent. Orders, contracts and audit events keep referring to the user id. Idempotent.',
    access: 'users:erase',
    audit: { action: 'user.erase', entity: 'user' },
    params: IdParams,
    body: EmptyBody,
    preValidation: missingBodyAsEmpty,
    response: { 200: UserRef }
  }, async (request) => {
    const user = await eraseUser(dbOf(request), actorOf(request), request.params.id)
    request.audit = { changes: { erased: true } }
    return user
  })
}
