// Default deny covers every route, whenever it was registered: the boot check sees the routes of
// plugins registered before any domain (/openapi.json, Swagger UI), a route that escaped the
// onRoute check makes the app refuse to start, and only /docs and /docs/… are exempt.
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import rbacPlugin from '../../src/plugins/rbac.js'
import { MemoryTokenGuard } from '../../src/plugins/auth.js'
import { buildTestApp, createTestApp } from '../helpers/app.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const fakeAuth = fp(async (a) => {
  await a.register(fastifyJwt, { secret: 's'.repeat(40) })
  a.decorate('tokenGuard', new MemoryTokenGuard())
}, { name: 'auth' })

describe('the access check at boot', () => {
  it('sees the routes of the core plugins: /openapi.json and the Swagger UI routes are in the route table', () => {
    const urls = app.routeTable.map(r => `${r.method} ${r.url}`)
    expect(urls).toContain('GET /openapi.json')
    expect(urls.some(u => u.startsWith('GET /docs'))).toBe(true)
    expect(app.routeTable.find(r => r.url === '/openapi.json')?.access).toBe('public')
  })

  it('exempts /docs and /docs/… only, not every path that starts with /docs', async () => {
    const bad = await buildTestApp()
    expect(() => bad.get('/docsX', async () => ({ ok: true }))).toThrow(/declares no config.access/)
    expect(() => bad.get('/docs-internal/secrets', async () => ({ ok: true }))).toThrow(/declares no config.access/)
    await bad.close().catch(() => {})
  })

  it('refuses to start when a route was registered before the rbac plugin (it escaped the check)', async () => {
    const early = Fastify()
    early.get('/early-and-unguarded', async () => ({ secret: true }))
    await early.register(fakeAuth)
    await early.register(rbacPlugin)
    early.get('/later', { config: { access: 'public' } }, async () => ({ ok: true }))
    await expect(early.ready()).rejects.toThrow(/registered before the rbac plugin/)
    await early.close().catch(() => {})
  })

  it('starts when every route went through the check', async () => {
    const fine = Fastify()
    await fine.register(fakeAuth)
    await fine.register(rbacPlugin)
    fine.get('/later', { config: { access: 'public' } }, async () => ({ ok: true }))
    fine.get('/guarded', { config: { access: 'audit:read' } }, async () => ({ ok: true }))
    await fine.ready()
    expect((await fine.inject({ method: 'GET', url: '/guarded' })).statusCode).toBe(401)
    await fine.close()
  })
})
