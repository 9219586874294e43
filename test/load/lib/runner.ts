// Runs one LoadSpec with wrk (lib/wrk.ts) or, for specs that chain requests on responses or when wrk
// is unavailable, autocannon's programmatic API, and condenses the result; samples the RSS of the
// measured process every 250 ms, counts responses per second for the charts (autocannon), and
// accounts the CPU the measured server, PostgreSQL and the generator used (lib/cpu.ts).
import autocannon from 'autocannon'
import { cpuCost, cpuSnapshot } from './cpu.js'
import type { LoadResult, LoadSpec } from './types.js'
import type { RunningProcess } from './service.js'
import { runWrk, wrkCompatible } from './wrk.js'

const PCTS: Array<[number, string]> = [[1, 'p1'], [10, 'p10'], [25, 'p25'], [50, 'p50'], [75, 'p75'], [90, 'p90'], [97.5, 'p97_5'], [99, 'p99'], [99.9, 'p99_9'], [99.99, 'p99_99']]

export interface RunDefaults {
  duration: number
  connections: number
  service: RunningProcess
  /** the postmaster's pid when PostgreSQL runs on this machine (its CPU is accounted) */
  postgresPid?: number
  /** wrk's path; null: autocannon only */
  wrk: string | null
}

export async function runLoad (spec: LoadSpec, defaults: RunDefaults, durationOverride?: number): Promise<LoadResult> {
  const proc = spec.process ?? defaults.service
  if (defaults.wrk !== null && wrkCompatible(spec)) return await runOnWrk(defaults.wrk, spec, defaults, proc, durationOverride)
  return await runOnAutocannon(spec, defaults, proc, durationOverride)
}

function rssSampler (proc: RunningProcess): { stop: () => { rssMax: number, rssTotal: number } } {
  let rssMax = 0
  let rssTotal = 0
  const sample = (): void => {
    const r = proc.rss()
    rssMax = Math.max(rssMax, r.maxMb)
    rssTotal = Math.max(rssTotal, r.totalMb)
  }
  const timer = setInterval(sample, 250)
  sample()
  return { stop: () => { clearInterval(timer); sample(); return { rssMax, rssTotal } } }
}

async function runOnWrk (wrk: string, spec: LoadSpec, defaults: RunDefaults, proc: RunningProcess, durationOverride?: number): Promise<LoadResult> {
  const connections = spec.connections ?? defaults.connections
  const duration = durationOverride ?? spec.duration ?? defaults.duration
  let before: ReturnType<typeof cpuSnapshot> | undefined
  let rss: ReturnType<typeof rssSampler> | undefined
  try {
    const r = await runWrk(wrk, spec, {
      url: spec.url,
      connections,
      seconds: duration,
      timeoutS: spec.timeoutS ?? 10,
      onStart: () => { before = cpuSnapshot(proc.pid, defaults.postgresPid); rss = rssSampler(proc) }
    })
    const after = cpuSnapshot(proc.pid, defaults.postgresPid)
    const { rssMax, rssTotal } = rss?.stop() ?? { rssMax: 0, rssTotal: 0 }
    const cpu = before !== undefined ? cpuCost(before, after, r.requests, r.cpuSeconds) : undefined
    return {
      label: spec.label ?? '',
      generator: 'wrk',
      rps: r.requests / Math.max(0.001, r.durationS),
      durationS: r.durationS,
      total: r.requests,
      latency: r.latency,
      percentiles: r.percentiles,
      perSecond: [],
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      statusCodes: {},
      connections,
      rssMaxMb: rssMax,
      rssTotalMb: rssTotal,
      ...(cpu !== undefined ? { cpu } : {})
    }
  } finally {
    rss?.stop()
  }
}

async function runOnAutocannon (spec: LoadSpec, defaults: RunDefaults, proc: RunningProcess, durationOverride?: number): Promise<LoadResult> {
  const connections = spec.connections ?? defaults.connections
  const duration = durationOverride ?? spec.duration ?? defaults.duration
  const perSecond: number[] = []
  const rss = rssSampler(proc)
  const before = cpuSnapshot(proc.pid, defaults.postgresPid)
  const generatorBefore = process.cpuUsage()
  const opts: autocannon.Options = {
    url: spec.url,
    connections,
    duration,
    requests: spec.requests,
    timeout: spec.timeoutS ?? 10,
    ...(spec.overallRate !== undefined ? { overallRate: spec.overallRate } : {})
  }
  try {
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const inst = autocannon(opts, (err, res) => { if (err !== null && err !== undefined) reject(err); else resolve(res) })
      ;(inst as unknown as NodeJS.EventEmitter).on('tick', (c: { counter: number }) => { perSecond.push(c.counter) })
      if (spec.exhausted !== undefined) {
        const check = spec.exhausted
        inst.on('response', () => { if (check()) inst.stop() })
      }
    })
    const after = cpuSnapshot(proc.pid, defaults.postgresPid)
    const used = process.cpuUsage(generatorBefore)
    const { rssMax, rssTotal } = rss.stop()
    const lat = result.latency as unknown as Record<string, number>
    const statusCodes: Record<string, number> = {}
    for (const [code, v] of Object.entries((result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {})) statusCodes[code] = v.count
    const total = result.requests.total
    const durationS = Math.max(0.001, (result.duration ?? duration))
    return {
      label: spec.label ?? '',
      generator: 'autocannon',
      // autocannon runs in this process: its CPU is this process's (the harness's own share is small)
      cpu: cpuCost(before, after, total, (used.user + used.system) / 1e6),
      rps: total / durationS,
      durationS,
      total,
      latency: { mean: lat.average ?? 0, p50: lat.p50 ?? 0, p90: lat.p90 ?? 0, p99: lat.p99 ?? 0, p999: lat.p99_9 ?? 0, max: lat.max ?? 0 },
      percentiles: PCTS.map(([p, k]) => [p, lat[k] ?? 0]),
      perSecond,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      statusCodes,
      connections,
      rssMaxMb: rssMax,
      rssTotalMb: rssTotal
    }
  } finally {
    rss.stop()
  }
}
