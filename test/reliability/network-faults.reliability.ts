// The network between the service and PostgreSQL misbehaves under load: a TCP proxy (FaultyProxy)
// adds latency, blackholes every connection (nothing forwarded, nothing refused: the server never
// sees the queries, so its statement_timeout cannot help), resets every connection, then heals.
// Then a pool of 2 connections behind a slow network (pool exhaustion) and a statement timeout of
// 100 ms against a locked table. The promises checked from the clients' side: the process lives;
// every answer is a 2xx or a well-formed problem, database trouble being 503 SERVICE_UNAVAILABLE
// with Retry-After; no answer waits longer than a bound derived from the configured timeouts (the
// machine is shared and slow: the asserted bounds are generous, the real figures are printed); and
// once the network heals the service recovers by itself (readiness, audited writes, revocations).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectClientsSawOnly, FaultyProxy, latency, login, ready, recovery, sleep, stationMix, startLoad, startService, stopService, summarize, TestPostgres, waitFor, type Load, type Outcome, type ProxyMode, type RequestSpec, type Service } from './harness.js'
import pg from 'pg'
import { createPool } from '../../src/db/index.js'
import { mapDatabaseError } from '../../src/plugins/errors.js'

let db: TestPostgres
let proxy: FaultyProxy
let svc: Service | undefined
let station: string
let stationId: string
const figures: Record<string, unknown> = {}

const CONNECT_TIMEOUT_MS = 1000
const STATEMENT_TIMEOUT_MS = 1000
/**
 * What one database interaction may take at most: waiting for a pooled connection or opening one
 * (DATABASE_CONNECT_TIMEOUT_MS), then a statement, bounded by the client-side read timeout
 * (statement timeout + connect timeout). A request makes a few such interactions and the machine
 * is loaded: the bound asserted is several times the configured one. A blackhole lasts longer than
 * it, so a request that waits for the network to heal cannot pass.
 */
const CONFIGURED_BOUND_MS = CONNECT_TIMEOUT_MS + STATEMENT_TIMEOUT_MS + CONNECT_TIMEOUT_MS
const ASSERTED_BOUND_MS = 9000
const BLACKHOLE_MS = 12_000

beforeAll(async () => {
  db = await TestPostgres.start()
  proxy = await FaultyProxy.start(db.port)
  svc = await startService(proxy.urlFor(db.url), { DATABASE_POOL_SIZE: '8', DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS), DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) })
  station = await login(svc.base, 'station.st-anjou@demo.example')
  const me = await fetch(`${svc.base}/v1/me`, { headers: { authorization: `Bearer ${station}` } })
  stationId = ((await me.json()) as { organizationId: string }).organizationId
}, 180_000)

afterAll(async () => {
  console.log('network fault figures', JSON.stringify(figures, null, 2))
  await stopService(svc)
  await proxy?.close()
  await db?.stop()
})

const mix = (i: number): RequestSpec => stationMix(station, stationId)(i)

/** Restores the network, times the recovery, serves a last second, stops the clients. */
async function healAndStop (load: Load, s: Service): Promise<{ rec: { readyMs: number, writeMs: number }, outcomes: Outcome[] }> {
  load.setPhase('healed')
  proxy.setMode({ kind: 'pass' })
  const rec = await recovery(s, station, stationId)
  load.setPhase('after')
  await sleep(1000)
  return { rec, outcomes: await load.stop() }
}

/** Each step: label the clients' phase, switch the proxy, hold it. */
async function runPhases (load: Load, steps: Array<[string, ProxyMode, number]>): Promise<void> {
  for (const [phase, mode, ms] of steps) {
    load.setPhase(phase)
    proxy.setMode(mode)
    await sleep(ms)
  }
}

describe('network faults between the service and PostgreSQL', () => {
  it('latency, blackhole, reset, healed, under load: bounded 503 problems, the process lives, recovery by itself', async () => {
    const s = svc as Service
    const load = startLoad(s.base, 12, mix)
    await runPhases(load, [['before', { kind: 'pass' }, 1000], ['latency 50 ms', { kind: 'latency', ms: 50 }, 2500],
      ['blackhole', { kind: 'blackhole' }, BLACKHOLE_MS], ['reset', { kind: 'reset' }, 1500]])
    const { rec, outcomes } = await healAndStop(load, s)

    figures['faults: statuses per phase'] = summarize(outcomes)
    for (const phase of ['before', 'latency 50 ms', 'blackhole', 'reset', 'healed', 'after']) figures[`faults: latency in ${phase}`] = latency(outcomes, phase)
    figures['faults: 503 latency'] = latency(outcomes, undefined, 503)
    figures['faults: configured bound (ms)'] = CONFIGURED_BOUND_MS
    figures['faults: recovery after healing'] = rec
    figures['faults: proxy connections'] = proxy.counts

    expect(s.alive(), s.output()).toBe(true)
    expectClientsSawOnly(s, outcomes, [200, 201, 503])
    // during the blackhole the database is unavailable and the clients are told so
    expect(outcomes.filter(o => o.phase === 'blackhole' && o.status === 503).length).toBeGreaterThan(0)
    // no answer waited for the network to heal: every request, whatever its phase, is bounded
    const slowest = [...outcomes].sort((a, b) => b.ms - a.ms).slice(0, 3).map(o => `${o.phase} ${o.label} ${String(o.status)} ${Math.round(o.ms)} ms`)
    expect(latency(outcomes).max, `slowest: ${slowest.join('; ')}`).toBeLessThan(ASSERTED_BOUND_MS)
    expect(outcomes.filter(o => o.phase === 'after' && (o.status as number) < 300).length).toBeGreaterThan(0)
    expect(rec.readyMs).toBeLessThan(10_000)
  }, 120_000)

  it('after the faults the LISTEN connection delivers revocations', async () => {
    const s = svc as Service
    const token = await login(s.base, 'station.st-saumur@demo.example')
    const me = async (): Promise<number> => (await fetch(`${s.base}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status
    expect(await me()).toBe(200)
    await sleep(5)
    await db.query("UPDATE users SET tokens_valid_after = clock_timestamp() WHERE email = 'station.st-saumur@demo.example'")
    figures['revocation after the faults (ms)'] = Math.round(await waitFor('the revoked token to be refused', async () => await me() === 401, 5000, 10))
    expect(s.output()).not.toMatch(/second error|uncaught|unhandled/i)
    await stopService(s)
    svc = undefined
  }, 30_000)

  it('pool exhaustion (2 connections, a slow network, 16 clients): waiting requests get a bounded 503, never a hang or a 500', async () => {
    proxy.setMode({ kind: 'pass' })
    const s = svc = await startService(proxy.urlFor(db.url), { DATABASE_POOL_SIZE: '2', DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS), DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) })
    await waitFor('readiness', async () => await ready(s.base), 20_000, 20)
    const load = startLoad(s.base, 16, mix)
    await runPhases(load, [['before', { kind: 'pass' }, 500], ['latency 150 ms', { kind: 'latency', ms: 150 }, 5000], ['blackhole', { kind: 'blackhole' }, BLACKHOLE_MS]])
    const { rec, outcomes } = await healAndStop(load, s)

    figures['pool of 2: statuses per phase'] = summarize(outcomes)
    for (const phase of ['latency 150 ms', 'blackhole', 'after']) figures[`pool of 2: latency in ${phase}`] = latency(outcomes, phase)
    figures['pool of 2: 503 latency'] = latency(outcomes, undefined, 503)
    figures['pool of 2: recovery after healing'] = rec

    expect(s.alive(), s.output()).toBe(true)
    expectClientsSawOnly(s, outcomes, [200, 201, 503])
    // the pool is exhausted behind the slow network: requests beyond it are refused, not queued forever
    expect(outcomes.filter(o => o.phase === 'latency 150 ms' && o.status === 503).length).toBeGreaterThan(0)
    expect(outcomes.filter(o => o.phase === 'latency 150 ms' && (o.status as number) < 300).length).toBeGreaterThan(0)
    const slowest = [...outcomes].sort((a, b) => b.ms - a.ms).slice(0, 3).map(o => `${o.phase} ${o.label} ${String(o.status)} ${Math.round(o.ms)} ms`)
    expect(latency(outcomes).max, `slowest: ${slowest.join('; ')}`).toBeLessThan(ASSERTED_BOUND_MS)
    expect(outcomes.filter(o => o.phase === 'after' && (o.status as number) < 300).length).toBeGreaterThan(0)
    await stopService(s)
    svc = undefined
  }, 120_000)

  it('statement timeout (100 ms) against a locked table: writes get a bounded 503 SERVICE_UNAVAILABLE, reads still serve', async () => {
    proxy.setMode({ kind: 'pass' })
    const s = svc = await startService(proxy.urlFor(db.url), { DATABASE_POOL_SIZE: '8', DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS), DATABASE_STATEMENT_TIMEOUT_MS: '100' })
    await waitFor('readiness', async () => await ready(s.base), 20_000, 20)
    // the contacts table locked against writes (reads still allowed) by a transaction left open
    const locker = new pg.Client(db.url)
    await locker.connect()
    const load = startLoad(s.base, 8, mix)
    let outcomes: Outcome[]
    try {
      load.setPhase('before')
      await sleep(700)
      await locker.query('BEGIN')
      await locker.query('LOCK TABLE contacts IN EXCLUSIVE MODE')
      load.setPhase('locked')
      await sleep(3000)
      await locker.query('ROLLBACK')
      load.setPhase('after')
      await sleep(1000)
    } finally {
      outcomes = await load.stop()
      await locker.end().catch(() => {})
    }
    figures['statement timeout 100 ms: statuses per phase'] = summarize(outcomes)
    figures['statement timeout 100 ms: 503 latency'] = latency(outcomes, 'locked', 503)

    expect(s.alive(), s.output()).toBe(true)
    expectClientsSawOnly(s, outcomes, [200, 201, 503])
    const locked = outcomes.filter(o => o.phase === 'locked')
    expect(locked.filter(o => o.label.startsWith('contact') && o.status === 503).length).toBeGreaterThan(0)
    expect(locked.filter(o => !o.label.startsWith('contact') && o.status === 200).length).toBeGreaterThan(0)
    // bounded by the statement timeout (plus the machine's load), not by the lock's holder
    expect(latency(outcomes, 'locked', 503).max).toBeLessThan(2500)
    expect(outcomes.filter(o => o.phase === 'after' && o.status === 201).length).toBeGreaterThan(0)
    await stopService(s)
    svc = undefined
  }, 90_000)

  it('a pooled client whose statement the network swallowed fails in bounded time with a 503 error and never goes back to the pool', async () => {
    proxy.setMode({ kind: 'pass' })
    const pool = createPool({ connectionString: proxy.urlFor(db.url), poolSize: 1, statementTimeoutMs: 300, connectTimeoutMs: 700, applicationName: 'gestion-emballages-api:probe' })
    const c1 = await pool.connect()
    let released = false
    try {
      await c1.query('SELECT 1')
      proxy.setMode({ kind: 'blackhole' })
      const t0 = performance.now()
      const err = await Promise.race([
        c1.query('SELECT 1').then(() => new Error('answered'), (e: Error) => e),
        sleep(8000).then(() => new Error('still waiting after 8 s'))
      ])
      const ms = Math.round(performance.now() - t0)
      figures['client read timeout under blackhole (configured 1000 ms)'] = ms
      expect(err.message).toMatch(/Query read timeout/)
      expect(mapDatabaseError(err)?.code).toBe('SERVICE_UNAVAILABLE')
      // released at once, as a request handler does: the next borrower gets a working connection
      proxy.setMode({ kind: 'pass' })
      c1.release()
      released = true
      const c2 = await pool.connect()
      try {
        expect((await c2.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
      } finally {
        c2.release()
      }
    } finally {
      proxy.setMode({ kind: 'pass' })
      if (!released) c1.release(true)
      await pool.end()
    }
  }, 30_000)
})
