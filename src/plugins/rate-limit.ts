// Per-user (per-IP when anonymous) rate limiting, configurable and switchable off for benchmarks.
// It runs after authentication (preParsing), so the key is the verified user, not something a
// client can forge, and before the body is parsed.
//
// Counters live in Redis when REDIS_URL is set, so every instance draws on one budget; otherwise in
// process memory. Redis is never allowed to fail a request or hold it up: a counter waits for Redis
// at most REDIS_TIMEOUT_MS, and while Redis is unreachable (connection lost, or a command timed out
// within the last second) requests are counted in this instance's memory instead — the same limit,
// per instance. The switch is logged once per outage (and once on recovery), and /metrics shows it:
// rate_limit_redis_up (1 shared, 0 per instance), rate_limit_redis_outages_total and
// rate_limit_local_fallbacks_total (requests counted in memory because Redis could not count them).
import fp from 'fastify-plugin'
import rateLimit, { type FastifyRateLimitOptions, type FastifyRateLimitStore } from '@fastify/rate-limit'
import type { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import { AppError } from '../lib/problems.js'

export interface RateLimitStatus {
  /**
   * off: no REDIS_URL (or limits disabled); connecting: not connected yet since the start (per
   * instance meanwhile); up: counters shared in Redis; down: per instance since an outage
   */
  redis: 'off' | 'connecting' | 'up' | 'down'
  outages: number
  fallbacks: number
}

declare module 'fastify' {
  interface FastifyInstance {
    /** where rate-limit counters are kept right now (read by /metrics) */
    rateLimitStatus: () => RateLimitStatus
  }
}

type Incr = (error: Error | null, result?: { current: number, ttl: number }) => void

/** Fixed-window counters in process memory, bounded in size (expired windows swept first). */
export class MemoryCounters {
  readonly #windows = new Map<string, { current: number, resetAt: number }>()
  constructor (readonly maxKeys = 50_000) {}

  incr (key: string, windowMs: number, now = Date.now()): { current: number, ttl: number } {
    let w = this.#windows.get(key)
    if (w === undefined || w.resetAt <= now) {
      if (w === undefined && this.#windows.size >= this.maxKeys) this.#sweep(now)
      w = { current: 0, resetAt: now + windowMs }
      this.#windows.set(key, w)
    }
    w.current++
    return { current: w.current, ttl: w.resetAt - now }
  }

  #sweep (now: number): void {
    for (const [k, w] of this.#windows) if (w.resetAt <= now) this.#windows.delete(k)
    // still full: drop the oldest windows (insertion order), never grow without bound
    for (const k of this.#windows.keys()) {
      if (this.#windows.size < this.maxKeys) break
      this.#windows.delete(k)
    }
  }
}

// INCR and the window's expiry in one step (what @fastify/rate-limit's own Redis store runs)
const INCR_SCRIPT = `
local current = redis.call('INCR', KEYS[1])
local ttl
if current == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
else
  ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
end
return {current, ttl}`

/** Whether Redis may be asked now; the outage bookkeeping shared by every route's store. */
export class RedisHealth {
  status: RateLimitStatus = { redis: 'connecting', outages: 0, fallbacks: 0 }
  #coolUntil = 0
  constructor (private readonly log: FastifyBaseLogger, private readonly coolMs = 1000) {}

  usable (connected: boolean): boolean {
    if (!connected) { this.down('connection lost'); return false }
    return Date.now() >= this.#coolUntil
  }

  /** a command failed or timed out: per-instance counting for the next `coolMs`, then Redis is tried again */
  failed (reason: string): void {
    this.#coolUntil = Date.now() + this.coolMs
    this.down(reason)
  }

  /** an outage starts (logged and counted once) — unless Redis was never reached since the start */
  down (reason: string): void {
    if (this.status.redis === 'down') return
    if (this.status.redis === 'connecting') {
      if (reason === 'connection lost' || reason === 'connection closed') return
      this.log.warn({ reason }, 'rate limits: Redis unreachable since the start, counting per instance until it is reached')
    } else this.log.warn({ reason }, 'rate limits: Redis unreachable, counting per instance until it is back')
    this.status.redis = 'down'
    this.status.outages++
  }

  up (): void {
    if (this.status.redis === 'up') return
    const first = this.status.redis === 'connecting'
    this.status.redis = 'up'
    this.#coolUntil = 0
    if (first) this.log.debug('rate limits: counters shared in Redis')
    else this.log.info({ fallbacks: this.status.fallbacks }, 'rate limits: Redis is back, counters shared again')
  }
}

interface RouteInfo { routeInfo?: { method?: string | string[], url?: string } }

interface StoreContext {
  run: (key: string, windowMs: number) => Promise<[number, number]>
  connected: () => boolean
  health: RedisHealth
  timeoutMs: number
}

/**
 * A @fastify/rate-limit store: Redis first, this instance's memory when Redis cannot answer within
 * `timeoutMs` (or is known to be unreachable). Never fails and never waits longer than that.
 */
export class SharedStore implements FastifyRateLimitStore {
  constructor (private readonly ctx: StoreContext, private readonly keyPrefix: string, private readonly memory = new MemoryCounters()) {}

  incr (key: string, cb: Incr, timeWindow?: number): void {
    const { health, timeoutMs } = this.ctx
    const windowMs = timeWindow ?? 60_000
    const local = (): void => {
      health.status.fallbacks++
      cb(null, this.memory.incr(key, windowMs))
    }
    if (!health.usable(this.ctx.connected())) { local(); return }
    let settled = false
    const timer = setTimeout(() => {
      // after this turn's I/O: an answer that arrived while the event loop was busy (timers run
      // before the poll phase) is read first, and is not mistaken for a slow Redis
      setImmediate(() => {
        if (settled) return
        settled = true
        health.failed(`no answer within ${timeoutMs} ms`)
        local()
      })
    }, timeoutMs)
    this.ctx.run(this.keyPrefix + key, windowMs).then(([current, ttl]) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      health.up()
      cb(null, { current, ttl })
    }, (err: Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      health.failed(err.message)
      local()
    })
  }

  child (routeOptions: object): FastifyRateLimitStore {
    const info = (routeOptions as RouteInfo).routeInfo
    return new SharedStore(this.ctx, `${this.keyPrefix}${String(info?.method ?? '')}${info?.url ?? ''}-`)
  }
}

/** The store constructor @fastify/rate-limit instantiates, counting in `redis` under `prefix`. */
export function sharedStore (redis: Redis, health: RedisHealth, timeoutMs: number, prefix = 'ge-rl:'): new (options: FastifyRateLimitOptions) => FastifyRateLimitStore {
  if (!('geRateLimit' in redis)) redis.defineCommand('geRateLimit', { numberOfKeys: 1, lua: INCR_SCRIPT })
  // defineCommand adds the method at run time: its declared shape
  const withCommand = redis as Redis & { geRateLimit: (key: string, windowMs: number) => Promise<[number, number]> }
  const ctx: StoreContext = { run: async (key, windowMs) => await withCommand.geRateLimit(key, windowMs), connected: () => redis.status === 'ready', health, timeoutMs }
  return class extends SharedStore {
    constructor (_options: FastifyRateLimitOptions) { super(ctx, prefix) }
  }
}

export default fp(async function rateLimitPlugin (app) {
  const conf = app.conf
  let health: RedisHealth | undefined
  app.decorate('rateLimitStatus', () => health?.status ?? { redis: 'off', outages: 0, fallbacks: 0 })
  if (!conf.RATE_LIMIT_ENABLED) return
  let redis: Redis | undefined
  if (conf.REDIS_URL !== undefined) {
    // loaded only when configured: the client costs ~25 MB of resident memory
    const { Redis: RedisClient } = await import('ioredis')
    const h = new RedisHealth(app.log)
    health = h
    redis = new RedisClient(conf.REDIS_URL, {
      connectTimeout: 1000,
      // commands fail at once while disconnected (the store then counts in memory), are never
      // queued for later and never re-sent after a reconnect (a counter would count twice)
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: Math.max(1000, conf.REDIS_TIMEOUT_MS * 10),
      // reconnects forever, at most every 2 s
      retryStrategy: (times: number) => Math.min(times * 100, 2000)
    })
    // every failed reconnect emits 'error': the outage is logged once, by the health tracker
    redis.on('error', (err: Error) => {
      app.log.debug({ err: err.message }, 'redis error')
      // a failed first connection is an outage too (a lost one is counted when it closes)
      if (h.status.redis === 'connecting') h.down(err.message)
    })
    redis.on('close', () => { h.down('connection closed') })
    redis.on('ready', () => { h.up() })
    app.addHook('onClose', async () => { redis?.disconnect() })
  }
  await app.register(rateLimit, {
    global: true,
    hook: 'preParsing',
    max: conf.RATE_LIMIT_MAX,
    timeWindow: conf.RATE_LIMIT_WINDOW_SECONDS * 1000,
    enableDraftSpec: true,
    // the shared store never fails; this is only a last resort
    skipOnError: true,
    ...(redis !== undefined && health !== undefined ? { store: sharedStore(redis, health, conf.REDIS_TIMEOUT_MS) } : {}),
    allowList: (req) => req.url.startsWith('/health') || req.url.startsWith('/metrics'),
    keyGenerator: (req) => req.actor !== undefined ? `u:${req.actor.userId}` : `ip:${req.ip}`,
    errorResponseBuilder: (_req, ctx) => {
      const e = new AppError('RATE_LIMITED', `Rate limit of ${ctx.max} requests per ${ctx.after} exceeded`, { retryAfterSeconds: Math.ceil(ctx.ttl / 1000) })
      return Object.assign(e, { statusCode: 429 })
    }
  })
}, { name: 'rate-limit', dependencies: ['errors', 'rbac'] })
