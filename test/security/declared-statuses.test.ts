// Every status a route is seen to answer is declared in its OpenAPI responses, with the media type
// it was served in — checked on the route table and the generated document, so a route added
// later is covered without editing this file. Each route is called as every role its access lets
// through (the requests of test/helpers/route-requests.ts, a fresh scene per mutation, as the
// access matrix does), and every GET that answered 200 is asked again as a client would:
// - with If-None-Match set to the ETag it was given (a 304 must be declared: `notModified`),
// - with `Range: bytes=0-0` (a 206 must be declared, with the media types it serves) and with a
//   range beyond any content (a 416 is a problem),
// - with `Accept: text/csv` (a CSV answer must be declared as text/csv).
// A status is declared when the operation lists it, or its class (4XX, 5XX: the problem responses
// every route carries); a body is declared when its media type is one of that response's
// content types (a 204 or 304 has none). Every route must also be seen succeeding once (2xx), so
// the success responses it declares are actually checked, and the answers the variants exist for
// (304, 206, 416, text/csv) must be seen, so a variant that stopped eliciting them fails here.
// Every route that documents If-Match is also sent a stale one: 412, a problem, nothing audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { can, ROLES, type Permission, type Role } from '../../src/lib/permissions.js'
import { countAudit, createTestApp, expectProblem } from '../helpers/app.js'
import { requestFor, routeKey, Scene, type RouteEntry } from '../helpers/route-requests.js'

interface Response { content?: Record<string, unknown> }
interface Doc { paths: Record<string, Record<string, { responses?: Record<string, Response>, parameters?: Array<{ in: string, name: string }> }>> }
interface Seen { route: string, status: number, media: string | undefined, how: string }

let app: App
let doc: Doc
beforeAll(async () => {
  app = await createTestApp()
  doc = app.swagger() as unknown as Doc
})
afterAll(async () => { await app.close() })

const toOpenApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')

/** Why an answer is not what the operation declares, or undefined when it is. */
function undeclared (r: RouteEntry, s: Seen): string | undefined {
  const responses = doc.paths[toOpenApiPath(r.url)]?.[r.method.toLowerCase()]?.responses
  if (responses === undefined) return 'the operation is not in the document'
  const declared = responses[String(s.status)] ?? responses[`${String(s.status)[0] ?? ''}XX`]
  if (declared === undefined) return `status ${s.status} not declared (declared: ${Object.keys(responses).join(', ')})`
  if (s.media === undefined) return undefined
  const types = Object.keys(declared.content ?? {})
  if (!types.includes(s.media)) return `${s.status} served as ${s.media}, declared as ${types.length === 0 ? 'no content' : types.join(', ')}`
  return undefined
}

/** The roles a route lets through (a public route: every role, as each may call it signed in). */
const rolesOf = (r: RouteEntry): Role[] => ROLES.filter(role => r.access === 'public' || can(role, r.access as Permission))

describe('declared statuses', () => {
  it('every status and media type a route answers is declared in its OpenAPI responses', async () => {
    const routes = app.routeTable.filter(r => !r.hidden && !r.url.startsWith('/docs'))
    expect(routes.length).toBeGreaterThan(50)
    const seen: Seen[] = []
    const failures: string[] = []
    const succeeded = new Set<string>()

    const record = (r: RouteEntry, how: string, res: Awaited<ReturnType<App['inject']>>): void => {
      const type = res.headers['content-type']
      const media = res.rawPayload.length === 0 || type === undefined ? undefined : String(type).split(';')[0]?.trim().toLowerCase()
      const s = { route: routeKey(r), status: res.statusCode, media, how }
      seen.push(s)
      if (res.statusCode >= 200 && res.statusCode < 300) succeeded.add(routeKey(r))
      const why = undeclared(r, s)
      if (why !== undefined) failures.push(`${how} ${routeKey(r)}: ${why}`)
    }

    const check = async (r: RouteEntry): Promise<void> => {
      const read = r.method === 'GET' ? await Scene.create(app) : undefined
      await Promise.all(rolesOf(r).map(async role => {
        const scene = read ?? await Scene.create(app)
        const req = await requestFor(app, r, scene, scene.callers[role])
        const res = await app.inject(req)
        record(r, role, res)
        if (r.method !== 'GET' || res.statusCode !== 200) return
        const headers = { ...(req.headers as Record<string, string>) }
        const again = async (how: string, extra: Record<string, string>): Promise<void> => {
          record(r, `${role} ${how}`, await app.inject({ ...req, headers: { ...headers, ...extra } }))
        }
        const etag = res.headers.etag
        if (typeof etag === 'string') await again('If-None-Match', { 'if-none-match': etag })
        await again('Range', { range: 'bytes=0-0' })
        await again('Range beyond the end', { range: 'bytes=999999999-' })
        await again('Accept: text/csv', { accept: 'text/csv' })
      }))
    }
    // routes one after the other (more at once only queues on the pool), the roles of each at once
    for (const r of routes) await check(r)

    expect(failures).toEqual([])
    // every route seen succeeding: its success responses were checked, not only its problems
    expect(routes.map(routeKey).filter(k => !succeeded.has(k))).toEqual([])
    // the variants still elicit what they exist for
    const has = (route: string, status: number, media?: string): boolean => seen.some(s => s.route === route && s.status === status && (media === undefined || s.media === media))
    expect(has('GET /v1/documents/:id/content', 206, 'application/pdf')).toBe(true)
    expect(has('GET /v1/documents/:id/content', 304)).toBe(true)
    expect(has('GET /v1/documents/:id/content', 416, 'application/problem+json')).toBe(true)
    expect(has('GET /v1/reports/spend', 200, 'text/csv')).toBe(true)
    expect(has('GET /v1/stations/:stationId/stock/:articleId', 304)).toBe(true)
    expect(has('GET /v1/events/stream', 200, 'text/event-stream')).toBe(true)
    expect(has('POST /v1/webhooks/:id/deliveries/:deliveryId/replay', 202, 'application/json')).toBe(true)
    expect(has('DELETE /v1/webhooks/:id', 204)).toBe(true)
  }, 240_000)

  it('every route that documents If-Match answers a stale one 412 (declared, a problem), and audits nothing', async () => {
    const honouring = app.routeTable.filter(r => !r.hidden && (doc.paths[toOpenApiPath(r.url)]?.[r.method.toLowerCase()]?.parameters ?? [])
      .some(p => p.in === 'header' && p.name === 'if-match'))
    expect(honouring.map(routeKey)).toEqual(expect.arrayContaining(['PATCH /v1/stations/:stationId/stock/:articleId', 'PATCH /v1/webhooks/:id', 'POST /v1/transfers/:id/confirm']))
    const failures: string[] = []
    for (const r of honouring) {
      const role = rolesOf(r)[0]
      if (role === undefined) { failures.push(`${routeKey(r)}: no role may call it`); continue }
      const scene = await Scene.create(app)
      const req = await requestFor(app, r, scene, scene.callers[role])
      const before = await countAudit(app)
      const res = await app.inject({ ...req, headers: { ...(req.headers as Record<string, string>), 'if-match': '"999999999"' } })
      if (res.statusCode !== 412) { failures.push(`${role} ${routeKey(r)} with a stale If-Match → ${res.statusCode}: ${res.body.slice(0, 200)}`); continue }
      expectProblem(res, 412, 'PRECONDITION_FAILED')
      const why = undeclared(r, { route: routeKey(r), status: 412, media: 'application/problem+json', how: role })
      if (why !== undefined) failures.push(`${routeKey(r)}: ${why}`)
      if (await countAudit(app) !== before) failures.push(`${routeKey(r)}: a refused precondition wrote an audit event`)
    }
    expect(failures).toEqual([])
  }, 120_000)
})
