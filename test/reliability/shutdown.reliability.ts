// SIGTERM from the clients' side. Under load on keep-alive connections, a shutdown must not reset
// a connection a client is using or cut a response short: the service drains (every response
// carries Connection: close, readiness is 503), then stops listening — clients then see a refused
// connection (nothing was sent) and never a reset or a truncated body. Every write a client saw
// succeed has its audit event, sealed before exit. And a SIGTERM while the database is away exits
// promptly instead of waiting out the grace period.
import { randomUUID } from 'node:crypto'
import { createConnection } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { login, sleep, startLoad, startService, stopService, summarize, TestPostgres, waitFor, type RequestSpec, type Service } from './harness.js'

let db: TestPostgres
const services: Service[] = []
const figures: Record<string, unknown> = {}

beforeAll(async () => { db = await TestPostgres.start() }, 180_000)
afterAll(async () => {
  console.log('shutdown figures', JSON.stringify(figures, null, 2))
  for (const s of services) await stopService(s)
  await db?.stop()
})

async function service (env: Record<string, string> = {}): Promise<Service> {
  const s = await startService(db.url, { LOG_LEVEL: 'info', ...env })
  services.push(s)
  return s
}

describe('SIGTERM', () => {
  it('under load on keep-alive connections: no reset, no truncated response, every acknowledged write audited and sealed', async () => {
    const svc = await service({ SHUTDOWN_DRAIN_MS: '1500' })
    const token = await login(svc.base, 'station.st-anjou@demo.example')
    const me = await (await fetch(`${svc.base}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).json() as { organizationId: string }
    const tag = randomUUID().slice(0, 8)
    const mix = (i: number): RequestSpec => i % 2 === 0
      ? { method: 'GET', path: '/v1/articles?limit=20', headers: { authorization: `Bearer ${token}` }, label: 'articles' }
      : { method: 'POST', path: `/v1/organizations/${me.organizationId}/contacts`, headers: { authorization: `Bearer ${token}` }, body: { fullName: `Drain ${tag} ${i}` }, label: 'contact' }
    const load = startLoad(svc.base, 16, mix)
    load.setPhase('before')
    await sleep(1000)
    load.setPhase('terminating')
    const t0 = performance.now()
    svc.child.kill('SIGTERM')
    const exit = await svc.exited
    figures['exit after SIGTERM under load (ms)'] = Math.round(performance.now() - t0)
    await sleep(300)
    const outcomes = await load.stop()
    figures['under load'] = summarize(outcomes)
    expect(exit.code, svc.output().slice(-2000)).toBe(0)

    // What a client may see: a complete answer (2xx, or a 503 problem while closing), or, once
    // the service stopped listening, a refused connection — or a reset of a NEW connection the
    // kernel had queued but the process never accepted (closing a listening socket resets its
    // backlog; the request was never read). Never a reset of a kept-alive connection, never a cut
    // body.
    const backlogResets = outcomes.filter(o => o.status === 'ECONNRESET' && o.reusedSocket === false)
    figures['resets of never-accepted new connections'] = backlogResets.length
    const broken = outcomes.filter(o => !(o.status === 'ECONNREFUSED' || backlogResets.includes(o) || (o.wellFormed && (o.status === 200 || o.status === 201 || o.status === 503))))
    expect(broken.slice(0, 5), JSON.stringify(summarize(broken))).toEqual([])
    expect(outcomes.filter(o => o.phase === 'terminating' && (o.status === 200 || o.status === 201)).length).toBeGreaterThan(0)

    // every write a client saw succeed committed with its audit event, sealed before the exit
    const acknowledged = outcomes.filter(o => o.label === 'contact' && o.status === 201).length
    const rows = await db.query<{ contacts: number, events: number, unsealed: number }>(`
      SELECT (SELECT count(*)::int FROM contacts WHERE full_name LIKE $1) AS contacts,
             (SELECT count(*)::int FROM audit_events e JOIN contacts c ON c.id::text = e.entity_id WHERE e.action = 'contact.create' AND c.full_name LIKE $1) AS events,
             (SELECT count(*)::int FROM audit_unsealed) AS unsealed`, [`Drain ${tag} %`])
    figures['writes acknowledged / committed / audited'] = [acknowledged, rows[0]?.contacts, rows[0]?.events]
    // a write may commit while its client is cut off only if the connection dies — it must not here
    expect(rows[0]?.contacts).toBe(acknowledged)
    expect(rows[0]?.events).toBe(acknowledged)
    expect(rows[0]?.unsealed).toBe(0)
  }, 240_000)

  it('readiness turns 503 as soon as the drain starts, while requests are still served', async () => {
    const svc = await service({ SHUTDOWN_DRAIN_MS: '3000' })
    // an idle client socket keeps the drain window open for its whole length
    const idle = createConnection({ host: '127.0.0.1', port: svc.port })
    idle.on('error', () => {})
    await new Promise(resolve => idle.once('connect', resolve))
    svc.child.kill('SIGTERM')
    const readyDuringDrain = await waitFor('readiness 503', async () => (await fetch(`${svc.base}/health/ready`)).status === 503, 2000, 20)
    figures['readiness 503 after SIGTERM (ms)'] = Math.round(readyDuringDrain)
    const live = await fetch(`${svc.base}/health/live`)
    expect(live.status).toBe(200)
    expect(live.headers.get('connection')).toBe('close')
    const exit = await Promise.race([svc.exited, sleep(20_000).then(() => 'still running')])
    idle.destroy()
    expect(exit, svc.output().slice(-3000)).toEqual({ code: 0, signal: null })
  }, 240_000)

  it('while the database is away: exits promptly (not after the grace period), code 0', async () => {
    const svc = await service({ SHUTDOWN_DRAIN_MS: '500' })
    await db.kill('SIGQUIT')
    try {
      await sleep(300)
      const t0 = performance.now()
      svc.child.kill('SIGTERM')
      const exit = await Promise.race([svc.exited, sleep(20_000).then(() => ({ code: 'still running' }))])
      const ms = Math.round(performance.now() - t0)
      figures['exit after SIGTERM with the database down (ms)'] = ms
      expect(exit.code, svc.output().slice(-2000)).toBe(0)
      // the grace period is SHUTDOWN_DRAIN_MS + 10 s
      expect(ms).toBeLessThan(5000)
    } finally {
      await db.restart()
    }
  }, 240_000)
})
