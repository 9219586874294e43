// Child processes of the harness: the service (one process or the bench cluster entry) and the
// ceiling server. Spawned through `sh -c 'ulimit -n 65535; exec …'` so the 10 000-connection
// scenario is not capped by a low soft limit (Node has no setrlimit); stopped with SIGTERM (the
// service shuts down gracefully, which is also when --cpu-prof writes its profile).
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { childPids, liveTreeCpuSeconds } from './cpu.js'
import { median } from './stats.js'
import type { ColdStart } from './types.js'

export interface ServiceOptions {
  name: string
  /** node arguments after `node` (entry file included) */
  args: string[]
  env: Record<string, string>
  port: number
  readyPath: string
  /** also timed: the first 200 on this path (the service's /health/live: listening) */
  livePath?: string
  log: (m: string) => void
  timeoutMs?: number
  /** readiness polling interval (default 100 ms): the resolution of startupMs */
  pollMs?: number
}

export interface RunningProcess {
  name: string
  pid: number
  port: number
  url: string
  /** spawn (node boot included) → first 200 on the ready path, to within the polling interval */
  startupMs: number
  /** spawn → first 200 on the live path (listening), when one was given */
  listeningMs?: number
  /** RSS in MB of the process and of its children (cluster workers) */
  rss: () => { totalMb: number, maxMb: number, pids: number[] }
  output: () => string
  stop: () => Promise<void>
}

const root = resolve(import.meta.dirname, '../../..')

export function readRssMb (pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? 0 : Number(m[1]) / 1024
  } catch { return 0 }
}

/**
 * Waits until the given processes (and their children) use less than `maxShare` of a core over
 * `windowMs`, at most `timeoutMs`: the service compiles its remaining route schemas in the
 * background after it starts listening, and a cold-start measurement next to that is not cold.
 * Answers the milliseconds waited, or undefined when it timed out.
 */
export async function waitIdle (pids: number[], o: { windowMs?: number, maxShare?: number, timeoutMs?: number } = {}): Promise<number | undefined> {
  const windowMs = o.windowMs ?? 500
  const started = performance.now()
  const total = (): number => pids.reduce((a, p) => a + liveTreeCpuSeconds(p), 0)
  for (;;) {
    const before = total()
    const t = performance.now()
    await new Promise(resolve => setTimeout(resolve, windowMs))
    const share = (total() - before) / ((performance.now() - t) / 1000)
    if (share < (o.maxShare ?? 0.05)) return Math.round(performance.now() - started)
    if (performance.now() - started > (o.timeoutMs ?? 30_000)) return undefined
  }
}

export async function startProcess (opts: ServiceOptions): Promise<RunningProcess> {
  const started = Date.now()
  const t0 = performance.now()
  const child: ChildProcess = spawn('sh', ['-c', 'ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', process.execPath, ...opts.args], {
    cwd: root,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  const keep = (d: Buffer): void => { out = (out + d.toString()).slice(-20_000) }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let exited: number | null | undefined
  child.on('exit', code => { exited = code })
  const url = `http://127.0.0.1:${opts.port}`
  let listeningMs: number | undefined
  const deadline = started + (opts.timeoutMs ?? 90_000)
  for (;;) {
    if (exited !== undefined) throw new Error(`${opts.name} exited (${String(exited)}) before it was ready:\n${out}`)
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`${opts.name} not ready within ${opts.timeoutMs ?? 90_000} ms:\n${out}`) }
    try {
      if (opts.livePath !== undefined && listeningMs === undefined) {
        const l = await fetch(url + opts.livePath, { signal: AbortSignal.timeout(1000) })
        await l.arrayBuffer()
        if (l.status === 200) listeningMs = Math.round(performance.now() - t0)
      }
      const r = await fetch(url + opts.readyPath, { signal: AbortSignal.timeout(1000) })
      await r.arrayBuffer()
      if (r.status === 200) break
    } catch { /* not listening yet */ }
    await new Promise(resolve => setTimeout(resolve, opts.pollMs ?? 100))
  }
  const startupMs = Math.round(performance.now() - t0)
  opts.log(`${opts.name} ready on ${url} (pid ${child.pid ?? '?'}, ${listeningMs !== undefined ? `listening after ${listeningMs} ms, ` : ''}ready after ${startupMs} ms)`)
  const pid = child.pid ?? 0
  return {
    name: opts.name,
    pid,
    port: opts.port,
    url,
    startupMs,
    ...(listeningMs !== undefined ? { listeningMs } : {}),
    output: () => out,
    rss: () => {
      const kids = childPids(pid).filter(p => readRssMb(p) > 0)
      // a cluster primary only forks: the workers carry the load, report them
      const pids = kids.length > 0 && opts.args.some(a => a.endsWith('cluster.ts')) ? kids : [pid]
      const values = pids.map(readRssMb)
      return { totalMb: values.reduce((a, b) => a + b, 0), maxMb: Math.max(0, ...values), pids }
    },
    stop: async () => {
      if (exited !== undefined) return
      const done = new Promise<void>(resolve => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await done
      clearTimeout(timer)
    }
  }
}

export interface ServiceLaunch {
  databaseUrl: string
  port: number
  workers: number
  runtime: 'tsx' | 'dist'
  jwtSecret: string
  profileDir?: string
  log: (m: string) => void
  extraEnv?: Record<string, string>
  /** process name in the logs (default `service`) */
  name?: string
  pollMs?: number
}

/** production serves /metrics only to this scraper token (the bench reads the compilation gauge) */
export const BENCH_METRICS_TOKEN = 'bench-metrics-token-0123456789abcdef0123456789'

export const SERVICE_ENV = {
  NODE_ENV: 'production',
  // production requires its own audit chain key and a scraper token for /metrics
  AUDIT_CHAIN_KEY: 'bench-audit-chain-key-0123456789abcdef0123456789',
  METRICS_TOKEN: BENCH_METRICS_TOKEN,
  // the bench's embedded database is reached as its superuser (the ceiling server's too)
  DATABASE_PRIVILEGED_ROLE_OK: 'true',
  MALLOC_ARENA_MAX: '2',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  LOG_REQUESTS: 'false',
  RATE_LIMIT_ENABLED: 'false',
  SEED_DEMO: 'false',
  ACCESS_TOKEN_TTL_SECONDS: '86400'
}

/** The V8 flags `npm start` and the Docker image run the service with (package.json). */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=4', '--max-old-space-size=128']

/**
 * The service's entry for a runtime: tsx runs src/server.ts; dist runs what `npm start` and the
 * Docker image run — the bundle dist/server.mjs (scripts/bundle.mjs) — or, before that bundle
 * existed, the tsc output dist/src/server.js. A profiled service runs the tsc output: in the bundle
 * every function's script is dist/server.mjs, so the profile could not tell the packages apart.
 */
export function serviceEntry (runtime: 'tsx' | 'dist', profiled = false): string {
  if (runtime === 'tsx') return 'src/server.ts'
  return !profiled && existsSync(resolve(root, 'dist/server.mjs')) ? 'dist/server.mjs' : 'dist/src/server.js'
}

export async function startService (o: ServiceLaunch): Promise<RunningProcess> {
  const entry = serviceEntry(o.runtime, o.profileDir !== undefined)
  const loader = [...SERVICE_NODE_FLAGS, ...(o.runtime === 'tsx' ? ['--import', 'tsx'] : [])]
  const prof = o.profileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : []
  const env: Record<string, string> = { ...SERVICE_ENV, DATABASE_URL: o.databaseUrl, PORT: String(o.port), JWT_SECRET: o.jwtSecret, ...o.extraEnv }
  let args: string[]
  if (o.workers > 1) {
    env.BENCH_WORKERS = String(o.workers)
    env.BENCH_SERVER_ENTRY = entry
    env.BENCH_WORKER_EXEC_ARGV = [...prof, ...loader].join(' ')
    args = ['--import', 'tsx', 'test/load/cluster.ts']
  } else {
    args = [...prof, ...loader, entry]
  }
  return await startProcess({ name: o.name ?? (o.workers > 1 ? `service (${o.workers} workers)` : 'service'), args, env, port: o.port, readyPath: '/health/ready', livePath: '/health/live', log: o.log, pollMs: o.pollMs })
}

/** QUALITY.md: cold start to listening (migrations already applied) ≤ 1 s; ready only once warm. */
export const COLD_START_TARGET_MS = 1000
const COLD_START_POLL_MS = 5

/**
 * Cold start: `starts` dedicated launches of one service process (the runtime's entry, the same
 * flags and environment as the measured service, no profiler), each timed from spawn — node boot
 * included — to the first 200 on /health/ready, polled every 5 ms, then stopped. The database is
 * already migrated, so the service only checks its migrations.
 */
export async function measureColdStarts (o: { databaseUrl: string, runtime: 'tsx' | 'dist', jwtSecret: string, starts: number, port: () => Promise<number>, log: (m: string) => void }): Promise<ColdStart> {
  const samplesMs: number[] = []
  const readyMs: number[] = []
  for (let i = 1; i <= o.starts; i++) {
    const p = await startService({ databaseUrl: o.databaseUrl, port: await o.port(), workers: 1, runtime: o.runtime, jwtSecret: o.jwtSecret, log: o.log, name: `cold start ${i}/${o.starts} (${serviceEntry(o.runtime)})`, pollMs: COLD_START_POLL_MS })
    samplesMs.push(p.listeningMs ?? p.startupMs)
    readyMs.push(p.startupMs)
    await p.stop()
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  return { runtime: o.runtime, entry: serviceEntry(o.runtime), samplesMs, medianMs: median(samplesMs), readyMs, readyMedianMs: median(readyMs), pollMs: COLD_START_POLL_MS }
}

export async function startCeiling (o: { databaseUrl: string, port: number, jwtSecret: string, log: (m: string) => void }): Promise<RunningProcess> {
  return await startProcess({
    name: 'ceiling',
    args: ['--import', 'tsx', 'test/load/ceiling-server.ts'],
    env: { DATABASE_URL: o.databaseUrl, PORT: String(o.port), JWT_SECRET: o.jwtSecret, POOL_SIZE: '10' },
    port: o.port,
    readyPath: '/health',
    log: o.log
  })
}
