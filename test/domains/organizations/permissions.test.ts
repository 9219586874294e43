// The §2.1 permission matrix for every organizations endpoint: each role × each action. Allowed →
// 2xx; a role that may never do it → 403; a row outside the caller's scope → 404. Refused calls
// must leave the target row exactly as it was and write no audit event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import type { Role } from '../../../src/lib/permissions.js'
import { countAudit, createTestApp } from '../../helpers/app.js'
import { createStation, createStationGroup, createSupplier, uniq } from '../../helpers/factories.js'
import { callerFor, client, type Method } from './helpers.js'

let app: App
let call: ReturnType<typeof client>
beforeAll(async () => {
  app = await createTestApp()
  call = client(app)
})
afterAll(async () => { await app.close() })

/** A small world per check: the caller's own station and supplier, and others'. */
interface World { group: string, ownStation: string, otherStation: string, ownSupplier: string, otherSupplier: string, otherSite: string, ownSite: string, contacts: Record<string, string> }

async function world (): Promise<World> {
  const group = (await createStationGroup(app.db)).id
  const ownStation = (await createStation(app.db, { groupId: group })).id
  const otherStation = (await createStation(app.db, { groupId: group })).id
  const ownSupplier = (await createSupplier(app.db)).id
  const otherSupplier = (await createSupplier(app.db)).id
  const site = async (supplierId: string): Promise<string> => (await app.db.insertInto('supplierSites').values({ supplierId, name: 'Extra', addressLine1: null, addressLine2: null, postalCode: null, city: null }).returning('id').executeTakeFirstOrThrow()).id
  const contacts: Record<string, string> = {}
  for (const org of [ownStation, otherStation, ownSupplier, otherSupplier]) {
    contacts[org] = (await app.db.insertInto('contacts').values({ organizationId: org, fullName: 'Jo Contact', position: null, phone: null, email: null }).returning('id').executeTakeFirstOrThrow()).id
  }
  return { group, ownStation, otherStation, ownSupplier, otherSupplier, otherSite: await site(otherSupplier), ownSite: await site(ownSupplier), contacts }
}

interface Target { method: Method, url: string, payload?: unknown, table: 'stations' | 'stationGroups' | 'suppliers' | 'supplierSites' | 'contacts' | 'organizations', id: string }
type Build = (w: World) => Target
type Expect = Record<Role, number>

const ROLES: Role[] = ['ADMIN', 'MANAGER', 'HANDLER', 'STATION', 'SUPPLIER']
const staffOnly = (create: number): Expect => ({ ADMIN: create, MANAGER: create, HANDLER: create, STATION: 403, SUPPLIER: 403 })
const adminManager = (ok: number): Expect => ({ ADMIN: ok, MANAGER: ok, HANDLER: 403, STATION: 403, SUPPLIER: 403 })

const CASES: Array<[string, Build, Expect]> = [
  ['create station', w => ({ method: 'POST', url: '/v1/stations', payload: { code: uniq('ST-'), name: 'New' }, table: 'stations', id: w.otherStation }), adminManager(201)],
  ['update another station', w => ({ method: 'PATCH', url: `/v1/stations/${w.otherStation}`, payload: { name: 'Changed' }, table: 'stations', id: w.otherStation }), staffOnly(200)],
  ['update own station', w => ({ method: 'PATCH', url: `/v1/stations/${w.ownStation}`, payload: { name: 'Changed' }, table: 'stations', id: w.ownStation }), staffOnly(200)],
  ['deactivate station', w => ({ method: 'POST', url: `/v1/stations/${w.otherStation}/deactivate`, payload: {}, table: 'stations', id: w.otherStation }), adminManager(200)],
  ['activate station', w => ({ method: 'POST', url: `/v1/stations/${w.otherStation}/activate`, payload: {}, table: 'stations', id: w.otherStation }), adminManager(200)],
  ['create group', w => ({ method: 'POST', url: '/v1/station-groups', payload: { name: uniq('G ') }, table: 'stationGroups', id: w.group }), adminManager(201)],
  ['update group', w => ({ method: 'PATCH', url: `/v1/station-groups/${w.group}`, payload: { description: 'x' }, table: 'stationGroups', id: w.group }), staffOnly(200)],
  ['deactivate group', w => ({ method: 'POST', url: `/v1/station-groups/${w.group}/deactivate`, payload: {}, table: 'stationGroups', id: w.group }), adminManager(200)],
  ['activate group', w => ({ method: 'POST', url: `/v1/station-groups/${w.group}/activate`, payload: {}, table: 'stationGroups', id: w.group }), adminManager(200)],
  ['create supplier', w => ({ method: 'POST', url: '/v1/suppliers', payload: { name: uniq('S '), sites: [{ name: 'Main' }] }, table: 'suppliers', id: w.otherSupplier }), adminManager(201)],
  ['update another supplier', w => ({ method: 'PATCH', url: `/v1/suppliers/${w.otherSupplier}`, payload: { phone: '+33 1 23 45 67 89' }, table: 'suppliers', id: w.otherSupplier }), { ...staffOnly(200), SUPPLIER: 404 }],
  ['update own supplier', w => ({ method: 'PATCH', url: `/v1/suppliers/${w.ownSupplier}`, payload: { phone: '+33 1 23 45 67 89' }, table: 'suppliers', id: w.ownSupplier }), { ...staffOnly(200), SUPPLIER: 200 }],
  ['deactivate supplier', w => ({ method: 'POST', url: `/v1/suppliers/${w.otherSupplier}/deactivate`, payload: {}, table: 'suppliers', id: w.otherSupplier }), adminManager(200)],
  ['activate supplier', w => ({ method: 'POST', url: `/v1/suppliers/${w.otherSupplier}/activate`, payload: {}, table: 'suppliers', id: w.otherSupplier }), adminManager(200)],
  ['add a site to another supplier', w => ({ method: 'POST', url: `/v1/suppliers/${w.otherSupplier}/sites`, payload: { name: 'Annexe' }, table: 'suppliers', id: w.otherSupplier }), { ...adminManager(201), SUPPLIER: 404 }],
  ['add a site to own supplier', w => ({ method: 'POST', url: `/v1/suppliers/${w.ownSupplier}/sites`, payload: { name: 'Annexe' }, table: 'suppliers', id: w.ownSupplier }), { ...adminManager(201), SUPPLIER: 201 }],
  ['update another supplier\'s site', w => ({ method: 'PATCH', url: `/v1/suppliers/${w.otherSupplier}/sites/${w.otherSite}`, payload: { name: 'Renamed' }, table: 'supplierSites', id: w.otherSite }), { ...staffOnly(200), SUPPLIER: 404 }],
  ['update own site', w => ({ method: 'PATCH', url: `/v1/suppliers/${w.ownSupplier}/sites/${w.ownSite}`, payload: { name: 'Renamed' }, table: 'supplierSites', id: w.ownSite }), { ...staffOnly(200), SUPPLIER: 200 }],
  ['delete another supplier\'s site', w => ({ method: 'DELETE', url: `/v1/suppliers/${w.otherSupplier}/sites/${w.otherSite}`, table: 'supplierSites', id: w.otherSite }), { ...adminManager(204), SUPPLIER: 404 }],
  ['delete own site', w => ({ method: 'DELETE', url: `/v1/suppliers/${w.ownSupplier}/sites/${w.ownSite}`, table: 'supplierSites', id: w.ownSite }), { ...adminManager(204), SUPPLIER: 204 }],
  ['add a contact to another station', w => ({ method: 'POST', url: `/v1/organizations/${w.otherStation}/contacts`, payload: { fullName: 'New Person' }, table: 'organizations', id: w.otherStation }), { ...adminManager(201), STATION: 404, SUPPLIER: 404 }],
  ['add a contact to own station', w => ({ method: 'POST', url: `/v1/organizations/${w.ownStation}/contacts`, payload: { fullName: 'New Person' }, table: 'organizations', id: w.ownStation }), { ...adminManager(201), STATION: 201, SUPPLIER: 404 }],
  ['add a contact to own supplier', w => ({ method: 'POST', url: `/v1/organizations/${w.ownSupplier}/contacts`, payload: { fullName: 'New Person' }, table: 'organizations', id: w.ownSupplier }), { ...adminManager(201), STATION: 404, SUPPLIER: 201 }],
  ['update another supplier\'s contact', w => ({ method: 'PATCH', url: `/v1/organizations/${w.otherSupplier}/contacts/${w.contacts[w.otherSupplier] ?? ''}`, payload: { position: 'Boss' }, table: 'contacts', id: w.contacts[w.otherSupplier] ?? '' }), { ...staffOnly(200), STATION: 404, SUPPLIER: 404 }],
  ['update own station\'s contact', w => ({ method: 'PATCH', url: `/v1/organizations/${w.ownStation}/contacts/${w.contacts[w.ownStation] ?? ''}`, payload: { position: 'Boss' }, table: 'contacts', id: w.contacts[w.ownStation] ?? '' }), { ...staffOnly(200), STATION: 200, SUPPLIER: 404 }],
  ['update own supplier\'s contact', w => ({ method: 'PATCH', url: `/v1/organizations/${w.ownSupplier}/contacts/${w.contacts[w.ownSupplier] ?? ''}`, payload: { position: 'Boss' }, table: 'contacts', id: w.contacts[w.ownSupplier] ?? '' }), { ...staffOnly(200), STATION: 404, SUPPLIER: 200 }],
  ['delete another station\'s contact', w => ({ method: 'DELETE', url: `/v1/organizations/${w.otherStation}/contacts/${w.contacts[w.otherStation] ?? ''}`, table: 'contacts', id: w.contacts[w.otherStation] ?? '' }), { ...adminManager(204), STATION: 404, SUPPLIER: 404 }],
  ['delete own station\'s contact', w => ({ method: 'DELETE', url: `/v1/organizations/${w.ownStation}/contacts/${w.contacts[w.ownStation] ?? ''}`, table: 'contacts', id: w.contacts[w.ownStation] ?? '' }), { ...adminManager(204), STATION: 204, SUPPLIER: 404 }],
  ['delete own supplier\'s contact', w => ({ method: 'DELETE', url: `/v1/organizations/${w.ownSupplier}/contacts/${w.contacts[w.ownSupplier] ?? ''}`, table: 'contacts', id: w.contacts[w.ownSupplier] ?? '' }), { ...adminManager(204), STATION: 404, SUPPLIER: 204 }],
  ['list another organization\'s contacts', w => ({ method: 'GET', url: `/v1/organizations/${w.otherSupplier}/contacts`, table: 'organizations', id: w.otherSupplier }), { ...staffOnly(200), STATION: 404, SUPPLIER: 404 }],
  ['list own contacts', w => ({ method: 'GET', url: `/v1/organizations/${w.ownStation}/contacts`, table: 'organizations', id: w.ownStation }), { ...staffOnly(200), STATION: 200, SUPPLIER: 404 }],
  ['list another supplier\'s sites', w => ({ method: 'GET', url: `/v1/suppliers/${w.otherSupplier}/sites`, table: 'suppliers', id: w.otherSupplier }), { ...staffOnly(200), STATION: 200, SUPPLIER: 404 }],
  ['list station groups', w => ({ method: 'GET', url: '/v1/station-groups', table: 'stationGroups', id: w.group }), { ...staffOnly(200), STATION: 200, SUPPLIER: 403 }],
  ['read another supplier', w => ({ method: 'GET', url: `/v1/suppliers/${w.otherSupplier}`, table: 'suppliers', id: w.otherSupplier }), { ...staffOnly(200), STATION: 200, SUPPLIER: 404 }]
]

/** The target row, plus the contacts and sites hanging off it (creations must not happen either). */
async function snapshot (t: Target): Promise<unknown> {
  const row = await app.db.selectFrom(t.table).selectAll().where('id', '=', t.id).executeTakeFirst()
  const contacts = await app.db.selectFrom('contacts').select(['id', 'version']).where('organizationId', '=', t.id).orderBy('id').execute()
  const sites = await app.db.selectFrom('supplierSites').select(['id', 'version']).where('supplierId', '=', t.id).orderBy('id').execute()
  return { row, contacts, sites }
}

describe('organizations permission matrix (PRODUCT.md §2.1)', () => {
  for (const [action, build, expected] of CASES) {
    for (const role of ROLES) {
      const status = expected[role]
      it(`${role} · ${action} → ${status}`, async () => {
        const w = await world()
        const org = role === 'STATION' ? w.ownStation : role === 'SUPPLIER' ? w.ownSupplier : undefined
        const t = build(w)
        const before = await snapshot(t)
        const audits = await countAudit(app)
        const res = await call(callerFor(app, role, org), t.method, t.url, t.payload)
        expect(res.statusCode, res.body).toBe(status)
        if (status >= 400) {
          expect(res.headers['content-type']).toContain('application/problem+json')
          expect(await snapshot(t)).toEqual(before)
          expect(await countAudit(app)).toBe(audits)
        } else if (t.method !== 'GET') {
          expect(await countAudit(app)).toBe(audits + 1)
        }
      })
    }
  }
})
