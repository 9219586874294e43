// Sign-in: the token response, the stored session, rehashing, inactive accounts, unknown emails,
// the account lockout (values from settings, counted under concurrency) and the session cap.
import { createHash } from 'node:crypto'
import argon2 from 'argon2'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { needsRehash } from '../../../src/lib/password.js'
import { countAudit, createTestApp, expectProblem } from '../../helpers/app.js'
import { createStation, createUser, TEST_PASSWORD } from '../../helpers/factories.js'
import { auditActions, liveSessions, login, loginAs, me, refresh } from './auth-helpers.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const withoutRequestId = (body: string): Record<string, unknown> => {
  const { requestId: _r, ...rest } = JSON.parse(body) as Record<string, unknown>
  return rest
}

describe('POST /v1/auth/login', () => {
  it('returns the token pair and the user, never stored secrets, with no-store', async () => {
    const station = await createStation(app.db)
    const u = await createUser(app.db, 'STATION', station.id, { fullName: 'Anne Martin' })
    const res = await login(app, u.email.toUpperCase(), TEST_PASSWORD)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    const body = res.json()
    expect(body).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      tokenType: 'Bearer',
      expiresIn: 900,
      user: { id: u.userId, email: u.email, fullName: 'Anne Martin', role: 'STATION', organizationId: station.id }
    })
    expect(res.body).not.toMatch(/argon2|passwordHash/)
    const claims = JSON.parse(Buffer.from(body.accessToken.split('.')[1], 'base64url').toString()) as Record<string, unknown>
    expect(claims).toMatchObject({ sub: u.userId, role: 'STATION', org: station.id, kind: 'STATION', typ: 'access' })
    expect((await me(app, body.accessToken)).statusCode).toBe(200)

    const session = await app.db.selectFrom('sessions').selectAll().where('userId', '=', u.userId).executeTakeFirstOrThrow()
    expect(session.refreshHash).toBe(createHash('sha256').update(body.refreshToken).digest('hex'))
    expect(JSON.stringify(session)).not.toContain(body.refreshToken)
    const days = (new Date(session.expiresAt).getTime() - Date.now()) / 86_400_000
    expect(days).toBeGreaterThan(29.9)
    expect(days).toBeLessThan(30.1)
    expect(await auditActions(app, u.userId)).toContain('auth.login')
    const user = await app.db.selectFrom('users').select(['lastLoginAt', 'failedLogins']).where('id', '=', u.userId).executeTakeFirstOrThrow()
    expect(user.lastLoginAt).not.toBeNull()
  })

  it('rehashes a password stored with older argon2 parameters', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const old = await argon2.hash(TEST_PASSWORD, { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 })
    await app.db.updateTable('users').set({ passwordHash: old }).where('id', '=', u.userId).execute()
    expect(needsRehash(old)).toBe(true)
    await loginAs(app, u.email)
    const row = await app.db.selectFrom('users').select('passwordHash').where('id', '=', u.userId).executeTakeFirstOrThrow()
    expect(row.passwordHash).not.toBe(old)
    expect(needsRehash(row.passwordHash)).toBe(false)
    await loginAs(app, u.email)
  })

  it('answers a wrong password, an unknown email and an inactive account identically, and audits each', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const inactive = await createUser(app.db, 'HANDLER', undefined, { isActive: false })
    const before = await countAudit(app, { action: 'auth.login_failed' })
    const wrong = await login(app, u.email, 'not the right password')
    const unknown = await login(app, 'nobody-at-all@test.example', 'not the right password')
    const off = await login(app, inactive.email, TEST_PASSWORD)
    for (const res of [wrong, unknown, off]) expectProblem(res, 401, 'INVALID_CREDENTIALS')
    expect(withoutRequestId(unknown.body)).toEqual(withoutRequestId(wrong.body))
    expect(withoutRequestId(off.body)).toEqual(withoutRequestId(wrong.body))
    expect(unknown.headers['www-authenticate']).toBe(wrong.headers['www-authenticate'])
    expect(await countAudit(app, { action: 'auth.login_failed' })).toBe(before + 3)
    const events = await app.db.selectFrom('auditEvents').select(['entityId', 'changes', 'requestId']).where('action', '=', 'auth.login_failed')
      .orderBy('id', 'desc').limit(3).execute()
    expect(events.map(e => (e.changes as { reason: string }).reason).sort()).toEqual(['INACTIVE', 'UNKNOWN_EMAIL', 'WRONG_PASSWORD'])
    // the attempted address is personal data: never recorded
    expect(JSON.stringify(events)).not.toContain('nobody-at-all')
    expect(events.find(e => (e.changes as { reason: string }).reason === 'UNKNOWN_EMAIL')?.entityId).toBeNull()
  })

  it('refuses users of a deactivated organization', async () => {
    const station = await createStation(app.db)
    const u = await createUser(app.db, 'STATION', station.id)
    await app.db.updateTable('organizations').set({ isActive: false }).where('id', '=', station.id).execute()
    expectProblem(await login(app, u.email, TEST_PASSWORD), 401, 'INVALID_CREDENTIALS')
  })

  it('validates the body (unknown fields, malformed email) with 400', async () => {
    expectProblem(await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'a@b.example', password: 'x', role: 'ADMIN' } }), 400, 'VALIDATION_FAILED')
    expectProblem(await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'not-an-email', password: 'x' } }), 400, 'VALIDATION_FAILED')
  })
})

describe('lockout', () => {
  // the lockout counts per address (login_throttles), whether or not an account has it
  const key = (email: string) => sql`encode(sha256(convert_to(lower(${email}::text), 'UTF8')), 'hex')`
  const state = async (email: string): Promise<{ failedLogins: number, lockedUntil: Date | null }> => {
    const r = await sql<{ failedLogins: number, lockedUntil: Date | null }>`SELECT failed_logins, locked_until FROM login_throttles WHERE email_key = ${key(email)}`.execute(app.db)
    return r.rows[0] ?? { failedLogins: 0, lockedUntil: null }
  }
  const setRun = (email: string, failures: number, startedAgo: string) => sql`
    INSERT INTO login_throttles (email_key, failed_logins, window_started_at) VALUES (${key(email)}, ${failures}, now() - ${startedAgo}::interval)
    ON CONFLICT (email_key) DO UPDATE SET failed_logins = excluded.failed_logins, window_started_at = excluded.window_started_at, locked_until = NULL`.execute(app.db)

  it('locks after 5 failures within the window: 429 with Retry-After, even for the right password, audited once', async () => {
    const u = await createUser(app.db, 'STATION', (await createStation(app.db)).id)
    for (let i = 1; i <= 4; i++) expectProblem(await login(app, u.email, `wrong password ${i}`), 401, 'INVALID_CREDENTIALS')
    expect((await state(u.email)).failedLogins).toBe(4)
    const fifth = await login(app, u.email, 'wrong password 5')
    expectProblem(fifth, 429, 'ACCOUNT_LOCKED')
    const retry = Number(fifth.headers['retry-after'])
    expect(retry).toBeGreaterThan(14 * 60)
    expect(retry).toBeLessThanOrEqual(15 * 60)
    const right = await login(app, u.email, TEST_PASSWORD)
    expectProblem(right, 429, 'ACCOUNT_LOCKED')
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0)
    const actions = await auditActions(app, u.userId)
    expect(actions.filter(a => a === 'auth.lockout')).toHaveLength(1)
    expect(actions.filter(a => a === 'auth.login_failed')).toHaveLength(6)
  })

  it('lets the right password in once the lock has expired, and resets the counter', async () => {
    const u = await createUser(app.db, 'HANDLER')
    for (let i = 0; i < 5; i++) await login(app, u.email, 'wrong password')
    expect((await state(u.email)).lockedUntil?.getTime()).toBeGreaterThan(Date.now())
    await sql`UPDATE login_throttles SET locked_until = now() - interval '1 second' WHERE email_key = ${key(u.email)}`.execute(app.db)
    await loginAs(app, u.email)
    expect(await state(u.email)).toEqual({ failedLogins: 0, lockedUntil: null })
    // a fresh run of failures starts from one
    expectProblem(await login(app, u.email, 'wrong again'), 401, 'INVALID_CREDENTIALS')
    expect((await state(u.email)).failedLogins).toBe(1)
  })

  it('counts only failures within the window', async () => {
    const u = await createUser(app.db, 'HANDLER')
    // four failures whose run started 16 minutes ago: outside the 15-minute window
    await setRun(u.email, 4, '16 minutes')
    expectProblem(await login(app, u.email, 'wrong password'), 401, 'INVALID_CREDENTIALS')
    expect((await state(u.email)).failedLogins).toBe(1)
    // four failures whose run started 5 minutes ago: the fifth locks
    await setRun(u.email, 4, '5 minutes')
    expectProblem(await login(app, u.email, 'wrong password'), 429, 'ACCOUNT_LOCKED')
  })

  it('reads threshold and duration from settings', async () => {
    const u = await createUser(app.db, 'HANDLER')
    await app.db.updateTable('settings').set({ lockoutThreshold: 2, lockoutMinutes: 3 }).execute()
    try {
      expectProblem(await login(app, u.email, 'wrong password'), 401)
      const res = await login(app, u.email, 'wrong password')
      expectProblem(res, 429, 'ACCOUNT_LOCKED')
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(180)
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(170)
    } finally {
      await app.db.updateTable('settings').set({ lockoutThreshold: 5, lockoutMinutes: 15 }).execute()
    }
  })

  it('holds under parallel guesses: exactly threshold - 1 answers 401, the rest 429, one lockout event', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const results = await Promise.all(Array.from({ length: 9 }, (_, i) => login(app, u.email, `parallel guess ${i}`)))
    const statuses = results.map(r => r.statusCode)
    expect(statuses.filter(s => s === 401)).toHaveLength(4)
    expect(statuses.filter(s => s === 429)).toHaveLength(5)
    expect((await auditActions(app, u.userId)).filter(a => a === 'auth.lockout')).toHaveLength(1)
  })
})

describe('session cap', () => {
  it('keeps at most 5 live sessions per user, revoking the oldest sign-ins', async () => {
    const h = await createUser(app.db, 'HANDLER')
    const sessions = []
    for (let i = 0; i < 7; i++) sessions.push(await loginAs(app, h.email))
    expect(await liveSessions(app, h.userId)).toBe(5)
    for (const s of sessions.slice(0, 2)) expectProblem(await refresh(app, s.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
    // a rotated family keeps its place: refreshing the oldest survivor does not make it "newest"
    const rotated = await refresh(app, sessions[2]!.refreshToken)
    expect(rotated.statusCode).toBe(200)
    await loginAs(app, h.email)
    expectProblem(await refresh(app, rotated.json().refreshToken), 401, 'REFRESH_TOKEN_INVALID')
    for (const s of sessions.slice(3)) expect((await refresh(app, s.refreshToken)).statusCode).toBe(200)
  })
})
