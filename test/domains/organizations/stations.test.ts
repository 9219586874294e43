// Stations: CRUD, validation, visibility per audience, ETags, pagination and filters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { countAudit, createTestApp, expectProblem } from '../../helpers/app.js'
import { createStation, createStationGroup, createSupplier, uniq } from '../../helpers/factories.js'
import { address, callerFor, client, type Caller } from './helpers.js'

let app: App
let call: ReturnType<typeof client>
let admin: Caller
beforeAll(async () => {
  app = await createTestApp()
  call = client(app)
  admin = callerFor(app, 'ADMIN')
})
afterAll(async () => { await app.close() })

const FULL_ONLY_KEYS = ['groupId', 'address', 'phone', 'email', 'isActive', 'version', 'createdAt', 'updatedAt']

describe('POST /v1/stations', () => {
  it('creates a station and its organization, with one audit event', async () => {
    const group = await createStationGroup(app.db)
    const code = uniq('ST-')
    const before = await countAudit(app, { action: 'station.create' })
    const res = await call(admin, 'POST', '/v1/stations', { code, name: 'Station Test', groupId: group.id, address, phone: '+33 2 41 00 00 00', email: 'st@test.example' })
    expect(res.statusCode, res.body).toBe(201)
    const body = res.json()
    expect(body).toMatchObject({ code, name: 'Station Test', groupId: group.id, address: { ...address, line2: null }, phone: '+33 2 41 00 00 00', email: 'st@test.example', isActive: true, version: 1 })
    expect(res.headers.etag).toBe('"1"')
    const org = await app.db.selectFrom('organizations').select(['kind', 'name', 'isActive']).where('id', '=', body.id).executeTakeFirstOrThrow()
    expect(org).toEqual({ kind: 'STATION', name: 'Station Test', isActive: true })
    expect(await countAudit(app, { action: 'station.create' })).toBe(before + 1)
    const ev = await app.db.selectFrom('auditEvents').select(['entityId', 'entityType', 'changes']).where('action', '=', 'station.create').where('entityId', '=', body.id).executeTakeFirstOrThrow()
    expect(ev.entityType).toBe('station')
    expect(ev.changes).toMatchObject({ code, email: '[changed]', phone: '[changed]' })
  })

  it('defaults the address to nulls and country FR', async () => {
    const res = await call(admin, 'POST', '/v1/stations', { code: uniq('ST-'), name: 'Bare' })
    expect(res.statusCode).toBe(201)
    expect(res.json().address).toEqual({ line1: null, line2: null, postalCode: null, city: null, country: 'FR' })
    expect(res.json().groupId).toBeNull()
  })

  it('answers 409 DUPLICATE for an existing code and creates nothing', async () => {
    const existing = await createStation(app.db)
    const before = await app.db.selectFrom('organizations').select(eb => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    expectProblem(await call(admin, 'POST', '/v1/stations', { code: existing.code, name: 'Dup' }), 409, 'DUPLICATE')
    const after = await app.db.selectFrom('organizations').select(eb => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    expect(Number(after.n)).toBe(Number(before.n))
  })

  it.each([
    [{ name: 'No code' }, '/code'],
    [{ code: 'st-lower', name: 'x' }, '/code'],
    [{ code: uniq('ST-'), name: '' }, '/name'],
    [{ code: uniq('ST-'), name: 'x'.repeat(201) }, '/name'],
    [{ code: uniq('ST-'), name: 'x', email: 'not-an-email' }, '/email'],
    [{ code: uniq('ST-'), name: 'x', groupId: 'nope' }, '/groupId'],
    [{ code: uniq('ST-'), name: 'x', address: { city: 'x'.repeat(101) } }, '/address/city'],
    [{ code: uniq('ST-'), name: 'x', address: { country: 'France' } }, '/address/country'],
    [{ code: uniq('ST-'), name: 'x', isActive: false }, '/isActive'],
    [{ code: uniq('ST-'), name: 'x', version: 7 }, '/version'],
    [{ code: uniq('ST-'), name: 'x', id: '00000000-0000-4000-8000-000000000000' }, '/id']
  ])('rejects %j with 400 at %s', async (payload, pointer) => {
    const body = expectProblem(await call(admin, 'POST', '/v1/stations', payload), 400, 'VALIDATION_FAILED')
    expect((body.errors as Array<{ pointer: string }>).map(e => e.pointer)).toContain(pointer)
  })

  it('refuses an unknown or inactive group with 422', async () => {
    expectProblem(await call(admin, 'POST', '/v1/stations', { code: uniq('ST-'), name: 'x', groupId: '00000000-0000-4000-8000-000000000000' }), 422, 'REFERENCE_NOT_FOUND')
    const inactive = await createStationGroup(app.db, { isActive: false })
    expectProblem(await call(admin, 'POST', '/v1/stations', { code: uniq('ST-'), name: 'x', groupId: inactive.id }), 422, 'BUSINESS_RULE_VIOLATED')
  })
})

describe('GET /v1/stations/{id}', () => {
  it('returns the full station with an ETag, 304 on If-None-Match, 404 when unknown, 400 on a bad id', async () => {
    const s = await createStation(app.db)
    const res = await call(admin, 'GET', `/v1/stations/${s.id}`)
    expect(res.statusCode).toBe(200)
    expect(res.headers.etag).toBe('"1"')
    expect(Object.keys(res.json()).sort()).toEqual(['address', 'code', 'createdAt', 'email', 'groupId', 'id', 'isActive', 'name', 'phone', 'updatedAt', 'version'])
    const nm = await call(admin, 'GET', `/v1/stations/${s.id}`, undefined, { 'if-none-match': '"1"' })
    expect(nm.statusCode).toBe(304)
    expect(nm.body).toBe('')
    expect((await call(admin, 'GET', `/v1/stations/${s.id}`, undefined, { 'if-none-match': '"0"' })).statusCode).toBe(200)
    expectProblem(await call(admin, 'GET', '/v1/stations/00000000-0000-4000-8000-000000000000'), 404, 'NOT_FOUND')
    expectProblem(await call(admin, 'GET', '/v1/stations/not-a-uuid'), 400, 'VALIDATION_FAILED')
  })

  it('shows another active station to a station user as names and codes only, its own in full', async () => {
    const own = await createStation(app.db)
    const other = await createStation(app.db)
    const st = callerFor(app, 'STATION', own.id)
    const o = await call(st, 'GET', `/v1/stations/${other.id}`)
    expect(o.statusCode).toBe(200)
    expect(o.json()).toEqual({ id: other.id, code: other.code, name: other.name })
    for (const k of FULL_ONLY_KEYS) expect(o.json()).not.toHaveProperty(k)
    const mine = await call(st, 'GET', `/v1/stations/${own.id}`)
    expect(mine.json()).toMatchObject({ id: own.id, isActive: true, version: 1, address: { city: 'Angers' } })
  })

  it('shows an active station to a supplier user as its name only', async () => {
    const s = await createStation(app.db)
    const sup = await createSupplier(app.db)
    const res = await call(callerFor(app, 'SUPPLIER', sup.id), 'GET', `/v1/stations/${s.id}`)
    expect(res.json()).toEqual({ id: s.id, name: s.name })
  })

  it('hides inactive stations from station and supplier users (404) but not from their own users', async () => {
    const inactive = await createStation(app.db, { isActive: false })
    const other = await createStation(app.db)
    const sup = await createSupplier(app.db)
    expectProblem(await call(callerFor(app, 'STATION', other.id), 'GET', `/v1/stations/${inactive.id}`), 404)
    expectProblem(await call(callerFor(app, 'SUPPLIER', sup.id), 'GET', `/v1/stations/${inactive.id}`), 404)
    expect((await call(callerFor(app, 'STATION', inactive.id), 'GET', `/v1/stations/${inactive.id}`)).statusCode).toBe(200)
    expect((await call(callerFor(app, 'HANDLER'), 'GET', `/v1/stations/${inactive.id}`)).json().isActive).toBe(false)
  })
})

describe('GET /v1/stations', () => {
  it('pages with an opaque cursor and filters by q, groupId, city and active', async () => {
    const group = await createStationGroup(app.db)
    const tag = uniq('Z')
    const created = []
    for (let i = 0; i < 5; i++) created.push(await createStation(app.db, { name: `${tag} ${i}`, groupId: group.id, city: i < 2 ? 'Saumur' : 'Angers', isActive: i !== 4 }))
    const seen: string[] = []
    let url = `/v1/stations?groupId=${group.id}&limit=2`
    for (;;) {
      const res = await call(admin, 'GET', url)
      expect(res.statusCode).toBe(200)
      const body = res.json()
      seen.push(...body.items.map((s: { name: string }) => s.name))
      if (body.nextCursor === null) break
      url = `/v1/stations?groupId=${group.id}&limit=2&cursor=${encodeURIComponent(body.nextCursor as string)}`
    }
    expect(seen).toEqual(created.map(s => s.name))
    const byQ = (await call(admin, 'GET', `/v1/stations?q=${encodeURIComponent(tag.toLowerCase())}`)).json()
    expect(byQ.items).toHaveLength(5)
    const byCode = (await call(admin, 'GET', `/v1/stations?q=${created[1]?.code ?? ''}`)).json()
    expect(byCode.items.map((s: { id: string }) => s.id)).toEqual([created[1]?.id])
    const byCity = (await call(admin, 'GET', `/v1/stations?groupId=${group.id}&city=saumur`)).json()
    expect(byCity.items).toHaveLength(2)
    const inactive = (await call(admin, 'GET', `/v1/stations?groupId=${group.id}&active=false`)).json()
    expect(inactive.items.map((s: { id: string }) => s.id)).toEqual([created[4]?.id])
  })

  it('treats LIKE metacharacters in q literally', async () => {
    const res = await call(admin, 'GET', '/v1/stations?q=%25')
    expect(res.statusCode).toBe(200)
    expect(res.json().items).toEqual([])
  })

  it('rejects a forged cursor, an oversized limit and unknown parameters with 400', async () => {
    expectProblem(await call(admin, 'GET', '/v1/stations?cursor=abc.def'), 400, 'INVALID_CURSOR')
    expectProblem(await call(admin, 'GET', '/v1/stations?limit=201'), 400, 'VALIDATION_FAILED')
    expectProblem(await call(admin, 'GET', '/v1/stations?sort=code'), 400, 'VALIDATION_FAILED')
  })

  it('gives station users active stations as { id, code, name } (plus their own) and suppliers { id, name }', async () => {
    const group = await createStationGroup(app.db)
    const own = await createStation(app.db, { groupId: group.id, isActive: false })
    const active = await createStation(app.db, { groupId: group.id })
    await createStation(app.db, { groupId: group.id, isActive: false })
    const st = (await call(callerFor(app, 'STATION', own.id), 'GET', `/v1/stations?groupId=${group.id}`)).json()
    expect(st.items).toHaveLength(2)
    for (const item of st.items) expect(Object.keys(item).sort()).toEqual(['code', 'id', 'name'])
    const sup = await createSupplier(app.db)
    const sp = (await call(callerFor(app, 'SUPPLIER', sup.id), 'GET', `/v1/stations?groupId=${group.id}`)).json()
    expect(sp.items).toEqual([{ id: active.id, name: active.name }])
    expectProblem(await call(callerFor(app, 'STATION', own.id), 'GET', '/v1/stations?city=Angers'), 403, 'FORBIDDEN')
  })
})

describe('PATCH /v1/stations/{id}', () => {
  it('updates the given fields, merges the address, bumps the version and syncs the organization name', async () => {
    const s = await createStation(app.db)
    const res = await call(admin, 'PATCH', `/v1/stations/${s.id}`, { name: 'Renamed', address: { line2: 'Bâtiment B' }, phone: null }, { 'if-match': '"1"' })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ name: 'Renamed', version: 2, phone: null, address: { line1: '1 rue des Vergers', line2: 'Bâtiment B', city: 'Angers' } })
    expect(res.headers.etag).toBe('"2"')
    const org = await app.db.selectFrom('organizations').select('name').where('id', '=', s.id).executeTakeFirstOrThrow()
    expect(org.name).toBe('Renamed')
  })

  it('answers 412 on a stale If-Match and changes nothing', async () => {
    const s = await createStation(app.db)
    await call(admin, 'PATCH', `/v1/stations/${s.id}`, { name: 'First' })
    expectProblem(await call(admin, 'PATCH', `/v1/stations/${s.id}`, { name: 'Second' }, { 'if-match': '"1"' }), 412, 'PRECONDITION_FAILED')
    const row = await app.db.selectFrom('stations').select(['name', 'version']).where('id', '=', s.id).executeTakeFirstOrThrow()
    expect(row).toEqual({ name: 'First', version: 2 })
  })

  it('rejects mass assignment (isActive, version, id, code) and empty bodies with 400, leaving the row unchanged', async () => {
    const s = await createStation(app.db)
    for (const payload of [{ isActive: false }, { version: 9 }, { id: s.id }, { code: 'ST-NEW' }, {}, { name: 'x', isActive: false }]) {
      expectProblem(await call(admin, 'PATCH', `/v1/stations/${s.id}`, payload), 400, 'VALIDATION_FAILED')
    }
    const row = await app.db.selectFrom('stations').select(['name', 'code', 'isActive', 'version']).where('id', '=', s.id).executeTakeFirstOrThrow()
    expect(row).toEqual({ name: s.name, code: s.code, isActive: true, version: 1 })
  })

  it('moves a station to an active group only', async () => {
    const s = await createStation(app.db)
    const g = await createStationGroup(app.db)
    const inactive = await createStationGroup(app.db, { isActive: false })
    expect((await call(admin, 'PATCH', `/v1/stations/${s.id}`, { groupId: g.id })).json().groupId).toBe(g.id)
    expectProblem(await call(admin, 'PATCH', `/v1/stations/${s.id}`, { groupId: inactive.id }), 422, 'BUSINESS_RULE_VIOLATED')
    expect((await call(admin, 'PATCH', `/v1/stations/${s.id}`, { groupId: null })).json().groupId).toBeNull()
  })

  it('404s an unknown station', async () => {
    expectProblem(await call(admin, 'PATCH', '/v1/stations/00000000-0000-4000-8000-000000000000', { name: 'x' }), 404)
  })
})
