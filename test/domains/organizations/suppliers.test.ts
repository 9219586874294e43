// Suppliers and their sites: CRUD, validation, visibility, the one-primary-site invariant (also
// under parallel requests) and the deactivation cascade supplier → users, offers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { countAudit, createTestApp, expectProblem } from '../../helpers/app.js'
import { createArticle, createOffer, createStation, createSupplier, createUser, uniq } from '../../helpers/factories.js'
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

const siret = (): string => String(Date.now() % 1e8).padStart(8, '0') + String(Math.floor(Math.random() * 1e6)).padStart(6, '0')
const primaries = async (supplierId: string): Promise<string[]> =>
  (await app.db.selectFrom('supplierSites').select('id').where('supplierId', '=', supplierId).where('isPrimary', '=', true).execute()).map(r => r.id)

describe('POST /v1/suppliers', () => {
  it('creates the supplier, its organization and its sites with one audit event', async () => {
    const before = await countAudit(app, { action: 'supplier.create' })
    const s = siret()
    const res = await call(admin, 'POST', '/v1/suppliers', {
      name: uniq('Cartonnerie '),
      siret: s,
      email: 'orders@cdv.example',
      website: 'https://cdv.example',
      address,
      sites: [{ name: 'Dépôt', address: { city: 'Angers' } }, { name: 'Usine', isPrimary: true, address }]
    })
    expect(res.statusCode, res.body).toBe(201)
    const body = res.json()
    expect(body).toMatchObject({ siret: s, email: 'orders@cdv.example', isActive: true, version: 1, address: { city: 'Angers' } })
    expect(body.sites.map((x: { name: string, isPrimary: boolean }) => [x.name, x.isPrimary])).toEqual([['Usine', true], ['Dépôt', false]])
    expect((await app.db.selectFrom('organizations').select('kind').where('id', '=', body.id).executeTakeFirstOrThrow()).kind).toBe('SUPPLIER')
    expect(await countAudit(app, { action: 'supplier.create' })).toBe(before + 1)
  })

  it('makes a single site primary by default', async () => {
    const res = await call(admin, 'POST', '/v1/suppliers', { name: uniq('S '), sites: [{ name: 'Only' }] })
    expect(res.json().sites[0].isPrimary).toBe(true)
  })

  it('requires at least one site and exactly one primary', async () => {
    const name = uniq('S ')
    expectProblem(await call(admin, 'POST', '/v1/suppliers', { name, sites: [] }), 400, 'VALIDATION_FAILED')
    expectProblem(await call(admin, 'POST', '/v1/suppliers', { name }), 400, 'VALIDATION_FAILED')
    expectProblem(await call(admin, 'POST', '/v1/suppliers', { name, sites: [{ name: 'a' }, { name: 'b' }] }), 422, 'BUSINESS_RULE_VIOLATED')
    expectProblem(await call(admin, 'POST', '/v1/suppliers', { name, sites: [{ name: 'a', isPrimary: true }, { name: 'b', isPrimary: true }] }), 422, 'BUSINESS_RULE_VIOLATED')
    expect(await app.db.selectFrom('suppliers').select('id').where('name', '=', name).executeTakeFirst()).toBeUndefined()
  })

  it('validates SIRET (14 digits, unique → 409), website, and refuses mass assignment', async () => {
    const s = siret()
    await createSupplier(app.db, { siret: s })
    expectProblem(await call(admin, 'POST', '/v1/suppliers', { name: uniq('S '), siret: s, sites: [{ name: 'a' }] }), 409, 'DUPLICATE')
    for (const bad of [{ siret: '1234' }, { siret: '1234567890123A' }, { website: 'javascript:alert(1)' }, { isActive: false }, { version: 2 }, { id: '00000000-0000-4000-8000-000000000000' }]) {
      expectProblem(await call(admin, 'POST', '/v1/suppliers', { name: uniq('S '), sites: [{ name: 'a' }], ...bad }), 400, 'VALIDATION_FAILED')
    }
    expectProblem(await call(admin, 'POST', '/v1/suppliers', { name: uniq('S '), sites: [{ name: 'a', version: 3 }] }), 400, 'VALIDATION_FAILED')
  })
})

describe('reading suppliers', () => {
  it('gives staff the full supplier with sites (ETag, 304), a station { id, name } of active ones, a supplier only itself', async () => {
    const own = await createSupplier(app.db)
    const other = await createSupplier(app.db)
    const inactive = await createSupplier(app.db, { isActive: false })
    const full = await call(callerFor(app, 'MANAGER'), 'GET', `/v1/suppliers/${other.id}`)
    expect(full.json()).toMatchObject({ id: other.id, isActive: true, sites: [{ name: 'Main plant', isPrimary: true }] })
    expect(full.headers.etag).toBe('"1"')
    expect((await call(admin, 'GET', `/v1/suppliers/${other.id}`, undefined, { 'if-none-match': '"1"' })).statusCode).toBe(304)

    const st = callerFor(app, 'STATION', (await createStation(app.db)).id)
    expect((await call(st, 'GET', `/v1/suppliers/${other.id}`)).json()).toEqual({ id: other.id, name: other.name })
    expectProblem(await call(st, 'GET', `/v1/suppliers/${inactive.id}`), 404)
    const stList = (await call(st, 'GET', `/v1/suppliers?q=${encodeURIComponent(other.name)}`)).json()
    expect(stList.items).toEqual([{ id: other.id, name: other.name }])
    expect((await call(st, 'GET', `/v1/suppliers?q=${encodeURIComponent(inactive.name)}`)).json().items).toEqual([])

    const sp = callerFor(app, 'SUPPLIER', own.id)
    expect((await call(sp, 'GET', `/v1/suppliers/${own.id}`)).json()).toMatchObject({ id: own.id, email: expect.any(String), sites: [{ isPrimary: true }] })
    expectProblem(await call(sp, 'GET', `/v1/suppliers/${other.id}`), 404)
    const spList = (await call(sp, 'GET', '/v1/suppliers')).json()
    expect(spList.items.map((s: { id: string }) => s.id)).toEqual([own.id])
  })

  it('lists with sites for staff, filtered by q and active, keyset-paginated', async () => {
    const tag = uniq('Sup')
    const a = await createSupplier(app.db, { name: `${tag} A` })
    const b = await createSupplier(app.db, { name: `${tag} B`, isActive: false })
    const p1 = (await call(admin, 'GET', `/v1/suppliers?q=${tag}&limit=1`)).json()
    expect(p1.items).toMatchObject([{ id: a.id, sites: [{ isPrimary: true }] }])
    const p2 = (await call(admin, 'GET', `/v1/suppliers?q=${tag}&limit=1&cursor=${encodeURIComponent(p1.nextCursor as string)}`)).json()
    expect(p2).toMatchObject({ items: [{ id: b.id }], nextCursor: null })
    expect((await call(admin, 'GET', `/v1/suppliers?q=${tag}&active=false`)).json().items.map((s: { id: string }) => s.id)).toEqual([b.id])
  })
})

describe('PATCH /v1/suppliers/{id}', () => {
  it('lets staff change anything, a supplier its own contact details only', async () => {
    const sup = await createSupplier(app.db)
    const h = await call(callerFor(app, 'HANDLER'), 'PATCH', `/v1/suppliers/${sup.id}`, { name: 'Renamed', siret: siret() }, { 'if-match': '"1"' })
    expect(h.json()).toMatchObject({ name: 'Renamed', version: 2 })
    const sp = callerFor(app, 'SUPPLIER', sup.id)
    const own = await call(sp, 'PATCH', `/v1/suppliers/${sup.id}`, { phone: '+33 1 00 00 00 00', address: { city: 'Nantes' } })
    expect(own.json()).toMatchObject({ phone: '+33 1 00 00 00 00', version: 3, address: { city: 'Nantes' } })
    expectProblem(await call(sp, 'PATCH', `/v1/suppliers/${sup.id}`, { name: 'Mine now' }), 403, 'FORBIDDEN')
    expectProblem(await call(sp, 'PATCH', `/v1/suppliers/${sup.id}`, { email: 'x@y.example' }, { 'if-match': '"2"' }), 412, 'PRECONDITION_FAILED')
    expectProblem(await call(sp, 'PATCH', `/v1/suppliers/${sup.id}`, { isActive: false }), 400, 'VALIDATION_FAILED')
    expect((await app.db.selectFrom('suppliers').select(['name', 'isActive', 'version']).where('id', '=', sup.id).executeTakeFirstOrThrow())).toEqual({ name: 'Renamed', isActive: true, version: 3 })
  })

  it('answers 409 when the new SIRET belongs to another supplier', async () => {
    const s = siret()
    await createSupplier(app.db, { siret: s })
    const sup = await createSupplier(app.db)
    expectProblem(await call(admin, 'PATCH', `/v1/suppliers/${sup.id}`, { siret: s }), 409, 'DUPLICATE')
  })
})

describe('supplier deactivation cascade', () => {
  it('deactivates the supplier, its users (tokens stop working) and its offers; activation re-activates neither', async () => {
    const sup = await createSupplier(app.db)
    const otherSup = await createSupplier(app.db)
    const u = await createUser(app.db, 'SUPPLIER', sup.id)
    const uOther = await createUser(app.db, 'SUPPLIER', otherSup.id)
    const art = await createArticle(app.db)
    const offer = await createOffer(app.db, art.id, sup.id)
    const offerOther = await createOffer(app.db, art.id, otherSup.id)
    const userCaller = callerFor(app, 'SUPPLIER', sup.id, u.userId)
    expect((await call(userCaller, 'GET', `/v1/suppliers/${sup.id}`)).statusCode).toBe(200)

    const res = await call(admin, 'POST', `/v1/suppliers/${sup.id}/deactivate`, { reason: 'bankrupt' }, { 'if-match': '"1"' })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ isActive: false, version: 2 })
    const users = await app.db.selectFrom('users').select(['id', 'isActive']).where('id', 'in', [u.userId, uOther.userId]).execute()
    expect(Object.fromEntries(users.map(x => [x.id, x.isActive]))).toEqual({ [u.userId]: false, [uOther.userId]: true })
    const offers = await app.db.selectFrom('offers').select(['id', 'isActive']).where('id', 'in', [offer.id, offerOther.id]).execute()
    expect(Object.fromEntries(offers.map(x => [x.id, x.isActive]))).toEqual({ [offer.id]: false, [offerOther.id]: true })
    expect((await app.db.selectFrom('organizations').select('isActive').where('id', '=', sup.id).executeTakeFirstOrThrow()).isActive).toBe(false)
    const ev = await app.db.selectFrom('auditEvents').select('changes').where('action', '=', 'supplier.deactivate').where('entityId', '=', sup.id).execute()
    expect(ev.map(e => e.changes)).toEqual([{ isActive: false, usersDeactivated: 1, offersDeactivated: 1, reason: 'bankrupt' }])
    await expect.poll(async () => (await call(userCaller, 'GET', `/v1/suppliers/${sup.id}`)).statusCode, { timeout: 10_000 }).toBe(401)

    const act = await call(admin, 'POST', `/v1/suppliers/${sup.id}/activate`)
    expect(act.json()).toMatchObject({ isActive: true, version: 3 })
    expect((await app.db.selectFrom('users').select('isActive').where('id', '=', u.userId).executeTakeFirstOrThrow()).isActive).toBe(false)
    expect((await app.db.selectFrom('offers').select('isActive').where('id', '=', offer.id).executeTakeFirstOrThrow()).isActive).toBe(false)
  })

  it('answers 412 on a stale If-Match and changes nothing', async () => {
    const sup = await createSupplier(app.db)
    const u = await createUser(app.db, 'SUPPLIER', sup.id)
    expectProblem(await call(admin, 'POST', `/v1/suppliers/${sup.id}/deactivate`, {}, { 'if-match': '"5"' }), 412, 'PRECONDITION_FAILED')
    expect((await app.db.selectFrom('users').select('isActive').where('id', '=', u.userId).executeTakeFirstOrThrow()).isActive).toBe(true)
  })
})

describe('supplier sites', () => {
  it('lists, adds, renames and deletes sites; never leaves the supplier without a primary site', async () => {
    const sup = await createSupplier(app.db)
    const [primary] = await primaries(sup.id)
    const added = await call(admin, 'POST', `/v1/suppliers/${sup.id}/sites`, { name: 'Annexe', address })
    expect(added.statusCode, added.body).toBe(201)
    expect(added.json()).toMatchObject({ supplierId: sup.id, name: 'Annexe', isPrimary: false, version: 1 })
    const siteId = added.json().id as string
    const list = (await call(admin, 'GET', `/v1/suppliers/${sup.id}/sites?limit=1`)).json()
    expect(list.items).toHaveLength(1)
    expect(list.nextCursor).not.toBeNull()

    expectProblem(await call(admin, 'PATCH', `/v1/suppliers/${sup.id}/sites/${primary ?? ''}`, { isPrimary: false }), 422, 'BUSINESS_RULE_VIOLATED')
    expectProblem(await call(admin, 'DELETE', `/v1/suppliers/${sup.id}/sites/${primary ?? ''}`), 422, 'BUSINESS_RULE_VIOLATED')
    expect(await primaries(sup.id)).toEqual([primary])

    const renamed = await call(callerFor(app, 'HANDLER'), 'PATCH', `/v1/suppliers/${sup.id}/sites/${siteId}`, { name: 'Annexe 2' }, { 'if-match': '"1"' })
    expect(renamed.json()).toMatchObject({ name: 'Annexe 2', version: 2 })
    expectProblem(await call(admin, 'PATCH', `/v1/suppliers/${sup.id}/sites/${siteId}`, { name: 'x' }, { 'if-match': '"1"' }), 412, 'PRECONDITION_FAILED')
    expectProblem(await call(admin, 'PATCH', `/v1/suppliers/${sup.id}/sites/${siteId}`, { supplierId: sup.id }), 400, 'VALIDATION_FAILED')

    const promoted = await call(admin, 'PATCH', `/v1/suppliers/${sup.id}/sites/${siteId}`, { isPrimary: true })
    expect(promoted.json().isPrimary).toBe(true)
    expect(await primaries(sup.id)).toEqual([siteId])
    const del = await call(admin, 'DELETE', `/v1/suppliers/${sup.id}/sites/${primary ?? ''}`)
    expect(del.statusCode).toBe(204)
    expect(del.body).toBe('')
    const ev = await app.db.selectFrom('auditEvents').select(['entityType', 'changes']).where('action', '=', 'supplier_site.delete').where('entityId', '=', primary ?? '').execute()
    expect(ev).toEqual([{ entityType: 'supplier_site', changes: { supplierId: sup.id } }])
  })

  it('adds a new primary site atomically, demoting the previous one', async () => {
    const sup = await createSupplier(app.db)
    const res = await call(admin, 'POST', `/v1/suppliers/${sup.id}/sites`, { name: 'HQ', isPrimary: true })
    expect(await primaries(sup.id)).toEqual([res.json().id])
  })

  it('keeps exactly one primary under 10 concurrent "make this site primary" requests', async () => {
    const sup = await createSupplier(app.db)
    const ids: string[] = []
    for (let i = 0; i < 10; i++) ids.push((await call(admin, 'POST', `/v1/suppliers/${sup.id}/sites`, { name: `Site ${i}` })).json().id as string)
    const results = await Promise.all(ids.map(id => call(admin, 'PATCH', `/v1/suppliers/${sup.id}/sites/${id}`, { isPrimary: true })))
    expect(results.map(r => r.statusCode)).toEqual(ids.map(() => 200))
    const p = await primaries(sup.id)
    expect(p).toHaveLength(1)
    expect(ids).toContain(p[0])
  })

  it('404s a site of another supplier and an unknown supplier', async () => {
    const a = await createSupplier(app.db)
    const b = await createSupplier(app.db)
    const [siteOfB] = await primaries(b.id)
    expectProblem(await call(admin, 'PATCH', `/v1/suppliers/${a.id}/sites/${siteOfB ?? ''}`, { name: 'x' }), 404)
    expectProblem(await call(admin, 'GET', '/v1/suppliers/00000000-0000-4000-8000-000000000000/sites'), 404)
  })

  it('shows station users an active supplier\'s sites as { id, name } and suppliers only their own', async () => {
    const sup = await createSupplier(app.db)
    const other = await createSupplier(app.db)
    const inactive = await createSupplier(app.db, { isActive: false })
    const st = callerFor(app, 'STATION', (await createStation(app.db)).id)
    const items = (await call(st, 'GET', `/v1/suppliers/${sup.id}/sites`)).json().items
    expect(items).toEqual([{ id: expect.any(String), name: 'Main plant' }])
    expectProblem(await call(st, 'GET', `/v1/suppliers/${inactive.id}/sites`), 404)
    const sp = callerFor(app, 'SUPPLIER', sup.id)
    expect((await call(sp, 'GET', `/v1/suppliers/${sup.id}/sites`)).json().items[0]).toMatchObject({ isPrimary: true, address: { city: 'Nantes' } })
    expectProblem(await call(sp, 'GET', `/v1/suppliers/${other.id}/sites`), 404)
  })
})
