// `npm run test:cluster`: three instances of the built service behind a round-robin balancer,
// sharing PostgreSQL through PgBouncer in transaction pooling mode (DATABASE_URL, with
// DATABASE_PREPARED_STATEMENTS=false) plus a direct connection for LISTEN (DATABASE_DIRECT_URL),
// and Redis for rate limits. What must hold with N instances (issue 17), each measured from the
// clients' side and printed at the end:
// - mixed traffic (reads, audited writes with and without Idempotency-Key) through PgBouncer on all
//   three instances: every answer is right, no 5xx;
// - a token revoked on one instance is refused on all within 1 s;
// - the same Idempotency-Key sent to all instances at once has one effect;
// - rate limits are shared through Redis, and per instance (no 5xx, no stall, in /metrics) while
//   Redis is down; shared again when it is back;
// - rolling restart: each instance replaced in turn under load, zero failed requests;
// - the audit sealer: never two holders of its lock; when the instance holding it is SIGKILLed, the
//   others seal within seconds; the chain verifies at the end.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { latency, login, ready, startLoad, stationMix, stopService, summarize, type Outcome } from '../reliability/harness.js'
import { Balancer } from './balancer.js'
import { instanceOfBackend, log, metric, sealerHolder, sealerHolders, sleep, startCluster, startInstance, waitFor, type ClusterEnv, type Instance } from './cluster.js'

let c: ClusterEnv
let lb: Balancer
const instances: Instance[] = []
const figures: Record<string, unknown> = {}
let generation = 0
let station = { token: '', id: '' }
let admin = ''
// "exactly one sealer at a time": the lock's holders, sampled all along
let maxHolders = 0
let holderSamples = 0
const samplerState = { on: true }
let sampler: Promise<void> | undefined

async function launch (): Promise<Instance> {
  const name = `api-${++generation}`
  const i = await startInstance(c, name)
  instances.push(i)
  lb.add(name, i.base)
  await waitFor(`${name} routed`, () => lb.ready().includes(name), 30_000, 20)
  return i
}

const live = (): Instance[] => instances.filter(i => i.alive())

function expectOnly (outcomes: Outcome[], allowed: number[]): void {
  const bad = outcomes.filter(o => !o.wellFormed || !allowed.includes(o.status as number))
  expect(bad.slice(0, 5), `${bad.length} unexpected answers: ${JSON.stringify(summarize(bad))}`).toEqual([])
}

beforeAll(async () => {
  const t0 = performance.now()
  c = await startCluster()
  figures.setup = { postgres: c.db.kind, pgbouncer: c.bouncer.version, redis: c.redis?.kind ?? 'none' }
  lb = await Balancer.start(100)
  // the first instance migrates and seeds; the other two start together once it is up
  await launch()
  await Promise.all([launch(), launch()])
  figures['cluster start (s)'] = Math.round((performance.now() - t0) / 100) / 10
  // measure warm instances: each compiles its remaining route schemas in the background after start
  for (const i of live()) await waitFor(`${i.name} schema compilation`, async () => await metric(i.base, 'schemas_pending_compilation') === 0, 180_000, 100)
  station.token = await login(lb.url, 'station.st-anjou@demo.example')
  const me = await (await fetch(`${lb.url}/v1/me`, { headers: { authorization: `Bearer ${station.token}` } })).json() as { organizationId: string }
  station = { token: station.token, id: me.organizationId }
  admin = await login(lb.url, 'admin@bluewhale.example')
  sampler = (async () => {
    while (samplerState.on) {
      maxHolders = Math.max(maxHolders, await sealerHolders(c.db).catch(() => 0))
      holderSamples++
      await sleep(10)
    }
  })()
}, 600_000)

afterAll(async () => {
  samplerState.on = false
  await sampler
  figures['sealer lock: most holders seen at once'] = `${maxHolders} (${holderSamples} samples)`
  figures['balancer'] = { ...lb?.counts, servedPerInstance: Object.fromEntries([...(lb?.backends.values() ?? [])].map(b => [b.name, b.served])) }
  console.log('cluster figures', JSON.stringify(figures, null, 2))
  await lb?.close()
  for (const i of instances) await stopService(i)
  await c?.bouncer.stop()
  await c?.redis?.stop()
  await c?.db.stop()
}, 120_000)

describe('three instances behind PgBouncer (transaction pooling)', () => {
  it('mixed traffic through all three: every answer right, no 5xx, every instance and PgBouncer used', async () => {
    const load = startLoad(lb.url, 12, stationMix(station.token, station.id))
    load.setPhase('mixed')
    await sleep(6000)
    const outcomes = await load.stop()
    figures['mixed traffic'] = { ...summarize(outcomes).mixed, latency: latency(outcomes, 'mixed') }
    expectOnly(outcomes, [200, 201])
    expect(outcomes.length).toBeGreaterThan(100)
    for (const b of lb.backends.values()) expect(b.served, b.name).toBeGreaterThan(10)
    // the service's statements went through PgBouncer's pool, its LISTENs did not
    const pools = await c.db.query<{ app: string, n: number }>('SELECT application_name AS app, count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE \'gestion-emballages-api%\' GROUP BY 1')
    figures['server connections by application_name'] = Object.fromEntries(pools.map(p => [p.app, p.n]))
    expect(pools.find(p => p.app === 'gestion-emballages-api:listen')?.n).toBe(3)
    // the server-side timeouts the service cannot send through PgBouncer come from its connect_query
    const through = new pg.Client({ connectionString: c.bouncer.url })
    await through.connect()
    try {
      const r = await through.query<{ statement_timeout: string }>('SHOW statement_timeout')
      expect(r.rows[0]?.statement_timeout).toBe('5s')
    } finally { await through.end() }
  }, 120_000)

  it('a token revoked on one instance is refused by every instance within 1 s', async () => {
    const samples: number[] = []
    for (let round = 0; round < 3; round++) {
      const [a, ...others] = live().slice(round % 3).concat(live().slice(0, round % 3))
      if (a === undefined) throw new Error('no instance')
      const token = await login(a.base, 'station.st-saumur@demo.example')
      for (const o of others) expect((await fetch(`${o.base}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
      // from the request that revokes (sent to one instance) to each other instance's first 401
      const t0 = performance.now()
      const r = await fetch(`${a.base}/v1/auth/logout-all`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
      expect(r.status, await r.text()).toBeLessThan(300)
      await Promise.all(others.map(async o => {
        await waitFor(`${o.name} to refuse the revoked token`, async () => (await fetch(`${o.base}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status === 401, 5000, 5)
        samples.push(Math.round(performance.now() - t0))
      }))
    }
    samples.sort((x, y) => x - y)
    figures['revocation seen by the other instances (ms, each)'] = samples
    expect(Math.max(...samples)).toBeLessThan(1000)
  }, 60_000)

  it('the same Idempotency-Key sent to all three instances at once has one effect; every client ends with the same answer', async () => {
    const seen = { created: 0, inProgress: 0, replayed: 0 }
    for (let k = 0; k < 10; k++) {
      const key = randomUUID()
      const name = `Idem ${key}`
      // two requests per instance at once; a client told 409 IDEMPOTENCY_IN_PROGRESS retries (as the API says)
      const answers = await Promise.all(live().flatMap(i => [i, i]).map(async i => {
        for (let attempt = 0; ; attempt++) {
          const r = await fetch(`${i.base}/v1/organizations/${station.id}/contacts`, {
            method: 'POST',
            headers: { authorization: `Bearer ${station.token}`, 'content-type': 'application/json', 'idempotency-key': key },
            body: JSON.stringify({ fullName: name })
          })
          const body = await r.json() as { id?: string, code?: string }
          if (r.status === 409 && body.code === 'IDEMPOTENCY_IN_PROGRESS' && attempt < 50) { seen.inProgress++; await sleep(20); continue }
          if (r.headers.get('idempotent-replayed') === 'true') seen.replayed++
          else if (r.status === 201) seen.created++
          return { status: r.status, id: body.id }
        }
      }))
      expect(answers.map(a => a.status), JSON.stringify(answers)).toEqual(answers.map(() => 201))
      expect(new Set(answers.map(a => a.id)).size).toBe(1)
      const rows = await c.db.query<{ n: number }>('SELECT count(*)::int AS n FROM contacts WHERE full_name = $1', [name])
      expect(rows[0]?.n).toBe(1)
    }
    figures['idempotency: 10 keys × 6 concurrent requests over 3 instances'] = { effects: 10, ...seen }
    expect(seen.created).toBe(10)
  }, 60_000)
})

describe.skipIf(process.env.CLUSTER_SKIP_REDIS === 'true')('rate limits through Redis', () => {
  const signIns = async (ip: string, n: number, via: Instance[]): Promise<number[]> => {
    const statuses: number[] = []
    for (let k = 0; k < n; k++) {
      const i = via[k % via.length] as Instance
      const r = await fetch(`${i.base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip }, body: JSON.stringify({ email: 'not-an-email', password: 'x' }) })
      await r.arrayBuffer()
      statuses.push(r.status)
    }
    return statuses
  }

  it('shared: 20 sign-ins per minute per IP across all instances; per instance while Redis is down (no 5xx, no stall, in /metrics); shared again once it is back', async () => {
    if (c.redis === undefined) return
    const shared = await signIns(`198.51.100.${Math.floor(Math.random() * 250)}`, 22, live())
    expect(shared.slice(0, 20).every(s => s === 400)).toBe(true)
    expect(shared.slice(20)).toEqual([429, 429])

    const load = startLoad(lb.url, 8, stationMix(station.token, station.id))
    load.setPhase('redis up')
    await sleep(1000)
    load.setPhase('redis down')
    await c.redis.down()
    const ip = `203.0.113.${Math.floor(Math.random() * 250)}`
    const t0 = performance.now()
    const during = await signIns(ip, 63, live())
    const signInMs = performance.now() - t0
    await sleep(1500)
    const down = await Promise.all(live().map(async i => ({ up: await metric(i.base, 'rate_limit_redis_up'), outages: await metric(i.base, 'rate_limit_redis_outages_total'), fallbacks: await metric(i.base, 'rate_limit_local_fallbacks_total') })))
    load.setPhase('redis back')
    await c.redis.up()
    const back = await waitFor('every instance back on Redis', async () => (await Promise.all(live().map(async i => await metric(i.base, 'rate_limit_redis_up')))).every(v => v === 1), 15_000, 50)
    await sleep(1000)
    const outcomes = await load.stop()
    const warnings = live().map(i => i.output().split('\n').filter(l => l.includes('Redis unreachable')))
    const logged = warnings.map(w => w.length)
    figures['rate limits'] = {
      'shared (22 sign-ins from one IP over 3 instances)': shared.join(','),
      'Redis down: 63 sign-ins from one new IP, round-robin': `${during.filter(s => s === 400).length} allowed, ${during.filter(s => s === 429).length} limited, in ${Math.round(signInMs)} ms`,
      '/metrics while down (per instance)': down,
      'outage warnings logged per instance': logged,
      'their reasons': warnings.map(w => w.map(l => { try { return String((JSON.parse(l) as { reason?: string }).reason) } catch { return l.slice(0, 120) } })),
      'back on Redis after (ms)': Math.round(back),
      'load meanwhile': summarize(outcomes),
      'load p99 by phase (ms)': { up: latency(outcomes, 'redis up').p99, down: latency(outcomes, 'redis down').p99, back: latency(outcomes, 'redis back').p99 }
    }
    // per instance: each of the three allows its own 20
    expect(during.filter(s => s === 400).length).toBe(60)
    expect(during.filter(s => s === 429).length).toBe(3)
    for (const d of down) {
      expect(d.up).toBe(0)
      expect(d.outages).toBeGreaterThanOrEqual(1)
      expect(d.fallbacks).toBeGreaterThan(0)
    }
    // one warning per outage, not one per request (an instance may also have seen a short outage
    // of its own earlier: a command answered later than REDIS_TIMEOUT_MS on this loaded machine)
    down.forEach((d, k) => { expect(logged[k]).toBe(d.outages) })
    expectOnly(outcomes, [200, 201])
    expect(latency(outcomes, 'redis down').max).toBeLessThan(2000)
    expect(signInMs / 63).toBeLessThan(200)
  }, 120_000)
})

describe('instances replaced and killed', () => {
  it('rolling restart under load: each instance drained (readiness 503 first) and replaced in turn, zero failed requests', async () => {
    const load = startLoad(lb.url, 12, stationMix(station.token, station.id))
    load.setPhase('steady')
    await sleep(1500)
    const steps: Array<Record<string, number | string>> = []
    for (const old of live()) {
      load.setPhase(`replacing ${old.name}`)
      const t0 = performance.now()
      old.child.kill('SIGTERM')
      const notReady = await waitFor(`${old.name} readiness 503`, async () => !(await ready(old.base)), 5000, 5)
      const unrouted = await waitFor(`${old.name} out of the balancer`, () => !lb.ready().includes(old.name), 5000, 5)
      const exit = await old.exited
      expect(exit.code, old.output().slice(-2000)).toBe(0)
      const exitedMs = performance.now() - t0
      lb.remove(old.name)
      const fresh = await launch()
      steps.push({ replaced: old.name, by: fresh.name, 'readiness 503 after (ms)': Math.round(notReady), 'unrouted after (ms)': Math.round(unrouted), 'exited after (ms)': Math.round(exitedMs), 'replacement routed after (ms)': Math.round(performance.now() - t0) })
    }
    load.setPhase('after')
    await sleep(1500)
    const outcomes = await load.stop()
    figures['rolling restart'] = { steps, outcomes: summarize(outcomes), balancer: { ...lb.counts } }
    expectOnly(outcomes, [200, 201])
    expect(outcomes.filter(o => o.phase.startsWith('replacing')).length).toBeGreaterThan(50)
  }, 300_000)

  it('the instance holding the sealer lock is SIGKILLed: another seals within seconds, never two at once; the chain verifies', async () => {
    const kills: Array<Record<string, number | string | boolean>> = []
    // audited writes keep the sealer busy (and its transactions long enough to be caught)
    const load = startLoad(lb.url, 4, stationMix(station.token, station.id))
    load.setPhase('sealer kills')
    for (let round = 0; round < 2; round++) {
      // catch the lock while held (a sealing transaction lasts milliseconds, every instance tries every 300 ms)
      let victim: Instance | undefined
      let caught = 0
      const deadline = performance.now() + 20_000
      while (victim === undefined && performance.now() < deadline) {
        const h = await sealerHolder(c.db)
        if (h !== undefined) {
          caught++
          victim = await instanceOfBackend(c.bouncer, h.port, live())
        }
      }
      if (victim === undefined) throw new Error(`could not map the sealer lock's holder to an instance (${caught} sightings)`)
      const t0 = performance.now()
      victim.child.kill('SIGKILL')
      await victim.exited
      lb.remove(victim.name)
      // an audited write on a survivor, then the time until it is sealed
      const survivor = live()[0] as Instance
      const r = await fetch(`${survivor.base}/v1/organizations/${station.id}/contacts`, { method: 'POST', headers: { authorization: `Bearer ${station.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ fullName: `After kill ${round}` }) })
      expect(r.status).toBe(201)
      const id = ((await r.json()) as { id: string }).id
      const sealed = await waitFor('the write after the kill to be sealed', async () => (await c.db.query<{ sealed: boolean }>(`
        SELECT EXISTS (SELECT 1 FROM audit_events WHERE entity_id = $1)
          AND NOT EXISTS (SELECT 1 FROM audit_unsealed u JOIN audit_events e ON e.id = u.event_id WHERE e.entity_id = $1) AS sealed`, [id]))[0]?.sealed === true, 10_000, 10)
      kills.push({ killed: victim.name, 'lock sightings before the kill': caught, 'sealed again after the kill (ms)': Math.round(performance.now() - t0), 'write sealed after (ms)': Math.round(sealed) })
      expect(performance.now() - t0).toBeLessThan(5000)
      await launch()
    }
    const outcomes = await load.stop()
    // requests in flight on a SIGKILLed instance are lost (a real balancer answers 502 too): counted, not failed
    figures['sealer leader killed'] = { kills, 'load meanwhile (through the balancer)': summarize(outcomes) }
    expect(outcomes.filter(o => o.status === 200 || o.status === 201).length).toBeGreaterThan(0)
    const report = await (await fetch(`${lb.url}/v1/audit-events/verify?full=true`, { headers: { authorization: `Bearer ${admin}` } })).json() as { ok: boolean, sealedEvents: number, unsealedEvents: number }
    figures['audit chain after everything'] = report
    expect(report.ok, JSON.stringify(report)).toBe(true)
    expect(maxHolders).toBeLessThanOrEqual(1)
    log(`instances started: ${generation}`)
  }, 180_000)
})
