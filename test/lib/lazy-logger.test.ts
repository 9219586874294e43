// Request loggers are created on first use: nothing logged at a disabled level, and a log line at
// an enabled level still carries the request id binding.
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Type } from '@sinclair/typebox'
import { ProblemRef } from '../../src/lib/schemas.js'
import type { App } from '../../src/lib/route.js'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { testDatabaseUrl } from '../helpers/db.js'
import { bearer, tokenFor } from '../helpers/app.js'

const lines: Array<Record<string, unknown>> = []
const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>); done() } })

let app: App
beforeAll(async () => {
  const url = await testDatabaseUrl()
  const config = loadConfig({}, { NODE_ENV: 'test', LOG_LEVEL: 'warn', RATE_LIMIT_ENABLED: false, DATABASE_URL: url, MAX_EVENT_LOOP_DELAY_MS: 0 })
  app = await buildApp({ config, connectionString: url, logger: { level: 'warn', stream } })
  app.get('/v1/test-log/:what', { config: { access: 'articles:read' }, schema: { response: { 200: Type.Object({ ok: Type.Boolean() }), '5xx': ProblemRef } } }, async (request) => {
    const what = (request.params as { what: string }).what
    request.log.info({ what }, 'info is below the level')
    if (what === 'warn') request.log.warn({ what }, 'a warning')
    if (what === 'child') request.log.child({ step: 2 }).warn('from a grandchild')
    return { ok: true }
  })
  await app.ready()
})
afterAll(async () => { await app.close() })

describe('request loggers', () => {
  it('write nothing below the level and bind the request id at the level', async () => {
    const token = tokenFor(app, { role: 'ADMIN' })
    lines.length = 0
    await app.inject({ method: 'GET', url: '/v1/test-log/quiet', headers: { ...bearer(token), 'x-request-id': 'req-quiet' } })
    await app.inject({ method: 'GET', url: '/v1/test-log/warn', headers: { ...bearer(token), 'x-request-id': 'req-warn' } })
    await app.inject({ method: 'GET', url: '/v1/test-log/child', headers: { ...bearer(token), 'x-request-id': 'req-child' } })
    expect(lines.filter(l => l.msg === 'info is below the level')).toEqual([])
    expect(lines.find(l => l.msg === 'a warning')).toMatchObject({ requestId: 'req-warn', what: 'warn', level: 40 })
    expect(lines.find(l => l.msg === 'from a grandchild')).toMatchObject({ requestId: 'req-child', step: 2 })
    expect(app.log.level).toBe('warn')
  })
})
