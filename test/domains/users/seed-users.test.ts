// The demo accounts: every role can sign in with the demo password and lands in its organization.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createDb, type DbHandle } from '../../../src/db/index.js'
import type { App } from '../../../src/lib/route.js'
import { DEMO_PASSWORD, type SeedContext } from '../../../db/seed/demo.js'
import { seedOrganizations } from '../../../db/seed/steps/organizations.js'
import { DEMO_PLATFORM_USERS, seedUsers, stationUserEmail, supplierUserEmail } from '../../../db/seed/steps/users.js'
import { hashPassword } from '../../../src/lib/password.js'
import { createTestApp } from '../../helpers/app.js'
import { createDatabaseFromTemplate } from '../../helpers/db.js'
import { loginAs, me } from '../auth/auth-helpers.js'

let handle: DbHandle
let app: App
const ctx: SeedContext = { passwordHash: '', ids: {} }

beforeAll(async () => {
  // a database of its own (the demo addresses are fixed and other files of this worker may seed
  // too), named with the run's prefix so the global teardown drops it
  const url = await createDatabaseFromTemplate(`${inject('dbPrefix')}_seedusers_w${process.env.VITEST_POOL_ID ?? '0'}`)
  handle = createDb({ connectionString: url, poolSize: 2, statementTimeoutMs: 60_000, connectTimeoutMs: 5000 })
  ctx.passwordHash = await hashPassword(DEMO_PASSWORD)
  await handle.db.transaction().execute(async trx => {
    await seedOrganizations(trx, ctx)
    await seedUsers(trx, ctx)
  })
  app = await createTestApp({}, url)
})
afterAll(async () => {
  await app.close()
  await handle.destroy()
})

describe('demo users', () => {
  it('creates the platform accounts and one account per station and per supplier', async () => {
    const stations = await handle.db.selectFrom('stations').select(['id', 'code']).execute()
    const suppliers = await handle.db.selectFrom('suppliers').select('id').execute()
    const users = await handle.db.selectFrom('users').select(['email', 'role', 'organizationId']).execute()
    expect(users).toHaveLength(DEMO_PLATFORM_USERS.length + stations.length + suppliers.length)
    for (const s of stations) expect(users).toContainEqual({ email: stationUserEmail(s.code), role: 'STATION', organizationId: s.id })
    expect(users.filter(u => u.role === 'SUPPLIER').map(u => u.organizationId).sort()).toEqual(suppliers.map(s => s.id).sort())
    expect(ctx.ids['user:ADMIN']).toBeDefined()
    expect(ctx.ids['user:STATION']).toBeDefined()
    expect(ctx.ids['user:SUPPLIER']).toBeDefined()
  })

  it('every demo account signs in with the demo password and sees its organization', async () => {
    const users = await handle.db.selectFrom('users').select(['email', 'role', 'organizationId']).execute()
    for (const u of users) {
      const t = await loginAs(app, u.email, DEMO_PASSWORD)
      const res = await me(app, t.accessToken)
      expect(res.json()).toMatchObject({ role: u.role, organizationId: u.organizationId })
    }
    if (ctx.ids['supplier:cartonnerie-du-val'] !== undefined) {
      expect(users).toContainEqual(expect.objectContaining({ email: supplierUserEmail('cartonnerie-du-val') }))
    }
  })
})
