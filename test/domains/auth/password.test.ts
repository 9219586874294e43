// The caller (/v1/me), password change and the password-reset flow end to end.
import { createHash } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../src/app.js'
import { loadConfig } from '../../../src/config.js'
import type { App } from '../../../src/lib/route.js'
import { bearer, createTestApp, expectProblem } from '../../helpers/app.js'
import { testDatabaseUrl } from '../../helpers/db.js'
import { createStation, createUser, TEST_PASSWORD } from '../../helpers/factories.js'
import { openResetToken, resetDeliveryKey } from '../../../src/domains/auth/reset-delivery.js'
import { auditActions, liveSessions, login, loginAs, me, refresh, waitUntilRejected } from './auth-helpers.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const NEW_PASSWORD = 'a brand new and long passphrase'

const changePassword = (token: string, body: Record<string, unknown>) =>
  app.inject({ method: 'POST', url: '/v1/me/password', headers: bearer(token), payload: body })

describe('GET /v1/me', () => {
  it('returns the caller with the organization, without secrets', async () => {
    const station = await createStation(app.db, { name: 'Station Anjou' })
    const u = await createUser(app.db, 'STATION', station.id, { fullName: 'Anne Martin' })
    const t = await loginAs(app, u.email)
    const res = await me(app, t.accessToken)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ id: u.userId, email: u.email, fullName: 'Anne Martin', role: 'STATION', organizationId: station.id, organization: { id: station.id, kind: 'STATION', name: 'Station Anjou' }, isActive: true, version: 1 })
    expect(res.body).not.toMatch(/passwordHash|argon2|failedLogins|lockedUntil/)
  })
})

describe('POST /v1/me/password', () => {
  it('changes the password: old access tokens stop, other sessions end, the sent session survives', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const other = await loginAs(app, u.email)
    const current = await loginAs(app, u.email)
    const res = await changePassword(current.accessToken, { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD, refreshToken: current.refreshToken })
    expect(res.statusCode, res.body).toBe(204)
    await waitUntilRejected(app, current.accessToken)
    await waitUntilRejected(app, other.accessToken)
    expectProblem(await refresh(app, other.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
    const kept = await refresh(app, current.refreshToken)
    expect(kept.statusCode, kept.body).toBe(200)
    expect((await me(app, kept.json().accessToken)).statusCode).toBe(200)
    expectProblem(await login(app, u.email, TEST_PASSWORD), 401, 'INVALID_CREDENTIALS')
    await loginAs(app, u.email, NEW_PASSWORD)
    expect(await auditActions(app, u.userId)).toContain('user.password_change')
    const ev = await app.db.selectFrom('auditEvents').select('changes').where('action', '=', 'user.password_change').where('entityId', '=', u.userId).executeTakeFirstOrThrow()
    expect(JSON.stringify(ev.changes)).not.toContain(NEW_PASSWORD)
  })

  it('without a refresh token every session ends', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const t = await loginAs(app, u.email)
    expect((await changePassword(t.accessToken, { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD })).statusCode).toBe(204)
    expect(await liveSessions(app, u.userId)).toBe(0)
  })

  it('refuses a wrong current password (counted towards the lockout) and weak new passwords, changing nothing', async () => {
    const u = await createUser(app.db, 'HANDLER', undefined, { email: `jeanne-dupont-${Date.now()}@test.example` })
    const t = await loginAs(app, u.email)
    const wrong = expectProblem(await changePassword(t.accessToken, { currentPassword: 'not my password at all', newPassword: NEW_PASSWORD }), 422, 'CURRENT_PASSWORD_INCORRECT')
    expect(wrong.errors).toEqual([expect.objectContaining({ pointer: '/currentPassword' })])
    const row = await sql<{ failedLogins: number }>`SELECT failed_logins FROM login_throttles WHERE email_key = encode(sha256(convert_to(lower(${u.email}::text), 'UTF8')), 'hex')`.execute(app.db)
    expect(row.rows[0]?.failedLogins).toBe(1)
    expect(await auditActions(app, u.userId)).toContain('user.password_change_failed')
    for (const weak of ['too short', 'password1234', 'iloveyou2024', `${u.email.split('@')[0] ?? ''}-is-long-enough`, 'x'.repeat(129)]) {
      const body = expectProblem(await changePassword(t.accessToken, { currentPassword: TEST_PASSWORD, newPassword: weak }), 422, 'WEAK_PASSWORD')
      expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer: '/newPassword' })]))
    }
    expectProblem(await changePassword(t.accessToken, { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD, passwordHash: 'x' }), 400, 'VALIDATION_FAILED')
    expect((await me(app, t.accessToken)).statusCode).toBe(200)
    await loginAs(app, u.email)
  })

  it('locks the account after repeated wrong current passwords', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const t = await loginAs(app, u.email)
    for (let i = 0; i < 4; i++) expectProblem(await changePassword(t.accessToken, { currentPassword: `guess ${i} of the password`, newPassword: NEW_PASSWORD }), 422)
    expectProblem(await changePassword(t.accessToken, { currentPassword: 'guess 5 of the password', newPassword: NEW_PASSWORD }), 429, 'ACCOUNT_LOCKED')
    expectProblem(await changePassword(t.accessToken, { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD }), 429, 'ACCOUNT_LOCKED')
    expectProblem(await login(app, u.email, TEST_PASSWORD), 429, 'ACCOUNT_LOCKED')
  })
})

describe('password reset', () => {
  const requestReset = (email: string) => app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email } })
  const confirm = (token: string, newPassword: string) => app.inject({ method: 'POST', url: '/v1/auth/password-reset/confirm', payload: { token, newPassword } })
  // the event holds the token sealed for the mailer (reset-delivery.ts); open it as the mailer would
  const lastResetEvent = async (userId: string, jwtSecret = app.conf.jwtSecret) => {
    const r = await sql<{ payload: { userId: string, sealedToken?: string, expiresAt: string }, organizationIds: string[] }>`
      SELECT payload, organization_ids FROM outbox_events WHERE type = 'user.password_reset_requested' AND payload->>'userId' = ${userId} ORDER BY id DESC LIMIT 1`.execute(app.db)
    const row = r.rows[0]
    if (row === undefined) return undefined
    const sealed = row.payload.sealedToken
    return { ...row, payload: { ...row.payload, token: sealed === undefined ? '' : openResetToken(sealed, resetDeliveryKey(jwtSecret)) } }
  }

  it('answers 202 with the same body for known and unknown addresses; only known ones get a token', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const known = await requestReset(u.email)
    const unknown = await requestReset('no-such-person@test.example')
    expect(known.statusCode).toBe(202)
    expect(unknown.statusCode).toBe(202)
    expect(unknown.body).toBe(known.body)
    const event = await lastResetEvent(u.userId)
    expect(event?.organizationIds).toEqual([]) // never delivered to a station's or supplier's webhook
    expect(event?.payload.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const stored = await app.db.selectFrom('passwordResetTokens').selectAll().where('userId', '=', u.userId).executeTakeFirstOrThrow()
    expect(stored.tokenHash).toBe(createHash('sha256').update(event?.payload.token ?? '').digest('hex'))
    const minutes = (new Date(stored.expiresAt).getTime() - Date.now()) / 60_000
    expect(minutes).toBeGreaterThan(29)
    expect(minutes).toBeLessThanOrEqual(30)
    const outboxForUnknown = await sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox_events WHERE payload->>'email' = 'no-such-person@test.example'`.execute(app.db)
    expect(outboxForUnknown.rows[0]?.n).toBe(0)
  })

  it('end to end: the token sets a new password once, revokes sessions and access tokens, clears a lockout', async () => {
    const station = await createStation(app.db)
    const u = await createUser(app.db, 'STATION', station.id)
    const session = await loginAs(app, u.email)
    for (let i = 0; i < 5; i++) await login(app, u.email, 'forgotten password guess')
    expectProblem(await login(app, u.email, TEST_PASSWORD), 429, 'ACCOUNT_LOCKED')
    expect((await requestReset(u.email)).statusCode).toBe(202)
    const token = (await lastResetEvent(u.userId))?.payload.token ?? ''
    // a refused password leaves the token usable
    expectProblem(await confirm(token, 'short'), 422, 'WEAK_PASSWORD')
    const res = await confirm(token, NEW_PASSWORD)
    expect(res.statusCode, res.body).toBe(204)
    await waitUntilRejected(app, session.accessToken)
    expectProblem(await refresh(app, session.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
    await loginAs(app, u.email, NEW_PASSWORD)
    expectProblem(await confirm(token, 'yet another long passphrase'), 401, 'PASSWORD_RESET_TOKEN_INVALID')
    expect(await auditActions(app, u.userId)).toEqual(expect.arrayContaining(['user.password_reset_request', 'user.password_reset']))
  })

  it('refuses expired and superseded tokens, and tokens of deactivated users', async () => {
    const u = await createUser(app.db, 'HANDLER')
    await requestReset(u.email)
    const first = (await lastResetEvent(u.userId))?.payload.token ?? ''
    await sql`UPDATE password_reset_tokens SET expires_at = now() - interval '1 second' WHERE user_id = ${u.userId}`.execute(app.db)
    expectProblem(await confirm(first, NEW_PASSWORD), 401, 'PASSWORD_RESET_TOKEN_INVALID')
    await requestReset(u.email)
    const second = (await lastResetEvent(u.userId))?.payload.token ?? ''
    await requestReset(u.email)
    const third = (await lastResetEvent(u.userId))?.payload.token ?? ''
    expect((await confirm(third, NEW_PASSWORD)).statusCode).toBe(204)
    expectProblem(await confirm(second, 'yet another long passphrase'), 401, 'PASSWORD_RESET_TOKEN_INVALID')
    const v = await createUser(app.db, 'HANDLER')
    await requestReset(v.email)
    const vt = (await lastResetEvent(v.userId))?.payload.token ?? ''
    await app.db.updateTable('users').set({ isActive: false }).where('id', '=', v.userId).execute()
    expectProblem(await confirm(vt, NEW_PASSWORD), 401, 'PASSWORD_RESET_TOKEN_INVALID')
    // an inactive account gets no token at all
    const outboxCount = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox_events WHERE payload->>'userId' = ${v.userId}`.execute(app.db)).rows[0]?.n
    const before = await outboxCount()
    expect((await requestReset(v.email)).statusCode).toBe(202)
    expect(await outboxCount()).toBe(before)
  })

  it('two concurrent confirmations with one token: exactly one succeeds', async () => {
    const u = await createUser(app.db, 'HANDLER')
    await requestReset(u.email)
    const token = (await lastResetEvent(u.userId))?.payload.token ?? ''
    const results = await Promise.all([confirm(token, 'first concurrent passphrase'), confirm(token, 'second concurrent passphrase')])
    expect(results.map(r => r.statusCode).sort()).toEqual([204, 401])
  })

  it('logs the token in development only, so a person can finish the flow without a mailer', async () => {
    const lines: string[] = []
    const url = await testDatabaseUrl()
    const config = loadConfig({}, { NODE_ENV: 'development', JWT_SECRET: 'd'.repeat(40), AUDIT_CHAIN_KEY: 'c'.repeat(40), LOG_LEVEL: 'info', LOG_REQUESTS: false, RATE_LIMIT_ENABLED: false, DATABASE_URL: url, MAX_EVENT_LOOP_DELAY_MS: 0 })
    const dev = await buildApp({ config, connectionString: url, logger: { level: 'info', stream: { write: (l: string) => { lines.push(l) } } } })
    try {
      await dev.ready()
      const u = await createUser(app.db, 'HANDLER')
      expect((await dev.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email: u.email } })).statusCode).toBe(202)
      const token = (await lastResetEvent(u.userId, dev.conf.jwtSecret))?.payload.token ?? ''
      expect(token).not.toBe('')
      expect(lines.some(l => l.includes(token))).toBe(true)
    } finally {
      await dev.close()
    }
    // the test app (NODE_ENV=test) never logs it: its logger is silent, and the route checks NODE_ENV
  })
})
