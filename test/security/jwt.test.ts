// OWASP API2: access tokens crafted by hand with node:crypto. Only an HS256 token signed with the
// service's secret, with the right issuer and audience, `typ: access`, every required claim and a
// valid time window is accepted; everything else is a 401 problem with WWW-Authenticate.
import { createHmac, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { createTestApp, expectProblem } from '../helpers/app.js'
import { createUser, type TestUser } from '../helpers/factories.js'
import { loginAs } from '../domains/auth/auth-helpers.js'

let app: App
let user: TestUser
beforeAll(async () => {
  app = await createTestApp()
  user = await createUser(app.db, 'HANDLER')
})
afterAll(async () => { await app.close() })

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
const HMAC: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }

function craft (payload: Record<string, unknown>, opts: { alg?: string, secret?: string, header?: Record<string, unknown> } = {}): string {
  const alg = opts.alg ?? 'HS256'
  const data = `${b64({ alg, typ: 'JWT', ...opts.header })}.${b64(payload)}`
  if (alg === 'none') return `${data}.`
  const sig = createHmac(HMAC[alg] ?? 'sha256', opts.secret ?? app.conf.jwtSecret).update(data).digest('base64url')
  return `${data}.${sig}`
}

function claims (over: Record<string, unknown> = {}, drop: string[] = []): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  const c: Record<string, unknown> = {
    sub: user.userId,
    role: user.role,
    org: user.organizationId,
    kind: user.organizationKind,
    typ: 'access',
    ms: Date.now(),
    iss: app.conf.JWT_ISSUER,
    aud: app.conf.JWT_AUDIENCE,
    iat: now - 5,
    exp: now + 600,
    ...over
  }
  for (const k of drop) Reflect.deleteProperty(c, k)
  return c
}

const call = (authorization: string) => app.inject({ method: 'GET', url: '/v1/me', headers: { authorization } })

async function expectRejected (token: string): Promise<void> {
  const res = await call(`Bearer ${token}`)
  expectProblem(res, 401)
  expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer/)
}

describe('hand-crafted access tokens', () => {
  it('accepts a correctly crafted token (the baseline the attacks below differ from)', async () => {
    expect((await call(`Bearer ${craft(claims())}`)).statusCode).toBe(200)
  })

  it('refuses alg none, with or without a signature', async () => {
    await expectRejected(craft(claims(), { alg: 'none' }))
    await expectRejected(craft(claims(), { alg: 'none' }) + 'c2lnbmF0dXJl')
    await expectRejected(craft(claims(), { alg: 'none', header: { alg: 'NONE' } }))
  })

  it('refuses other algorithms even with the right secret', async () => {
    await expectRejected(craft(claims(), { alg: 'HS384' }))
    await expectRejected(craft(claims(), { alg: 'HS512' }))
    // an RS256 header over an HMAC signature (algorithm confusion)
    const data = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims())}`
    await expectRejected(`${data}.${createHmac('sha256', app.conf.jwtSecret).update(data).digest('base64url')}`)
  })

  it('refuses a wrong signature and a tampered payload', async () => {
    await expectRejected(craft(claims(), { secret: randomBytes(32).toString('hex') }))
    const good = craft(claims())
    const [h, , s] = good.split('.')
    await expectRejected(`${h ?? ''}.${b64(claims({ role: 'ADMIN' }))}.${s ?? ''}`)
    await expectRejected(`${h ?? ''}.${b64(claims({ sub: (await createUser(app.db, 'ADMIN')).userId, role: 'ADMIN' }))}.${s ?? ''}`)
    await expectRejected(good.slice(0, -2) + (good.endsWith('AA') ? 'BB' : 'AA'))
  })

  it('refuses expired and not-yet-valid tokens', async () => {
    const now = Math.floor(Date.now() / 1000)
    await expectRejected(craft(claims({ iat: now - 3600, exp: now - 60 })))
    await expectRejected(craft(claims({ nbf: now + 3600 })))
    await expectRejected(craft(claims({ iat: now + 3600, exp: now + 7200 })))
  })

  it('stops accepting a token the moment it expires, even one accepted (and cached) just before', async () => {
    const token = craft(claims({ exp: Math.floor(Date.now() / 1000) + 2 }))
    expect((await call(`Bearer ${token}`)).statusCode).toBe(200)
    expect((await call(`Bearer ${token}`)).statusCode).toBe(200)
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3_000 })
    try {
      await expectRejected(token)
    } finally {
      vi.useRealTimers()
    }
  })

  it('refuses a wrong issuer or audience', async () => {
    await expectRejected(craft(claims({ iss: 'someone-else' })))
    await expectRejected(craft(claims({ aud: 'another-service' })))
    await expectRejected(craft(claims({ aud: ['another-service'] })))
  })

  it('refuses other token types and missing claims', async () => {
    await expectRejected(craft(claims({ typ: 'refresh' })))
    await expectRejected(craft(claims({ typ: 'ACCESS' })))
    for (const claim of ['typ', 'sub', 'exp', 'iat', 'ms', 'iss', 'aud']) await expectRejected(craft(claims({}, [claim])))
    await expectRejected(craft(claims({ ms: String(Date.now()) })))
  })

  it('refuses malformed headers and tokens', async () => {
    for (const h of ['Bearer', 'Bearer ', 'Bearer a.b', 'Bearer a.b.c', `Basic ${b64('a:b')}`, `Token ${craft(claims())}`, 'Bearer ' + 'x'.repeat(5000)]) {
      expectProblem(await call(h), 401)
    }
  })

  it('refuses a refresh token (opaque, not a JWT) used as an access token', async () => {
    const t = await loginAs(app, user.email)
    await expectRejected(t.refreshToken)
    expect((await call(`Bearer ${t.accessToken}`)).statusCode).toBe(200)
  })
})
