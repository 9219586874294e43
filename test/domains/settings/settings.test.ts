import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { bearer, countAudit, createTestApp, expectProblem, tokenFor } from '../../helpers/app.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

describe('settings', () => {
  it('is read by platform staff only', async () => {
    for (const role of ['ADMIN', 'MANAGER', 'HANDLER'] as const) {
      const res = await app.inject({ method: 'GET', url: '/v1/settings', headers: bearer(tokenFor(app, { role })) })
      expect(res.statusCode).toBe(200)
      expect(Object.keys(res.json()).sort()).toEqual(['allowCatalogFallback', 'defaultFeePct', 'lockoutMinutes', 'lockoutThreshold', 'rateLimitPerMinute', 'receivingTolerancePct', 'updatedAt', 'version'])
      expect(res.headers.etag).toBe(`"${res.json().version as number}"`)
    }
    for (const role of ['STATION', 'SUPPLIER'] as const) expectProblem(await app.inject({ method: 'GET', url: '/v1/settings', headers: bearer(tokenFor(app, { role })) }), 403)
  })

  it('is changed by an ADMIN only, any subset, audited, with If-Match', async () => {
    const admin = bearer(tokenFor(app, { role: 'ADMIN' }))
    const current = (await app.inject({ method: 'GET', url: '/v1/settings', headers: admin })).json()
    const before = await countAudit(app)
    for (const role of ['MANAGER', 'HANDLER', 'STATION', 'SUPPLIER'] as const) {
      expectProblem(await app.inject({ method: 'PATCH', url: '/v1/settings', headers: bearer(tokenFor(app, { role })), payload: { defaultFeePct: '1.00' } }), 403)
    }
    for (const body of [{}, { version: 9 }, { defaultFeePct: 8 }, { defaultFeePct: '8.123' }, { lockoutThreshold: 0 }, { unknown: true }]) {
      expectProblem(await app.inject({ method: 'PATCH', url: '/v1/settings', headers: admin, payload: body }), 400)
    }
    expectProblem(await app.inject({ method: 'PATCH', url: '/v1/settings', headers: { ...admin, 'if-match': `"${current.version as number + 5}"` }, payload: { defaultFeePct: '1.00' } }), 412)
    expect(await countAudit(app)).toBe(before)
    const res = await app.inject({ method: 'PATCH', url: '/v1/settings', headers: { ...admin, 'if-match': `"${current.version as number}"` }, payload: { defaultFeePct: '7.25', lockoutMinutes: 20 } })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ defaultFeePct: '7.25', lockoutMinutes: 20, allowCatalogFallback: current.allowCatalogFallback, version: current.version + 1 })
    const audit = await app.db.selectFrom('auditEvents').select(['action', 'entityType', 'changes']).where('action', '=', 'settings.update').orderBy('id', 'desc').executeTakeFirstOrThrow()
    expect(audit).toMatchObject({ entityType: 'settings', changes: { defaultFeePct: { from: current.defaultFeePct, to: '7.25' } } })
    await app.inject({ method: 'PATCH', url: '/v1/settings', headers: admin, payload: { defaultFeePct: current.defaultFeePct, lockoutMinutes: current.lockoutMinutes } })
  })
})
