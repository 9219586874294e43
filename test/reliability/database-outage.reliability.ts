// The database goes away under load — connections terminated, an immediate stop, the postmaster
// SIGKILLed — and comes back. The built server runs as a child process against a private
// PostgreSQL. The promises checked from the clients' side: the process never exits; while the
// database is away every answer is a fast 503 problem with Retry-After (no socket error, no other
// 5xx); within 2 s of the database's return the service is ready again, serves reads and audited
// writes, its LISTEN connection delivers revocations again and the sealer drains the audit queue.
// The load mixes the newer write paths in (stock adjustments, consumptions and counts, forecast
// upserts, transfer requests, document uploads in 256 KiB chunks): after the outages the stores are
// consistent (Σ movements = quantity, every write audited once, no half-stored document, no stored
// object off the staging list) and the outbox dispatcher has taken every committed event exactly
// once, delivered to a webhook receiver.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  domainsContext, domainsMix, expectClientsSawOnly, expectDispatchedOnce, login, recovery, sleep, startLoad, startService, stopService, storeBaseline,
  storeInvariants, summarize, TestPostgres, waitFor, WebhookReceiver, type DomainsContext, type Load, type Outcome, type RequestSpec, type Service, type StoreBaseline
} from './harness.js'

let db: TestPostgres
let svc: Service
let station: string
let stationId: string
let ctx: DomainsContext
let receiver: WebhookReceiver
let subscriptionId: string
let baseline: StoreBaseline
const figures: Record<string, unknown> = {}

beforeAll(async () => {
  db = await TestPostgres.start()
  svc = await startService(db.url, { DATABASE_POOL_SIZE: '8', DATABASE_CONNECT_TIMEOUT_MS: '1000', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_MS: '1000' })
  ctx = await domainsContext(svc.base, db, 'station.st-anjou@demo.example')
  station = ctx.token
  stationId = ctx.stationId
  receiver = await WebhookReceiver.start()
  subscriptionId = await receiver.subscribe(svc.base, await login(svc.base, 'admin@bluewhale.example'))
  baseline = await storeBaseline(db)
}, 180_000)

afterAll(async () => {
  console.log('database outage figures', JSON.stringify(figures, null, 2))
  await stopService(svc)
  await receiver?.close()
  await db?.stop()
})

const mix = (i: number): RequestSpec => domainsMix(ctx)(i)

/** Time from the database accepting connections again to the service serving reads and writes. */
async function recoveryAfterReturn (): Promise<{ readyMs: number, writeMs: number }> {
  await waitFor('PostgreSQL to accept connections', async () => await db.accepting(), 30_000, 10)
  return await recovery(svc, station, stationId, 10_000)
}

async function underLoad (name: string, fault: (load: Load) => Promise<void>): Promise<Outcome[]> {
  const load = startLoad(svc.base, 12, mix)
  load.setPhase('before')
  await sleep(700)
  load.setPhase('fault')
  await fault(load)
  const outcomes = await load.stop()
  figures[name] = summarize(outcomes)
  expect(svc.alive(), svc.output()).toBe(true)
  return outcomes
}

describe('database loss under load', () => {
  it('connections terminated three times under load: only 2xx and 503 problems, the process lives', async () => {
    const outcomes = await underLoad('terminate backends ×3', async load => {
      let terminated = 0
      for (let k = 0; k < 3; k++) {
        terminated += await db.terminateService()
        await sleep(400)
      }
      figures['connections terminated'] = terminated
      expect(terminated).toBeGreaterThan(2)
      load.setPhase('after')
      await sleep(700)
    })
    expectClientsSawOnly(svc, outcomes, [200, 201, 503])
    // the service recovered within the run: the last phase is served
    expect(outcomes.filter(o => o.phase === 'after' && (o.status as number) < 300).length).toBeGreaterThan(0)
    figures['terminate: recovery'] = await recoveryAfterReturn()
  }, 60_000)

  for (const [signal, name] of [['SIGQUIT', 'immediate stop (pg_ctl -m immediate)'], ['SIGKILL', 'postmaster SIGKILLed']] as const) {
    it(`${name} under load: fast 503s while away, ready within 2 s of the return`, async () => {
      let rec: { readyMs: number, writeMs: number } | undefined
      const outcomes = await underLoad(name, async load => {
        await db.kill(signal)
        load.setPhase('down')
        await sleep(1500)
        load.setPhase('restart')
        await db.restart()
        rec = await recoveryAfterReturn()
        load.setPhase('after')
        await sleep(700)
      })
      figures[`${name}: recovery`] = rec
      expectClientsSawOnly(svc, outcomes, [200, 201, 503])
      // a request sent while the database was away is a 503, or succeeded after its return
      const down = outcomes.filter(o => o.phase === 'down' && o.status === 503)
      expect(down.length).toBeGreaterThan(0)
      const slow = down.map(o => o.ms).sort((a, b) => a - b)
      figures[`${name}: 503 latency while down`] = { n: slow.length, p50: Math.round(slow[Math.floor(slow.length / 2)] ?? 0), max: Math.round(slow.at(-1) ?? 0) }
      // fast: bounded by the connect timeout (1 s here), not by a client's patience
      expect(slow.at(-1)).toBeLessThan(2500)
      expect(rec?.readyMs).toBeLessThan(2000)
      expect(outcomes.filter(o => o.phase === 'after' && (o.status as number) < 300).length).toBeGreaterThan(0)
    }, 90_000)
  }

  it('after the outages the LISTEN connection delivers revocations and the sealer drains the queue', async () => {
    // a revocation written straight into the database reaches the service only through NOTIFY
    const token = await login(svc.base, 'station.st-saumur@demo.example')
    const me = async (): Promise<number> => (await fetch(`${svc.base}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status
    expect(await me()).toBe(200)
    await sleep(5) // the revocation instant must follow the token's issue instant
    await db.query("UPDATE users SET tokens_valid_after = clock_timestamp() WHERE email = 'station.st-saumur@demo.example'")
    figures['revocation after outages (ms)'] = Math.round(await waitFor('the revoked token to be refused', async () => await me() === 401, 1000, 10))
    figures['audit queue drained after outages (ms)'] = Math.round(await waitFor('the sealer to drain the audit queue', async () => {
      const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_unsealed')
      return rows[0]?.n === 0
    }, 5000, 50))
    expect(svc.output()).not.toMatch(/second error|uncaught|unhandled/i)
  }, 30_000)

  it('after the outages the stores are consistent and every committed event is dispatched exactly once', async () => {
    const { violations, figures: f } = await storeInvariants(db, baseline)
    figures['stores after outages'] = f
    expect(violations).toEqual([])
    figures['outbox after outages'] = await expectDispatchedOnce(db, receiver, subscriptionId, baseline.outbox, { rescueAfterMs: 3000, timeoutMs: 60_000 })
  }, 150_000)
})
