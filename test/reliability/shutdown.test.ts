// Graceful shutdown: in-flight requests complete, new requests are refused with 503 while closing,
// and the audit chain is sealed before the pool closes.
import { afterAll, describe, expect, it } from 'vitest'
import { Type } from '@sinclair/typebox'
import { sql } from 'kysely'
import { actorOf, dbOf } from '../../src/lib/route.js'
import { ProblemRef } from '../../src/lib/schemas.js'
import { buildTestApp, tokenFor } from '../helpers/app.js'
import { createDb } from '../../src/db/index.js'
import { testDatabaseUrl } from '../helpers/db.js'

const handles: Array<{ destroy: () => Promise<void> }> = []
afterAll(async () => { for (const h of handles) await h.destroy() })

describe('graceful shutdown', () => {
  it('finishes in-flight work, answers 503 to new requests, seals the audit chain', async () => {
    const app = await buildTestApp({ AUDIT_SEAL_INTERVAL_MS: 60_000 })
    app.post('/v1/test-slow-writes', {
      config: { access: 'articles:write', audit: { action: 'slow.write', entity: 'slow' } },
      schema: { body: Type.Object({}, { additionalProperties: false }), response: { 200: Type.Object({ ok: Type.Boolean() }), '4xx': ProblemRef, '5xx': ProblemRef } }
    }, async (request) => {
      actorOf(request)
      await sql`SELECT pg_sleep(0.4)`.execute(dbOf(request))
      return { ok: true }
    })
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    const auth = { authorization: `Bearer ${tokenFor(app, { role: 'ADMIN' })}`, 'content-type': 'application/json' }
    const inflight = fetch(`${address}/v1/test-slow-writes`, { method: 'POST', headers: auth, body: '{}' })
    await new Promise(resolve => setTimeout(resolve, 100))
    const closing = app.close()
    const late = await fetch(`${address}/health/live`).then(r => r.status, () => 'refused')
    const done = await inflight
    expect(done.status).toBe(200)
    expect(await done.json()).toEqual({ ok: true })
    expect([503, 'refused']).toContain(late)
    await closing

    const h = createDb({ connectionString: await testDatabaseUrl(), poolSize: 1, statementTimeoutMs: 5000, connectTimeoutMs: 5000 })
    handles.push(h)
    const unsealed = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_unsealed u JOIN audit_events e ON e.id = u.event_id WHERE e.action = 'slow.write'`.execute(h.db)
    expect(unsealed.rows[0]?.n).toBe(0)
  })
})
