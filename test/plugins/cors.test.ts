// CORS: nothing without CORS_ORIGINS; with an allow-list, preflights from allowed origins are
// answered before authentication, other origins get no Access-Control-* header and a 404 preflight.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { loadConfig, ConfigError } from '../../src/config.js'
import { parseCorsOrigins } from '../../src/plugins/cors.js'
import { bearer, createTestApp, expectProblem, tokenFor } from '../helpers/app.js'

const ALLOWED = 'https://app.example.com'
const OTHER = 'https://evil.example.net'

let plain: App
let withCors: App
beforeAll(async () => {
  plain = await createTestApp()
  withCors = await createTestApp({ CORS_ORIGINS: `${ALLOWED}, http://localhost:5173/` })
})
afterAll(async () => { await plain.close(); await withCors.close() })

const preflight = (origin: string, method = 'POST', headers = 'authorization,content-type,idempotency-key') => ({
  method: 'OPTIONS' as const,
  url: '/v1/carts/current/checkout',
  headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers }
})

const accessControl = (headers: Record<string, unknown>): string[] => Object.keys(headers).filter(h => h.startsWith('access-control-'))

describe('CORS_ORIGINS', () => {
  it('parses a comma-separated list into origins and refuses anything that is not one', () => {
    expect(parseCorsOrigins(undefined)).toEqual([])
    expect(parseCorsOrigins(' https://a.example.com , http://localhost:5173/ ')).toEqual(['https://a.example.com', 'http://localhost:5173'])
    expect(parseCorsOrigins('*')).toEqual(['*'])
    expect(loadConfig({ NODE_ENV: 'test', CORS_ORIGINS: 'https://a.example.com,http://b:8080' }).CORS_ORIGINS).toBe('https://a.example.com,http://b:8080')
    for (const bad of ['a.example.com', 'https://a.example.com/app', 'ftp://x.example.com']) {
      expect(() => loadConfig({ NODE_ENV: 'test', CORS_ORIGINS: bad })).toThrow(ConfigError)
    }
  })
})

describe('without CORS_ORIGINS (the default)', () => {
  it('sends no Access-Control-* header and answers a preflight 404 like an unknown route', async () => {
    const res = await plain.inject(preflight(ALLOWED))
    expectProblem(res, 404)
    expect(accessControl(res.headers)).toEqual([])
    const get = await plain.inject({ method: 'GET', url: '/health/live', headers: { origin: ALLOWED } })
    expect(get.statusCode).toBe(200)
    expect(accessControl(get.headers)).toEqual([])
    expect(get.headers.vary).toBeUndefined()
  })
})

describe('with an allow-list', () => {
  it('answers a preflight from an allowed origin 204 before authentication, with methods, headers and max-age', async () => {
    const res = await withCors.inject(preflight(ALLOWED))
    expect(res.statusCode).toBe(204)
    expect(res.body).toBe('')
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED)
    expect(res.headers['access-control-allow-credentials']).toBeUndefined()
    const methods = String(res.headers['access-control-allow-methods']).split(/,\s*/)
    expect(methods).toEqual(expect.arrayContaining(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']))
    const allowed = String(res.headers['access-control-allow-headers']).toLowerCase().split(/,\s*/)
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'idempotency-key', 'if-match', 'if-none-match']))
    expect(res.headers['access-control-max-age']).toBe('600')
    expect(String(res.headers.vary)).toContain('Origin')
    // the second listed origin, given with a trailing slash, is matched as its origin
    expect((await withCors.inject(preflight('http://localhost:5173', 'DELETE'))).headers['access-control-allow-origin']).toBe('http://localhost:5173')
    // a preflight on any path, known or not, is answered the same way (the browser then gets the real status)
    expect((await withCors.inject({ ...preflight(ALLOWED), url: '/v1/orders/00000000-0000-4000-8000-000000000000/confirm' })).statusCode).toBe(204)
  })

  it('refuses a preflight from another origin: 404 problem without Access-Control-Allow-Origin', async () => {
    for (const origin of [OTHER, 'https://app.example.com.evil.net', 'http://app.example.com', 'null']) {
      const res = await withCors.inject(preflight(origin))
      expectProblem(res, 404)
      expect(res.headers['access-control-allow-origin']).toBeUndefined()
      expect(res.headers['access-control-allow-methods']).toBeUndefined()
      expect(String(res.headers.vary)).toContain('Origin')
    }
  })

  it('exposes the integrator headers on responses to an allowed origin, errors included', async () => {
    const token = tokenFor(withCors, { role: 'ADMIN' })
    const res = await withCors.inject({ method: 'GET', url: '/v1/audit-events', headers: { origin: ALLOWED, ...bearer(token) } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED)
    const exposed = String(res.headers['access-control-expose-headers']).toLowerCase().split(/,\s*/)
    expect(exposed).toEqual(expect.arrayContaining(['etag', 'location', 'idempotent-replayed', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after', 'x-request-id']))
    expect(String(res.headers.vary)).toContain('Origin')
    // a 401 is readable by the page too (otherwise a browser reports an opaque network error)
    const denied = await withCors.inject({ method: 'GET', url: '/v1/audit-events', headers: { origin: ALLOWED } })
    expectProblem(denied, 401)
    expect(denied.headers['access-control-allow-origin']).toBe(ALLOWED)
  })

  it('serves other origins and non-browser clients without Access-Control-* headers', async () => {
    const other = await withCors.inject({ method: 'GET', url: '/health/live', headers: { origin: OTHER } })
    expect(other.statusCode).toBe(200)
    expect(accessControl(other.headers)).toEqual([])
    const noOrigin = await withCors.inject({ method: 'GET', url: '/health/live' })
    expect(accessControl(noOrigin.headers)).toEqual([])
    // an OPTIONS that is no preflight (no Origin) is a 404 as before
    expectProblem(await withCors.inject({ method: 'OPTIONS', url: '/health/live' }), 404)
  })

  it('keeps the OPTIONS * route out of the OpenAPI document and the route table of guarded routes', async () => {
    const doc = (await withCors.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>()
    expect(Object.keys(doc.paths)).not.toContain('*')
    const entry = withCors.routeTable.find(r => r.url === '*')
    expect(entry).toMatchObject({ method: 'OPTIONS', access: 'public', hidden: true })
  })
})
