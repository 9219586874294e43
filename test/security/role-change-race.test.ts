// A sign-in or a refresh racing a role change must never hand out a token that carries the old
// role and outlives the change. The role is read under the row lock that a role change also
// takes, and the token's issue instant comes from the database clock under that lock, so a change
// committed after it sets a later tokens_valid_after and the token is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { bearer, createTestApp, tokenFor } from '../helpers/app.js'
import { createUser, TEST_PASSWORD } from '../helpers/factories.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const roleInToken = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { role: string }).role

describe('tokens issued while a role changes', () => {
  it('a token with a role other than the current one is refused (sign-in and refresh racing 25 role changes)', async () => {
    const admin = await createUser(app.db, 'ADMIN')
    const adminToken = tokenFor(app, { role: 'ADMIN', userId: admin.userId })
    const user = await createUser(app.db, 'MANAGER')
    const first = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: user.email, password: TEST_PASSWORD } })
    expect(first.statusCode, first.body).toBe(200)
    let refreshToken = first.json().refreshToken as string
    let stale = 0
    for (let round = 0; round < 25; round++) {
      const role = round % 2 === 0 ? 'HANDLER' : 'MANAGER'
      const [signIn, refresh] = await Promise.all([
        app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: user.email, password: TEST_PASSWORD } }),
        app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken } }),
        app.inject({ method: 'PATCH', url: `/v1/users/${user.userId}`, headers: bearer(adminToken), payload: { role } })
      ])
      const current = (await app.db.selectFrom('users').select('role').where('id', '=', user.userId).executeTakeFirstOrThrow()).role
      for (const issued of [signIn, refresh]) {
        if (issued.statusCode !== 200) continue
        const token = issued.json().accessToken as string
        if (roleInToken(token) === current) continue
        stale++
        const me = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })
        expect(me.statusCode, `round ${round}: a ${roleInToken(token)} token accepted after the role became ${current}`).toBe(401)
      }
      if (refresh.statusCode === 200) refreshToken = refresh.json().refreshToken as string
      else refreshToken = (signIn.json() as { refreshToken: string }).refreshToken
    }
    // the race is exercised: some tokens were issued with the role the change replaced
    expect(stale).toBeGreaterThan(0)
  }, 60_000)
})
