// The events feed (PRODUCT.md §10): GET /v1/events (keyset pages) and GET /v1/events/stream (the
// same events live, as Server-Sent Events). Every role: a station or supplier receives the events
// about its own rows (its orders, transfers, stock alerts; a supplier its purchase orders and
// contracts; its subscriptions' webhook.disabled), platform staff every event.
//
// Streams are bounded per instance: at most EVENTS_STREAM_MAX_PER_USER open per user (429 beyond),
// each closed after EVENTS_STREAM_MAX_SECONDS (or the caller's `timeoutSeconds`) and never later
// than its access token's expiry, at once when the token is revoked, and when the instance drains
// or closes; a keep-alive comment every EVENTS_STREAM_HEARTBEAT_SECONDS. EventSource reconnects by
// itself (after `retry`), sending Last-Event-ID: the stream resumes exactly after it.
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import { defineRoute } from '../../lib/define-route.js'
import type { App } from '../../lib/route.js'
import { actorOf } from '../../lib/route.js'
import { AppError } from '../../lib/problems.js'
import type { AccessClaims } from '../../plugins/auth.js'
import { EventsHub } from './events.hub.js'
import { listEvents } from './events.reads.js'
import { EventPageSchema, eventSchemas, EventStreamResponse, ListEventsQuery, StreamEventsQuery, StreamHeaders } from './events.schemas.js'
import { EventStream } from './events.stream.js'

const WHO = 'Every role: a station or supplier user reads the events addressed to its organization (about its own orders, transfers, stock alerts, contracts, webhooks), platform staff every event.'
const RETRY_MS = 2000
const TICK_MS = 250

export interface EventsOptions { connectionString: string }

async function eventsRoutes (app: App, opts: EventsOptions): Promise<void> {
  for (const s of eventSchemas) app.addSchema(s)
  const conf = app.conf
  const hub = new EventsHub(app.db, opts.connectionString, conf.DATABASE_CONNECT_TIMEOUT_MS, app.log)
  const streams = new Set<EventStream>()
  const perUser = new Map<string, number>()
  let closing = false
  let tick: NodeJS.Timeout | undefined

  // deadlines, revocations, heartbeats and the drain, checked for every stream of the instance
  let beats = 0
  const check = (): void => {
    const now = Date.now()
    const beat = ++beats % Math.max(1, Math.round(conf.EVENTS_STREAM_HEARTBEAT_SECONDS * 1000 / TICK_MS)) === 0
    for (const s of streams) {
      if (closing || app.draining() || now >= s.deadline || app.tokenGuard.validAfter(s.actor.userId) > s.tokenIssuedMs) s.close()
      else if (beat) s.heartbeat()
    }
  }
  const closeAll = (): void => {
    closing = true
    for (const s of streams) s.close()
  }
  app.addHook('preClose', async () => { closeAll() })
  app.addHook('onClose', async () => { await hub.stop() })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/events',
    operationId: 'listEvents',
    tag: 'events',
    summary: 'Read the events feed',
    description: `${WHO} Oldest first in feed order (\`sequence\`), keyset-paginated: \`after\` a sequence (what a poller keeps) or the page's nextCursor; filter by \`type\` (repeatable). Positions only grow and become visible in order, so reading after the last sequence seen never misses an event. Kept OUTBOX_RETENTION_DAYS (30 by default).`,
    access: 'events:read',
    querystring: ListEventsQuery,
    response: { 200: Type.Ref(EventPageSchema) }
  }, async (request) => await listEvents(app.db, actorOf(request), request.query))

  defineRoute(app, {
    method: 'GET',
    url: '/v1/events/stream',
    operationId: 'streamEvents',
    tag: 'events',
    summary: 'Follow the events feed live (Server-Sent Events)',
    description: `${WHO} Requires \`Accept: text/event-stream\` (as EventSource sends; 406 NOT_ACCEPTABLE otherwise). Sends the caller's events after Last-Event-ID (or \`after\`; none: from now on) and then each new one as it is dispatched (usually within a second of its commit): \`id: <sequence>\`, \`event: <type>\`, \`data: <the event as JSON>\`. Filter by \`type\`. At most ${conf.EVENTS_STREAM_MAX_PER_USER} open streams per user and instance (429 RATE_LIMITED beyond); a stream lasts at most ${conf.EVENTS_STREAM_MAX_SECONDS} s (or \`timeoutSeconds\`) and never beyond the access token's expiry, ends when the token is revoked or the instance shuts down — reconnect with Last-Event-ID (EventSource does) to resume without a gap; a \`: keep-alive\` comment every ${conf.EVENTS_STREAM_HEARTBEAT_SECONDS} s.`,
    access: 'events:read',
    querystring: StreamEventsQuery,
    headers: StreamHeaders,
    response: { 200: EventStreamResponse }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const accept = request.headers.accept ?? ''
    if (!/(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept)) throw new AppError('NOT_ACCEPTABLE', 'This endpoint answers text/event-stream only: send Accept: text/event-stream (GET /v1/events reads the same events as JSON pages)')
    if (closing || app.draining()) throw new AppError('SERVICE_UNAVAILABLE', 'The service is shutting down; reconnect to another instance', { retryAfterSeconds: 1 })
    const open = perUser.get(actor.userId) ?? 0
    if (open >= conf.EVENTS_STREAM_MAX_PER_USER) throw new AppError('RATE_LIMITED', `At most ${conf.EVENTS_STREAM_MAX_PER_USER} event streams per user may be open at once`, { retryAfterSeconds: 5 })
    // the token was verified by the rbac hook: only its expiry and issue instant are read here
    const token = (request.headers.authorization ?? '').slice(7)
    const claims = app.jwt.decode<AccessClaims & { exp: number }>(token)
    const now = Date.now()
    const lifetime = Math.min(conf.EVENTS_STREAM_MAX_SECONDS, request.query.timeoutSeconds ?? Infinity) * 1000
    const deadline = Math.min(now + lifetime, (claims?.exp ?? 0) * 1000)
    const lastEventId = request.headers['last-event-id']
    // without a resume point: from now on (the hub's position)
    const after = lastEventId !== undefined ? Number(lastEventId) : request.query.after ?? await hub.position()

    perUser.set(actor.userId, open + 1)
    let removeListener = (): void => {}
    const stream = new EventStream(reply.raw, actor, {
      after,
      types: request.query.type,
      deadline,
      tokenIssuedMs: claims?.ms ?? now,
      onClose: () => {
        streams.delete(stream)
        removeListener()
        const n = (perUser.get(actor.userId) ?? 1) - 1
        if (n <= 0) perUser.delete(actor.userId)
        else perUser.set(actor.userId, n)
        if (streams.size === 0) { clearInterval(tick); tick = undefined }
      }
    })
    streams.add(stream)
    if (tick === undefined) { tick = setInterval(check, TICK_MS); tick.unref() }
    reply.hijack()
    // the headers the http plugin set (request id, nosniff), and the stream's own
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = String(v)
    reply.raw.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' })
    reply.raw.write(`retry: ${RETRY_MS}\n\n`)
    if (now >= deadline) { stream.close(); return }
    removeListener = hub.add(stream)
    try {
      // the hub's position first: what it pushes from then on, the catch-up need not read
      await hub.position()
      await stream.catchUp(app.db)
    } catch (err) {
      request.log.warn({ err }, 'event stream failed while catching up')
      stream.close()
    }
  })
}

export default fp<EventsOptions>(eventsRoutes, { name: 'events-routes', dependencies: ['auth', 'drain'] })
