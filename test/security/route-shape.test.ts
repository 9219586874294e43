// Every operation of the OpenAPI document has the house shape (src/lib/define-route.ts), checked on
// the generated document so a route added later is covered without editing this file: an
// operationId, exactly one declared tag, a summary, a description saying who may call it, the
// standard problem responses, the security requirement its access implies, and an Idempotency-Key
// header on every audited write (required where the route requires it); problem responses served
// as application/problem+json, named success responses, the response headers a client relies on
// (X-Request-Id, RateLimit-*, Retry-After, Location on 201, ETag on conditional reads,
// Idempotent-Replayed on audited writes), enums as one `enum`, and optional bodies marked optional.
// At run time: every 201 carries the Location it documents, a known path with another method is
// 405 with Allow, a body-less action is accepted, and query parameters follow the documented rule.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { can, ROLES, type Permission, type Role } from '../../src/lib/permissions.js'
import type { App } from '../../src/lib/route.js'
import { bearer, createTestApp, expectProblem, tokenFor } from '../helpers/app.js'
import { createStation } from '../helpers/factories.js'
import { requestFor, routeKey, Scene } from '../helpers/route-requests.js'

interface Parameter { in: string, name: string, required?: boolean }
interface Media { schema?: Record<string, unknown> }
interface Response { description?: string, headers?: Record<string, unknown>, content?: Record<string, Media> }
interface Operation {
  operationId?: string
  tags?: string[]
  summary?: string
  description?: string
  security?: unknown[]
  parameters?: Parameter[]
  requestBody?: { required?: boolean, content?: Record<string, Media> }
  responses?: Record<string, Response>
}
interface Doc { tags: Array<{ name: string }>, paths: Record<string, Record<string, Operation>>, components: { schemas: Record<string, Record<string, unknown>> } }

/** Every operation of the document with where it is. */
const operations = (): Array<{ where: string, path: string, method: string, op: Operation }> =>
  Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ where: `${method.toUpperCase()} ${path}`, path, method, op })))
const headerNames = (r: Response | undefined): string[] => Object.keys(r?.headers ?? {}).map(h => h.toLowerCase())

/** Every subschema of a schema (properties, items, anyOf…), depth first. */
function * subschemas (schema: unknown): Generator<Record<string, unknown>> {
  if (typeof schema !== 'object' || schema === null) return
  if (Array.isArray(schema)) { for (const s of schema) yield * subschemas(s); return }
  const s = schema as Record<string, unknown>
  yield s
  for (const v of Object.values(s)) if (typeof v === 'object') yield * subschemas(v)
}

let app: App
let doc: Doc
beforeAll(async () => {
  app = await createTestApp()
  doc = app.swagger() as unknown as Doc
})
afterAll(async () => { await app.close() })

const toOpenApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')

describe('route shape', () => {
  it('every operation: operationId, one declared tag, summary, description, problem responses, security', () => {
    const tags = new Set(doc.tags.map(t => t.name))
    const ids = new Set<string>()
    const failures: string[] = []
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`
        if (op.operationId === undefined) failures.push(`${where}: no operationId`)
        else if (ids.has(op.operationId)) failures.push(`${where}: duplicate operationId ${op.operationId}`)
        else ids.add(op.operationId)
        if (op.tags?.length !== 1 || !tags.has(op.tags[0] as string)) failures.push(`${where}: tags ${JSON.stringify(op.tags)}`)
        if ((op.summary ?? '').length < 5) failures.push(`${where}: no summary`)
        if ((op.description ?? '').length < 20) failures.push(`${where}: no description`)
        for (const code of ['4XX', '5XX']) if (op.responses?.[code] === undefined) failures.push(`${where}: no ${code} problem response`)
        if (op.security === undefined) failures.push(`${where}: no security requirement (public routes declare [])`)
      }
    }
    expect(failures).toEqual([])
  })

  it('every declared tag is used', () => {
    const used = new Set(Object.values(doc.paths).flatMap(ops => Object.values(ops).flatMap(op => op.tags ?? [])))
    expect(doc.tags.map(t => t.name).filter(t => !used.has(t))).toEqual([])
  })

  it('audited writes document Idempotency-Key (required where the route requires it)', () => {
    const failures: string[] = []
    for (const r of app.routeTable) {
      if (r.hidden || r.audit === undefined || 'skip' in r.audit) continue
      for (const method of ([] as string[]).concat(r.method)) {
        const op = doc.paths[toOpenApiPath(r.url)]?.[method.toLowerCase()]
        if (op === undefined) { failures.push(`${method} ${r.url}: not in the document`); continue }
        const key = op.parameters?.find(p => p.in === 'header' && p.name === 'idempotency-key')
        if (key === undefined) failures.push(`${method} ${r.url}: Idempotency-Key not documented`)
        else if ((key.required === true) !== (r.idempotency === 'required')) failures.push(`${method} ${r.url}: Idempotency-Key required=${String(key.required)}`)
      }
    }
    expect(failures).toEqual([])
  })
})

describe('responses and headers in the document', () => {
  it('problem responses are application/problem+json, and only that', () => {
    const failures: string[] = []
    for (const { where, op } of operations()) {
      for (const [status, res] of Object.entries(op.responses ?? {})) {
        if (!/^[45]/.test(status)) continue
        const media = Object.keys(res.content ?? {})
        if (media.length !== 1 || media[0] !== 'application/problem+json') failures.push(`${where} ${status}: ${media.join(', ')}`)
        else if (res.content?.['application/problem+json']?.schema?.$ref !== '#/components/schemas/Problem') failures.push(`${where} ${status}: not the Problem schema`)
      }
      for (const status of ['401', '429', '500']) {
        // health checks are exempt from rate limiting and take no token
        if (op.responses?.[status] === undefined && !where.includes('/health') && (status === '500' || op.security?.length !== 0)) failures.push(`${where}: no ${status}`)
      }
    }
    expect(failures).toEqual([])
  })

  it('success responses are described and carry the headers a client relies on', () => {
    const failures: string[] = []
    for (const { where, path, op } of operations()) {
      const conditional = op.responses?.['304'] !== undefined
      const audited = (op.parameters ?? []).some(p => p.in === 'header' && p.name === 'idempotency-key')
      for (const [status, res] of Object.entries(op.responses ?? {})) {
        const names = headerNames(res)
        if (!names.includes('x-request-id')) failures.push(`${where} ${status}: no X-Request-Id`)
        if (/^[24]/.test(status) && !path.startsWith('/health') && !(names.includes('ratelimit-limit') && names.includes('ratelimit-reset'))) failures.push(`${where} ${status}: no RateLimit headers`)
        if (!/^2/.test(status)) continue
        if (res.description === undefined || res.description === 'Default Response' || res.description.length < 5) failures.push(`${where} ${status}: described as ${JSON.stringify(res.description)}`)
        if (status === '201' && !names.includes('location')) failures.push(`${where} 201: no Location`)
        if (audited && !names.includes('idempotent-replayed')) failures.push(`${where} ${status}: no Idempotent-Replayed`)
        if (conditional && status === '200' && !names.includes('etag')) failures.push(`${where} 200: answers 304 but declares no ETag`)
      }
      if (conditional && !headerNames(op.responses?.['304']).includes('etag')) failures.push(`${where} 304: no ETag`)
      for (const status of ['429', '503', '5XX']) {
        if (op.responses?.[status] !== undefined && !path.startsWith('/health') && !headerNames(op.responses[status]).includes('retry-after')) failures.push(`${where} ${status}: no Retry-After`)
      }
    }
    expect(failures).toEqual([])
  })

  it('an enum is one enum, not an anyOf of one-value branches', () => {
    const failures: string[] = []
    const oneValue = (s: Record<string, unknown>): boolean => s.const !== undefined || (Array.isArray(s.enum) && s.enum.length === 1)
    const check = (where: string, schema: unknown): void => {
      for (const s of subschemas(schema)) {
        const any = s.anyOf as Array<Record<string, unknown>> | undefined
        if (Array.isArray(any) && any.filter(oneValue).length > 1) failures.push(`${where}: anyOf of ${any.filter(oneValue).length} single values`)
      }
    }
    for (const [name, schema] of Object.entries(doc.components.schemas)) check(`#/components/schemas/${name}`, schema)
    for (const { where, op } of operations()) check(where, op)
    expect(failures).toEqual([])
  })

  it('a body whose fields are all optional is an optional body', () => {
    const failures: string[] = []
    for (const { where, op } of operations()) {
      const schema = op.requestBody?.content?.['application/json']?.schema
      if (schema === undefined || schema.type !== 'object') continue
      const requires = Array.isArray(schema.required) && schema.required.length > 0
      if (op.requestBody?.required !== requires) failures.push(`${where}: requestBody.required ${String(op.requestBody?.required)} with required fields ${JSON.stringify(schema.required ?? [])}`)
    }
    expect(failures).toEqual([])
  })
})

describe('HTTP behaviour the document promises', () => {
  it('every route that creates (201) answers Location, a URL that reads the created resource where a GET exists', async () => {
    const failures: string[] = []
    const creating = app.routeTable.filter(r => !r.hidden && doc.paths[toOpenApiPath(r.url)]?.[r.method.toLowerCase()]?.responses?.['201'] !== undefined)
    expect(creating.length).toBeGreaterThan(5)
    for (const r of creating) {
      const role: Role | undefined = ROLES.find(x => can(x, r.access as Permission))
      const scene = await Scene.create(app)
      const caller = role === undefined ? scene.callers.STATION : scene.callers[role]
      const res = await app.inject(await requestFor(app, r, scene, caller))
      if (res.statusCode !== 201) { failures.push(`${routeKey(r)} → ${res.statusCode}: ${res.body.slice(0, 200)}`); continue }
      const location = res.headers.location
      if (typeof location !== 'string' || !location.startsWith('/v1/')) { failures.push(`${routeKey(r)}: Location ${String(location)}`); continue }
      const readable = Object.entries(doc.paths).some(([p, ops]) => ops.get !== undefined && new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(location))
      if (readable) {
        const read = await app.inject({ method: 'GET', url: location, headers: bearer(caller.token) })
        if (read.statusCode !== 200) failures.push(`${routeKey(r)}: GET ${location} → ${read.statusCode}`)
      }
    }
    expect(failures).toEqual([])
  })

  it('a known path with another method is 405 with Allow; an unknown path stays 404', async () => {
    const token = tokenFor(app, { role: 'ADMIN' })
    const res = await app.inject({ method: 'DELETE', url: '/v1/me', headers: bearer(token) })
    expectProblem(res, 405, 'METHOD_NOT_ALLOWED')
    expect(res.headers.allow).toBe('GET, HEAD')
    const item = await app.inject({ method: 'PUT', url: `/v1/articles/${randomUUID()}`, headers: bearer(token) })
    expectProblem(item, 405, 'METHOD_NOT_ALLOWED')
    expect(String(item.headers.allow).split(', ')).toEqual(['GET', 'HEAD', 'PATCH'])
    expectProblem(await app.inject({ method: 'GET', url: '/v1/nowhere', headers: bearer(token) }), 404, 'ROUTE_NOT_FOUND')
    expectProblem(await app.inject({ method: 'DELETE', url: '/v1/me/nowhere', headers: bearer(token) }), 404, 'ROUTE_NOT_FOUND')
  })

  it('an action whose body fields are all optional accepts no body at all (no Content-Type either)', async () => {
    const station = await createStation(app.db)
    const token = tokenFor(app, { role: 'STATION', organizationId: station.id })
    // checkout's body has no field: without one it gets past validation (an empty cart is 422)
    const res = await app.inject({ method: 'POST', url: `/v1/stations/${station.id}/cart/checkout`, headers: { ...bearer(token), 'idempotency-key': randomUUID() } })
    expectProblem(res, 422, 'CART_EMPTY')
    const admin = tokenFor(app, { role: 'ADMIN' })
    const off = await app.inject({ method: 'POST', url: `/v1/stations/${station.id}/deactivate`, headers: bearer(admin) })
    expect(off.statusCode, off.body).toBe(200)
    // a body that is present is still validated
    expectProblem(await app.inject({ method: 'POST', url: `/v1/stations/${station.id}/activate`, headers: bearer(admin), payload: { unexpected: 1 } }), 400, 'VALIDATION_FAILED')
  })

  it('ignores the cache-busting parameter `_`; any other undeclared parameter is a 400 naming it', async () => {
    const token = tokenFor(app, { role: 'ADMIN' })
    const busted = await app.inject({ method: 'GET', url: '/v1/articles?limit=2&_=1700000000000', headers: bearer(token) })
    expect(busted.statusCode, busted.body).toBe(200)
    const typo = await app.inject({ method: 'GET', url: '/v1/articles?limt=2', headers: bearer(token) })
    const problem = expectProblem(typo, 400, 'VALIDATION_FAILED')
    expect(problem.detail).toMatch(/^Unknown query parameter "limt": this operation accepts .*\blimit\b.*\bcursor\b/)
    expect(problem.errors).toEqual([{ pointer: '/limt', code: 'UNKNOWN_PARAMETER', detail: 'unknown query parameter "limt"' }])
  })
})
