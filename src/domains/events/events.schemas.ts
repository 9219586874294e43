// The events feed (PRODUCT.md §10): the caller's domain events in feed order, as a keyset page or a
// Server-Sent Events stream.
import { Type, type Static } from '@sinclair/typebox'
import { DateTime, Int64, Page, StringEnum, Text } from '../../lib/schemas.js'
import { EVENT_TYPES } from './events.catalogue.js'

export const EventSchema = Type.Object({
  id: Int64({ description: 'The event id (webhooks send it as `webhook-id: evt_<id>`)' }),
  sequence: Int64({ description: 'Its position in the feed: increasing, never reused; resume after it (`after`, `Last-Event-ID`)' }),
  type: Text(100, { examples: ['purchase_order.confirmed'] }),
  occurredAt: DateTime({ description: 'When the change that produced it committed' }),
  data: Type.Unsafe<unknown>({ type: 'object', additionalProperties: true, description: 'What the event says: ids, number, statuses, version (per type: see the events catalogue in the README)' })
}, { $id: 'DomainEvent', additionalProperties: false })
export type EventView = Static<typeof EventSchema>

export const EventPageSchema = Page(Type.Ref(EventSchema), { $id: 'DomainEventPage' })

export const eventSchemas = [EventSchema, EventPageSchema]

const EventTypeFilter = Type.Array(StringEnum(EVENT_TYPES), { maxItems: 64, description: 'Only these types (repeat the parameter for several)' })
const After = Type.Integer({ format: 'int64', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Only events after this sequence' })

export const ListEventsQuery = Type.Object({
  after: Type.Optional(After),
  type: Type.Optional(EventTypeFilter),
  limit: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 200, default: 50, description: 'Page size (max 200)' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: "Opaque cursor from the previous page's nextCursor (wins over `after`)" }))
}, { additionalProperties: false })
export type ListEventsInput = Static<typeof ListEventsQuery>

export const StreamEventsQuery = Type.Object({
  after: Type.Optional(After),
  type: Type.Optional(EventTypeFilter),
  timeoutSeconds: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 86_400, description: 'Close the stream after this long (never later than EVENTS_STREAM_MAX_SECONDS nor the access token\'s expiry)' }))
}, { additionalProperties: false })
export type StreamEventsInput = Static<typeof StreamEventsQuery>

export const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ maxLength: 20, pattern: '^[0-9]{1,16}$', description: 'Sent by EventSource when it reconnects: the stream resumes after this sequence (wins over `after`)' }))
})

export const EventStreamResponse = Type.Unsafe<string>({
  description: 'A `text/event-stream`: `retry:` once, then per event `id: <sequence>`, `event: <type>`, `data: <the event as JSON>`; a `: keep-alive` comment every EVENTS_STREAM_HEARTBEAT_SECONDS',
  content: { 'text/event-stream': { schema: { type: 'string', maxLength: 2_147_483_647, description: 'An unbounded stream of events (closed by the service at EVENTS_STREAM_MAX_SECONDS)' } } }
})
