// Demo users: one account per role (README.md lists them).
import type { SeedContext } from '../demo.js'
import type { Db } from '../../../src/db/index.js'
import { PLATFORM_ORGANIZATION_ID } from '../../../src/lib/permissions.js'

export async function seedUsers (db: Db, ctx: SeedContext): Promise<void> {
  for (const [role, email] of [['ADMIN', 'admin@bluewhale.example'], ['MANAGER', 'manager@bluewhale.example'], ['HANDLER', 'ops@bluewhale.example']] as const) {
    const row = await db.insertInto('users').values({
      organizationId: PLATFORM_ORGANIZATION_ID, organizationKind: 'PLATFORM', email, fullName: `Demo ${role.toLowerCase()}`, phone: null, role, passwordHash: ctx.passwordHash, lockedUntil: null, lastLoginAt: null, createdBy: null
    } as never).returning('id').executeTakeFirstOrThrow()
    ctx.ids[`user:${role}`] = row.id
  }
}
