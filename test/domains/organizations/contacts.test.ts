// Contacts of stations and suppliers: CRUD, validation, scope, and at most one primary contact
// (also under parallel requests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { createTestApp, expectProblem } from '../../helpers/app.js'
import { createStation, createSupplier } from '../../helpers/factories.js'
import { PLATFORM_ORGANIZATION_ID } from '../../../src/lib/permissions.js'
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

const primaryContacts = async (orgId: string): Promise<string[]> =>
  (await app.db.selectFrom('contacts').select('id').where('organizationId', '=', orgId).where('isPrimary', '=', true).where('isActive', '=', true).execute()).map(r => r.id)

describe('contacts', () => {
  it('creates, lists, updates and deletes a station\'s contacts; personal values never reach the audit trail', async () => {
    const s = await createStation(app.db)
    const st = callerFor(app, 'STATION', s.id)
    const created = await call(st, 'POST', `/v1/organizations/${s.id}/contacts`, { fullName: 'Claire Moreau', position: 'Logistique', email: 'claire@st.example', phone: '+33 2 41 00 00 01', isPrimary: true })
    expect(created.statusCode, created.body).toBe(201)
    const c = created.json()
    expect(c).toMatchObject({ organizationId: s.id, fullName: 'Claire Moreau', isPrimary: true, version: 1 })
    const ev = await app.db.selectFrom('auditEvents').select(['entityType', 'changes']).where('action', '=', 'contact.create').where('entityId', '=', c.id).executeTakeFirstOrThrow()
    expect(ev.entityType).toBe('contact')
    expect(JSON.stringify(ev.changes)).not.toMatch(/Claire|claire@|41 00/)

    await call(admin, 'POST', `/v1/organizations/${s.id}/contacts`, { fullName: 'Bruno Adam' })
    const list = (await call(st, 'GET', `/v1/organizations/${s.id}/contacts?limit=1`)).json()
    expect(list.items.map((x: { fullName: string }) => x.fullName)).toEqual(['Bruno Adam'])
    const next = (await call(st, 'GET', `/v1/organizations/${s.id}/contacts?limit=1&cursor=${encodeURIComponent(list.nextCursor as string)}`)).json()
    expect(next).toMatchObject({ items: [{ fullName: 'Claire Moreau' }], nextCursor: null })

    const upd = await call(st, 'PATCH', `/v1/organizations/${s.id}/contacts/${c.id as string}`, { position: null }, { 'if-match': '"1"' })
    expect(upd.json()).toMatchObject({ position: null, version: 2 })
    expectProblem(await call(st, 'PATCH', `/v1/organizations/${s.id}/contacts/${c.id as string}`, { position: 'x' }, { 'if-match': '"1"' }), 412, 'PRECONDITION_FAILED')
    expectProblem(await call(st, 'DELETE', `/v1/organizations/${s.id}/contacts/${c.id as string}`, undefined, { 'if-match': '"1"' }), 412, 'PRECONDITION_FAILED')
    const del = await call(st, 'DELETE', `/v1/organizations/${s.id}/contacts/${c.id as string}`)
    expect(del.statusCode).toBe(204)
    expect(await app.db.selectFrom('contacts').select('id').where('id', '=', c.id).executeTakeFirst()).toBeUndefined()
    expectProblem(await call(st, 'DELETE', `/v1/organizations/${s.id}/contacts/${c.id as string}`), 404)
  })

  it('validates bodies and refuses mass assignment', async () => {
    const s = await createStation(app.db)
    for (const bad of [{}, { fullName: '' }, { fullName: 'x', email: 'nope' }, { fullName: 'x', isActive: false }, { fullName: 'x', organizationId: s.id }, { fullName: 'x', version: 3 }]) {
      expectProblem(await call(admin, 'POST', `/v1/organizations/${s.id}/contacts`, bad), 400, 'VALIDATION_FAILED')
    }
    expect(await app.db.selectFrom('contacts').select('id').where('organizationId', '=', s.id).execute()).toEqual([])
  })

  it('keeps at most one primary contact: a new primary demotes the previous one', async () => {
    const sup = await createSupplier(app.db)
    const sp = callerFor(app, 'SUPPLIER', sup.id)
    const a = (await call(sp, 'POST', `/v1/organizations/${sup.id}/contacts`, { fullName: 'A', isPrimary: true })).json()
    const b = (await call(sp, 'POST', `/v1/organizations/${sup.id}/contacts`, { fullName: 'B', isPrimary: true })).json()
    expect(await primaryContacts(sup.id)).toEqual([b.id])
    await call(sp, 'PATCH', `/v1/organizations/${sup.id}/contacts/${a.id as string}`, { isPrimary: true })
    expect(await primaryContacts(sup.id)).toEqual([a.id])
    await call(sp, 'PATCH', `/v1/organizations/${sup.id}/contacts/${a.id as string}`, { isPrimary: false })
    expect(await primaryContacts(sup.id)).toEqual([])
  })

  it('keeps at most one primary under 10 concurrent primary creations and promotions', async () => {
    const s = await createStation(app.db)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await call(admin, 'POST', `/v1/organizations/${s.id}/contacts`, { fullName: `Person ${i}` })).json().id as string)
    const results = await Promise.all([
      ...ids.map(id => call(admin, 'PATCH', `/v1/organizations/${s.id}/contacts/${id}`, { isPrimary: true })),
      ...ids.map((_, i) => call(admin, 'POST', `/v1/organizations/${s.id}/contacts`, { fullName: `New ${i}`, isPrimary: true }))
    ])
    expect(results.map(r => r.statusCode).sort()).toEqual([...ids.map(() => 200), ...ids.map(() => 201)].sort())
    expect(await primaryContacts(s.id)).toHaveLength(1)
  })

  it('404s another organization\'s contact, the platform organization and unknown organizations', async () => {
    const a = await createStation(app.db)
    const b = await createStation(app.db)
    const c = (await call(admin, 'POST', `/v1/organizations/${b.id}/contacts`, { fullName: 'Other' })).json()
    expectProblem(await call(admin, 'PATCH', `/v1/organizations/${a.id}/contacts/${c.id as string}`, { position: 'x' }), 404)
    expectProblem(await call(admin, 'GET', `/v1/organizations/${PLATFORM_ORGANIZATION_ID}/contacts`), 404)
    expectProblem(await call(admin, 'POST', `/v1/organizations/${PLATFORM_ORGANIZATION_ID}/contacts`, { fullName: 'x' }), 404)
    expectProblem(await call(admin, 'GET', '/v1/organizations/00000000-0000-4000-8000-000000000000/contacts'), 404)
    const st = callerFor(app, 'STATION', a.id)
    expectProblem(await call(st, 'GET', `/v1/organizations/${b.id}/contacts`), 404)
    expect((await app.db.selectFrom('contacts').select('position').where('id', '=', c.id).executeTakeFirstOrThrow()).position).toBeNull()
  })
})
