// The lockout is not an account-existence oracle: an address with an account and one without get
// the same answers at every step (status, body, Retry-After), through the same statements, and both
// lock after the threshold. A locked-out owner gets back in through a password reset.
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { createTestApp, expectProblem } from '../../helpers/app.js'
import { createUser, TEST_PASSWORD } from '../../helpers/factories.js'
import { openResetToken, resetDeliveryKey } from '../../../src/domains/auth/reset-delivery.js'
import { login, loginAs } from './auth-helpers.js'

let app: App
// the audit sealer's background queries would blur the statement count
beforeAll(async () => { app = await createTestApp({ AUDIT_SEAL_INTERVAL_MS: 60_000 }) })
afterAll(async () => { await app.close() })

interface Seen { status: number, body: Record<string, unknown>, retryAfter: number | null, wwwAuthenticate: unknown }
const seen = (res: Awaited<ReturnType<typeof login>>): Seen => {
  const { requestId: _r, ...body } = JSON.parse(res.body) as Record<string, unknown>
  const ra = res.headers['retry-after']
  return { status: res.statusCode, body, retryAfter: ra === undefined ? null : Math.round(Number(ra) / 60), wwwAuthenticate: res.headers['www-authenticate'] }
}

describe('known and unknown addresses are indistinguishable', () => {
  it('answer identically at every attempt, and both lock after the threshold (429 with Retry-After)', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const unknown = `nobody-${Date.now()}@test.example`
    const known: Seen[] = []
    const other: Seen[] = []
    for (let i = 0; i < 7; i++) {
      known.push(seen(await login(app, u.email, `wrong password ${i}`)))
      other.push(seen(await login(app, unknown, `wrong password ${i}`)))
    }
    expect(other).toEqual(known)
    expect(known.map(s => s.status)).toEqual([401, 401, 401, 401, 429, 429, 429])
    expect(known[4]?.body.code).toBe('ACCOUNT_LOCKED')
    expect(known[6]?.retryAfter).toBe(15)
    // the unknown address stays locked too: the right password of nobody is not a thing, but its
    // answer must not change when the guess changes
    expectProblem(await login(app, unknown, TEST_PASSWORD), 429, 'ACCOUNT_LOCKED')
    // no address of a person without an account is stored, only its hash
    const stored = await sql<{ n: number }>`SELECT count(*)::int AS n FROM login_throttles WHERE email_key LIKE '%@%'`.execute(app.db)
    expect(stored.rows[0]?.n).toBe(0)
  })

  it('hold the threshold under parallel guesses for an unknown address too', async () => {
    const unknown = `parallel-${Date.now()}@test.example`
    const results = await Promise.all(Array.from({ length: 9 }, (_, i) => login(app, unknown, `parallel guess ${i}`)))
    const statuses = results.map(r => r.statusCode)
    expect(statuses.filter(s => s === 401)).toHaveLength(4)
    expect(statuses.filter(s => s === 429)).toHaveLength(5)
  })

  it('run the same number of database statements (the timing proxy asserted in npm test)', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const unknown = `counted-${Date.now()}@test.example`
    const spy = vi.spyOn(pg.Client.prototype, 'query')
    const count = async (email: string): Promise<number> => {
      spy.mockClear()
      await login(app, email, 'a wrong password')
      return spy.mock.calls.length
    }
    try {
      for (let i = 0; i < 6; i++) expect(await count(unknown), `attempt ${i + 1}`).toBe(await count(u.email))
    } finally {
      spy.mockRestore()
    }
  })
})

describe('a locked-out owner', () => {
  it('gets back in through a password reset, which the lock never blocks and which lifts it', async () => {
    const u = await createUser(app.db, 'HANDLER')
    for (let i = 0; i < 5; i++) await login(app, u.email, 'someone else guessing')
    expectProblem(await login(app, u.email, TEST_PASSWORD), 429, 'ACCOUNT_LOCKED')
    expect((await app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email: u.email } })).statusCode).toBe(202)
    const ev = await sql<{ payload: { sealedToken: string } }>`SELECT payload FROM outbox_events WHERE type = 'user.password_reset_requested' AND payload->>'userId' = ${u.userId} ORDER BY id DESC LIMIT 1`.execute(app.db)
    const token = openResetToken(ev.rows[0]?.payload.sealedToken ?? '', resetDeliveryKey(app.conf.jwtSecret))
    const res = await app.inject({ method: 'POST', url: '/v1/auth/password-reset/confirm', payload: { token, newPassword: 'a fresh and long passphrase' } })
    expect(res.statusCode, res.body).toBe(204)
    await loginAs(app, u.email, 'a fresh and long passphrase')
  })

  it('a password-reset request runs the same statements for a known and an unknown address (same answer too)', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const unknown = `reset-${Date.now()}@test.example`
    const spy = vi.spyOn(pg.Client.prototype, 'query')
    const request = async (email: string): Promise<{ n: number, status: number, body: string }> => {
      spy.mockClear()
      const res = await app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email } })
      return { n: spy.mock.calls.length, status: res.statusCode, body: res.body.replace(/"requestId":"[^"]*"/, '') }
    }
    try {
      for (let i = 0; i < 3; i++) {
        const [known, other] = [await request(u.email), await request(unknown)]
        expect(other).toEqual(known)
      }
    } finally {
      spy.mockRestore()
    }
    // the known address did get its token and sealed outbox event
    const issued = await sql<{ n: number }>`SELECT count(*)::int AS n FROM password_reset_tokens WHERE user_id = ${u.userId}`.execute(app.db)
    expect(issued.rows[0]?.n).toBe(3)
  })
})
