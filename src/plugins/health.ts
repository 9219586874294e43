// Liveness, readiness (database reachable, every migration applied, revocation list loaded, the
// start's warm-up over; 503 otherwise) and Prometheus metrics: request counts and latency per
// route and status, pool usage, event-loop lag (default process metrics), outbox backlog, schema
// compilation and the warm-up.
import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { onRequestHookHandler } from 'fastify'
import { Type } from '@sinclair/typebox'
import { sql } from 'kysely'
import client from 'prom-client'
import { pendingCompilations } from '../lib/lazy-compile.js'
import { Warmup } from '../lib/warmup.js'
import type { Pool } from 'pg'
import { migrationsCurrent } from '../db/migrate.js'
import { AppError } from '../lib/problems.js'
import { sendProblem } from './errors.js'
import { ProblemRef } from '../lib/schemas.js'
import { unsealedBacklog } from '../domains/audit/audit.service.js'
import { reportMetrics } from '../domains/reports/reports.cache.js'
import { PRIVATE_EVENT_TYPES } from '../lib/outbox.js'

export interface HealthOptions { pool: Pool }

declare module 'fastify' {
  interface FastifyInstance {
    /** the registry /metrics serves: domains add their own metrics to it */
    metrics: client.Registry
    /** the warm-up after listen that readiness waits for (src/server.ts runs it; nobody else does) */
    warmup: Warmup
  }
}

/** Accepts exactly `Authorization: Bearer <token>` (compared in constant time), else 401. */
function requireBearer (token: string): onRequestHookHandler {
  const expected = createHash('sha256').update(token).digest()
  return function metricsToken (request, _reply, done) {
    const header = request.headers.authorization ?? ''
    const given = createHash('sha256').update(header.slice(0, 7).toLowerCase() === 'bearer ' ? header.slice(7) : '').digest()
    done(timingSafeEqual(given, expected) ? undefined : new AppError('UNAUTHENTICATED', 'Send Authorization: Bearer <METRICS_TOKEN>'))
  }
}

const HealthBody = Type.Object({ status: Type.String({ enum: ['ok', 'ready'] }), checks: Type.Optional(Type.Record(Type.String(), Type.String({ enum: ['ok'] }))) }, { description: 'The process is up (live) or ready to serve (ready)' })

export default fp<HealthOptions>(async function healthPlugin (app, opts) {
  const registry = new client.Registry()
  app.decorate('metrics', registry)
  const warmup = new Warmup()
  app.decorate('warmup', warmup)
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 })
  const duration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'Request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry]
  })
  const pool = opts.pool
  // eslint-disable-next-line no-new
  new client.Gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect () {
      this.set({ state: 'total' }, pool.totalCount)
      this.set({ state: 'idle' }, pool.idleCount)
      this.set({ state: 'waiting' }, pool.waitingCount)
    }
  })
  // eslint-disable-next-line no-new
  new client.Gauge({
    name: 'schemas_pending_compilation',
    help: 'Route validators and serializers not compiled yet (compiled on first use, the rest in the background after start)',
    registers: [registry],
    collect () { this.set(pendingCompilations()) }
  })
  // eslint-disable-next-line no-new
  new client.Gauge({
    name: 'warmup_complete',
    help: 'The warm-up after start (compiling the remaining route schemas) is over, failed or not: 1, readiness no longer waits for it; 0 while it runs',
    registers: [registry],
    collect () { this.set(warmup.pending ? 0 : 1) }
  })
  // eslint-disable-next-line no-new
  new client.Gauge({
    name: 'outbox_backlog',
    help: 'Outbox events not yet dispatched (to the events feed and webhooks; the mailer\'s own events excluded)',
    registers: [registry],
    async collect () {
      const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox_events WHERE dispatched_at IS NULL AND type <> ALL(${PRIVATE_EVENT_TYPES}::text[])`.execute(app.db).catch(() => undefined)
      if (r !== undefined) this.set(r.rows[0]?.n ?? 0)
    }
  })

  // rate limits (src/plugins/rate-limit.ts): shared in Redis, or per instance while Redis is unreachable
  if (app.hasDecorator('rateLimitStatus')) {
    // eslint-disable-next-line no-new
    new client.Gauge({
      name: 'rate_limit_redis_up',
      help: 'Rate-limit counters: 1 shared in Redis, 0 counted per instance (Redis unreachable, or not reached yet since the start); absent without REDIS_URL',
      registers: [registry],
      collect () { const s = app.rateLimitStatus(); if (s.redis !== 'off') this.set(s.redis === 'up' ? 1 : 0) }
    })
    // eslint-disable-next-line no-new
    new client.Counter({
      name: 'rate_limit_redis_outages_total',
      help: 'Times rate limiting switched from Redis to per-instance counting',
      registers: [registry],
      collect () { this.reset(); this.inc(app.rateLimitStatus().outages) }
    })
    // eslint-disable-next-line no-new
    new client.Counter({
      name: 'rate_limit_local_fallbacks_total',
      help: 'Requests counted in this instance\'s memory because Redis could not count them',
      registers: [registry],
      collect () { this.reset(); this.inc(app.rateLimitStatus().fallbacks) }
    })
  }

  app.addHook('onResponse', function (request, reply, done) {
    const route = request.routeOptions.url
    if (route !== undefined && route !== '/metrics') {
      duration.observe({ method: request.method, route, status: reply.statusCode }, reply.elapsedTime / 1000)
    }
    done()
  })

  const common = { tags: ['operations'], response: { 200: HealthBody, '4xx': ProblemRef, '5xx': ProblemRef } }
  app.get('/health/live', { config: { access: 'public' }, schema: { ...common, operationId: 'healthLive', summary: 'Liveness', description: 'The process is up. Public.' } },
    async () => ({ status: 'ok' }))

  // eslint-disable-next-line no-new
  new client.Gauge({
    name: 'audit_unsealed_backlog',
    help: 'Audit events committed but not yet linked into the hash chain (sealing lags commits by about a second)',
    registers: [registry],
    async collect () {
      const r = await unsealedBacklog(app.db).catch(() => undefined)
      if (r !== undefined) this.set(r.unsealedEvents)
    }
  })
  // eslint-disable-next-line no-new
  new client.Gauge({
    name: 'audit_unsealed_oldest_seconds',
    help: 'How long the oldest audit event not yet linked into the hash chain has waited (verify fails above 60 s)',
    registers: [registry],
    async collect () {
      const r = await unsealedBacklog(app.db).catch(() => undefined)
      if (r !== undefined) this.set(r.oldestUnsealedSeconds)
    }
  })

  let migrated = false
  app.get('/health/ready', { config: { access: 'public' }, schema: { ...common, operationId: 'healthReady', summary: 'Readiness', description: 'The database is reachable, every migration is applied, the token revocation list is loaded and the warm-up after start is over (the route schemas left compiled, a few seconds after the process listens; liveness answers meanwhile); 503 with Retry-After otherwise. Public.' } },
    async (_request, reply) => {
      if (app.draining()) throw new AppError('SERVICE_UNAVAILABLE', 'The service is shutting down', { retryAfterSeconds: 1 })
      try {
        await sql`SELECT 1`.execute(app.db)
        if (!migrated) migrated = await migrationsCurrent(app.db)
      } catch {
        throw new AppError('SERVICE_UNAVAILABLE', 'The database is unreachable', { retryAfterSeconds: 2 })
      }
      if (!migrated) throw new AppError('SERVICE_UNAVAILABLE', 'Database migrations are not all applied', { retryAfterSeconds: 5 })
      // protected routes answer 503 until then (src/plugins/auth.ts)
      if (!app.tokenGuard.loaded) throw new AppError('SERVICE_UNAVAILABLE', 'The token revocation list is not loaded yet', { retryAfterSeconds: 2 })
      // an expected state at every start, answered without the error log a thrown 5xx writes
      if (warmup.pending) return sendProblem(reply, new AppError('SERVICE_UNAVAILABLE', 'The instance is warming up (compiling route schemas)', { retryAfterSeconds: 1 }))
      return { status: 'ready', checks: { database: 'ok', migrations: 'ok' } }
    })

  // /metrics: public outside production by default (METRICS_PUBLIC); otherwise the scraper's
  // METRICS_TOKEN when configured (its own check below, so rbac sees it as public), else an access
  // token with audit:read.
  const scraperToken = app.conf.METRICS_PUBLIC ? undefined : app.conf.METRICS_TOKEN
  const metricsAccess = app.conf.METRICS_PUBLIC || scraperToken !== undefined ? 'public' : 'audit:read'
  app.get('/metrics', {
    config: { access: metricsAccess },
    schema: { hide: true },
    onRequest: scraperToken === undefined ? [] : [requireBearer(scraperToken)]
  }, async (_req, reply) => {
    void reply.type(registry.contentType)
    // the report cache's counters (hit rate) live for the process, outside this app's registry
    return await client.Registry.merge([registry, reportMetrics]).metrics()
  })
}, { name: 'health', dependencies: ['errors', 'rbac', 'drain'] })
