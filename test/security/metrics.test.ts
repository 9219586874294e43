// /metrics in production: never public; a scraper presents METRICS_TOKEN, or an access token with
// audit:read when no METRICS_TOKEN is configured. Outside production it stays public by default.
import { afterAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { bearer, createTestApp, expectProblem, tokenFor } from '../helpers/app.js'

const PROD = { NODE_ENV: 'production', JWT_SECRET: 'j'.repeat(40), AUDIT_CHAIN_KEY: 'c'.repeat(40), DATABASE_PRIVILEGED_ROLE_OK: true } as const
const SCRAPER = 'm'.repeat(40)
const apps: App[] = []
afterAll(async () => { await Promise.all(apps.map(async a => await a.close())) })
const start = async (over: Parameters<typeof createTestApp>[0]) => { const a = await createTestApp(over); apps.push(a); return a }
const metrics = (a: App, headers: Record<string, string> = {}) => a.inject({ method: 'GET', url: '/metrics', headers })

describe('/metrics', () => {
  it('in production without METRICS_TOKEN: 401 anonymous, 403 without audit:read, 200 with it', async () => {
    const app = await start(PROD)
    expectProblem(await metrics(app), 401)
    expectProblem(await metrics(app, bearer(tokenFor(app, { role: 'HANDLER' }))), 403)
    const ok = await metrics(app, bearer(tokenFor(app, { role: 'ADMIN' })))
    expect(ok.statusCode).toBe(200)
    expect(ok.body).toMatch(/^db_pool_connections/m)
  })

  it('in production with METRICS_TOKEN: only that bearer token', async () => {
    const app = await start({ ...PROD, METRICS_TOKEN: SCRAPER })
    expectProblem(await metrics(app), 401, 'UNAUTHENTICATED')
    expectProblem(await metrics(app, bearer('m'.repeat(39))), 401)
    expectProblem(await metrics(app, { authorization: SCRAPER }), 401)
    expectProblem(await metrics(app, bearer(tokenFor(app, { role: 'ADMIN' }))), 401)
    const ok = await metrics(app, bearer(SCRAPER))
    expect(ok.statusCode).toBe(200)
    expect(ok.body).toMatch(/^db_pool_connections/m)
  })

  it('outside production: public by default', async () => {
    const app = await start({})
    expect((await metrics(app)).statusCode).toBe(200)
  })
})
