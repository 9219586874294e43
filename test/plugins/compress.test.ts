// Compression: the documents, Swagger UI's assets and lists are compressed for clients that accept
// it; single-resource reads, small bodies, event streams and partial content never are; a strong
// ETag on a compressed body becomes weak and revalidation still answers 304.
import { PassThrough } from 'node:stream'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import Fastify, { type FastifyInstance, type RouteShorthandOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import compressPlugin, { compressesRoute, isCompressibleType } from '../../src/plugins/compress.js'
import { bearer, createTestApp, tokenFor } from '../helpers/app.js'
import { createArticle } from '../helpers/factories.js'

let app: App
let admin: Record<string, string>
let articleId: string
beforeAll(async () => {
  app = await createTestApp()
  admin = bearer(tokenFor(app, { role: 'ADMIN' }))
  for (let i = 0; i < 12; i++) articleId = (await createArticle(app.db, { description: 'A packaging article with a description long enough to fill a list page. '.repeat(2) })).id
})
afterAll(async () => { await app.close() })

describe('which routes and media types compress', () => {
  it('chooses list pages, text exports, the documents and /metrics; never single-resource reads, binary content, event streams or writes', () => {
    const list = { type: 'object', properties: { items: { type: 'array' }, nextCursor: { type: 'string' } } }
    const one = { type: 'object', properties: { id: { type: 'string' } } }
    const get = (url: string, ok?: unknown) => ({ method: 'GET', url, schema: ok === undefined ? undefined : { response: { 200: ok } } })
    expect(compressesRoute(get('/openapi.json'))).toBe(true)
    expect(compressesRoute(get('/docs/static/*'))).toBe(true)
    expect(compressesRoute(get('/metrics'))).toBe(true)
    expect(compressesRoute(get('/v1/articles', list))).toBe(true)
    expect(compressesRoute({ ...get('/v1/articles', list), method: 'HEAD' })).toBe(true)
    expect(compressesRoute(get('/v1/reports/spend', { content: { 'application/json': { schema: { $ref: 'SpendReport' } }, 'text/csv': { schema: { type: 'string' } } } }))).toBe(true)
    expect(compressesRoute(get('/v1/articles/:id', one))).toBe(false)
    expect(compressesRoute(get('/v1/me', one))).toBe(false)
    expect(compressesRoute(get('/health/live', one))).toBe(false)
    expect(compressesRoute(get('/v1/documents/:id/content', { content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } }, 'image/png': { schema: { type: 'string', format: 'binary' } } } }))).toBe(false)
    expect(compressesRoute(get('/v1/events/stream', { content: { 'text/event-stream': { schema: { type: 'string' } } } }))).toBe(false)
    expect(compressesRoute({ method: 'POST', url: '/v1/articles', schema: { response: { 200: list } } })).toBe(false)
    expect(compressesRoute({ method: ['GET', 'POST'], url: '/v1/x', schema: { response: { 200: list } } })).toBe(false)
  })

  it('compresses text, JSON, XML, JavaScript and SVG, never an event stream or binary media', () => {
    for (const t of ['application/json; charset=utf-8', 'application/problem+json', 'text/html', 'text/csv', 'application/javascript; charset=UTF-8', 'text/css', 'image/svg+xml', 'application/xml']) expect(isCompressibleType(t), t).toBe(true)
    for (const t of ['text/event-stream', 'text/event-stream; charset=utf-8', 'application/pdf', 'image/png', 'image/jpeg', 'application/octet-stream', 'application/zip']) expect(isCompressibleType(t), t).toBe(false)
  })
})

describe('in the app', () => {
  it('compresses /openapi.json (gzip and br) with Vary: Accept-Encoding, the same JSON once decoded', async () => {
    const plain = await app.inject({ method: 'GET', url: '/openapi.json' })
    expect(plain.headers['content-encoding']).toBeUndefined()
    const gz = await app.inject({ method: 'GET', url: '/openapi.json', headers: { 'accept-encoding': 'gzip' } })
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(String(gz.headers.vary)).toMatch(/accept-encoding/i)
    expect(gunzipSync(gz.rawPayload).toString()).toBe(plain.body)
    expect(gz.rawPayload.length).toBeLessThan(plain.rawPayload.length / 4)
    const br = await app.inject({ method: 'GET', url: '/openapi.json', headers: { 'accept-encoding': 'br;q=1, gzip;q=0.5' } })
    expect(br.headers['content-encoding']).toBe('br')
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(plain.body)
  })

  it("compresses Swagger UI's JavaScript bundle", async () => {
    const page = await app.inject({ method: 'GET', url: '/docs/static/index.html' })
    const bundle = /src="\.\/(swagger-ui-bundle\.js)"/.exec(page.body)?.[1] ?? 'swagger-ui-bundle.js'
    const plain = await app.inject({ method: 'GET', url: `/docs/static/${bundle}` })
    expect(plain.statusCode).toBe(200)
    const gz = await app.inject({ method: 'GET', url: `/docs/static/${bundle}`, headers: { 'accept-encoding': 'gzip, deflate, br' } })
    expect(gz.headers['content-encoding']).toMatch(/^(br|gzip)$/)
    expect(gz.rawPayload.length).toBeLessThan(plain.rawPayload.length / 2)
  })

  it('compresses a large list, not a small one, and never a single-resource read (its ETag stays strong)', async () => {
    const list = await app.inject({ method: 'GET', url: '/v1/articles?limit=12', headers: { ...admin, 'accept-encoding': 'gzip' } })
    expect(list.statusCode).toBe(200)
    expect(list.headers['content-encoding']).toBe('gzip')
    expect(JSON.parse(gunzipSync(list.rawPayload).toString()).items).toHaveLength(12)
    const small = await app.inject({ method: 'GET', url: '/v1/articles?limit=1&q=no-such-article-anywhere', headers: { ...admin, 'accept-encoding': 'gzip' } })
    expect(small.statusCode).toBe(200)
    expect(small.rawPayload.length).toBeLessThan(1024)
    expect(small.headers['content-encoding']).toBeUndefined()
    const one = await app.inject({ method: 'GET', url: `/v1/articles/${articleId}`, headers: { ...admin, 'accept-encoding': 'gzip, br' } })
    expect(one.statusCode).toBe(200)
    expect(one.headers['content-encoding']).toBeUndefined()
    expect(one.headers.vary).toBeUndefined()
    expect(String(one.headers.etag)).toMatch(/^"/)
  })

  it('adds no hook at all to the hot single-resource reads (no cost per request), its two onSend hooks to lists', () => {
    // printRoutes' tree: a child's path is relative to its parent's, nested by indentation
    const onSend = new Map<string, string>()
    const stack: Array<{ depth: number, path: string }> = []
    let current = ''
    for (const line of app.printRoutes({ includeHooks: true, commonPrefix: false }).split('\n')) {
      const route = /(\/\S*) \(([A-Z]+)\)\s*$/.exec(line)
      if (route !== null) {
        const column = route.index
        if (line.includes('── ')) {
          while (stack.length > 0 && (stack.at(-1)?.depth ?? 0) >= column) stack.pop()
          stack.push({ depth: column, path: `${stack.at(-1)?.path ?? ''}${route[1] ?? ''}` })
        } else {
          while (stack.length > 0 && (stack.at(-1)?.depth ?? 0) > column) stack.pop()
        }
        current = `${route[2] ?? ''} ${stack.at(-1)?.path ?? ''}`
        continue
      }
      if (line.includes('(onSend)')) onSend.set(current, line)
    }
    const hooksOf = (key: string): string => {
      expect(onSend.has(key), `${key} in ${[...onSend.keys()].filter(k => k.includes('articles')).join(', ')}`).toBe(true)
      return onSend.get(key) ?? ''
    }
    expect(hooksOf('GET /v1/articles')).toContain('weakenEtagWhenEncoded')
    for (const hot of ['GET /v1/articles/:id', 'GET /v1/me', 'GET /health/live']) {
      expect(hooksOf(hot)).not.toContain('weakenEtagWhenEncoded')
      expect(hooksOf(hot)).not.toContain('onSend()')
    }
  })

  it('never compresses health checks or errors of single-resource reads', async () => {
    const live = await app.inject({ method: 'GET', url: '/health/live', headers: { 'accept-encoding': 'gzip' } })
    expect(live.headers['content-encoding']).toBeUndefined()
    const missing = await app.inject({ method: 'GET', url: '/v1/articles/00000000-0000-4000-8000-000000000000', headers: { ...admin, 'accept-encoding': 'gzip' } })
    expect(missing.statusCode).toBe(404)
    expect(missing.headers['content-encoding']).toBeUndefined()
  })
})

describe('ETags, partial content and event streams (a bare Fastify with the plugin)', () => {
  const big = JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ i, text: 'compressible text' })) })
  let bare: FastifyInstance
  beforeAll(async () => {
    bare = Fastify()
    await bare.register(compressPlugin)
    const list: RouteShorthandOptions = { schema: { response: { 200: { type: 'object', properties: { items: { type: 'array' } } } } } }
    const text: RouteShorthandOptions = { schema: { response: { 200: { type: 'string' } } } }
    bare.get('/list', list, async (request, reply) => {
      const etag = '"v42"'
      const inm = request.headers['if-none-match']
      if (inm !== undefined && inm.split(',').some((t: string) => t.trim() === etag || t.trim() === `W/${etag}`)) return await reply.code(304).header('etag', etag).send()
      return await reply.header('etag', etag).type('application/json').send(big)
    })
    bare.get('/weak', list, async (_request, reply) => await reply.header('etag', 'W/"w1"').type('application/json').send(big))
    bare.get('/partial', list, async (_request, reply) => await reply.code(206).header('content-range', `bytes 0-${big.length - 1}/${big.length}`).type('application/json').send(big))
    bare.get('/events', text, async (_request, reply) => {
      const stream = new PassThrough()
      stream.end(`retry: 1000\n\n${'data: {"x":1}\n\n'.repeat(200)}`)
      return await reply.type('text/event-stream; charset=utf-8').send(stream)
    })
    bare.get('/pdf', text, async (_request, reply) => await reply.type('application/pdf').send(Buffer.alloc(20_000, 0x20)))
    await bare.ready()
  })
  afterAll(async () => { await bare.close() })

  it('a strong ETag becomes weak when the body is encoded, stays strong otherwise, and revalidation answers 304', async () => {
    const identity = await bare.inject({ method: 'GET', url: '/list' })
    expect(identity.headers.etag).toBe('"v42"')
    const gz = await bare.inject({ method: 'GET', url: '/list', headers: { 'accept-encoding': 'gzip' } })
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(gz.headers.etag).toBe('W/"v42"')
    const again = await bare.inject({ method: 'GET', url: '/list', headers: { 'accept-encoding': 'gzip', 'if-none-match': String(gz.headers.etag) } })
    expect(again.statusCode).toBe(304)
    expect(again.rawPayload.length).toBe(0)
    const weak = await bare.inject({ method: 'GET', url: '/weak', headers: { 'accept-encoding': 'gzip' } })
    expect(weak.headers.etag).toBe('W/"w1"')
  })

  it('never encodes partial content, an event stream or a PDF', async () => {
    const partial = await bare.inject({ method: 'GET', url: '/partial', headers: { 'accept-encoding': 'gzip' } })
    expect(partial.statusCode).toBe(206)
    expect(partial.headers['content-encoding']).toBeUndefined()
    const events = await bare.inject({ method: 'GET', url: '/events', headers: { 'accept-encoding': 'gzip, br', accept: 'text/event-stream' } })
    expect(events.headers['content-encoding']).toBeUndefined()
    expect(events.body).toMatch(/^retry: 1000\n\ndata: \{"x":1\}/)
    const pdf = await bare.inject({ method: 'GET', url: '/pdf', headers: { 'accept-encoding': 'gzip' } })
    expect(pdf.headers['content-encoding']).toBeUndefined()
  })
})
