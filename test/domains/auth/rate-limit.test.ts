// The per-IP budget of sign-in and password reset (on top of the per-account lockout), active when
// RATE_LIMIT_ENABLED; the default test app runs with rate limits off, like the benchmark.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { LOGIN_PER_IP_PER_MINUTE, RESET_PER_IP_PER_MINUTE } from '../../../src/domains/auth/auth.routes.js'
import { createTestApp, expectProblem } from '../../helpers/app.js'

let app: App
beforeAll(async () => { app = await createTestApp({ RATE_LIMIT_ENABLED: true, RATE_LIMIT_MAX: 10_000 }) })
afterAll(async () => { await app.close() })

const fromIp = (ip: string) => ({ remoteAddress: ip })

describe('per-IP limits', () => {
  it(`allows ${LOGIN_PER_IP_PER_MINUTE} sign-ins per minute per IP, then 429 with Retry-After; other IPs are unaffected`, async () => {
    const attempt = (ip: string) => app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'nobody@test.example', password: 'x' }, ...fromIp(ip) })
    // malformed bodies are cheap and still count: the limit runs before the body is even parsed
    const bad = (ip: string) => app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'not-an-email', password: 'x' }, ...fromIp(ip) })
    const statuses: number[] = []
    for (let i = 0; i < LOGIN_PER_IP_PER_MINUTE; i++) statuses.push((await bad('10.0.0.1')).statusCode)
    expect(new Set(statuses)).toEqual(new Set([400]))
    const limited = await attempt('10.0.0.1')
    expectProblem(limited, 429, 'RATE_LIMITED')
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    expect(limited.headers['ratelimit-limit']).toBe(String(LOGIN_PER_IP_PER_MINUTE))
    expectProblem(await attempt('10.0.0.2'), 401, 'INVALID_CREDENTIALS')
  })

  it(`allows ${RESET_PER_IP_PER_MINUTE} reset requests per minute per IP`, async () => {
    const reset = () => app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email: 'nobody@test.example' }, ...fromIp('10.0.0.3') })
    for (let i = 0; i < RESET_PER_IP_PER_MINUTE; i++) expect((await reset()).statusCode).toBe(202)
    expectProblem(await reset(), 429, 'RATE_LIMITED')
  })
})
