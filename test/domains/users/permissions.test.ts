// The users rows of the permission matrix (PRODUCT.md §2, §2.1), cell by cell: every caller role ×
// every action × every target role. Allowed → 2xx; forbidden → 403; out of scope → 404; and a
// refused mutation leaves the row unchanged (same version) with no audit event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { ROLES, type Role } from '../../../src/lib/permissions.js'
import { bearer, countAudit, createTestApp, tokenFor } from '../../helpers/app.js'
import { createStation, createSupplier, createUser, uniq, type TestUser } from '../../helpers/factories.js'

let app: App
let stationA: string
let stationB: string
let supplierA: string
let supplierB: string
const callers = {} as Record<Role, TestUser>
const tokens = {} as Record<Role, string>

beforeAll(async () => {
  app = await createTestApp()
  stationA = (await createStation(app.db)).id
  stationB = (await createStation(app.db)).id
  supplierA = (await createSupplier(app.db)).id
  supplierB = (await createSupplier(app.db)).id
  for (const role of ROLES) {
    callers[role] = await createUser(app.db, role, orgFor(role, 'A'))
    tokens[role] = tokenFor(app, callers[role])
  }
})
afterAll(async () => { await app.close() })

function orgFor (role: Role, side: 'A' | 'B'): string | undefined {
  if (role === 'STATION') return side === 'A' ? stationA : stationB
  if (role === 'SUPPLIER') return side === 'A' ? supplierA : supplierB
  return undefined
}

interface InjectOpts { method: 'PATCH' | 'POST', url: string, payload?: Record<string, unknown> }

/** Who may manage users of which role (PRODUCT.md §2). */
const MANAGES: Record<Role, Role[]> = {
  ADMIN: [...ROLES],
  MANAGER: ['HANDLER', 'STATION', 'SUPPLIER'],
  HANDLER: ['STATION', 'SUPPLIER'],
  STATION: [],
  SUPPLIER: []
}

/** Targets: one user of every role in the callers' own organizations (A) and, for tenants, another one (B). */
const TARGETS: Array<{ role: Role, side: 'A' | 'B' }> = [
  ...ROLES.map(role => ({ role, side: 'A' as const })),
  { role: 'STATION', side: 'B' },
  { role: 'SUPPLIER', side: 'B' }
]

/** Whether the caller can see the target at all (STATION / SUPPLIER: own organization only). */
function visible (caller: Role, target: { role: Role, side: 'A' | 'B' }): boolean {
  if (caller !== 'STATION' && caller !== 'SUPPLIER') return true
  return target.role === caller && target.side === 'A'
}

const version = async (id: string): Promise<number> =>
  (await app.db.selectFrom('users').select('version').where('id', '=', id).executeTakeFirstOrThrow()).version

describe('users × permission matrix', () => {
  for (const caller of ROLES) {
    it(`${caller}: list shows ${caller === 'STATION' || caller === 'SUPPLIER' ? 'only its own organization' : 'everyone'}`, async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/users?limit=200', headers: bearer(tokens[caller]) })
      expect(res.statusCode).toBe(200)
      const orgs = new Set((res.json().items as Array<{ organizationId: string }>).map(u => u.organizationId))
      if (caller === 'STATION' || caller === 'SUPPLIER') expect([...orgs]).toEqual([callers[caller].organizationId])
      else expect(orgs.size).toBeGreaterThan(2)
      // asking for another organization explicitly does not widen the scope
      const other = await app.inject({ method: 'GET', url: `/v1/users?organizationId=${stationB}`, headers: bearer(tokens[caller]) })
      expect(other.statusCode).toBe(200)
      if (caller === 'STATION' || caller === 'SUPPLIER') expect(other.json().items).toEqual([])
    })

    for (const target of TARGETS) {
      const label = `${target.role}${target.side === 'B' ? ' of another organization' : ''}`
      const seen = visible(caller, target)

      it(`${caller} reads a ${label} user → ${seen ? 200 : 404}`, async () => {
        const t = await createUser(app.db, target.role, orgFor(target.role, target.side))
        const res = await app.inject({ method: 'GET', url: `/v1/users/${t.userId}`, headers: bearer(tokens[caller]) })
        expect(res.statusCode, res.body).toBe(seen ? 200 : 404)
        const pd = await app.inject({ method: 'GET', url: `/v1/users/${t.userId}/personal-data`, headers: bearer(tokens[caller]) })
        expect(pd.statusCode, pd.body).toBe(caller === 'ADMIN' ? 200 : seen ? 403 : 404)
      })

      const allowed = MANAGES[caller].includes(target.role)
      const mutations: Array<[string, (id: string) => InjectOpts, number]> = [
        ['updates', id => ({ method: 'PATCH', url: `/v1/users/${id}`, payload: { fullName: `Renamed ${uniq()}` } }), allowed ? 200 : 403],
        ['deactivates', id => ({ method: 'POST', url: `/v1/users/${id}/deactivate` }), allowed ? 200 : 403],
        ['activates', id => ({ method: 'POST', url: `/v1/users/${id}/activate` }), allowed ? 200 : 403],
        ['erases', id => ({ method: 'POST', url: `/v1/users/${id}/erase` }), caller === 'ADMIN' ? 200 : 403]
      ]
      for (const [verb, request, expected] of mutations) {
        it(`${caller} ${verb} a ${label} user → ${expected}`, async () => {
          const t = await createUser(app.db, target.role, orgFor(target.role, target.side), { isActive: verb !== 'activates' })
          const before = await version(t.userId)
          const audits = await countAudit(app)
          const res = await app.inject({ ...request(t.userId), headers: bearer(tokens[caller]) })
          expect(res.statusCode, res.body).toBe(expected)
          if (expected >= 400) {
            expect(await version(t.userId)).toBe(before)
            expect(await countAudit(app)).toBe(audits)
          } else {
            expect(await version(t.userId)).toBe(before + 1)
            expect(await countAudit(app)).toBe(audits + 1)
          }
        })
      }

      it(`${caller} creates a ${label} user → ${allowed ? 201 : 403}`, async () => {
        const before = await countAudit(app)
        const email = `created-${uniq().toLowerCase()}@test.example`
        const res = await app.inject({
          method: 'POST',
          url: '/v1/users',
          headers: bearer(tokens[caller]),
          payload: { email, fullName: 'Created User', role: target.role, organizationId: orgFor(target.role, target.side) ?? callers.ADMIN.organizationId, password: 'a long enough passphrase' }
        })
        expect(res.statusCode, res.body).toBe(allowed ? 201 : 403)
        const exists = await app.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()
        expect(exists !== undefined).toBe(allowed)
        expect(await countAudit(app)).toBe(before + (allowed ? 1 : 0))
      })
    }

    it(`${caller} may not change their own role or deactivate or erase themselves`, async () => {
      const self = await createUser(app.db, caller, orgFor(caller, 'A'))
      const token = tokenFor(app, self)
      const other: Role = caller === 'ADMIN' ? 'MANAGER' : caller === 'SUPPLIER' ? 'STATION' : 'ADMIN'
      const before = await version(self.userId)
      expect((await app.inject({ method: 'PATCH', url: `/v1/users/${self.userId}`, headers: bearer(token), payload: { role: other } })).statusCode).toBe(403)
      expect((await app.inject({ method: 'POST', url: `/v1/users/${self.userId}/deactivate`, headers: bearer(token) })).statusCode).toBe(403)
      expect((await app.inject({ method: 'POST', url: `/v1/users/${self.userId}/erase`, headers: bearer(token) })).statusCode).toBe(403)
      expect(await version(self.userId)).toBe(before)
      // but everyone reads and exports their own data, and staff edit their own name
      expect((await app.inject({ method: 'GET', url: `/v1/users/${self.userId}`, headers: bearer(token) })).statusCode).toBe(200)
      expect((await app.inject({ method: 'GET', url: `/v1/users/${self.userId}/personal-data`, headers: bearer(token) })).statusCode).toBe(200)
      const rename = await app.inject({ method: 'PATCH', url: `/v1/users/${self.userId}`, headers: bearer(token), payload: { fullName: 'My New Name' } })
      expect(rename.statusCode).toBe(caller === 'STATION' || caller === 'SUPPLIER' ? 403 : 200)
    })
  }

  it('promotions: only an ADMIN makes someone ADMIN or MANAGER', async () => {
    for (const [caller, to, expected] of [['ADMIN', 'MANAGER', 200], ['ADMIN', 'ADMIN', 200], ['MANAGER', 'MANAGER', 403], ['MANAGER', 'ADMIN', 403], ['HANDLER', 'MANAGER', 403]] as const) {
      const h = await createUser(app.db, 'HANDLER')
      const res = await app.inject({ method: 'PATCH', url: `/v1/users/${h.userId}`, headers: bearer(tokens[caller]), payload: { role: to } })
      expect(res.statusCode, `${caller} → ${to}: ${res.body}`).toBe(expected)
      const row = await app.db.selectFrom('users').select('role').where('id', '=', h.userId).executeTakeFirstOrThrow()
      expect(row.role).toBe(expected === 200 ? to : 'HANDLER')
    }
  })
})
