// Guards that grow with the app: they read the route table, so every route a domain adds is
// covered without touching this file.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Type } from '@sinclair/typebox'
import type { App } from '../../src/lib/route.js'
import { can, ROLES, type Permission, type Role } from '../../src/lib/permissions.js'
import { bearer, buildTestApp, countAudit, createTestApp, expectProblem, tokenFor } from '../helpers/app.js'
import { hasRecipe, requestFor, routeKey, Scene } from '../helpers/route-requests.js'
import { multipartBody } from '../helpers/multipart.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const fill = (url: string): string => url.replace(/:[A-Za-z]+/g, () => randomUUID())
const apiRoutes = (): App['routeTable'] => app.routeTable.filter(r => !r.hidden && !r.url.startsWith('/docs'))

type Operation = { requestBody?: { content?: Record<string, unknown> }, responses?: Record<string, { content?: Record<string, unknown> }> }
/** The route's operation in the OpenAPI document: what it consumes and produces (multipart uploads, binary downloads). */
const operation = (r: { method: string, url: string }): Operation =>
  (app.swagger() as { paths: Record<string, Record<string, Operation>> }).paths[r.url.replace(/:([A-Za-z]+)/g, '{$1}')]?.[r.method.toLowerCase()] ?? {}

describe('every route', () => {
  it('declares access, and protected routes answer 401 problem details without a token', async () => {
    const protectedRoutes = apiRoutes().filter(r => r.access !== 'public')
    expect(protectedRoutes.length).toBeGreaterThan(0)
    for (const r of protectedRoutes) {
      const res = await app.inject({ method: r.method as 'GET', url: fill(r.url), payload: ['GET', 'DELETE'].includes(r.method) ? undefined : {} })
      const body = expectProblem(res, 401)
      expect(res.headers['www-authenticate'], `${r.method} ${r.url}`).toMatch(/^Bearer/)
      expect(body.code).toBe('UNAUTHENTICATED')
    }
  })

  it('answers 401 for a garbage token', async () => {
    for (const r of apiRoutes().filter(r => r.access !== 'public')) {
      const res = await app.inject({ method: r.method as 'GET', url: fill(r.url), headers: { authorization: 'Bearer not.a.token' } })
      expectProblem(res, 401, 'INVALID_TOKEN')
    }
  })

  it('appears in the OpenAPI document with operationId, summary, tags and response schemas', async () => {
    const doc = app.swagger() as { paths: Record<string, Record<string, { operationId?: string, summary?: string, tags?: string[], responses?: Record<string, unknown>, security?: unknown[] }>> }
    const ids = new Set<string>()
    for (const r of apiRoutes().filter(r => !r.url.startsWith('/openapi') && r.url !== '/metrics')) {
      const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}')
      const op = doc.paths[path]?.[r.method.toLowerCase()]
      expect(op, `${r.method} ${path} missing from OpenAPI`).toBeDefined()
      expect(op?.operationId, `${r.method} ${path} operationId`).toBeTruthy()
      expect(ids.has(op?.operationId ?? ''), `duplicate operationId ${op?.operationId ?? ''}`).toBe(false)
      ids.add(op?.operationId ?? '')
      expect(op?.summary, `${r.method} ${path} summary`).toBeTruthy()
      expect(op?.tags?.length, `${r.method} ${path} tags`).toBeGreaterThan(0)
      const statuses = Object.keys(op?.responses ?? {})
      expect(statuses.some(s => s.startsWith('2') || s === '304'), `${r.method} ${path} success response`).toBe(true)
      expect(statuses.some(s => s.startsWith('4')), `${r.method} ${path} problem response`).toBe(true)
      if (r.access !== 'public') expect(op?.security, `${r.method} ${path} security`).toEqual([{ bearerAuth: [] }])
    }
  })

  it('every body-accepting route rejects unknown fields with 400 before doing anything', async () => {
    const token = tokenFor(app, { role: 'ADMIN' })
    const withBody = apiRoutes().filter(r => r.hasBody)
    expect(withBody.length).toBeGreaterThan(0)
    for (const r of withBody) {
      const before = await countAudit(app)
      // a multipart route gets the unknown field as a form field
      const form = operation(r).requestBody?.content?.['multipart/form-data'] !== undefined ? multipartBody([{ name: 'unexpectedField', value: '1' }]) : undefined
      const res = await app.inject({ method: r.method as 'POST', url: fill(r.url), headers: { ...bearer(token), 'content-type': form?.contentType ?? 'application/json', 'idempotency-key': `guard-${r.method}-${r.url}` }, payload: form?.payload ?? '{"unexpectedField":1}' })
      expectProblem(res, 400)
      expect(await countAudit(app), `${r.method} ${r.url}`).toBe(before)
    }
  })

  it('mutations that fail validation leave no audit event and answer a problem', async () => {
    const token = tokenFor(app, { role: 'ADMIN' })
    const mutations = apiRoutes().filter(r => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) && r.audit !== undefined && 'action' in r.audit)
    for (const r of mutations) {
      const before = await countAudit(app)
      const res = await app.inject({ method: r.method as 'POST', url: fill(r.url).replace(/[0-9a-f-]{36}/, 'not-a-uuid'), headers: { ...bearer(token), 'content-type': 'application/json' }, payload: '{"unexpectedField":1}' })
      expect(res.statusCode, `${r.method} ${r.url}: ${res.body}`).toBeGreaterThanOrEqual(400)
      expect(res.statusCode, `${r.method} ${r.url}: ${res.body}`).toBeLessThan(500)
      expectProblem(res, res.statusCode)
      expect(await countAudit(app), `${r.method} ${r.url} wrote an audit event on failure`).toBe(before)
    }
  })
})

describe('Content-Type of every answer', () => {
  // Swagger UI (and any client that looks at the header) cannot read a body without it: 16 routes
  // answered JSON without a Content-Type when their handler chose a per-audience serializer.
  const isJson = (ct: unknown): boolean => /^application\/json; charset=utf-8$/i.test(String(ct))
  // GET /v1/events/stream answers Server-Sent Events (asked for with Accept: text/event-stream)
  const isEventStream = (ct: unknown): boolean => /^text\/event-stream(;|$)/i.test(String(ct))

  it('every route, called successfully, answers application/json; its errors application/problem+json', async () => {
    const failures: string[] = []
    for (const r of apiRoutes()) {
      const role: Role | undefined = r.access === 'public' ? undefined : ROLES.find(x => can(x, r.access as Permission))
      const scene = await Scene.create(app)
      // public routes get no token; their bodies (login, refresh…) are the station user's
      const req = await requestFor(app, r, scene, role === undefined ? scene.callers.STATION : scene.callers[role])
      if (role === undefined) delete (req.headers as Record<string, unknown>).authorization
      const res = await app.inject(req)
      const what = `${role ?? 'anonymous'} ${routeKey(r)} → ${res.statusCode} ${String(res.headers['content-type'])}`
      // a route may declare another media type for its success (a document's content)
      const produces = Object.keys(operation(r).responses?.[String(res.statusCode)]?.content ?? {})
      const binary = produces.length > 0 && !produces.includes('application/json') && produces.includes(String(res.headers['content-type']).split(';')[0] ?? '')
      if (res.statusCode >= 200 && res.statusCode < 300 && binary) {
        if (res.headers['x-content-type-options'] !== 'nosniff') failures.push(`${what}: a declared ${String(res.headers['content-type'])} answer without nosniff`)
      } else if (res.statusCode >= 200 && res.statusCode < 300) {
        if (res.body.length > 0 && !isJson(res.headers['content-type']) && !isEventStream(res.headers['content-type'])) failures.push(`${what}: 2xx without application/json`)
        if (res.body.length > 0 && !isEventStream(res.headers['content-type'])) expect(() => JSON.parse(res.body), what).not.toThrow()
      } else {
        // a route with a known request must succeed: the check above must have run for it
        if (hasRecipe(r) || r.method === 'GET') failures.push(`${what}: expected a 2xx: ${res.body.slice(0, 300)}`)
        if (res.statusCode >= 400 && !String(res.headers['content-type']).startsWith('application/problem+json')) failures.push(`${what}: error without application/problem+json`)
      }
      // and one refusal of the same route: an unknown id (404), else a role without the permission (403)
      const denied = r.access === 'public' ? undefined : ROLES.find(x => !can(x, r.access as Permission))
      if (/:[A-Za-z]+/.test(r.url) && role !== undefined) {
        const miss = await app.inject(await requestFor(app, r, scene, scene.callers[role], { realIds: false }))
        if (miss.statusCode < 400 || !String(miss.headers['content-type']).startsWith('application/problem+json')) failures.push(`${role} ${routeKey(r)} unknown id → ${miss.statusCode} ${String(miss.headers['content-type'])}`)
      } else if (denied !== undefined) {
        const refused = await app.inject(await requestFor(app, r, scene, scene.callers[denied], { realIds: false }))
        if (refused.statusCode !== 403 || !String(refused.headers['content-type']).startsWith('application/problem+json')) failures.push(`${denied} ${routeKey(r)} → ${refused.statusCode} ${String(refused.headers['content-type'])}`)
      }
    }
    expect(failures).toEqual([])
  }, 120_000)
})

describe('boot guards', () => {
  it('refuses to boot when a route declares no access', async () => {
    const bad = await buildTestApp()
    expect(() => bad.get('/v1/unguarded', async () => ({ ok: true }))).toThrow(/declares no config.access/)
    await bad.close().catch(() => {})
  })

  it('refuses to boot when a mutation declares no audit', async () => {
    const bad = await buildTestApp()
    expect(() => bad.post('/v1/unaudited', { config: { access: 'articles:write' } }, async () => ({ ok: true }))).toThrow(/declares no config.audit/)
    await bad.close().catch(() => {})
  })

  it('refuses an audit skip without a reason and a malformed action', async () => {
    const a = await buildTestApp()
    expect(() => a.post('/v1/x', { config: { access: 'public', audit: { skip: '' } } }, async () => ({}))).toThrow(/needs a reason/)
    await a.close().catch(() => {})
    const b = await buildTestApp()
    expect(() => b.post('/v1/y', { config: { access: 'public', audit: { action: 'Bad Action', entity: 'x' } }, schema: { body: Type.Object({}) } }, async () => ({}))).toThrow(/entity.verb/)
    await b.close().catch(() => {})
  })
})
