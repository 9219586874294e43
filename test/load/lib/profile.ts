// Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions by self time: Σ of the sample
// intervals whose leaf is the function, grouped by name + script (+ line), plus the same grouped by
// package so framework vs. application cost is visible at a glance.
import { readFileSync } from 'node:fs'

interface CpuNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface CpuProfile { nodes: CpuNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }

export interface ProfileRow { name: string, where: string, selfMs: number, share: number }
export interface ProfileSummary { file: string, totalMs: number, top: ProfileRow[], byPackage: ProfileRow[], window: 'measured' | 'whole process' }

/** A measured interval in microseconds of the monotonic clock (`process.hrtime`), which is also the
 * clock of V8's profile timestamps on Linux — so start-up (schema compilation, module loading) and
 * warm-up can be left out of the summary. */
export type Window = readonly [number, number]

export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n)

function packageOf (url: string): string {
  if (url === '') return '(native / V8)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/')
    return rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url)
  }
  if (url.startsWith('node:')) return 'node core'
  const src = url.indexOf('/src/')
  if (src >= 0) return 'app: ' + url.slice(src + 1).split('/').slice(0, 2).join('/')
  return url.replace(/^file:\/\//, '')
}

function selfTimes (p: CpuProfile, windows: readonly Window[]): Map<number, number> {
  const self = new Map<number, number>()
  let t = p.startTime
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0
    if (windows.length > 0 && !windows.some(([a, b]) => t >= a && t <= b)) continue
    const id = p.samples[i] ?? 0
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0))
  }
  return self
}

/** Self time per function, counting only samples inside `windows` (all samples when none fall in). */
export function summarizeProfile (file: string, top = 25, windows: readonly Window[] = []): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(p.nodes.map(n => [n.id, n]))
  let self = selfTimes(p, windows)
  let window: ProfileSummary['window'] = windows.length > 0 ? 'measured' : 'whole process'
  if (self.size === 0) { self = selfTimes(p, []); window = 'whole process' }
  const fn = new Map<string, ProfileRow>()
  const pkg = new Map<string, ProfileRow>()
  let total = 0
  for (const [id, us] of self) {
    const n = byId.get(id)
    if (n === undefined) continue
    const name = n.callFrame.functionName === '' ? '(anonymous)' : n.callFrame.functionName
    if (name === '(idle)' || (name === '(program)' && us === 0)) continue
    total += us
    const url = n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|src|test|db)\//, '$1/')
    const where = url === '' ? '' : `${url}:${n.callFrame.lineNumber + 1}`
    const key = `${name}\u0000${where}`
    const row = fn.get(key) ?? { name, where, selfMs: 0, share: 0 }
    row.selfMs += us / 1000
    fn.set(key, row)
    const pk = name.startsWith('(') ? name : packageOf(n.callFrame.url)
    const prow = pkg.get(pk) ?? { name: pk, where: '', selfMs: 0, share: 0 }
    prow.selfMs += us / 1000
    pkg.set(pk, prow)
  }
  const finish = (rows: Iterable<ProfileRow>, k: number): ProfileRow[] =>
    [...rows].sort((a, b) => b.selfMs - a.selfMs).slice(0, k).map(r => ({ ...r, selfMs: Math.round(r.selfMs * 10) / 10, share: total > 0 ? r.selfMs / (total / 1000) : 0 }))
  return { file, totalMs: total / 1000, top: finish(fn.values(), top), byPackage: finish(pkg.values(), 15), window }
}

export function formatProfile (s: ProfileSummary): string {
  const lines = [`CPU profile ${s.file} — ${(s.totalMs / 1000).toFixed(1)} s of non-idle samples (${s.window === 'measured' ? 'measured runs only: start-up and warm-up left out' : 'whole process'})`, '', 'top self time by function:']
  for (const r of s.top) lines.push(`  ${r.selfMs.toFixed(0).padStart(7)} ms ${(r.share * 100).toFixed(1).padStart(5)} %  ${r.name}  ${r.where}`)
  lines.push('', 'self time by package:')
  for (const r of s.byPackage) lines.push(`  ${r.selfMs.toFixed(0).padStart(7)} ms ${(r.share * 100).toFixed(1).padStart(5)} %  ${r.name}`)
  return lines.join('\n')
}
