// The access matrix, generated from the route table and the permission map (src/lib/permissions.ts,
// PRODUCT.md §2.1), so a route added later is covered without editing this file:
// - every protected route × every role: 403 FORBIDDEN when the role lacks the route's permission;
//   otherwise never 401/403 and never a 5xx (a 2xx, or a domain 4xx such as 404 or 409) — a role
//   the map lets through must not be refused deeper down;
// - every route with an id in its path (:id, :stationId, :supplierId, :articleId…) × a station or
//   supplier user of ANOTHER organization that holds the permission: 404 (a row out of scope is
//   never revealed), no audit event, and the rows the path names unchanged. The owner's own user
//   is answered 2xx by the same request first (on a twin scene for a mutation), so the 404 comes
//   from the tenant scope, not from a request that would fail anyway. Reads are asked on active
//   rows, then on the owner's rows made inactive: the few reads §2.1 shares with other
//   organizations while the rows are active are listed in SHARED_READS with the reason (and what
//   the brief view must leave out); they answer 200 on active rows and 404 on inactive ones;
// - every route naming a row under another (a site of a supplier, a cart line, a webhook delivery)
//   × the caller's own parent with another organization's child: 404, nothing changed (a child
//   every organization shares, such as an article under a station's stock, is listed with why).
// Every mutation that can get past RBAC runs on a fresh scene (test/helpers/route-requests.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { can, ROLES, type Permission, type Role } from '../../src/lib/permissions.js'
import { countAudit, createTestApp, expectProblem } from '../helpers/app.js'
import { requestFor, routeKey, Scene, snapshotRows, type RouteEntry } from '../helpers/route-requests.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const guarded = (): RouteEntry[] => app.routeTable.filter(r => !r.hidden && !r.url.startsWith('/docs') && r.access !== 'public')

/**
 * The reads PRODUCT.md §2.1 shares with users of other organizations while the rows are active,
 * per route and role: why, and the fields the brief view must leave out. Any other id route is a
 * 404 to a foreign user, active rows or not.
 */
type Foreign = 'STATION' | 'SUPPLIER'
const SHARED_READS: Record<string, { roles: readonly Foreign[], why: string, hidden?: string[], only?: Partial<Record<Foreign, string[]>> }> = {
  'GET /v1/stations/:id': { roles: ['STATION', 'SUPPLIER'], why: '§2.1 stations · read: active ones (names, codes) for stations, active stations (names) for suppliers', only: { STATION: ['id', 'code', 'name'], SUPPLIER: ['id', 'name'] } },
  'GET /v1/station-groups/:id': { roles: ['STATION'], why: '§2.1 groups · read: active ones for stations', only: { STATION: ['id', 'name'] } },
  'GET /v1/suppliers/:id': { roles: ['STATION'], why: '§2.1 suppliers · read: active ones for stations (a supplier sees only its own)', only: { STATION: ['id', 'name'] } },
  'GET /v1/suppliers/:id/sites': { roles: ['STATION'], why: '§2.1 sites · read: active ones for stations (a supplier sees only its own)' },
  'GET /v1/articles/:id': { roles: ['STATION'], why: '§2.1 articles · read: stations read the active ones (a supplier only those it offers)' },
  'GET /v1/offers/:id': { roles: ['STATION'], why: '§2.1 offers · read: stations read the active ones, with station prices (a supplier only its own)' },
  'GET /v1/stations/:stationId/stock/:articleId': {
    roles: ['STATION'],
    why: '§2.1 stock · read: a station reads every active station\'s quantities, not their thresholds, flags or movements',
    hidden: ['alertThreshold', 'criticalThreshold', 'low', 'critical', 'movements']
  }
}

describe('access matrix', () => {
  it('every route × every role: 403 exactly when the role lacks the permission', async () => {
    const routes = guarded()
    expect(routes.length).toBeGreaterThan(50)
    const shared = await Scene.create(app)
    const failures: string[] = []
    let calls = 0
    // The roles of a route run concurrently (each allowed call has its own scene; a refused role
    // needs no rows: RBAC answers before anything is read). Reads change nothing, so the roles of
    // a GET share one scene. Routes run one after the other: more at once only queues on the pool.
    const check = async (r: RouteEntry): Promise<void> => {
      const read = r.method === 'GET' ? await Scene.create(app) : undefined
      await Promise.all(ROLES.map(async role => {
        const allowed = can(role, r.access as Permission)
        const scene = allowed ? read ?? await Scene.create(app) : shared
        const res = await app.inject(await requestFor(app, r, scene, scene.callers[role], { realIds: allowed }))
        calls++
        const what = `${role} ${routeKey(r)} → ${res.statusCode}`
        if (!allowed) {
          if (res.statusCode !== 403) failures.push(`${what}, expected 403: ${res.body.slice(0, 200)}`)
          else expectProblem(res, 403, 'FORBIDDEN')
        } else if (res.statusCode === 401 || res.statusCode === 403 || res.statusCode >= 500) {
          failures.push(`${what}, role has ${r.access}: ${res.body.slice(0, 200)}`)
        }
      }))
    }
    for (const r of routes) await check(r)
    expect(failures).toEqual([])
    expect(calls).toBe(routes.length * ROLES.length)
  }, 120_000)

  it('every id route × a foreign station or supplier user holding the permission: 404, nothing changed', async () => {
    const failures: string[] = []
    const sharedSeen = new Set<string>()
    let checked = 0
    const ok = (status: number): boolean => status >= 200 && status < 300
    const check = async (r: RouteEntry, role: 'STATION' | 'SUPPLIER'): Promise<void> => {
      const key = routeKey(r)
      const owner = await Scene.create(app)
      const foreign = await Scene.create(app)
      // the request the owner's own user would send, with the owner's rows in the path
      const req = await requestFor(app, r, owner, owner.callers[role])
      // control: the owner's user gets through (a mutation on a twin scene: it would change the rows)
      const own = r.method === 'GET'
        ? await app.inject(req)
        : await Scene.create(app).then(async twin => await app.inject(await requestFor(app, r, twin, twin.callers[role])))
      if (!ok(own.statusCode)) failures.push(`own ${role} ${key} → ${own.statusCode} (the request does not succeed for its owner, so a foreign 404 proves nothing): ${own.body.slice(0, 200)}`)
      const asForeign = { ...req, headers: { ...req.headers, authorization: `Bearer ${foreign.callers[role].token}` } }
      const shared = SHARED_READS[key]
      if (r.method === 'GET') {
        const active = await app.inject(asForeign)
        if (shared?.roles.includes(role) === true) {
          sharedSeen.add(`${role} ${key}`)
          if (active.statusCode !== 200) failures.push(`foreign ${role} ${key} on active rows → ${active.statusCode}, expected 200 (${shared.why}): ${active.body.slice(0, 200)}`)
          else {
            const body = active.json() as Record<string, unknown>
            const only = shared.only?.[role]
            const leaked = only !== undefined ? Object.keys(body).filter(f => !only.includes(f)) : (shared.hidden ?? []).filter(f => f in body)
            if (leaked.length > 0) failures.push(`foreign ${role} ${key} shows ${leaked.join(', ')} (${shared.why})`)
          }
        } else if (active.statusCode !== 404) {
          failures.push(`foreign ${role} ${key} on active rows → ${active.statusCode}, expected 404: ${active.body.slice(0, 200)}`)
        }
        // someone else's inactive row is a 404 whatever §2.1 shares of active ones
        await owner.hideFromOthers()
      }
      const rowsBefore = await snapshotRows(app, String(req.url))
      const auditBefore = await countAudit(app)
      const res = await app.inject(asForeign)
      checked++
      const what = `foreign ${role} ${key}${r.method === 'GET' ? ' on inactive rows' : ''} → ${res.statusCode}`
      if (res.statusCode !== 404) { failures.push(`${what}, expected 404: ${res.body.slice(0, 200)}`); return }
      expectProblem(res, 404)
      if (await countAudit(app) !== auditBefore) failures.push(`${what} wrote an audit event`)
      expect(await snapshotRows(app, String(req.url)), `${what} changed a row`).toEqual(rowsBefore)
    }
    for (const r of guarded().filter(r => /:[A-Za-z]+/.test(r.url))) {
      for (const role of ['STATION', 'SUPPLIER'] as const satisfies readonly Role[]) {
        if (can(role, r.access as Permission)) await check(r, role)
      }
    }
    expect(failures).toEqual([])
    expect(checked).toBeGreaterThan(20)
    // every entry of SHARED_READS names a route and role the matrix ran (none left behind by a rename)
    const listed = Object.entries(SHARED_READS).flatMap(([key, s]) => s.roles.map(role => `${role} ${key}`))
    expect(listed.filter(k => !sharedSeen.has(k))).toEqual([])
  }, 180_000)

  it('every route naming a row under another (:id/…/:childId) × the caller\'s own parent with another organization\'s child: 404, nothing changed', async () => {
    const failures: string[] = []
    const checked: string[] = []
    for (const r of guarded().filter(r => (r.url.match(/:[A-Za-z]+/g) ?? []).length >= 2)) {
      const names = [...r.url.matchAll(/:([A-Za-z]+)/g)].map(m => m[1] as string)
      const child = names.at(-1) as string
      for (const role of ['STATION', 'SUPPLIER'] as const satisfies readonly Role[]) {
        if (!can(role, r.access as Permission)) continue
        const owner = await Scene.create(app)
        const foreign = await Scene.create(app)
        const own = await requestFor(app, r, owner, owner.callers[role])
        const theirs = await requestFor(app, r, foreign, foreign.callers[role])
        // the owner's request with the last id taken from the other organization's request
        const childId = paramsOf(r.url, String(theirs.url))[child] as string
        const [path = '', query] = String(own.url).split('?')
        const segments = path.split('/')
        segments[r.url.split('/').indexOf(`:${child}`)] = childId
        const url = segments.join('/') + (query === undefined ? '' : `?${query}`)
        const what = `${role} ${routeKey(r)} with another organization's ${child}`
        checked.push(`${role} ${routeKey(r)}`)
        const rowsBefore = await snapshotRows(app, url)
        const auditBefore = await countAudit(app)
        const res = await app.inject({ ...own, url })
        const global = GLOBAL_CHILDREN[child]
        if (global !== undefined) {
          if (res.statusCode < 200 || res.statusCode >= 300) failures.push(`${what} → ${res.statusCode}, expected 2xx (${global}): ${res.body.slice(0, 200)}`)
          continue
        }
        if (res.statusCode !== 404) { failures.push(`${what} → ${res.statusCode}, expected 404: ${res.body.slice(0, 200)}`); continue }
        expectProblem(res, 404)
        if (await countAudit(app) !== auditBefore) failures.push(`${what} wrote an audit event`)
        expect(await snapshotRows(app, url), `${what} changed a row`).toEqual(rowsBefore)
      }
    }
    expect(failures).toEqual([])
    expect(checked).toEqual(expect.arrayContaining(['STATION POST /v1/webhooks/:id/deliveries/:deliveryId/replay', 'SUPPLIER DELETE /v1/suppliers/:id/sites/:siteId', 'STATION PATCH /v1/stations/:stationId/cart/lines/:lineId']))
  }, 120_000)
})

/** A child path parameter that names a row every organization shares, and why it is no 404 under the caller's own parent. */
const GLOBAL_CHILDREN: Record<string, string> = {
  articleId: 'catalog articles are shared (§2.1 articles · read): the own station\'s level of any active article, a zero level until written'
}

/** The path parameters of a concrete URL of the route. */
function paramsOf (route: string, url: string): Record<string, string> {
  const have = (url.split('?')[0] ?? '').split('/')
  return Object.fromEntries(route.split('/').flatMap((seg, i) => seg.startsWith(':') ? [[seg.slice(1), have[i] ?? '']] : []))
}
