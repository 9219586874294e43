// Per-user (per-IP when anonymous) rate limiting, configurable and switchable off for benchmarks.
// Counters live in Redis when REDIS_URL is set, so several instances share one budget; otherwise
// in process memory. It runs after authentication (preParsing), so the key is the verified user,
// not something a client can forge, and before the body is parsed.
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { Redis } from 'ioredis'
import { AppError } from '../lib/problems.js'

export default fp(async function rateLimitPlugin (app) {
  const conf = app.conf
  if (!conf.RATE_LIMIT_ENABLED) return
  let redis: Redis | undefined
  if (conf.REDIS_URL !== undefined) {
    // loaded only when configured: the client costs ~25 MB of resident memory
    const { Redis: RedisClient } = await import('ioredis')
    redis = new RedisClient(conf.REDIS_URL, { connectTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false })
    redis.on('error', err => { app.log.warn({ err: err.message }, 'redis error (rate limiting degrades to allow)') })
    app.addHook('onClose', async () => { redis?.disconnect() })
  }
  await app.register(rateLimit, {
    global: true,
    hook: 'preParsing',
    max: conf.RATE_LIMIT_MAX,
    timeWindow: conf.RATE_LIMIT_WINDOW_SECONDS * 1000,
    enableDraftSpec: true,
    skipOnError: true,
    ...(redis !== undefined ? { redis, nameSpace: 'ge-rl:' } : {}),
    allowList: (req) => req.url.startsWith('/health') || req.url.startsWith('/metrics'),
    keyGenerator: (req) => req.actor !== undefined ? `u:${req.actor.userId}` : `ip:${req.ip}`,
    errorResponseBuilder: (_req, ctx) => {
      const e = new AppError('RATE_LIMITED', `Rate limit of ${ctx.max} requests per ${ctx.after} exceeded`, { retryAfterSeconds: Math.ceil(ctx.ttl / 1000) })
      return Object.assign(e, { statusCode: 429 })
    }
  })
}, { name: 'rate-limit', dependencies: ['errors', 'rbac'] })
