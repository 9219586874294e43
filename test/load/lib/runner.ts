// Runs one LoadSpec with autocannon's programmatic API and condenses the result; samples the RSS of
// the measured process every 250 ms and counts responses per second for the charts.
import autocannon from 'autocannon'
import type { LoadResult, LoadSpec } from './types.js'
import type { RunningProcess } from './service.js'

const PCTS: Array<[number, string]> = [[1, 'p1'], [10, 'p10'], [25, 'p25'], [50, 'p50'], [75, 'p75'], [90, 'p90'], [97.5, 'p97_5'], [99, 'p99'], [99.9, 'p99_9'], [99.99, 'p99_99']]

export async function runLoad (spec: LoadSpec, defaults: { duration: number, connections: number, service: RunningProcess }, durationOverride?: number): Promise<LoadResult> {
  const proc = spec.process ?? defaults.service
  const connections = spec.connections ?? defaults.connections
  const duration = durationOverride ?? spec.duration ?? defaults.duration
  const perSecond: number[] = []
  let rssMax = 0
  let rssTotal = 0
  const sample = (): void => {
    const r = proc.rss()
    rssMax = Math.max(rssMax, r.maxMb)
    rssTotal = Math.max(rssTotal, r.totalMb)
  }
  const timer = setInterval(sample, 250)
  sample()
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
    sample()
    const lat = result.latency as unknown as Record<string, number>
    const statusCodes: Record<string, number> = {}
    for (const [code, v] of Object.entries((result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {})) statusCodes[code] = v.count
    const total = result.requests.total
    const durationS = Math.max(0.001, (result.duration ?? duration))
    return {
      label: spec.label ?? '',
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
    clearInterval(timer)
  }
}
