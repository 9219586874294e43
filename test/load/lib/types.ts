// The contract between bench.ts and the scenario files.
import type autocannon from 'autocannon'
import type pg from 'pg'
import type { BenchRole, BenchUser, DatasetInfo } from '../dataset/generate.js'
import type { CpuCost } from './cpu.js'
import type { Rng } from './prng.js'
import type { RunningProcess } from './service.js'

/** One autocannon run. `requests` may carry setupRequest hooks that vary path and body. */
export interface LoadSpec {
  label?: string
  /** base URL, e.g. ctx.serviceUrl */
  url: string
  requests: autocannon.Request[]
  connections?: number
  /** seconds; the harness default when absent */
  duration?: number
  overallRate?: number
  /** stop early when this answers true (prepared items used up) */
  exhausted?: () => boolean
  /** run a short unmeasured warm-up first (default true for GET-only specs) */
  warmup?: boolean
  /** process whose RSS is sampled (default: the service) */
  process?: RunningProcess
  timeoutS?: number
  /**
   * Each request built when it is sent (autocannon's setupRequest), not thousands ahead as the wrk
   * driver does: for a slow scenario whose requests must each be new and still meaningful (the
   * uncached reports: a period never asked before, inside the dataset's two years)
   */
  lazy?: boolean
}

export interface ScenarioPlan {
  /** the measured run */
  load: LoadSpec
  /** measured first, alone, then `load` runs with `background` in parallel (login flood) */
  baseline?: LoadSpec
  background?: LoadSpec
  notes?: string[]
  teardown?: () => Promise<void>
}

export interface Target {
  /** ratio = this scenario's req/s ÷ the named ceiling scenario's req/s */
  ceiling?: string
  minRatio?: number
  /** the service's CPU µs per request ÷ the ceiling's, same round (issue 18: ≤ 1.3 on reads) */
  maxCpuRatio?: number
  /** p99 ÷ the ceiling's p99 in the same round (issue 18: ≤ 2 at 50 connections); default 2 with a ceiling */
  maxP99VsCeiling?: number
  maxP99Ms?: number
  minRps?: number
  /** errors + timeouts allowed (default 0) */
  maxErrors?: number
  /** share of non-2xx answers allowed (default 0) */
  maxNon2xxShare?: number
  maxRssMb?: number
  /** p99 with background ÷ p99 of the baseline */
  maxP99Degradation?: number
  /** metric within ±tolerance of another scenario's */
  sameAs?: { scenario: string, metric: 'p50' | 'p99' | 'rps', tolerance: number }
  /** req/s ≥ factor × another scenario's req/s */
  scaling?: { scenario: string, factor: number }
  /** reported, never fails the run (unless --strict) */
  informational?: boolean
  /** cold start: spawn → first 200 on /health/live (listening), median of the dedicated starts (the `cold-start` row) */
  maxStartupMs?: number
}

export interface Scenario {
  name: string
  description: string
  /** run order (ceilings right before what they bound) */
  order: number
  /** scenarios whose results this one's target needs (run too when this one is selected) */
  dependsOn?: string[]
  /** not run unless named by --scenario */
  optIn?: boolean
  setup: (ctx: BenchContext) => Promise<ScenarioPlan>
  target: Target
}

export class SkipScenario extends Error {}

export interface LoadResult {
  label: string
  /** what drove the load (lib/wrk.ts says which specs stay on autocannon) */
  generator: 'wrk' | 'autocannon'
  /** CPU per request of the server, PostgreSQL and the generator; saturation flags */
  cpu?: CpuCost
  rps: number
  durationS: number
  total: number
  latency: { mean: number, p50: number, p90: number, p99: number, p999: number, max: number }
  percentiles: Array<[number, number]>
  perSecond: number[]
  errors: number
  timeouts: number
  non2xx: number
  statusCodes: Record<string, number>
  connections: number
  rssMaxMb: number
  rssTotalMb: number
}

export type Status = 'pass' | 'fail' | 'info' | 'skipped' | 'error'
export interface Check { what: string, ok: boolean, informational: boolean }

/** What a measured run of a scenario produces: one round's, or the scenario's over its rounds. */
interface RunOutcome {
  status: Status
  reason?: string
  /** for a scenario over several rounds: the median round (by req/s); its baseline/background go with it */
  main?: LoadResult
  baseline?: LoadResult
  background?: LoadResult
  /** the ratio to the reference scenario (the same round's run; over rounds: the median of them) */
  ratio?: number
  /** derived values (over rounds: medians of the per-round values) */
  derived: Record<string, number>
  checks: Check[]
  notes: string[]
}

/** One round of a scenario (--rounds n > 1): its own setup, run and checks. */
export interface RoundResult extends RunOutcome {
  /** 1-based */
  round: number
}

/** The dedicated cold starts of the service (the `cold-start` row). */
export interface ColdStart {
  runtime: 'tsx' | 'dist'
  /** the entry file started (src/server.ts, dist/server.mjs…) */
  entry: string
  /** spawn → first 200 on /health/live (listening), per start */
  samplesMs: number[]
  medianMs: number
  /** spawn → first 200 on /health/ready (warm: schemas compiled), per start */
  readyMs: number[]
  readyMedianMs: number
  /** readiness polling interval: the resolution of the samples */
  pollMs: number
}

export interface ScenarioResult extends RunOutcome {
  name: string
  description: string
  target: Target
  /** every round, when --rounds n > 1 (absent with one round) */
  rounds?: RoundResult[]
  /** 1-based number of the round that `main` comes from (--rounds n > 1) */
  medianRound?: number
  /** over every measured round (--rounds n > 1): what the error, non-2xx and RSS checks use */
  allRounds?: { rounds: number, total: number, errors: number, non2xx: number, rssMaxMb: number }
  coldStart?: ColdStart
}

export interface ApiResponse { status: number, body: any, headers: Headers }

export interface BenchContext {
  serviceUrl: string
  ceilingUrl: string
  service: RunningProcess
  ceiling: RunningProcess
  pool: pg.Pool
  dataset: DatasetInfo
  users: Record<BenchRole, BenchUser>
  jwt: { secret: string, issuer: string, audience: string }
  duration: number
  connections: number
  seed: number
  strict: boolean
  rng: (label: string) => Rng
  /** a token for a bench user: real login when the endpoint exists, else harness-signed */
  token: (role: BenchRole) => Promise<string>
  /** a harness-signed token for any user row */
  signToken: (user: { id: string, role: string, organizationId: string, organizationKind: string }) => string
  api: (method: string, path: string, o?: { token?: string, body?: unknown, headers?: Record<string, string>, base?: string }) => Promise<ApiResponse>
  /** throws SkipScenario when the route answers 404 ROUTE_NOT_FOUND */
  requireEndpoint: (method: string, path: string, o?: { token?: string, body?: unknown, headers?: Record<string, string> }) => Promise<ApiResponse>
  results: Map<string, ScenarioResult>
  /** another service process (or cluster); `databaseUrl` and `extraEnv` change its database and settings (the pooling-* scenarios) */
  startService: (o: { workers: number, databaseUrl?: string, extraEnv?: Record<string, string>, name?: string }) => Promise<RunningProcess>
  /** the bench database's URL (direct) */
  databaseUrl: string
  log: (m: string) => void
}
