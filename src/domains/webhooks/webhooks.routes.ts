// Webhook subscriptions and their deliveries (API.md "Webhooks", PRODUCT.md §10). Permission
// webhooks:manage: ADMIN and MANAGER for every organization, a station or supplier user for its
// own (404 outside it); HANDLER 403.
import { Type } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'
import { defineRoute } from '../../lib/define-route.js'
import { EmptyBody, missingBodyAsEmpty } from '../../lib/empty-body.js'
import type { App } from '../../lib/route.js'
import { actorOf, dbOf, etagOf, expectedVersion, withEtag } from '../../lib/route.js'
import { IdParams, NoContent } from '../../lib/schemas.js'
import { listDeliveries, replayDelivery } from './deliveries.service.js'
import {
  CreateWebhookBody, DeliveryPageSchema, DeliveryParams, DeliverySchema, ListDeliveriesQuery, ListWebhooksQuery, RotateSecretBody, UpdateWebhookBody,
  WebhookPageSchema, WebhookSchema, WebhookWithSecretSchema, webhookSchemas
} from './webhooks.schemas.js'
import { createWebhook, deleteWebhook, getWebhook, listWebhooks, MAX_SUBSCRIPTIONS_PER_ORGANIZATION, rotateWebhookSecret, updateWebhook, type WebhookContext } from './webhooks.service.js'

const WHO = 'ADMIN and MANAGER: any organization\'s subscriptions; a station or supplier user: its own organization\'s (404 for another\'s); HANDLER: 403.'

/** What the audit trail keeps of a receiver URL: scheme, host and path (a query string may hold a receiver\'s token). */
function auditedUrl (url: string | undefined): string | undefined {
  if (url === undefined) return undefined
  try { const u = new URL(url); return `${u.origin}${u.pathname}` } catch { return '[invalid]' }
}

function audit (request: FastifyRequest, changes: Record<string, unknown>): void {
  request.audit = { changes: Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) }
}

export async function webhookRoutes (app: App, ctx: WebhookContext): Promise<void> {
  for (const s of webhookSchemas) app.addSchema(s)
  const One = Type.Ref(WebhookSchema)
  const WithSecret = Type.Ref(WebhookWithSecretSchema)

  defineRoute(app, {
    method: 'GET',
    url: '/v1/webhooks',
    operationId: 'listWebhooks',
    tag: 'webhooks',
    summary: 'List webhook subscriptions',
    description: `${WHO} Newest first, keyset-paginated; filters organizationId (staff) and active. Never shows a secret.`,
    access: 'webhooks:manage',
    querystring: ListWebhooksQuery,
    response: { 200: Type.Ref(WebhookPageSchema) }
  }, async (request) => await listWebhooks(app.db, actorOf(request), request.query))

  defineRoute(app, {
    method: 'POST',
    url: '/v1/webhooks',
    operationId: 'createWebhook',
    tag: 'webhooks',
    summary: 'Subscribe a URL to events',
    description: `${WHO} Registers a receiver URL for a list of event types, for the caller's organization (staff: any organization, default the platform, which receives every event of its types; a station or supplier naming another organization: 403). The URL is checked: https in production, no credentials, every address of its host public (422 WEBHOOK_URL_NOT_ALLOWED otherwise). At most ${MAX_SUBSCRIPTIONS_PER_ORGANIZATION} per organization (422). The answer carries the signing secret, shown only here (and to a replay with the same Idempotency-Key): each delivery is a POST signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature = v1,<base64 HMAC-SHA256 of "id.timestamp.body">).`,
    access: 'webhooks:manage',
    audit: { action: 'webhook.create', entity: 'webhook' },
    body: CreateWebhookBody,
    response: { 201: WithSecret }
  }, async (request, reply) => {
    const w = await createWebhook(dbOf(request), actorOf(request), request.body, ctx)
    audit(request, { organizationId: w.organizationId, url: auditedUrl(w.url), events: w.events, description: w.description })
    void reply.code(201).header('location', `/v1/webhooks/${w.id}`).header('etag', etagOf(w.version))
    return w
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/webhooks/:id',
    operationId: 'getWebhook',
    tag: 'webhooks',
    summary: 'Read a webhook subscription',
    description: `${WHO} Its state: active, failing since, disabled (after failing for the whole retry window) and why, the previous secret's expiry after a rotation. ETag from the version; If-None-Match answers 304.`,
    access: 'webhooks:manage',
    params: IdParams,
    notModified: true,
    response: { 200: One }
  }, async (request, reply) => {
    const w = await getWebhook(app.db, actorOf(request), request.params.id)
    if (withEtag(request, reply, w.version)) return null
    return w
  })

  defineRoute(app, {
    method: 'PATCH',
    url: '/v1/webhooks/:id',
    operationId: 'updateWebhook',
    tag: 'webhooks',
    summary: 'Change a webhook subscription',
    description: `${WHO} Any of url (checked as at creation), events, description, isActive (false pauses it: attempts that fall due are cancelled; true resumes it and clears its failure state, e.g. after it was disabled). If-Match with a stale ETag is 412.`,
    access: 'webhooks:manage',
    audit: { action: 'webhook.update', entity: 'webhook' },
    params: IdParams,
    ifMatch: true,
    body: UpdateWebhookBody,
    response: { 200: One }
  }, async (request, reply) => {
    const w = await updateWebhook(dbOf(request), actorOf(request), request.params.id, request.body, ctx, expectedVersion(request))
    audit(request, { url: auditedUrl(request.body.url), events: request.body.events, description: request.body.description, isActive: request.body.isActive })
    void reply.header('etag', etagOf(w.version))
    return w
  })

  defineRoute(app, {
    method: 'DELETE',
    url: '/v1/webhooks/:id',
    operationId: 'deleteWebhook',
    tag: 'webhooks',
    summary: 'Delete a webhook subscription',
    description: `${WHO} Removes the subscription and its delivery history; attempts still queued are dropped. If-Match with a stale ETag is 412.`,
    access: 'webhooks:manage',
    audit: { action: 'webhook.delete', entity: 'webhook' },
    params: IdParams,
    ifMatch: true,
    response: { 204: NoContent }
  }, async (request, reply) => {
    await deleteWebhook(dbOf(request), actorOf(request), request.params.id, expectedVersion(request))
    void reply.code(204)
    return null
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/webhooks/:id/rotate-secret',
    operationId: 'rotateWebhookSecret',
    tag: 'webhooks',
    summary: 'Rotate the signing secret',
    description: `${WHO} Issues a new secret (shown only in this answer). The previous one keeps signing next to it for overlapSeconds (default 24 h, at most 7 days; 0 retires it at once): during the overlap every delivery carries two signatures in webhook-signature, so a receiver verifying with either secret accepts it. A second rotation replaces the previous secret. If-Match with a stale ETag is 412.`,
    access: 'webhooks:manage',
    audit: { action: 'webhook.rotate_secret', entity: 'webhook' },
    params: IdParams,
    ifMatch: true,
    body: RotateSecretBody,
    preValidation: missingBodyAsEmpty,
    response: { 200: WithSecret }
  }, async (request, reply) => {
    const w = await rotateWebhookSecret(dbOf(request), actorOf(request), request.params.id, request.body, ctx, expectedVersion(request))
    audit(request, { secret: 'rotated', previousSecretExpiresAt: w.previousSecretExpiresAt })
    void reply.header('etag', etagOf(w.version))
    return w
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/webhooks/:id/deliveries',
    operationId: 'listWebhookDeliveries',
    tag: 'webhooks',
    summary: 'Delivery attempts of a subscription',
    description: `${WHO} Every attempt, newest first: the event, attempt number, what started it (EVENT, RETRY, REPLAY), status (PENDING, SUCCEEDED, FAILED, CANCELLED), when, how long, the receiver's status and the first 4 KiB of its answer, the error, and when a failed attempt is retried. Filters status and eventId; keyset-paginated.`,
    access: 'webhooks:manage',
    params: IdParams,
    querystring: ListDeliveriesQuery,
    response: { 200: Type.Ref(DeliveryPageSchema) }
  }, async (request) => await listDeliveries(app.db, actorOf(request), request.params.id, request.query))

  defineRoute(app, {
    method: 'POST',
    url: '/v1/webhooks/:id/deliveries/:deliveryId/replay',
    operationId: 'replayWebhookDelivery',
    tag: 'webhooks',
    summary: 'Send a delivery\'s event again',
    description: `${WHO} Queues the event of that delivery again for this subscription, due now, as a new series (its own 24 h of retries); the message is the same (same webhook-id). 409 CONFLICT when the subscription is not active or an attempt of the event is already pending. Answers 202 with the new attempt.`,
    access: 'webhooks:manage',
    audit: { action: 'webhook.replay', entity: 'webhook' },
    params: DeliveryParams,
    preValidation: missingBodyAsEmpty,
    body: EmptyBody,
    response: { 202: Type.Ref(DeliverySchema) }
  }, async (request, reply) => {
    const d = await replayDelivery(dbOf(request), actorOf(request), request.params.id, request.params.deliveryId)
    request.audit = { entityId: request.params.id, changes: { eventId: d.eventId, deliveryId: d.id, replayOf: request.params.deliveryId } }
    void reply.code(202)
    return d
  })
}
