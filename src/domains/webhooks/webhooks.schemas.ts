// Request and response schemas of webhook subscriptions and their deliveries (PRODUCT.md §10,
// API.md "Webhooks"). The signing secret appears in exactly two answers — creation and rotation —
// and never in a read.
import { Type, type Static } from '@sinclair/typebox'
import { Count, DateTime, Int32, Int64, Page, StringEnum, Text, Uuid, Version } from '../../lib/schemas.js'
import { EVENT_TYPES } from '../events/events.catalogue.js'

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()])
const NullableTime = (description: string) => Type.Union([DateTime({ description }), Type.Null()])

const DELIVERY_STATUSES = ['PENDING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const

export const EventTypeSchema = StringEnum(EVENT_TYPES, { description: 'A domain event type (see the events tag)' })

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
  url: Text(2048),
  description: Nullable(Text(500)),
  events: Type.Array(Text(100), { maxItems: 64 }),
  isActive: Type.Boolean(),
  failingSince: NullableTime('First failed attempt since the last success (null when healthy)'),
  disabledAt: NullableTime('When it was disabled after failing for the whole retry window'),
  disabledReason: Nullable(Text(500)),
  previousSecretExpiresAt: NullableTime('After a rotation: until when the previous secret still signs'),
  createdBy: Type.Union([Uuid(), Type.Null()]),
  createdAt: DateTime(),
  updatedAt: DateTime(),
  version: Version()
}

export const WebhookSchema = Type.Object(subscription, { $id: 'Webhook', additionalProperties: false })
export type WebhookView = Static<typeof WebhookSchema>

export const WebhookWithSecretSchema = Type.Object({
  ...subscription,
  secret: Type.String({ maxLength: 200, pattern: '^whsec_[A-Za-z0-9+/=]+$', description: 'The signing secret (`whsec_` + base64), shown only in this answer: store it now. Verify each delivery\'s `webhook-signature` with it (Standard Webhooks).', examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] })
}, { $id: 'WebhookWithSecret', additionalProperties: false })
export type WebhookWithSecretView = Static<typeof WebhookWithSecretSchema>

export const WebhookPageSchema = Page(Type.Ref(WebhookSchema), { $id: 'WebhookPage' })

export const DeliverySchema = Type.Object({
  id: Int64(),
  subscriptionId: Uuid(),
  eventId: Int64({ description: 'The event (its `id` in the message body; `webhook-id` is `evt_<eventId>`)' }),
  eventType: Text(100),
  attempt: Int32({ minimum: 1 }),
  trigger: StringEnum(['EVENT', 'RETRY', 'REPLAY']),
  status: StringEnum(DELIVERY_STATUSES),
  scheduledAt: DateTime({ description: 'When the attempt was due' }),
  attemptedAt: NullableTime('When it was made'),
  durationMs: Nullable(Count()),
  responseStatus: Nullable(Int32({ minimum: 100, maximum: 599, description: "The receiver's HTTP status" })),
  responseBody: Nullable(Text(4096, { description: "The first 4 KiB of the receiver's answer" })),
  error: Nullable(Text(500)),
  nextAttemptAt: NullableTime('On a failed attempt: when the next one is due (null: no retry left)'),
  deliveredAt: NullableTime('On success')
}, { $id: 'WebhookDelivery', additionalProperties: false })
export type DeliveryView = Static<typeof DeliverySchema>

export const DeliveryPageSchema = Page(Type.Ref(DeliverySchema), { $id: 'WebhookDeliveryPage' })

export const webhookSchemas = [WebhookSchema, WebhookWithSecretSchema, WebhookPageSchema, DeliverySchema, DeliveryPageSchema]

// ---- inputs ----------------------------------------------------------------------------------

const page = {
  limit: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 200, default: 50, description: 'Page size (max 200)' })),
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
  overlapSeconds: Type.Optional(Type.Integer({ format: 'int32', minimum: 0, maximum: 7 * 86_400, default: 86_400, description: 'How long the previous secret keeps signing alongside the new one (default 24 h; 0 retires it at once)' }))
}, { additionalProperties: false, examples: [{ overlapSeconds: 86_400 }] })
export type RotateSecretInput = Static<typeof RotateSecretBody>

export const ListDeliveriesQuery = Type.Object({
  status: Type.Optional(StringEnum(DELIVERY_STATUSES)),
  eventId: Type.Optional(Type.Integer({ format: 'int64', minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  ...page
}, { additionalProperties: false })
export type ListDeliveriesInput = Static<typeof ListDeliveriesQuery>

export const DeliveryParams = Type.Object({
  id: Uuid(),
  deliveryId: Type.Integer({ format: 'int64', minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
}, { additionalProperties: false })
