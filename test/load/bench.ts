// `npm run bench` — the load-test harness (test/load/README.md). Generates or reuses the dataset,
// starts the ceiling server and the service as child processes against the same database, runs the
// selected scenarios with autocannon, checks the QUALITY.md targets, prints a table and writes JSON +
// HTML reports to bench-results/. Exits 1 when a (non-informational) target is missed or a scenario
// crashes, 2 on a usage error.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { freePort } from '../../src/db/embedded.js'
import { benchUsers, SCALES, BENCH_PASSWORD, type BenchRole, type Scale } from './dataset/generate.js'
import { openDatabase, prepareDataset } from './lib/database.js'
import { signAccessToken } from './lib/jwt.js'
import { mulberry32, streamSeed } from './lib/prng.js'
import { formatProfile, monotonicUs, summarizeProfile, type ProfileSummary, type Window } from './lib/profile.js'
import { formatTable, writeReports, type RunReport } from './lib/report.js'
import { runLoad } from './lib/runner.js'
import { startCeiling, startService, type RunningProcess } from './lib/service.js'
import { SkipScenario, type ApiResponse, type BenchContext, type LoadResult, type LoadSpec, type Scenario, type ScenarioResult } from './lib/types.js'

const root = resolve(import.meta.dirname, '../..')
const JWT = { secret: 'bench-jwt-secret-0123456789abcdef-0123456789abcdef', issuer: 'gestion-emballages-api', audience: 'gestion-emballages' }
const log = (m: string): void => { process.stderr.write(`[bench] ${m}\n`) }

const USAGE = `npm run bench -- [options]
  --scenario <a,b>     run scenarios whose name contains one of these (and what their targets need)
  --list               list the scenarios and exit
  --scale <s>          small | standard | large (default standard)
  --seed <n>           dataset seed (default 42)
  --reuse              reuse the existing dataset when it has the same scale, seed and generator version
  --duration <s>       measured seconds per run (default 20)
  --warmup <s>         unmeasured warm-up seconds before read scenarios (default 5)
  --connections <n>    concurrent connections (default 50)
  --workers <n>        run the service as a cluster of n processes (test/load/cluster.ts; default 1)
  --runtime <r>        tsx (default: src/ through tsx) | dist (npm run build, then dist/src/server.js)
  --database-url <u>   use this PostgreSQL instead of the embedded one in .data/bench-pg (it is wiped unless --reuse)
  --profile            start the service with --cpu-prof and print the top self-time functions
  --strict             informational targets (cluster scaling) fail the run too
  --out <dir>          report directory (default bench-results)`

function parseOptions (): { o: Record<string, string | boolean | undefined>, error?: string } {
  try {
    const { values } = parseArgs({
      options: {
        scenario: { type: 'string' },
        list: { type: 'boolean' },
        scale: { type: 'string', default: 'standard' },
        seed: { type: 'string', default: '42' },
        reuse: { type: 'boolean', default: false },
        duration: { type: 'string', default: '20' },
        warmup: { type: 'string', default: '5' },
        connections: { type: 'string', default: '50' },
        workers: { type: 'string', default: '1' },
        runtime: { type: 'string', default: 'tsx' },
        'database-url': { type: 'string' },
        profile: { type: 'boolean', default: false },
        strict: { type: 'boolean', default: false },
        out: { type: 'string', default: 'bench-results' },
        help: { type: 'boolean' }
      },
      allowPositionals: false
    })
    return { o: values }
  } catch (err) { return { o: {}, error: (err as Error).message } }
}

async function loadScenarios (): Promise<Scenario[]> {
  const dir = join(import.meta.dirname, 'scenarios')
  const files = readdirSync(dir).filter(f => f.endsWith('.ts') && !f.endsWith('.test.ts')).sort()
  const out: Scenario[] = []
  for (const f of files) {
    const mod = await import(pathToFileURL(join(dir, f)).href) as { scenario?: Scenario }
    if (mod.scenario !== undefined) out.push(mod.scenario)
  }
  return out.sort((a, b) => a.order - b.order)
}

function selectScenarios (all: Scenario[], filter: string | undefined): Scenario[] {
  if (filter === undefined || filter === '') return all.filter(s => s.optIn !== true)
  const words = filter.split(',').map(w => w.trim()).filter(Boolean)
  const chosen = new Set(all.filter(s => words.some(w => s.name.includes(w))).map(s => s.name))
  for (let grew = true; grew;) {
    grew = false
    for (const s of all) {
      if (!chosen.has(s.name)) continue
      for (const d of s.dependsOn ?? []) if (!chosen.has(d)) { chosen.add(d); grew = true }
    }
  }
  return all.filter(s => chosen.has(s.name))
}

function evaluate (r: ScenarioResult, results: Map<string, ScenarioResult>, strict: boolean): void {
  const t = r.target
  const m = r.main
  if (m === undefined) return
  const info = t.informational === true && !strict
  const check = (what: string, ok: boolean): void => { r.checks.push({ what, ok, informational: info }) }
  if (t.ceiling !== undefined) {
    const c = results.get(t.ceiling)?.main
    if (c !== undefined && c.rps > 0) {
      r.ratio = m.rps / c.rps
      r.derived.ceilingRps = c.rps
      if (t.minRatio !== undefined) check(`ratio ${r.ratio.toFixed(2)} ≥ ${t.minRatio} × ${t.ceiling} (${Math.round(c.rps)}/s)`, r.ratio >= t.minRatio)
    } else r.notes.push(`no ${t.ceiling} result: ratio not computed`)
  }
  if (t.maxP99Ms !== undefined) check(`p99 ${m.latency.p99.toFixed(1)} ms ≤ ${t.maxP99Ms} ms`, m.latency.p99 <= t.maxP99Ms)
  if (t.minRps !== undefined) check(`${Math.round(m.rps)}/s ≥ ${t.minRps}/s`, m.rps >= t.minRps)
  const errors = m.errors + m.timeouts
  check(`errors+timeouts ${errors} ≤ ${t.maxErrors ?? 0}`, errors <= (t.maxErrors ?? 0))
  const share = m.total > 0 ? m.non2xx / m.total : 0
  check(`non-2xx ${m.non2xx} (${(share * 100).toFixed(2)} %) ≤ ${((t.maxNon2xxShare ?? 0) * 100).toFixed(2)} %`, share <= (t.maxNon2xxShare ?? 0))
  if (t.maxRssMb !== undefined) check(`RSS ${m.rssMaxMb.toFixed(0)} MB ≤ ${t.maxRssMb} MB`, m.rssMaxMb <= t.maxRssMb)
  if (t.maxP99Degradation !== undefined && r.baseline !== undefined) {
    const d = m.latency.p99 / Math.max(0.001, r.baseline.latency.p99)
    r.derived.p99Degradation = d
    check(`p99 degradation ${d.toFixed(2)}× ≤ ${t.maxP99Degradation}× (${r.baseline.latency.p99.toFixed(1)} → ${m.latency.p99.toFixed(1)} ms)`, d <= t.maxP99Degradation)
  }
  if (t.sameAs !== undefined) {
    const o = results.get(t.sameAs.scenario)?.main
    if (o !== undefined) {
      const get = (x: LoadResult): number => t.sameAs?.metric === 'rps' ? x.rps : t.sameAs?.metric === 'p50' ? x.latency.p50 : x.latency.p99
      const dev = get(m) / Math.max(0.001, get(o)) - 1
      r.derived.deviation = dev
      check(`${t.sameAs.metric} within ±${t.sameAs.tolerance * 100} % of ${t.sameAs.scenario} (${(dev * 100).toFixed(1)} %)`, Math.abs(dev) <= t.sameAs.tolerance)
    }
  }
  if (t.scaling !== undefined) {
    const o = results.get(t.scaling.scenario)?.main
    if (o !== undefined) {
      const f = m.rps / Math.max(0.001, o.rps)
      r.ratio = f
      r.derived.scaling = f
      check(`${f.toFixed(2)}× ${t.scaling.scenario} ≥ ${t.scaling.factor}×`, f >= t.scaling.factor)
    }
  }
  const failed = r.checks.some(c => !c.ok && !c.informational)
  r.status = failed ? 'fail' : info ? 'info' : 'pass'
}

function ensureFileLimit (): void {
  const limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim())
  if (!Number.isFinite(limit) || limit >= 12_000 || process.env.BENCH_REEXEC === '1') return
  // Node cannot raise RLIMIT_NOFILE itself: re-run this process under a shell that does.
  log(`ulimit -n is ${limit}: re-running under \`ulimit -n 65535\``)
  const r = spawnSync('sh', ['-c', 'ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"', 'sh', process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, BENCH_REEXEC: '1' } })
  process.exit(r.status ?? 1)
}

async function main (): Promise<number> {
  const { o, error } = parseOptions()
  if (error !== undefined || o.help === true) { console.error(error ?? ''); console.error(USAGE); return error !== undefined ? 2 : 0 }
  const all = await loadScenarios()
  if (o.list === true) { for (const s of all) console.log(`${s.name.padEnd(18)} ${s.description}`); return 0 }
  const scale = String(o.scale) as Scale
  if (!(scale in SCALES)) { console.error('--scale must be small, standard or large'); return 2 }
  const num = (k: string, min: number, max: number): number => {
    const v = Number(o[k])
    if (!Number.isFinite(v) || v < min || v > max) throw new Error(`--${k} must be a number in [${min}, ${max}]`)
    return v
  }
  const seed = num('seed', 0, 2 ** 31)
  const duration = num('duration', 1, 3600)
  const warmup = num('warmup', 0, 600)
  const connections = num('connections', 1, 20_000)
  const workers = num('workers', 1, 64)
  const runtime = o.runtime === 'dist' ? 'dist' : 'tsx'
  const strict = o.strict === true
  const selected = selectScenarios(all, o.scenario as string | undefined)
  if (selected.length === 0) { console.error(`no scenario matches "${String(o.scenario)}" (--list shows them)`); return 2 }
  ensureFileLimit()

  const startedAt = new Date().toISOString()
  const outDir = resolve(root, String(o.out))
  const load0 = loadavg()
  log(`scenarios: ${selected.map(s => s.name).join(', ')} · ${duration} s each · ${connections} connections · scale ${scale} · ${workers} worker(s) · runtime ${runtime} · load average ${load0.map(x => x.toFixed(2)).join(' ')}`)
  if (runtime === 'dist') {
    log('building (npm run build)')
    const before = Date.now()
    try {
      execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' })
    } catch {
      // tsc emits despite type errors (no noEmitOnError): go on when it did, so a type error in a
      // file under construction elsewhere does not block a measurement
      const out = join(root, 'dist/src/server.js')
      if (!existsSync(out)) throw new Error('npm run build failed and emitted nothing')
      log(`npm run build reported type errors (above); tsc still emits (incrementally): measuring dist/ (server.js ${statSync(out).mtimeMs >= before - 1000 ? 'rebuilt now' : 'unchanged by this build'})`)
    }
  }

  const db = await openDatabase({ databaseUrl: o['database-url'] as string | undefined, dir: resolve(root, '.data/bench-pg'), log })
  const processes: RunningProcess[] = []
  const results = new Map<string, ScenarioResult>()
  const profiles: ProfileSummary[] = []
  const measured: Window[] = []
  let exitCode = 0
  let datasetInfo: Record<string, unknown> = {}
  const startup: Record<string, number> = {}
  const profileDir = o.profile === true ? join(outDir, 'profiles', startedAt.replace(/[:.]/g, '-')) : undefined
  try {
    const dataset = await prepareDataset(db.url, { scale, seed, reuse: o.reuse === true, log })
    datasetInfo = { scale: dataset.scale, seed: dataset.seed, version: dataset.version, generatedAt: dataset.generatedAt, generationSeconds: dataset.seconds, counts: dataset.counts }
    const users = benchUsers(seed)
    const pool = new pg.Pool({ connectionString: db.url, max: 4, application_name: 'bench:harness' })
    pool.on('error', () => {})
    try {
      if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true })
      const ceiling = await startCeiling({ databaseUrl: db.url, port: await freePort(), jwtSecret: JWT.secret, log })
      processes.push(ceiling)
      const service = await startService({ databaseUrl: db.url, port: await freePort(), workers, runtime, jwtSecret: JWT.secret, profileDir, log })
      processes.push(service)
      startup.serviceMs = service.startupMs
      startup.ceilingMs = ceiling.startupMs
      startup.serviceIdleRssMb = Math.round(service.rss().maxMb)

      // The generator's audit events are sealed by the service's background job: let it finish.
      for (let i = 0; i < 600; i++) {
        const n = Number(((await pool.query('SELECT count(*)::int AS n FROM audit_unsealed')).rows[0] as { n: number }).n)
        if (n === 0) break
        if (i % 10 === 0) log(`waiting for the audit sealer: ${n} events unsealed`)
        await new Promise(resolve => setTimeout(resolve, 500))
      }

      const api = async (method: string, path: string, a: { token?: string, body?: unknown, headers?: Record<string, string>, base?: string } = {}): Promise<ApiResponse> => {
        const headers: Record<string, string> = { ...(a.token !== undefined ? { authorization: `Bearer ${a.token}` } : {}), ...(a.body !== undefined ? { 'content-type': 'application/json' } : {}), ...a.headers }
        const res = await fetch((a.base ?? service.url) + path, { method, headers, body: a.body !== undefined ? JSON.stringify(a.body) : undefined, signal: AbortSignal.timeout(30_000) })
        const text = await res.text()
        let body: unknown = text
        try { body = text === '' ? null : JSON.parse(text) } catch { /* not JSON */ }
        return { status: res.status, body, headers: res.headers }
      }
      const tokens = new Map<BenchRole, string>()
      let tokenSource: 'login' | 'signed' | undefined
      const ctx: BenchContext = {
        serviceUrl: service.url,
        ceilingUrl: ceiling.url,
        service,
        ceiling,
        pool,
        dataset,
        users,
        jwt: JWT,
        duration,
        connections,
        seed,
        strict,
        rng: label => mulberry32(streamSeed(seed, label)),
        signToken: u => signAccessToken({ ...JWT, ttlSeconds: 86_400 }, u),
        async token (role) {
          const cached = tokens.get(role)
          if (cached !== undefined) return cached
          let token: string | undefined
          if (tokenSource !== 'signed') {
            const r = await api('POST', '/v1/auth/login', { body: { email: users[role].email, password: BENCH_PASSWORD } })
            if (r.status === 200 && typeof r.body?.accessToken === 'string') { token = r.body.accessToken as string; tokenSource = 'login' } else if (r.status === 404 && r.body?.code === 'ROUTE_NOT_FOUND') {
              tokenSource = 'signed'
              log('POST /v1/auth/login is missing: signing tokens in the harness (same secret, claims and lifetime rules as signAccessToken)')
            } else throw new Error(`login as ${users[role].email} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`)
          }
          token ??= ctx.signToken(users[role])
          tokens.set(role, token)
          return token
        },
        api,
        async requireEndpoint (method, path, a = {}) {
          const r = await api(method, path, a)
          if (r.status === 404 && r.body?.code === 'ROUTE_NOT_FOUND') throw new SkipScenario(`endpoint missing: ${method} ${path.split('?')[0] ?? path}`)
          return r
        },
        results,
        startService: async ({ workers: n }) => {
          const p = await startService({ databaseUrl: db.url, port: await freePort(), workers: n, runtime, jwtSecret: JWT.secret, log })
          processes.push(p)
          return p
        },
        log
      }

      for (const s of selected) {
        const r: ScenarioResult = { name: s.name, description: s.description, status: 'pass', derived: {}, checks: [], target: s.target, notes: [] }
        results.set(s.name, r)
        log(`— ${s.name}: ${s.description}`)
        let teardown: (() => Promise<void>) | undefined
        try {
          const plan = await s.setup(ctx)
          teardown = plan.teardown
          r.notes.push(...(plan.notes ?? []))
          const defaults = { duration, connections, service }
          const isRead = (spec: LoadSpec): boolean => spec.requests.every(q => (q.method ?? 'GET') === 'GET')
          if (warmup > 0 && (plan.load.warmup ?? isRead(plan.load))) await runLoad(plan.load, defaults, warmup)
          if (plan.baseline !== undefined) r.baseline = await runLoad(plan.baseline, defaults)
          const t0 = monotonicUs()
          if (plan.background !== undefined) {
            const [main, bg] = await Promise.all([runLoad(plan.load, defaults), runLoad(plan.background, defaults, (plan.load.duration ?? duration))])
            r.main = main
            r.background = bg
          } else r.main = await runLoad(plan.load, defaults)
          measured.push([t0, monotonicUs()])
          if (r.main.durationS < (plan.load.duration ?? duration) * 0.9) r.notes.push(`stopped after ${r.main.durationS.toFixed(1)} s: prepared items used up`)
          evaluate(r, results, strict)
          const m = r.main
          log(`  ${Math.round(m.rps)}/s p50 ${m.latency.p50} ms p99 ${m.latency.p99} ms errors ${m.errors + m.timeouts} non-2xx ${m.non2xx} RSS ${m.rssMaxMb.toFixed(0)} MB → ${r.status}`)
        } catch (err) {
          if (err instanceof SkipScenario) { r.status = 'skipped'; r.reason = err.message } else { r.status = 'error'; r.reason = (err as Error).message.split('\n')[0]; log(`  error: ${(err as Error).stack ?? String(err)}`) }
          log(`  ${r.status}: ${r.reason ?? ''}`)
        } finally {
          await teardown?.().catch(e => { log(`teardown of ${s.name} failed: ${String(e)}`) })
        }
        await new Promise(resolve => setTimeout(resolve, 1000))
      }
      if ([...results.values()].some(r => r.status === 'fail' || r.status === 'error')) exitCode = 1
    } finally {
      for (const p of processes.reverse()) await p.stop().catch(() => {})
      await pool.end().catch(() => {})
    }
    if (profileDir !== undefined && existsSync(profileDir)) {
      // one file per thread: the main thread(s) carry the load; loader/worker threads are tiny
      const all = readdirSync(profileDir).filter(x => x.endsWith('.cpuprofile')).map(f => summarizeProfile(join(profileDir, f), 25, measured)).sort((a, b) => b.totalMs - a.totalMs)
      for (const s of all.filter(x => x.totalMs >= (all[0]?.totalMs ?? 0) * 0.25)) {
        profiles.push(s)
        console.log('\n' + formatProfile(s))
      }
    }
  } finally {
    await db.stop().catch(() => {})
  }
  const list = [...results.values()]
  console.log('\n' + formatTable(list))
  const report: RunReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    options: { scenario: o.scenario ?? null, scale, seed, duration, warmup, connections, workers, runtime, reuse: o.reuse === true, profile: o.profile === true, strict, database: o['database-url'] !== undefined ? 'external' : 'embedded' },
    environment: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryMb: Math.round(totalmem() / 1048576), loadAverageAtStart: load0, loadAverageAtEnd: loadavg(), startupToReadyMs: startup },
    dataset: datasetInfo,
    results: list,
    profiles,
    exitCode
  }
  const files = writeReports(outDir, report)
  console.log(`\nreports: ${files.json}\n         ${files.html}`)
  return exitCode
}

main().then(code => { process.exit(code) }, err => { console.error(err); process.exit(1) })
