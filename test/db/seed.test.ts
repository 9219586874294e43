// The bootstrap admin and the demo dataset, on fresh databases cloned from the template.
import { afterAll, describe, expect, inject, it } from 'vitest'
import { createDb, type DbHandle } from '../../src/db/index.js'
import { ensureBootstrapAdmin } from '../../src/domains/auth/bootstrap.js'
import { verifyPassword } from '../../src/lib/password.js'
import { seedDemo, DEMO_PASSWORD } from '../../db/seed/demo.js'
import { createDatabaseFromTemplate } from '../helpers/db.js'

const handles: DbHandle[] = []
async function freshDb (suffix: string): Promise<DbHandle> {
  const url = await createDatabaseFromTemplate(`${inject('dbPrefix')}_${suffix}_${process.env.VITEST_POOL_ID ?? '0'}`)
  const h = createDb({ connectionString: url, poolSize: 4, statementTimeoutMs: 60_000, connectTimeoutMs: 5000 })
  handles.push(h)
  return h
}
afterAll(async () => { for (const h of handles) await h.destroy() })

describe('bootstrap admin', () => {
  it('creates one ADMIN when none exists, refuses weak passwords, and is idempotent', async () => {
    const { db } = await freshDb('boot')
    expect(await ensureBootstrapAdmin(db, undefined, undefined)).toBe('skipped')
    await expect(ensureBootstrapAdmin(db, 'root@bluewhale.example', 'short')).rejects.toThrow(/at least 12/)
    await expect(ensureBootstrapAdmin(db, 'root@bluewhale.example', 'password1234')).rejects.toThrow(/too common/)
    await expect(ensureBootstrapAdmin(db, 'rootadmin@bluewhale.example', 'my-rootadmin-secret')).rejects.toThrow(/email/)
    expect(await ensureBootstrapAdmin(db, 'root@bluewhale.example', 'correct horse battery')).toBe('created')
    expect(await ensureBootstrapAdmin(db, 'other@bluewhale.example', 'correct horse battery')).toBe('exists')
    const admins = await db.selectFrom('users').select(['email', 'passwordHash']).where('role', '=', 'ADMIN').execute()
    expect(admins).toHaveLength(1)
    expect(await verifyPassword(admins[0]?.passwordHash ?? '', 'correct horse battery')).toBe(true)
    const ev = await db.selectFrom('auditEvents').select(['action', 'changes']).where('action', '=', 'user.bootstrap').executeTakeFirstOrThrow()
    expect(JSON.stringify(ev.changes)).not.toContain('root@')
  })
})

describe('demo dataset', () => {
  it('loads every domain step once, with an account for every role', async () => {
    const { db } = await freshDb('demo')
    expect(await seedDemo(db)).toBe(true)
    expect(await seedDemo(db)).toBe(false)
    const roles = await db.selectFrom('users').select('role').distinct().execute()
    expect(roles.map(r => r.role).sort()).toEqual(['ADMIN', 'HANDLER', 'MANAGER', 'STATION', 'SUPPLIER'])
    const admin = await db.selectFrom('users').select('passwordHash').where('email', '=', 'admin@bluewhale.example').executeTakeFirstOrThrow()
    expect(await verifyPassword(admin.passwordHash, DEMO_PASSWORD)).toBe(true)
  })
})
