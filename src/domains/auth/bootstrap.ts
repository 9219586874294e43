// First start: when no active ADMIN exists, create one from BOOTSTRAP_ADMIN_EMAIL /
// BOOTSTRAP_ADMIN_PASSWORD (refusing a weak password), with an audit event.
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import { hashPassword, passwordProblems } from '../../lib/password.js'
import { PLATFORM_ORGANIZATION_ID } from '../../lib/permissions.js'
import { appendAuditEvent } from '../audit/audit.service.js'

export async function ensureBootstrapAdmin (db: Db, email: string | undefined, password: string | undefined): Promise<'exists' | 'created' | 'skipped'> {
  const existing = await db.selectFrom('users').select('id').where('role', '=', 'ADMIN').where('isActive', '=', true).limit(1).executeTakeFirst()
  if (existing !== undefined) return 'exists'
  if (email === undefined || password === undefined) return 'skipped'
  const problems = passwordProblems(password, email)
  if (problems.length > 0) throw new Error(`BOOTSTRAP_ADMIN_PASSWORD is refused: it ${problems.join(', ')}`)
  const hash = await hashPassword(password)
  return await db.transaction().execute(async trx => {
    await sql`SELECT pg_advisory_xact_lock(7310002)`.execute(trx)
    const again = await trx.selectFrom('users').select('id').where('role', '=', 'ADMIN').where('isActive', '=', true).limit(1).executeTakeFirst()
    if (again !== undefined) return 'exists'
    const row = await trx.insertInto('users').values({
      organizationId: PLATFORM_ORGANIZATION_ID, organizationKind: 'PLATFORM', email, fullName: 'Administrator', phone: null, role: 'ADMIN', passwordHash: hash, lockedUntil: null, lastLoginAt: null, createdBy: null
    }).returning('id').executeTakeFirstOrThrow()
    await appendAuditEvent(trx, { action: 'user.bootstrap', entityType: 'user', entityId: row.id, changes: { role: 'ADMIN' } })
    return 'created'
  })
}
