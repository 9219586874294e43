// GET|PATCH /v1/settings: platform staff read, ADMIN writes (every change audited with its diff).
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import { defineRoute } from '../../lib/define-route.js'
import type { App } from '../../lib/route.js'
import { actorOf, dbOf, etagOf, expectedVersion, withEtag } from '../../lib/route.js'
import { SettingsPatchSchema, SettingsSchema } from './settings.schemas.js'
import { getSettings, updateSettings } from './settings.service.js'

async function settingsRoutes (app: App): Promise<void> {
  app.addSchema(SettingsSchema)
  const SettingsRef = Type.Ref(SettingsSchema)

  defineRoute(app, {
    method: 'GET',
    url: '/v1/settings',
    operationId: 'getSettings',
    tag: 'settings',
    summary: 'Read the platform settings',
    description: 'Platform staff (ADMIN, MANAGER, HANDLER) only. Returns an ETag; If-None-Match answers 304 when unchanged.',
    access: 'settings:read',
    notModified: true,
    response: { 200: SettingsRef }
  }, async (request, reply) => {
    const s = await getSettings(app.db)
    if (withEtag(request, reply, s.version)) return null
    return s
  })

  defineRoute(app, {
    method: 'PATCH',
    url: '/v1/settings',
    operationId: 'updateSettings',
    tag: 'settings',
    summary: 'Change platform settings',
    description: 'ADMIN only. Any subset of the fields; the version is bumped and the change audited with before/after values. Send If-Match with the ETag read to avoid overwriting a concurrent change (412 when stale).',
    access: 'settings:write',
    audit: { action: 'settings.update', entity: 'settings' },
    ifMatch: true,
    body: SettingsPatchSchema,
    response: { 200: SettingsRef }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const { before, after } = await updateSettings(dbOf(request), actor, request.body, expectedVersion(request))
    const changes: Record<string, unknown> = {}
    for (const k of Object.keys(request.body) as Array<keyof typeof request.body>) changes[k] = { from: before[k], to: after[k] }
    request.audit = { entityId: 'settings', changes }
    void reply.header('etag', etagOf(after.version))
    return after
  })
}

// Registered without encapsulation (fastify-plugin): a child context that calls addSchema gets a
// fresh schema controller built with Fastify's default Ajv (removeAdditional: true), which would
// silently drop unknown body fields instead of answering 400. At the root the app's validator stays.
export default fp(settingsRoutes, { name: 'settings-routes' })
