// Revocation edges (src/plugins/auth.ts): a reload of the map never undoes a notice received while
// it ran; until the first load has completed nothing protected is served (readiness and protected
// routes answer 503); tokens_valid_after is the statement's clock, not the transaction's start, so a
// token issued while the revoking transaction ran does not survive it.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/db/index.js'
import type { App } from '../../src/lib/route.js'
import { MemoryTokenGuard } from '../../src/plugins/auth.js'
import { logoutEverywhere } from '../../src/domains/auth/auth.service.js'
import { setUserActive, updateUser } from '../../src/domains/users/users.service.js'
import { PLATFORM_ORGANIZATION_ID, type Actor } from '../../src/lib/permissions.js'
import { bearer, buildTestApp, createTestApp, expectProblem, tokenFor } from '../helpers/app.js'
import { testDatabaseUrl } from '../helpers/db.js'
import { createUser } from '../helpers/factories.js'
import { me, waitUntilRejected } from '../domains/auth/auth-helpers.js'

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

describe('MemoryTokenGuard.reload', () => {
  it('keeps a notice received while the snapshot was read over the (older) snapshot', async () => {
    const guard = new MemoryTokenGuard()
    expect(guard.loaded).toBe(false)
    guard.set('before', 10)
    await guard.reload(async () => {
      // notices arriving while the load query runs
      guard.set('revoked', 5000)
      guard.set('deactivated', Infinity)
      guard.set('reset', -Infinity)
      await sleep(5)
      return [['revoked', 1000], ['deactivated', 2000], ['reset', 3000], ['other', 4000]]
    })
    expect(guard.loaded).toBe(true)
    expect(guard.validAfter('revoked')).toBe(5000)
    expect(guard.validAfter('deactivated')).toBe(Infinity)
    expect(guard.validAfter('reset')).toBe(-Infinity)
    expect(guard.validAfter('other')).toBe(4000)
    // the snapshot replaces what was known before the load
    expect(guard.validAfter('before')).toBe(-Infinity)
    // after the load, notices apply as usual and the next reload starts clean
    guard.set('other', 6000)
    await guard.reload(async () => [['other', 4000]])
    expect(guard.validAfter('other')).toBe(4000)
    expect(guard.validAfter('revoked')).toBe(-Infinity)
  })

  it('a failed load leaves the map and the loaded flag as they were', async () => {
    const guard = new MemoryTokenGuard()
    await expect(guard.reload(async () => { throw new Error('connection lost') })).rejects.toThrow()
    expect(guard.loaded).toBe(false)
  })
})

describe('boot with a slow first load of the revocation map', () => {
  it('answers 503 on readiness and protected routes until the map is loaded, then refuses the revoked token', async () => {
    const url = await testDatabaseUrl()
    const seed = await createTestApp()
    const victim = await createUser(seed.db, 'ADMIN')
    await seed.db.updateTable('users').set({ isActive: false, tokensValidAfter: sql`clock_timestamp()` as never }).where('id', '=', victim.userId).execute()
    await seed.close()

    // hold the users table so the listener's first load waits
    const locker = new pg.Client(url)
    await locker.connect()
    await locker.query('BEGIN')
    await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE')
    let app: App | undefined
    try {
      app = await buildTestApp({ DATABASE_CONNECT_TIMEOUT_MS: 300 })
      await app.ready()
      const token = tokenFor(app, { role: 'ADMIN', userId: victim.userId })
      expectProblem(await app.inject({ method: 'GET', url: '/health/ready' }), 503, 'SERVICE_UNAVAILABLE')
      // /v1/settings does not read users: only the guard stands between the revoked token and the data
      const early = await app.inject({ method: 'GET', url: '/v1/settings', headers: bearer(token) })
      expectProblem(early, 503, 'SERVICE_UNAVAILABLE')
      expect(Number(early.headers['retry-after'])).toBeGreaterThan(0)
      // public routes keep working
      expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200)

      await locker.query('COMMIT')
      const start = Date.now()
      while ((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode !== 200) {
        expect(Date.now() - start).toBeLessThan(5000)
        await sleep(50)
      }
      expectProblem(await app.inject({ method: 'GET', url: '/v1/settings', headers: bearer(token) }), 401, 'INVALID_TOKEN')
      expect((await app.inject({ method: 'GET', url: '/v1/settings', headers: bearer(tokenFor(app, { role: 'ADMIN' })) })).statusCode).toBe(200)
    } finally {
      await locker.query('ROLLBACK').catch(() => {})
      await locker.end()
      await app?.close()
    }
  })
})

describe('tokens_valid_after is the revoking statement\'s clock', () => {
  let app: App
  beforeAll(async () => { app = await createTestApp() })
  afterAll(async () => { await app.close() })

  const admin: Actor = { userId: randomUUID(), role: 'ADMIN', organizationId: PLATFORM_ORGANIZATION_ID, organizationKind: 'PLATFORM' }

  /** Runs `revoke` in a transaction during which (after its start) a token is issued for the user. */
  async function tokenIssuedDuring (user: Actor, revoke: (trx: Db) => Promise<unknown>): Promise<string> {
    let token = ''
    await app.db.transaction().execute(async trx => {
      await sql`SELECT 1`.execute(trx) // the transaction (and now()) has started
      await sleep(30)
      token = tokenFor(app, user)
      expect((await me(app, token)).statusCode).toBe(200)
      await sleep(30)
      await revoke(trx)
    })
    return token
  }

  it('logout-all revokes a token issued while its transaction ran', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const token = await tokenIssuedDuring(u, async trx => await logoutEverywhere(trx, u))
    await waitUntilRejected(app, token)
  })

  it('a deactivation moves tokens_valid_after past a token issued while its transaction ran', async () => {
    // (is_active already refuses the token; the instant matters should the user be reactivated)
    const u = await createUser(app.db, 'HANDLER')
    const token = await tokenIssuedDuring(u, async trx => await setUserActive(trx, admin, u.userId, false))
    await waitUntilRejected(app, token)
    const issued = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { ms: number }).ms
    const row = await app.db.selectFrom('users').select('tokensValidAfter').where('id', '=', u.userId).executeTakeFirstOrThrow()
    expect(new Date(row.tokensValidAfter as Date).getTime()).toBeGreaterThan(issued)
  })

  it('a role change revokes a token issued while its transaction ran', async () => {
    const u = await createUser(app.db, 'MANAGER')
    const token = await tokenIssuedDuring(u, async trx => await updateUser(trx, admin, u.userId, { role: 'HANDLER' }))
    await waitUntilRejected(app, token)
  })
})
