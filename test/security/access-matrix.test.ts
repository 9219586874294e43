// The access matrix, generated from the route table and the permission map (src/lib/permissions.ts,
// PRODUCT.md §2.1), so a route added later is covered without editing this file:
// - every protected route × every role: 403 FORBIDDEN when the role lacks the route's permission;
//   otherwise never 401/403 and never a 5xx (a 2xx, or a domain 4xx such as 404 or 409) — a role
//   the map lets through must not be refused deeper down;
// - every route with an id in its path × a station or supplier user of ANOTHER organization that
//   holds the permission: 404 (a row out of scope is never revealed), no audit event, and the rows
//   the path names unchanged (reads on the owner's inactive rows, since active stations, suppliers
//   and offers are visible to everyone in their brief views).
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
    let checked = 0
    for (const r of guarded().filter(r => /:[A-Za-z]+/.test(r.url))) {
      for (const role of ['STATION', 'SUPPLIER'] as const satisfies readonly Role[]) {
        if (!can(role, r.access as Permission)) continue
        const owner = await Scene.create(app)
        const foreign = await Scene.create(app)
        // the request the owner's own user would send, with the owner's rows in the path
        const req = await requestFor(app, r, owner, owner.callers[role])
        // Reads: §2.1 lets other organizations see active stations, suppliers, offers… (brief
        // views), so a read is checked on inactive rows — someone else's inactive row is a 404.
        // Mutations run on active rows: their 404 must come from the tenant scope alone.
        if (r.method === 'GET') await owner.hideFromOthers()
        req.headers = { ...req.headers, authorization: `Bearer ${foreign.callers[role].token}` }
        const rowsBefore = await snapshotRows(app, String(req.url))
        const auditBefore = await countAudit(app)
        const res = await app.inject(req)
        checked++
        const what = `foreign ${role} ${routeKey(r)} → ${res.statusCode}`
        if (res.statusCode !== 404) { failures.push(`${what}, expected 404: ${res.body.slice(0, 200)}`); continue }
        expectProblem(res, 404)
        if (await countAudit(app) !== auditBefore) failures.push(`${what} wrote an audit event`)
        expect(await snapshotRows(app, String(req.url)), `${what} changed a row`).toEqual(rowsBefore)
      }
    }
    expect(failures).toEqual([])
    expect(checked).toBeGreaterThan(20)
  }, 120_000)
})
