// The demo dataset `npm start` serves on the embedded database and `npm run db:seed` loads:
// a small, readable network with an account for every role (listed in README.md). Idempotent:
// it does nothing when the demo admin already exists. Each domain adds its part in its own step.
import { sql } from 'kysely'
import type { Db } from '../../src/db/index.js'
import { hashPassword } from '../../src/lib/password.js'
import type { SeedContext, SeedStep } from './context.js'
import { seedOrganizations } from './steps/organizations.js'
import { seedUsers } from './steps/users.js'
import { seedCatalog } from './steps/catalog.js'
import { seedOrders } from './steps/orders.js'
import { seedForecasts } from './steps/forecasts.js'
import { seedStock } from './steps/stock.js'
import { seedTransfers } from './steps/transfers.js'

export const DEMO_PASSWORD = 'demo-packaging-2026'

export const DEMO_ACCOUNTS = {
  admin: 'admin@bluewhale.example',
  manager: 'manager@bluewhale.example',
  handler: 'ops@bluewhale.example'
} as const

export type { SeedContext, SeedStep } from './context.js'

/**
 * Domain seed steps, run in order inside one transaction; each adds the ids it creates to ctx.ids
 * and may use the ids of the steps before it. A new domain adds its step (a SeedStep in
 * steps/<domain>.ts, importing only ./context.js) after the steps whose rows it needs.
 */
export const seedSteps: SeedStep[] = [
  seedOrganizations,
  seedUsers,
  seedCatalog,
  seedOrders,
  seedForecasts,
  seedStock,
  seedTransfers
]

export async function seedDemo (db: Db): Promise<boolean> {
  const exists = await db.selectFrom('users').select('id').where('email', '=', DEMO_ACCOUNTS.admin).executeTakeFirst()
  if (exists !== undefined) return false
  const passwordHash = await hashPassword(DEMO_PASSWORD)
  await db.transaction().execute(async trx => {
    await sql`SELECT pg_advisory_xact_lock(7310003)`.execute(trx)
    const again = await trx.selectFrom('users').select('id').where('email', '=', DEMO_ACCOUNTS.admin).executeTakeFirst()
    if (again !== undefined) return
    const ctx: SeedContext = { passwordHash, ids: {} }
    for (const step of seedSteps) await step(trx, ctx)
  })
  return true
}
