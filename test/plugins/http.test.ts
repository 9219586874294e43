// Request ids, security headers, health, metrics, docs, rate limiting and database outages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { genRequestId } from '../../src/plugins/http.js'
import { bearer, createTestApp, expectProblem, tokenFor } from '../helpers/app.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

describe('request ids and headers', () => {
  it('keeps a safe client request id and replaces an unsafe one', async () => {
    const kept = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'abc.DEF_123-x' } })
    expect(kept.headers['x-request-id']).toBe('abc.DEF_123-x')
    const replaced = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'bad id<script>' } })
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(genRequestId({ headers: { 'x-request-id': 'x'.repeat(129) } } as never)).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('sets nosniff everywhere, no-store on API responses, no X-Powered-By, a CSP on /docs', async () => {
    const api = await app.inject({ method: 'GET', url: '/v1/audit-events', headers: bearer(tokenFor(app, { role: 'ADMIN' })) })
    expect(api.headers['x-content-type-options']).toBe('nosniff')
    expect(api.headers['cache-control']).toBe('no-store')
    expect(api.headers['x-powered-by']).toBeUndefined()
    expect(String(api.headers['content-type'])).toBe('application/json; charset=utf-8')
    const docs = await app.inject({ method: 'GET', url: '/docs/' })
    expect(docs.statusCode).toBe(200)
    expect(String(docs.headers['content-security-policy'])).toContain("default-src 'self'")
  })
})

describe('operations endpoints', () => {
  it('reports liveness, readiness and Prometheus metrics', async () => {
    expect((await app.inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'ok' })
    const ready = await app.inject({ method: 'GET', url: '/health/ready' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json().checks).toEqual({ database: 'ok', migrations: 'ok' })
    const metrics = await app.inject({ method: 'GET', url: '/metrics' })
    expect(metrics.statusCode).toBe(200)
    expect(metrics.body).toContain('http_request_duration_seconds_bucket{')
    expect(metrics.body).toContain('route="/health/ready"')
    expect(metrics.body).toContain('db_pool_connections{state="total"}')
    expect(metrics.body).toContain('outbox_backlog')
    expect(metrics.body).toMatch(/^schemas_pending_compilation \d+/m)
    expect(metrics.body).toContain('nodejs_eventloop_lag')
  })

  it('serves the OpenAPI document with the bearer scheme and the problem catalogue', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.components.securitySchemes.bearerAuth.scheme).toBe('bearer')
    expect(doc.components.schemas.Problem).toBeDefined()
    expect(doc.info.description).toContain('IDEMPOTENCY_KEY_REUSED')
  })
})

describe('rate limiting', () => {
  it('answers 429 problems with Retry-After and rate-limit headers, per user', async () => {
    const limited = await createTestApp({ RATE_LIMIT_ENABLED: true, RATE_LIMIT_MAX: 3 })
    try {
      const a = bearer(tokenFor(limited, { role: 'ADMIN' }))
      const codes: number[] = []
      for (let i = 0; i < 4; i++) codes.push((await limited.inject({ method: 'GET', url: '/v1/audit-events', headers: a })).statusCode)
      expect(codes).toEqual([200, 200, 200, 429])
      const res = await limited.inject({ method: 'GET', url: '/v1/audit-events', headers: a })
      expectProblem(res, 429, 'RATE_LIMITED')
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
      expect(res.headers['ratelimit-limit']).toBe('3')
      const other = await limited.inject({ method: 'GET', url: '/v1/audit-events', headers: bearer(tokenFor(limited, { role: 'ADMIN' })) })
      expect(other.statusCode).toBe(200)
      expect((await limited.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200)
    } finally {
      await limited.close()
    }
  })
})

describe('database unavailable', () => {
  it('answers fast 503 problems with Retry-After and readiness reports it', async () => {
    const app2 = await createTestApp({ DATABASE_CONNECT_TIMEOUT_MS: 300 }, 'postgres://postgres@127.0.0.1:1/nowhere')
    try {
      const t0 = Date.now()
      const res = await app2.inject({ method: 'GET', url: '/v1/audit-events', headers: bearer(tokenFor(app2, { role: 'ADMIN' })) })
      expectProblem(res, 503, 'SERVICE_UNAVAILABLE')
      expect(res.headers['retry-after']).toBeDefined()
      expect(Date.now() - t0).toBeLessThan(5000)
      expectProblem(await app2.inject({ method: 'GET', url: '/health/ready' }), 503, 'SERVICE_UNAVAILABLE')
    } finally {
      await app2.close().catch(() => {})
    }
  })
})

describe('load shedding', () => {
  it('answers 503 problems with Retry-After when the event loop lags, but not in the first seconds after boot', async () => {
    const shedding = await createTestApp({ MAX_EVENT_LOOP_DELAY_MS: 1 })
    try {
      const block = (ms: number): void => { const end = Date.now() + ms; while (Date.now() < end) { /* busy */ } }
      block(300)
      await new Promise(resolve => setTimeout(resolve, 1100))
      expect((await shedding.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200) // grace period
      await new Promise(resolve => setTimeout(resolve, 1000))
      let res = await shedding.inject({ method: 'GET', url: '/health/live' })
      for (let i = 0; i < 10 && res.statusCode === 200; i++) {
        block(300)
        await new Promise(resolve => setTimeout(resolve, 1050))
        res = await shedding.inject({ method: 'GET', url: '/health/live' })
      }
      expectProblem(res, 503, 'SERVICE_UNAVAILABLE')
      expect(res.headers['retry-after']).toBe('2')
    } finally {
      await shedding.close()
    }
  })
})
