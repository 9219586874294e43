// `npm run bench` — the load-test harness (test/load/README.md). Generates or reuses the dataset,
// starts the ceiling server and the service as child processes against the same database, runs the
// selected scenarios with autocannon (n times in alternation with --rounds n: medians reported), times
// the service's cold start, checks the QUALITY.md targets, prints a table and writes JSON + HTML
// reports to bench-results/. Exits 1 when a (non-informational) target is missed or a scenario
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
import { postmasterPid } from './lib/cpu.js'
import { median } from './lib/stats.js'
import { runLoad, type RunDefaults } from './lib/runner.js'
import { ensureWrk } from './lib/wrk.js'
import { BENCH_METRICS_TOKEN, COLD_START_TARGET_MS, measureColdStarts, serviceEntry, startCeiling, startService, waitIdle, type RunningProcess } from './lib/service.js'
import { SkipScenario, type ApiResponse, type BenchContext, type Check, type ColdStart, type LoadResult, type LoadSpec, type RoundResult, type Scenario, type ScenarioResult, type Status, type Target } from './lib/types.js'

const root = resolve(import.meta.dirname, '../..')
/** Row writes (pg_stat_user_tables) after which the database is vacuumed before the next load. */
const SETTLE_AFTER_ROWS = 20_000
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
  --rounds <n>         run the selected scenarios n times in alternation; report the median round and
                       the median of the per-round ratios (default 1)
  --cold-starts <n>    extra service starts timed spawn → /health/ready, median checked ≤ 1000 ms (default 3; 0: none)
  --workers <n>        run the service as a cluster of n processes (test/load/cluster.ts; default 1)
  --runtime <r>        tsx (default: src/ through tsx) | dist (npm run build, then dist/server.mjs as npm start runs it)
  --database-url <u>   use this PostgreSQL instead of the embedded one in .data/bench-pg (it is wiped unless --reuse)
  --generator <g>      wrk (default: installed from Debian when missing and root) | autocannon; specs
                       that chain requests on answers (checkout) always run on autocannon
  --quick              a two-minute check of the ratios: --scale small --reuse --runtime dist
                       --duration 5 --warmup 3 --cold-starts 0 and the read, write and list scenarios
                       with their ceilings (explicit options still win)
  --profile            start the service with --cpu-prof and print the top self-time functions
  --strict             informational targets (cluster scaling, cold start under tsx) fail the run too
  --out <dir>          report directory (default bench-results)`

/** --quick: about two minutes on the small dataset, the ratios that matter most. */
const QUICK: Record<string, string | boolean> = {
  scale: 'small',
  reuse: true,
  runtime: 'dist',
  duration: '5',
  warmup: '3',
  'cold-starts': '0',
  scenario: 'article-get,article-create,po-get,po-list'
}

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
        rounds: { type: 'string', default: '1' },
        'cold-starts': { type: 'string', default: '3' },
        workers: { type: 'string', default: '1' },
        runtime: { type: 'string', default: 'tsx' },
        'database-url': { type: 'string' },
        profile: { type: 'boolean', default: false },
        generator: { type: 'string', default: 'wrk' },
        quick: { type: 'boolean', default: false },
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

/** A run's CPU figures for the log: server, PostgreSQL and generator µs per request, and saturation. */
function cpuText (m: LoadResult): string {
  const c = m.cpu
  if (c === undefined) return m.generator
  const pg = c.postgresUsPerReq !== undefined ? ` pg ${Math.round(c.postgresUsPerReq)}` : ''
  return `CPU µs/req: server ${Math.round(c.serverUsPerReq)}${pg} ${m.generator} ${Math.round(c.generatorUsPerReq)} (server ${c.serverCores.toFixed(2)} cores, ${m.generator} ${c.generatorCores.toFixed(2)}, box ${(c.boxBusy * 100).toFixed(0)} % busy)${c.saturated !== undefined ? ` SATURATED: ${c.saturated}` : ''}`
}

const sameAsMetric = (t: Target, x: LoadResult): number => t.sameAs?.metric === 'rps' ? x.rps : t.sameAs?.metric === 'p50' ? x.latency.p50 : x.latency.p99

/**
 * One round's values that compare two runs: the ratio to the ceiling, the p99 degradation against
 * the baseline, the deviation from another scenario, the scaling factor. `ref` gives the other
 * scenarios' runs of the same round, so with --rounds every ratio pairs runs made minutes apart.
 */
function derive (x: RoundResult, t: Target, ref: (name: string) => LoadResult | undefined): void {
  const m = x.main
  if (m === undefined) return
  if (t.ceiling !== undefined) {
    const c = ref(t.ceiling)
    if (c !== undefined && c.rps > 0) {
      x.ratio = m.rps / c.rps
      x.derived.ceilingRps = c.rps
      x.derived.ceilingP99 = c.latency.p99
      // CPU per request beside req/s: the less noisy comparison on a shared machine
      if (m.cpu !== undefined && c.cpu !== undefined) {
        x.derived.cpuRatio = m.cpu.serverUsPerReq / Math.max(0.001, c.cpu.serverUsPerReq)
        if (m.cpu.postgresUsPerReq !== undefined && c.cpu.postgresUsPerReq !== undefined) x.derived.pgCpuRatio = m.cpu.postgresUsPerReq / Math.max(0.001, c.cpu.postgresUsPerReq)
      }
      x.derived.p99VsCeiling = m.latency.p99 / Math.max(0.001, c.latency.p99)
      if (m.cpu?.saturated !== undefined || c.cpu?.saturated !== undefined) x.notes.push(`saturated before the server: ${[m.cpu?.saturated !== undefined ? `this run (${m.cpu.saturated})` : '', c.cpu?.saturated !== undefined ? `${t.ceiling} (${c.cpu.saturated})` : ''].filter(Boolean).join(', ')} — the ratio measured the generator or the machine`)
    } else x.notes.push(`no ${t.ceiling} result: ratio not computed`)
  }
  if (t.maxP99Degradation !== undefined && x.baseline !== undefined) x.derived.p99Degradation = m.latency.p99 / Math.max(0.001, x.baseline.latency.p99)
  if (t.sameAs !== undefined) {
    const o = ref(t.sameAs.scenario)
    if (o !== undefined) x.derived.deviation = sameAsMetric(t, m) / Math.max(0.001, sameAsMetric(t, o)) - 1
  }
  if (t.scaling !== undefined) {
    const o = ref(t.scaling.scenario)
    if (o !== undefined) {
      const f = m.rps / Math.max(0.001, o.rps)
      x.ratio = f
      x.derived.scaling = f
    }
  }
}

interface Evaluation { pick: RoundResult, ratio?: number, derived: Record<string, number>, checks: Check[], status: Status }

/**
 * Checks a scenario's target on its measured rounds (one round: exactly that round). Several rounds:
 * req/s, latencies and minimum rate come from the median round by req/s; ratios, degradation,
 * deviation and scaling are the medians of the per-round values; errors, non-2xx answers and RSS
 * count every round (a wrong answer or a memory peak is not noise).
 */
function evaluate (t: Target, rounds: RoundResult[], strict: boolean): Evaluation | undefined {
  const ok = rounds.filter((x): x is RoundResult & { main: LoadResult } => x.main !== undefined)
  if (ok.length === 0) return undefined
  const multi = ok.length > 1
  const pick = [...ok].sort((a, b) => a.main.rps - b.main.rps)[Math.floor((ok.length - 1) / 2)] ?? ok[0]
  if (pick === undefined) return undefined
  const m = pick.main
  const info = t.informational === true && !strict
  const checks: Check[] = []
  const check = (what: string, good: boolean): void => { checks.push({ what, ok: good, informational: info }) }
  const derived: Record<string, number> = {}
  const values = (key: string): number[] => ok.map(x => x.derived[key]).filter((v): v is number => v !== undefined)
  for (const key of new Set(ok.flatMap(x => Object.keys(x.derived)))) derived[key] = median(values(key))
  const ratios = ok.map(x => x.ratio).filter((v): v is number => v !== undefined)
  const ratio = ratios.length > 0 ? median(ratios) : undefined
  const per = (xs: number[], fmt: (v: number) => string): string => xs.length > 1 ? `median of ${xs.length} rounds: ${xs.map(fmt).join(', ')}; ` : ''
  const medianRound = multi ? ` (median round ${pick.round} of ${ok.length})` : ''
  if (t.ceiling !== undefined && t.minRatio !== undefined) {
    const paired = ok.filter(x => x.derived.ceilingRps !== undefined)
    if (paired.length > 0) {
      const rs = paired.map(x => x.main.rps / (x.derived.ceilingRps ?? 1))
      const r = median(rs)
      const c = median(paired.map(x => x.derived.ceilingRps ?? 0))
      check(multi
        ? `median ratio ${r.toFixed(2)} ≥ ${t.minRatio} × ${t.ceiling} (${per(rs, v => v.toFixed(2))}${t.ceiling} median ${Math.round(c)}/s)`
        : `ratio ${r.toFixed(2)} ≥ ${t.minRatio} × ${t.ceiling} (${Math.round(c)}/s)`, r >= t.minRatio)
    } else check(`ratio ≥ ${t.minRatio} × ${t.ceiling}: ${t.ceiling} has no result to compare with`, false)
  }
  if (t.maxCpuRatio !== undefined && derived.cpuRatio !== undefined) check(`server CPU per request ${derived.cpuRatio.toFixed(2)} ≤ ${t.maxCpuRatio} × ${t.ceiling ?? 'the ceiling'}'s${multi ? ` (${per(values('cpuRatio'), v => v.toFixed(2)).replace(/; $/, '')})` : ''}`, derived.cpuRatio <= t.maxCpuRatio)
  const p99Bound = t.maxP99VsCeiling ?? (t.ceiling !== undefined && t.minRatio !== undefined ? 2 : undefined)
  if (p99Bound !== undefined && derived.p99VsCeiling !== undefined) check(`p99 ${derived.p99VsCeiling.toFixed(2)} ≤ ${p99Bound} × ${t.ceiling ?? 'the ceiling'}'s p99 in the same round${multi ? ` (${per(values('p99VsCeiling'), v => v.toFixed(2)).replace(/; $/, '')})` : ''}`, derived.p99VsCeiling <= p99Bound)
  if (t.maxP99Ms !== undefined) check(`p99 ${m.latency.p99.toFixed(1)} ms ≤ ${t.maxP99Ms} ms${medianRound}`, m.latency.p99 <= t.maxP99Ms)
  if (t.minRps !== undefined) check(`${Math.round(m.rps)}/s ≥ ${t.minRps}/s${medianRound}`, m.rps >= t.minRps)
  const every = multi ? ` (all ${ok.length} rounds)` : ''
  const errors = ok.reduce((a, x) => a + x.main.errors + x.main.timeouts, 0)
  check(`errors+timeouts ${errors} ≤ ${t.maxErrors ?? 0}${every}`, errors <= (t.maxErrors ?? 0))
  const non2xx = ok.reduce((a, x) => a + x.main.non2xx, 0)
  const total = ok.reduce((a, x) => a + x.main.total, 0)
  const share = total > 0 ? non2xx / total : 0
  check(`non-2xx ${non2xx} (${(share * 100).toFixed(2)} %) ≤ ${((t.maxNon2xxShare ?? 0) * 100).toFixed(2)} %${every}`, share <= (t.maxNon2xxShare ?? 0))
  const rss = Math.max(...ok.map(x => x.main.rssMaxMb))
  if (t.maxRssMb !== undefined) check(`RSS ${rss.toFixed(0)} MB ≤ ${t.maxRssMb} MB${multi ? ` (peak of ${ok.length} rounds)` : ''}`, rss <= t.maxRssMb)
  if (t.maxP99Degradation !== undefined && derived.p99Degradation !== undefined) {
    const d = derived.p99Degradation
    const b = pick.baseline
    check(multi
      ? `median p99 degradation ${d.toFixed(2)}× ≤ ${t.maxP99Degradation}× (${per(values('p99Degradation'), v => `${v.toFixed(2)}×`)}round ${pick.round}: ${b !== undefined ? `${b.latency.p99.toFixed(1)} → ` : ''}${m.latency.p99.toFixed(1)} ms)`
      : `p99 degradation ${d.toFixed(2)}× ≤ ${t.maxP99Degradation}× (${(b?.latency.p99 ?? 0).toFixed(1)} → ${m.latency.p99.toFixed(1)} ms)`, d <= t.maxP99Degradation)
  }
  if (t.sameAs !== undefined && derived.deviation === undefined) check(`${t.sameAs.metric} within ±${t.sameAs.tolerance * 100} % of ${t.sameAs.scenario}: ${t.sameAs.scenario} has no result to compare with`, false)
  if (t.scaling !== undefined && derived.scaling === undefined) check(`${t.scaling.factor}× ${t.scaling.scenario}: ${t.scaling.scenario} has no result to compare with`, false)
  if (t.sameAs !== undefined && derived.deviation !== undefined) {
    const dev = derived.deviation
    const spread = multi ? `; ${per(values('deviation'), v => `${(v * 100).toFixed(1)} %`).replace(/; $/, '')}` : ''
    check(`${t.sameAs.metric} within ±${t.sameAs.tolerance * 100} % of ${t.sameAs.scenario} (${multi ? 'median ' : ''}${(dev * 100).toFixed(1)} %${spread})`, Math.abs(dev) <= t.sameAs.tolerance)
  }
  if (t.scaling !== undefined && derived.scaling !== undefined) {
    const f = derived.scaling
    const spread = multi ? ` (${per(values('scaling'), v => `${v.toFixed(2)}×`).replace(/; $/, '')})` : ''
    check(`${multi ? 'median ' : ''}${f.toFixed(2)}× ${t.scaling.scenario} ≥ ${t.scaling.factor}×${spread}`, f >= t.scaling.factor)
  }
  const failed = checks.some(c => !c.ok && !c.informational)
  return { pick, ratio, derived, checks, status: failed ? 'fail' : info ? 'info' : 'pass' }
}

/** A scenario's result from its rounds: the median round as `main`, medians of the ratios, every round kept (n > 1). */
function aggregate (s: Scenario, rounds: RoundResult[], strict: boolean, multi: boolean): ScenarioResult {
  const r: ScenarioResult = { name: s.name, description: s.description, status: 'pass', derived: {}, checks: [], target: s.target, notes: [] }
  // notes: those of every round once, the others with their round
  for (const x of rounds) {
    for (const n of x.notes) {
      const everywhere = rounds.every(y => y.notes.includes(n))
      const text = multi && !everywhere ? `round ${x.round}: ${n}` : n
      if (!r.notes.includes(text)) r.notes.push(text)
    }
  }
  const e = evaluate(s.target, rounds, strict)
  const last = rounds[rounds.length - 1]
  const from = e?.pick ?? last
  r.main = from?.main
  r.baseline = from?.baseline
  r.background = from?.background
  if (e !== undefined) {
    if (e.ratio !== undefined) r.ratio = e.ratio
    r.derived = e.derived
    r.checks = e.checks
    r.status = e.status
  }
  const failedRound = rounds.find(x => x.status === 'error')
  const skippedRound = rounds.find(x => x.status === 'skipped')
  if (failedRound !== undefined) {
    r.status = 'error'
    r.reason = multi ? `round ${failedRound.round}: ${failedRound.reason ?? ''}` : failedRound.reason
  } else if (skippedRound !== undefined && e === undefined) {
    r.status = 'skipped'
    r.reason = skippedRound.reason
  } else if (skippedRound !== undefined) r.notes.push(`round ${skippedRound.round} skipped: ${skippedRound.reason ?? ''}`)
  if (multi) {
    r.rounds = rounds
    if (e !== undefined) r.medianRound = e.pick.round
    const ok = rounds.filter(x => x.main !== undefined)
    if (ok.length > 0) {
      r.allRounds = {
        rounds: ok.length,
        total: ok.reduce((a, x) => a + (x.main?.total ?? 0), 0),
        errors: ok.reduce((a, x) => a + (x.main?.errors ?? 0) + (x.main?.timeouts ?? 0), 0),
        non2xx: ok.reduce((a, x) => a + (x.main?.non2xx ?? 0), 0),
        rssMaxMb: Math.max(0, ...ok.map(x => x.main?.rssMaxMb ?? 0))
      }
    }
  }
  return r
}

/** The `cold-start` row: not a scenario file, measured by the harness itself (measureColdStarts). */
function coldStartResult (runtime: 'tsx' | 'dist', strict: boolean): ScenarioResult {
  return {
    name: 'cold-start',
    description: `service cold start (${runtime}: ${serviceEntry(runtime)}): spawn, node boot included, → first 200 on /health/live (listening; /health/ready, once warm, reported beside it), migrations already applied`,
    status: 'pass',
    derived: {},
    checks: [],
    // tsx transpiles the sources at start (seconds on this machine): what ships is dist/, so the
    // target gates the run with --runtime dist (or --strict) and is reported as information otherwise
    target: { maxStartupMs: COLD_START_TARGET_MS, ...(runtime === 'tsx' && !strict ? { informational: true } : {}) },
    notes: runtime === 'tsx' ? ['runtime tsx: the start includes transpiling src/ (tsx), which `npm start` does not do — informational unless --strict; --runtime dist measures what ships'] : []
  }
}

function judgeColdStart (r: ScenarioResult, c: ColdStart): void {
  const max = r.target.maxStartupMs ?? COLD_START_TARGET_MS
  const info = r.target.informational === true
  r.coldStart = c
  r.derived.coldStartMs = c.medianMs
  const ok = c.medianMs <= max
  r.checks.push({ what: `cold start ${Math.round(c.medianMs)} ms ≤ ${max} ms (median of ${c.samplesMs.length} starts: ${c.samplesMs.join(', ')} ms; ${c.runtime}: ${c.entry})`, ok, informational: info })
  r.notes.push(`spawn → listening: median ${Math.round(c.medianMs)} ms of ${c.samplesMs.length} starts (${c.samplesMs.map(v => `${v} ms`).join(', ')}); spawn → ready (warm): median ${Math.round(c.readyMedianMs)} ms (${c.readyMs.map(v => `${v} ms`).join(', ')}); ${c.runtime}: ${c.entry}, polled every ${c.pollMs} ms`)
  r.derived.readyMs = c.readyMedianMs
  r.status = !ok && !info ? 'fail' : info ? 'info' : 'pass'
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
  if (o.quick === true) {
    const given = (k: string): boolean => process.argv.some(a => a === `--${k}` || a.startsWith(`--${k}=`))
    for (const [k, v] of Object.entries(QUICK)) if (!given(k)) o[k] = v
  }
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
  const rounds = num('rounds', 1, 99)
  const coldStarts = num('cold-starts', 0, 99)
  if (!Number.isInteger(rounds) || !Number.isInteger(coldStarts)) { console.error('--rounds and --cold-starts must be whole numbers'); return 2 }
  const workers = num('workers', 1, 64)
  const runtime = o.runtime === 'dist' ? 'dist' : 'tsx'
  const strict = o.strict === true
  if (o.generator !== 'wrk' && o.generator !== 'autocannon') { console.error('--generator must be wrk or autocannon'); return 2 }
  const wrk = o.generator === 'wrk' ? ensureWrk(log) : null
  const selected = selectScenarios(all, o.scenario as string | undefined)
  if (selected.length === 0) { console.error(`no scenario matches "${String(o.scenario)}" (--list shows them)`); return 2 }
  ensureFileLimit()

  const startedAt = new Date().toISOString()
  const outDir = resolve(root, String(o.out))
  const load0 = loadavg()
  log(`scenarios: ${selected.map(s => s.name).join(', ')} · ${duration} s each · ${connections} connections${rounds > 1 ? ` · ${rounds} rounds` : ''} · scale ${scale} · ${workers} worker(s) · runtime ${runtime} · load average ${load0.map(x => x.toFixed(2)).join(' ')}`)
  if (rounds > 1 && rounds % 2 === 0) log(`--rounds ${rounds} is even: each median ratio is the mean of the two middle rounds and each row the lower middle round; an odd number is sturdier`)
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
      // the build's bundle step (dist/server.mjs, what npm start runs) did not run after the failed tsc
      if (existsSync(join(root, 'scripts/bundle.mjs'))) {
        log('bundling what tsc emitted (node scripts/bundle.mjs)')
        execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: root, stdio: 'inherit' })
      }
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
  let coldStart: ScenarioResult | undefined
  const profileDir = o.profile === true ? join(outDir, 'profiles', startedAt.replace(/[:.]/g, '-')) : undefined
  try {
    const dataset = await prepareDataset(db.url, { scale, seed, reuse: o.reuse === true, log })
    datasetInfo = { scale: dataset.scale, seed: dataset.seed, version: dataset.version, generatedAt: dataset.generatedAt, generationSeconds: dataset.seconds, counts: dataset.counts }
    const users = benchUsers(seed)
    const pool = new pg.Pool({ connectionString: db.url, max: 4, application_name: 'bench:harness' })
    pool.on('error', () => {})
    const postgresPid = await postmasterPid(pool)
    if (postgresPid === undefined) log('PostgreSQL does not run on this machine (or its processes cannot be read): its CPU per request is not reported')
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

      // The service compiles its remaining route schemas in the background after it starts: let
      // that finish too, so the first scenario does not share the CPU with it.
      for (let i = 0; i < 240; i++) {
        const metrics = await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } }).then(async r => await r.text()).catch(() => '')
        const pending = /^schemas_pending_compilation (\d+)/m.exec(metrics)?.[1]
        if (pending === undefined || pending === '0') break
        if (i % 20 === 0) log(`waiting for the service's background schema compilation: ${pending} pending`)
        await new Promise(resolve => setTimeout(resolve, 250))
      }

      // Cold start: dedicated launches while the machine is otherwise idle (after the sealer's catch-up).
      if (coldStarts > 0) {
        coldStart = coldStartResult(runtime, strict)
        try {
          // the measured service compiles its remaining schemas in the background after listening
          const idle = await waitIdle([service.pid, ceiling.pid])
          if (idle === undefined) coldStart.notes.push('the service and the ceiling were still busy after 30 s: measured anyway')
          else log(`cold start: the service went idle after ${idle} ms`)
          const load = loadavg()
          const c = await measureColdStarts({ databaseUrl: db.url, runtime, jwtSecret: JWT.secret, starts: coldStarts, port: freePort, log })
          judgeColdStart(coldStart, c)
          coldStart.notes.push(`load average ${load.map(x => x.toFixed(2)).join(' ')} when measured${load[0] !== undefined && load[0] > cpus().length * 0.5 ? ': the machine was busy, the times are pessimistic' : ''}`)
          startup.coldStartMs = c.medianMs
          log(`  cold start ${c.medianMs} ms (median of ${c.samplesMs.join(', ')} ms) → ${coldStart.status}`)
        } catch (err) {
          coldStart.status = 'error'
          coldStart.reason = (err as Error).message.split('\n')[0]
          log(`  cold start error: ${(err as Error).stack ?? String(err)}`)
        }
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
        databaseUrl: db.url,
        startService: async ({ workers: n, databaseUrl, extraEnv, name }) => {
          const p = await startService({ databaseUrl: databaseUrl ?? db.url, port: await freePort(), workers: n, runtime, jwtSecret: JWT.secret, log, extraEnv, name })
          processes.push(p)
          return p
        },
        log
      }

      // Between scenarios, the database is settled as autovacuum would leave it: once earlier
      // scenarios (or this one's setup) wrote SETTLE_AFTER_ROWS rows, VACUUM (ANALYZE) runs before
      // the load instead of autovacuum starting during it — its CPU counted in PostgreSQL's per
      // request of an unrelated scenario (the replenishment after the checkouts: 12 → 70–95 ms of
      // PostgreSQL per page), and new pages without a visibility map flipping report plans to
      // sequential scans.
      const rowWrites = async (): Promise<number> => Number(((await pool.query('SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint AS n FROM pg_stat_user_tables')).rows[0] as { n: string }).n)
      let settledAt = await rowWrites()
      const settle = async (): Promise<void> => {
        const n = await rowWrites()
        if (n - settledAt < SETTLE_AFTER_ROWS) return
        const t = performance.now()
        await pool.query('VACUUM (ANALYZE)')
        log(`  VACUUM (ANALYZE) after ${n - settledAt} row writes, in ${((performance.now() - t) / 1000).toFixed(1)} s`)
        settledAt = await rowWrites()
      }
      const perRound = new Map<string, RoundResult[]>(selected.map(s => [s.name, []]))
      for (let round = 1; round <= rounds; round++) {
        if (rounds > 1) log(`round ${round} of ${rounds}`)
        for (const s of selected) {
          const done = perRound.get(s.name) ?? []
          if (done[0]?.status === 'skipped') continue // the endpoint is missing: no use asking again
          const x: RoundResult = { round, status: 'pass', derived: {}, checks: [], notes: [] }
          log(`— ${s.name}${rounds > 1 ? ` (round ${round}/${rounds})` : ''}: ${s.description}`)
          let teardown: (() => Promise<void>) | undefined
          try {
            await settle() // the earlier scenarios' writes: before this setup's plan checks
            const plan = await s.setup(ctx)
            teardown = plan.teardown
            await settle() // this setup's own (the replenishment publishes 58 000 forecasts)
            x.notes.push(...(plan.notes ?? []))
            const defaults: RunDefaults = { duration, connections, service, postgresPid, wrk }
            const isRead = (spec: LoadSpec): boolean => spec.requests.every(q => (q.method ?? 'GET') === 'GET')
            if (warmup > 0 && (plan.load.warmup ?? isRead(plan.load))) await runLoad(plan.load, defaults, warmup)
            if (plan.baseline !== undefined) x.baseline = await runLoad(plan.baseline, defaults)
            const t0 = monotonicUs()
            if (plan.background !== undefined) {
              const [main, bg] = await Promise.all([runLoad(plan.load, defaults), runLoad(plan.background, defaults, (plan.load.duration ?? duration))])
              x.main = main
              x.background = bg
            } else x.main = await runLoad(plan.load, defaults)
            measured.push([t0, monotonicUs()])
            if (x.main.durationS < (plan.load.duration ?? duration) * 0.9) x.notes.push(`stopped after ${x.main.durationS.toFixed(1)} s: prepared items used up`)
            // ratios pair this run with the reference scenario's run of the same round
            derive(x, s.target, name => perRound.get(name)?.find(y => y.round === round)?.main)
            const e = evaluate(s.target, [x], strict)
            if (e !== undefined) { x.checks = e.checks; x.status = e.status }
            const m = x.main
            log(`  ${Math.round(m.rps)}/s p50 ${m.latency.p50} ms p99 ${m.latency.p99} ms errors ${m.errors + m.timeouts} non-2xx ${m.non2xx} RSS ${m.rssMaxMb.toFixed(0)} MB${x.ratio !== undefined ? ` ratio ${x.ratio.toFixed(2)}` : ''} · ${cpuText(m)} → ${x.status}`)
          } catch (err) {
            if (err instanceof SkipScenario) { x.status = 'skipped'; x.reason = err.message } else { x.status = 'error'; x.reason = (err as Error).message.split('\n')[0]; log(`  error: ${(err as Error).stack ?? String(err)}`) }
            log(`  ${x.status}: ${x.reason ?? ''}`)
          } finally {
            await teardown?.().catch(e => { log(`teardown of ${s.name} failed: ${String(e)}`) })
          }
          done.push(x)
          perRound.set(s.name, done)
          results.set(s.name, aggregate(s, done, strict, rounds > 1))
          await new Promise(resolve => setTimeout(resolve, 1000))
        }
      }
      if ([...results.values(), ...(coldStart !== undefined ? [coldStart] : [])].some(r => r.status === 'fail' || r.status === 'error')) exitCode = 1
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
  const list = [...(coldStart !== undefined ? [coldStart] : []), ...results.values()]
  console.log('\n' + formatTable(list))
  const report: RunReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    options: { scenario: o.scenario ?? null, scale, seed, duration, warmup, connections, rounds, coldStarts, workers, runtime, entry: serviceEntry(runtime, o.profile === true), reuse: o.reuse === true, profile: o.profile === true, strict, database: o['database-url'] !== undefined ? 'external' : 'embedded' },
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
