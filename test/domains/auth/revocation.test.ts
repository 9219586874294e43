// Two instances of the service on one database: revoking through one makes the other refuse the
// user's access tokens within a second, with no database read per request (LISTEN/NOTIFY).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { bearer, createTestApp, tokenFor } from '../../helpers/app.js'
import { createUser, TEST_PASSWORD } from '../../helpers/factories.js'
import { loginAs, me, waitUntilRejected } from './auth-helpers.js'

let a: App
let b: App
beforeAll(async () => { [a, b] = await Promise.all([createTestApp(), createTestApp()]) })
afterAll(async () => { await Promise.all([a.close(), b.close()]) })

async function signedInOnBoth (role: 'HANDLER' | 'MANAGER' = 'HANDLER') {
  const u = await createUser(a.db, role)
  const t = await loginAs(a, u.email)
  expect((await me(a, t.accessToken)).statusCode).toBe(200)
  expect((await me(b, t.accessToken)).statusCode).toBe(200)
  return { u, t }
}

describe('access-token revocation across instances', () => {
  it('deactivation through instance A: instance B refuses within 1 s', async () => {
    const { u, t } = await signedInOnBoth()
    const admin = tokenFor(a, { role: 'ADMIN' })
    const res = await a.inject({ method: 'POST', url: `/v1/users/${u.userId}/deactivate`, headers: bearer(admin) })
    expect(res.statusCode, res.body).toBe(200)
    await waitUntilRejected(b, t.accessToken, 1000)
    await waitUntilRejected(a, t.accessToken, 1000)
    // reactivation does not revive tokens issued before the deactivation
    expect((await a.inject({ method: 'POST', url: `/v1/users/${u.userId}/activate`, headers: bearer(admin) })).statusCode).toBe(200)
    await new Promise(resolve => setTimeout(resolve, 200))
    expect((await me(b, t.accessToken)).statusCode).toBe(401)
    const fresh = await loginAs(b, u.email)
    expect((await me(a, fresh.accessToken)).statusCode).toBe(200)
  })

  it('logout-all through instance A: instance B refuses within 1 s', async () => {
    const { t } = await signedInOnBoth()
    expect((await a.inject({ method: 'POST', url: '/v1/auth/logout-all', headers: bearer(t.accessToken) })).statusCode).toBe(204)
    await waitUntilRejected(b, t.accessToken, 1000)
  })

  it('password change through instance B: instance A refuses within 1 s', async () => {
    const { t } = await signedInOnBoth()
    const res = await b.inject({ method: 'POST', url: '/v1/me/password', headers: bearer(t.accessToken), payload: { currentPassword: TEST_PASSWORD, newPassword: 'a brand new and long passphrase' } })
    expect(res.statusCode, res.body).toBe(204)
    await waitUntilRejected(a, t.accessToken, 1000)
  })

  it('a role change through instance A ends tokens carrying the old role on instance B', async () => {
    const { u, t } = await signedInOnBoth('MANAGER')
    const admin = tokenFor(a, { role: 'ADMIN' })
    const res = await a.inject({ method: 'PATCH', url: `/v1/users/${u.userId}`, headers: bearer(admin), payload: { role: 'HANDLER' } })
    expect(res.statusCode, res.body).toBe(200)
    await waitUntilRejected(b, t.accessToken, 1000)
  })
})
