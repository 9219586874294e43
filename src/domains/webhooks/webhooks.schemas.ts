// Request and response schemas of webhook subscriptions and their deliveries (PRODUCT.md §10,
// API.md "Webhooks"). The signing secret appears in exactly two answers — creation and rotation —
// and never in a read.
import { Type, type Static } from '@sinclair/typebox'
import { DateTime, Text, Uuid } from '../../lib/schemas.js'
import { EVENT_TYPES } from '../events/events.catalogue.js'

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()])
const NullableTime = (description: string) => Type.Union([DateTime({ description }), Type.Null()])

export const EventTypeSchema = Type.Union(EVENT_TYPES.map(t => Type.Literal(t)), { description: 'A domain event type (see the events tag)' })

const WebhookUrl = Type.String({
  minLength: 1,
  maxLength: 2048,
  format: 'uri',
  description: 'The receiver: https (http is accepted outside production); no credentials in it; every address its host resolves to must be public (loopback, private, link-local, CGNAT and metadata addresses are refused: 422 WEBHOOK_URL_NOT_ALLOWED), and is checked again at each delivery',
  examples: ['https://erp.cooperative.example/hooks/gestion-emballages']
})
const EventList = Type.Array(EventTypeSchema, { minItems: 1, maxItems: 64, uniqueItems: true, description: 'The event types to receive' })

const subscription = {
  id: Uuid(),
  organizationId: Uuid({ description: 'The organization that owns the subscription and whose events it receives (platform: every event)' }),
  url: Type.String(),
  description: Nullable(Type.String()),
  events: Type.Array(Type.String()),
  isActive: Type.Boolean(),
  failingSince: NullableTime('First failed attempt since the last success (null when healthy)'),
  disabledAt: NullableTime('When it was disabled after failing for the whole retry window'),
  disabledReason: Nullable(Type.String()),
  previousSecretExpiresAt: NullableTime('After a rotation: until when the previous secret still signs'),
  createdBy: Type.Union([Uuid(), Type.Null()]),
  createdAt: DateTime(),
  updatedAt: DateTime(),
  version: Type.Integer()
}

export const WebhookSchema = Type.Object(subscription, { $id: 'Webhook', additionalProperties: false })
export type WebhookView = Static<typeof WebhookSchema>

export const WebhookWithSecretSchema = Type.Object({
  ...subscription,
  secret: Type.String({ description: 'The signing secret (`whsec_` + base64), shown only in this answer: store it now. Verify each delivery\'s `webhook-signature` with it (Standard Webhooks).', examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] })
}, { $id: 'WebhookWithSecret', additionalProperties: false })
export type WebhookWithSecretView = Static<typeof WebhookWithSecretSchema>

export const WebhookPageSchema = Type.Object({
  items: Type.Array(Type.Ref(WebhookSchema)),
  nextCursor: Type.Union([Type.String(), Type.Null()])
}, { $id: 'WebhookPage' })

export const DeliverySchema = Type.Object({
  id: Type.Integer(),
  subscriptionId: Uuid(),
  eventId: Type.Integer({ description: 'The event (its `id` in the message body; `webhook-id` is `evt_<eventId>`)' }),
  eventType: Type.String(),
  attempt: Type.Integer({ minimum: 1 }),
  trigger: Type.Union([Type.Literal('EVENT'), Type.Literal('RETRY'), Type.Literal('REPLAY')]),
  status: Type.Union([Type.Literal('PENDING'), Type.Literal('SUCCEEDED'), Type.Literal('FAILED'), Type.Literal('CANCELLED')]),
  scheduledAt: DateTime({ description: 'When the attempt was due' }),
  attemptedAt: NullableTime('When it was made'),
  durationMs: Nullable(Type.Integer()),
  responseStatus: Nullable(Type.Integer({ description: "The receiver's HTTP status" })),
  responseBody: Nullable(Type.String({ description: "The first 4 KiB of the receiver's answer" })),
  error: Nullable(Type.String()),
  nextAttemptAt: NullableTime('On a failed attempt: when the next one is due (null: no retry left)'),
  deliveredAt: NullableTime('On success')
}, { $id: 'WebhookDelivery', additionalProperties: false })
export type DeliveryView = Static<typeof DeliverySchema>

export const DeliveryPageSchema = Type.Object({
  items: Type.Array(Type.Ref(DeliverySchema)),
  nextCursor: Type.Union([Type.String(), Type.Null()])
}, { $id: 'WebhookDeliveryPage' })

export const webhookSchemas = [WebhookSchema, WebhookWithSecretSchema, WebhookPageSchema, DeliverySchema, DeliveryPageSchema]

// ---- inputs ----------------------------------------------------------------------------------

const page = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Page size (max 200)' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: "Opaque cursor from the previous page's nextCursor" }))
}

export const ListWebhooksQuery = Type.Object({
  organizationId: Type.Optional(Uuid({ description: 'Platform staff: one organization\'s subscriptions (a station or supplier sees its own only)' })),
  active: Type.Optional(Type.Boolean()),
  ...page
}, { additionalProperties: false })
export type ListWebhooksInput = Static<typeof ListWebhooksQuery>

export const CreateWebhookBody = Type.Object({
  url: WebhookUrl,
  events: EventList,
  description: Type.Optional(Type.Union([Text(500), Type.Null()])),
  organizationId: Type.Optional(Uuid({ description: 'ADMIN and MANAGER: the organization it is for (default: the platform, which receives every event of its types). A station or supplier: its own, or omit it.' }))
}, { additionalProperties: false, examples: [{ url: 'https://203.0.114.10/hooks/gestion-emballages', events: ['purchase_order.confirmed', 'purchase_order.shipped'], description: 'ERP integration' }] })
export type CreateWebhookInput = Static<typeof CreateWebhookBody>

export const UpdateWebhookBody = Type.Object({
  url: Type.Optional(WebhookUrl),
  events: Type.Optional(EventList),
  description: Type.Optional(Type.Union([Text(500), Type.Null()])),
  isActive: Type.Optional(Type.Boolean({ description: 'false pauses deliveries (pending attempts are cancelled when due); true resumes and clears the failure state' }))
}, { additionalProperties: false, minProperties: 1, examples: [{ events: ['purchase_order.confirmed', 'purchase_order.shipped', 'purchase_order.received'] }] })
export type UpdateWebhookInput = Static<typeof UpdateWebhookBody>

export const RotateSecretBody = Type.Object({
  overlapSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86_400, default: 86_400, description: 'How long the previous secret keeps signing alongside the new one (default 24 h; 0 retires it at once)' }))
}, { additionalProperties: false, examples: [{ overlapSeconds: 86_400 }] })
export type RotateSecretInput = Static<typeof RotateSecretBody>

export const ListDeliveriesQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('PENDING'), Type.Literal('SUCCEEDED'), Type.Literal('FAILED'), Type.Literal('CANCELLED')])),
  eventId: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  ...page
}, { additionalProperties: false })
export type ListDeliveriesInput = Static<typeof ListDeliveriesQuery>

export const DeliveryParams = Type.Object({
  id: Uuid(),
  deliveryId: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
}, { additionalProperties: false })
