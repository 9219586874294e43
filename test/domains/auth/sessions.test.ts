// Refresh rotation, theft detection by reuse, concurrent refreshes, logout and logout-all.
import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { bearer, countAudit, createTestApp, expectProblem } from '../../helpers/app.js'
import { createStation, createUser } from '../../helpers/factories.js'
import { auditActions, liveSessions, loginAs, me, refresh, waitUntilRejected } from './auth-helpers.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

describe('POST /v1/auth/refresh', () => {
  it('rotates: new pair, same family and absolute expiry, old token single-use', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const first = await loginAs(app, u.email)
    const res = await refresh(app, first.refreshToken)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    const second = res.json()
    expect(second).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { id: u.userId, role: 'HANDLER' } })
    expect(second.refreshToken).not.toBe(first.refreshToken)
    expect((await me(app, second.accessToken)).statusCode).toBe(200)
    const rows = await app.db.selectFrom('sessions').selectAll().where('userId', '=', u.userId).orderBy('createdAt').execute()
    expect(rows).toHaveLength(2)
    expect(rows[0]?.familyId).toBe(rows[1]?.familyId)
    expect(rows[0]?.expiresAt).toEqual(rows[1]?.expiresAt)
    expect(rows[0]?.usedAt).not.toBeNull()
    expect(rows[0]?.replacedBy).toBe(rows[1]?.id)
    expect(await auditActions(app, rows[0]!.familyId)).toEqual(['session.refresh'])
  })

  it('treats a rotated token coming back as theft: the family and the access tokens are revoked, audited, 401', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const other = await loginAs(app, u.email) // another device of the same user
    const first = await loginAs(app, u.email)
    const second = (await refresh(app, first.refreshToken)).json()
    const before = await countAudit(app, { action: 'session.refresh_reuse' })
    expectProblem(await refresh(app, first.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
    expect(await countAudit(app, { action: 'session.refresh_reuse' })).toBe(before + 1)
    // the thief's (or the victim's) newer token of that family is dead too
    expectProblem(await refresh(app, second.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
    await waitUntilRejected(app, second.accessToken)
    // other devices keep their session and can get a new access token
    const again = await refresh(app, other.refreshToken)
    expect(again.statusCode).toBe(200)
    expect((await me(app, again.json().accessToken)).statusCode).toBe(200)
    const event = await app.db.selectFrom('auditEvents').selectAll().where('action', '=', 'session.refresh_reuse').orderBy('id', 'desc').executeTakeFirstOrThrow()
    expect(event.actorUserId).toBe(u.userId)
    expect(JSON.stringify(event.changes)).not.toContain(first.refreshToken)
  })

  it('lets exactly one of several concurrent refreshes with the same token succeed', async () => {
    const u = await createUser(app.db, 'STATION', (await createStation(app.db)).id)
    const t = await loginAs(app, u.email)
    const results = await Promise.all(Array.from({ length: 6 }, () => refresh(app, t.refreshToken)))
    const ok = results.filter(r => r.statusCode === 200)
    expect(ok).toHaveLength(1)
    for (const r of results.filter(r => r.statusCode !== 200)) expectProblem(r, 401, 'REFRESH_TOKEN_INVALID')
    // the losers presented an already-used token: the strict theft rule revoked the family
    expect(await liveSessions(app, u.userId)).toBe(0)
  })

  it('refuses unknown, expired and revoked tokens and inactive users, without revoking anything', async () => {
    const reuses = await countAudit(app, { action: 'session.refresh_reuse' })
    expectProblem(await refresh(app, randomBytes(32).toString('base64url')), 401, 'REFRESH_TOKEN_INVALID')
    const u = await createUser(app.db, 'HANDLER')
    const t = await loginAs(app, u.email)
    await sql`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = ${u.userId}`.execute(app.db)
    expectProblem(await refresh(app, t.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
    const v = await createUser(app.db, 'HANDLER')
    const tv = await loginAs(app, v.email)
    await app.db.updateTable('users').set({ isActive: false }).where('id', '=', v.userId).execute()
    expectProblem(await refresh(app, tv.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
    expect(await countAudit(app, { action: 'session.refresh_reuse' })).toBe(reuses)
  })

  it('never accepts a refresh token as an access token, nor an access token as a refresh token', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const t = await loginAs(app, u.email)
    expectProblem(await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(t.refreshToken) }), 401, 'INVALID_TOKEN')
    expectProblem(await refresh(app, t.accessToken), 400, 'VALIDATION_FAILED') // a JWT is not even shaped like a refresh token
    expect((await refresh(app, t.refreshToken)).statusCode).toBe(200)
  })
})

describe('logout', () => {
  it('POST /v1/auth/logout ends that session only; unknown tokens also get 204', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const a = await loginAs(app, u.email)
    const b = await loginAs(app, u.email)
    const res = await app.inject({ method: 'POST', url: '/v1/auth/logout', payload: { refreshToken: a.refreshToken } })
    expect(res.statusCode).toBe(204)
    expect(res.body).toBe('')
    expectProblem(await refresh(app, a.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
    expect((await refresh(app, b.refreshToken)).statusCode).toBe(200)
    expect((await app.inject({ method: 'POST', url: '/v1/auth/logout', payload: { refreshToken: randomBytes(32).toString('base64url') } })).statusCode).toBe(204)
    expect((await auditActions(app, (await app.db.selectFrom('sessions').select('familyId').where('userId', '=', u.userId).orderBy('createdAt').executeTakeFirstOrThrow()).familyId))).toEqual(['session.logout'])
  })

  it('POST /v1/auth/logout-all revokes every session and the access tokens in use', async () => {
    const u = await createUser(app.db, 'MANAGER')
    const a = await loginAs(app, u.email)
    const b = await loginAs(app, u.email)
    const res = await app.inject({ method: 'POST', url: '/v1/auth/logout-all', headers: bearer(a.accessToken) })
    expect(res.statusCode, res.body).toBe(204)
    expect(await liveSessions(app, u.userId)).toBe(0)
    for (const t of [a, b]) {
      expectProblem(await refresh(app, t.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
      await waitUntilRejected(app, t.accessToken)
    }
    const ev = await app.db.selectFrom('auditEvents').selectAll().where('action', '=', 'session.logout_all').where('entityId', '=', u.userId).executeTakeFirstOrThrow()
    expect(ev.actorUserId).toBe(u.userId)
    expect(ev.changes).toEqual({ revokedSessions: 2 })
    // a new sign-in works at once
    const c = await loginAs(app, u.email)
    expect((await me(app, c.accessToken)).statusCode).toBe(200)
  })

  it('logout-all refuses unknown body fields', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const a = await loginAs(app, u.email)
    expectProblem(await app.inject({ method: 'POST', url: '/v1/auth/logout-all', headers: bearer(a.accessToken), payload: { userId: u.userId } }), 400, 'VALIDATION_FAILED')
    expect(await liveSessions(app, u.userId)).toBe(1)
  })
})
