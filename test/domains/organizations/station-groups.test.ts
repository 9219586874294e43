// Station groups: CRUD, visibility, and the deactivation cascade group → stations → users.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { createTestApp, expectProblem } from '../../helpers/app.js'
import { createStation, createStationGroup, createSupplier, createUser, uniq } from '../../helpers/factories.js'
import { callerFor, client, type Caller } from './helpers.js'

let app: App
let call: ReturnType<typeof client>
let admin: Caller
beforeAll(async () => {
  app = await createTestApp()
  call = client(app)
  admin = callerFor(app, 'ADMIN')
})
afterAll(async () => { await app.close() })

describe('station groups CRUD', () => {
  it('creates, reads (ETag, 304), updates (If-Match) and refuses a duplicate name case-insensitively', async () => {
    const name = uniq('Coop ')
    const created = await call(admin, 'POST', '/v1/station-groups', { name, description: 'd' })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json().id as string
    expect(created.json()).toMatchObject({ name, description: 'd', isActive: true, version: 1 })
    expectProblem(await call(admin, 'POST', '/v1/station-groups', { name: name.toUpperCase() }), 409, 'DUPLICATE')
    const got = await call(admin, 'GET', `/v1/station-groups/${id}`)
    expect(got.headers.etag).toBe('"1"')
    expect((await call(admin, 'GET', `/v1/station-groups/${id}`, undefined, { 'if-none-match': '"1"' })).statusCode).toBe(304)
    const patched = await call(callerFor(app, 'HANDLER'), 'PATCH', `/v1/station-groups/${id}`, { description: null }, { 'if-match': '"1"' })
    expect(patched.json()).toMatchObject({ description: null, version: 2 })
    expectProblem(await call(admin, 'PATCH', `/v1/station-groups/${id}`, { name: 'stale' }, { 'if-match': '"1"' }), 412, 'PRECONDITION_FAILED')
    expectProblem(await call(admin, 'PATCH', `/v1/station-groups/${id}`, { isActive: false }), 400, 'VALIDATION_FAILED')
    const row = await app.db.selectFrom('stationGroups').select(['name', 'isActive', 'version']).where('id', '=', id).executeTakeFirstOrThrow()
    expect(row).toEqual({ name, isActive: true, version: 2 })
  })

  it('lists with q and active filters and pages', async () => {
    const tag = uniq('Grp')
    const a = await createStationGroup(app.db, { name: `${tag} A` })
    const b = await createStationGroup(app.db, { name: `${tag} B`, isActive: false })
    const p1 = (await call(admin, 'GET', `/v1/station-groups?q=${tag}&limit=1`)).json()
    expect(p1.items.map((g: { id: string }) => g.id)).toEqual([a.id])
    const p2 = (await call(admin, 'GET', `/v1/station-groups?q=${tag}&limit=1&cursor=${encodeURIComponent(p1.nextCursor as string)}`)).json()
    expect(p2).toMatchObject({ items: [{ id: b.id }], nextCursor: null })
    expect((await call(admin, 'GET', `/v1/station-groups?q=${tag}&active=true`)).json().items).toHaveLength(1)
  })

  it('shows station users active groups as { id, name } and refuses supplier users (403)', async () => {
    const tag = uniq('Vis')
    const a = await createStationGroup(app.db, { name: `${tag} A` })
    const b = await createStationGroup(app.db, { name: `${tag} B`, isActive: false })
    const st = callerFor(app, 'STATION', (await createStation(app.db)).id)
    expect((await call(st, 'GET', `/v1/station-groups?q=${tag}`)).json().items).toEqual([{ id: a.id, name: a.name }])
    expect((await call(st, 'GET', `/v1/station-groups/${a.id}`)).json()).toEqual({ id: a.id, name: a.name })
    expectProblem(await call(st, 'GET', `/v1/station-groups/${b.id}`), 404)
    const sp = callerFor(app, 'SUPPLIER', (await createSupplier(app.db)).id)
    expectProblem(await call(sp, 'GET', '/v1/station-groups'), 403, 'FORBIDDEN')
    expectProblem(await call(sp, 'GET', `/v1/station-groups/${a.id}`), 403, 'FORBIDDEN')
  })
})

describe('group deactivation cascade', () => {
  it('deactivates the group, its stations and their users in one transaction; activation re-activates nothing below', async () => {
    const g = await createStationGroup(app.db)
    const s1 = await createStation(app.db, { groupId: g.id })
    const s2 = await createStation(app.db, { groupId: g.id })
    const outside = await createStation(app.db)
    const u1 = await createUser(app.db, 'STATION', s1.id)
    const u2 = await createUser(app.db, 'STATION', s2.id)
    const uOut = await createUser(app.db, 'STATION', outside.id)
    const res = await call(admin, 'POST', `/v1/station-groups/${g.id}/deactivate`, { reason: 'merger' }, { 'if-match': '"1"' })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ isActive: false, version: 2 })
    const stations = await app.db.selectFrom('stations').select(['id', 'isActive']).where('id', 'in', [s1.id, s2.id, outside.id]).execute()
    expect(Object.fromEntries(stations.map(s => [s.id, s.isActive]))).toEqual({ [s1.id]: false, [s2.id]: false, [outside.id]: true })
    const orgs = await app.db.selectFrom('organizations').select(['id', 'isActive']).where('id', 'in', [s1.id, s2.id]).execute()
    expect(orgs.every(o => !o.isActive)).toBe(true)
    const users = await app.db.selectFrom('users').select(['id', 'isActive']).where('id', 'in', [u1.userId, u2.userId, uOut.userId]).execute()
    expect(Object.fromEntries(users.map(u => [u.id, u.isActive]))).toEqual({ [u1.userId]: false, [u2.userId]: false, [uOut.userId]: true })
    const ev = await app.db.selectFrom('auditEvents').select(['changes']).where('action', '=', 'station_group.deactivate').where('entityId', '=', g.id).execute()
    expect(ev).toHaveLength(1)
    expect(ev[0]?.changes).toEqual({ isActive: false, stationsDeactivated: 2, usersDeactivated: 2, reason: 'merger' })

    const again = await call(admin, 'POST', `/v1/station-groups/${g.id}/deactivate`)
    expect(again.json().version).toBe(2)

    const act = await call(admin, 'POST', `/v1/station-groups/${g.id}/activate`, {}, { 'if-match': '"2"' })
    expect(act.json()).toMatchObject({ isActive: true, version: 3 })
    const after = await app.db.selectFrom('stations').select('isActive').where('groupId', '=', g.id).execute()
    expect(after.every(s => !s.isActive)).toBe(true)
    const usersAfter = await app.db.selectFrom('users').select('isActive').where('id', 'in', [u1.userId, u2.userId]).execute()
    expect(usersAfter.every(u => !u.isActive)).toBe(true)
  })

  it('answers 412 on a stale If-Match and leaves the group and its stations active', async () => {
    const g = await createStationGroup(app.db)
    const s = await createStation(app.db, { groupId: g.id })
    expectProblem(await call(admin, 'POST', `/v1/station-groups/${g.id}/deactivate`, {}, { 'if-match': '"7"' }), 412, 'PRECONDITION_FAILED')
    expect((await app.db.selectFrom('stations').select('isActive').where('id', '=', s.id).executeTakeFirstOrThrow()).isActive).toBe(true)
  })

  it('refuses to activate a station whose group is inactive', async () => {
    const g = await createStationGroup(app.db)
    const s = await createStation(app.db, { groupId: g.id })
    await call(admin, 'POST', `/v1/station-groups/${g.id}/deactivate`)
    expectProblem(await call(admin, 'POST', `/v1/stations/${s.id}/activate`), 422, 'BUSINESS_RULE_VIOLATED')
    await call(admin, 'POST', `/v1/station-groups/${g.id}/activate`)
    const ok = await call(admin, 'POST', `/v1/stations/${s.id}/activate`)
    expect(ok.json()).toMatchObject({ isActive: true })
  })
})

describe('station deactivation', () => {
  it('deactivates the station and its users (their tokens stop working); activation leaves users inactive', async () => {
    const s = await createStation(app.db)
    const u = await createUser(app.db, 'STATION', s.id)
    const userCaller = callerFor(app, 'STATION', s.id, u.userId)
    expect((await call(userCaller, 'GET', `/v1/stations/${s.id}`)).statusCode).toBe(200)
    const res = await call(admin, 'POST', `/v1/stations/${s.id}/deactivate`, {}, { 'if-match': '"1"' })
    expect(res.json()).toMatchObject({ isActive: false, version: 2 })
    expect((await app.db.selectFrom('users').select('isActive').where('id', '=', u.userId).executeTakeFirstOrThrow()).isActive).toBe(false)
    const ev = await app.db.selectFrom('auditEvents').select('changes').where('action', '=', 'station.deactivate').where('entityId', '=', s.id).executeTakeFirstOrThrow()
    expect(ev.changes).toMatchObject({ usersDeactivated: 1 })
    await expect.poll(async () => (await call(userCaller, 'GET', `/v1/stations/${s.id}`)).statusCode, { timeout: 10_000 }).toBe(401)
    await call(admin, 'POST', `/v1/stations/${s.id}/activate`)
    expect((await app.db.selectFrom('users').select('isActive').where('id', '=', u.userId).executeTakeFirstOrThrow()).isActive).toBe(false)
  })

  it('hides a deactivated station from other stations and suppliers', async () => {
    const s = await createStation(app.db)
    const other = callerFor(app, 'STATION', (await createStation(app.db)).id)
    await call(admin, 'POST', `/v1/stations/${s.id}/deactivate`)
    expectProblem(await call(other, 'GET', `/v1/stations/${s.id}`), 404)
    expect((await call(other, 'GET', `/v1/stations?q=${s.code}`)).json().items).toEqual([])
  })
})
