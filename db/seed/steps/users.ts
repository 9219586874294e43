// Demo users: the three platform roles, one STATION user per demo station and one SUPPLIER user
// per demo supplier, all with the demo password (README.md lists them). Station and supplier
// accounts are made for every station / supplier row present, so the step does not depend on the
// exact list the organizations step creates; addresses are derived from the station code and the
// supplier's ctx.ids key. ctx.ids gets `user:<ROLE>` (the first account of each role) and
// `user:station:<CODE>` / `user:supplier:<slug>`.
import type { SeedContext } from '../context.js'
import type { Db } from '../../../src/db/index.js'
import { PLATFORM_ORGANIZATION_ID, type OrganizationKind, type Role } from '../../../src/lib/permissions.js'

export const DEMO_PLATFORM_USERS = [
  { role: 'ADMIN', email: 'admin@bluewhale.example', fullName: 'Alice Admin' },
  { role: 'MANAGER', email: 'manager@bluewhale.example', fullName: 'Marc Manager' },
  { role: 'HANDLER', email: 'ops@bluewhale.example', fullName: 'Hugo Handler' }
] as const

export const stationUserEmail = (code: string): string => `station.${code.toLowerCase()}@demo.example`
export const supplierUserEmail = (slug: string): string => `supplier.${slug}@demo.example`

async function insertUser (db: Db, ctx: SeedContext, u: { organizationId: string, organizationKind: OrganizationKind, role: Role, email: string, fullName: string }): Promise<string> {
  const row = await db.insertInto('users').values({
    ...u, phone: null, passwordHash: ctx.passwordHash, lockedUntil: null, lastLoginAt: null, createdBy: null
  }).returning('id').executeTakeFirstOrThrow()
  ctx.ids[`user:${u.role}`] ??= row.id
  return row.id
}

export async function seedUsers (db: Db, ctx: SeedContext): Promise<void> {
  for (const u of DEMO_PLATFORM_USERS) {
    await insertUser(db, ctx, { organizationId: PLATFORM_ORGANIZATION_ID, organizationKind: 'PLATFORM', ...u })
  }

  const keyOf = new Map(Object.entries(ctx.ids).map(([k, v]) => [v, k]))
  const stations = await db.selectFrom('stations').select(['id', 'code', 'name']).where('isActive', '=', true).orderBy('code').execute()
  for (const s of stations) {
    ctx.ids[`user:station:${s.code}`] = await insertUser(db, ctx, { organizationId: s.id, organizationKind: 'STATION', role: 'STATION', email: stationUserEmail(s.code), fullName: `Buyer, ${s.name}` })
  }
  const suppliers = await db.selectFrom('suppliers').select(['id', 'name']).where('isActive', '=', true).orderBy('name').execute()
  let n = 0
  for (const s of suppliers) {
    n += 1
    const key = keyOf.get(s.id)
    const slug = key?.startsWith('supplier:') === true ? key.slice('supplier:'.length) : String(n)
    ctx.ids[`user:supplier:${slug}`] = await insertUser(db, ctx, { organizationId: s.id, organizationKind: 'SUPPLIER', role: 'SUPPLIER', email: supplierUserEmail(slug), fullName: `Sales desk, ${s.name}` })
  }
}
