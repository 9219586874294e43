// CPU accounting for one measured run, from /proc: what the service, PostgreSQL and the load
// generator each spent, and how busy the whole machine was. CPU seconds per request are far less
// noisy than req/s on a shared machine, and the box's busy share tells whether a figure measured
// the server or a saturated machine.
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import type pg from 'pg'

const TICK = 100 // clock ticks per second (USER_HZ)

/** The fields of /proc/<pid>/stat after the command name (state first); none when the process is gone. */
function statFields (pid: number): string[] {
  try { return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [] } catch { return [] }
}

export function childPids (pid: number): number[] {
  try { return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) } catch { return [] }
}

/** CPU seconds (user + system) a process has used (clock ticks of 10 ms); 0 when gone. */
export function cpuSeconds (pid: number): number {
  const f = statFields(pid)
  return (Number(f[11] ?? 0) + Number(f[12] ?? 0)) / TICK
}

/** The parent pid of a process (0 when it is gone). */
export function parentPid (pid: number): number {
  return Number(statFields(pid)[1] ?? 0)
}

/**
 * CPU seconds of a process tree: the process itself, the children it has already reaped (its
 * cutime/cstime: PostgreSQL backends that ended) and its live descendants.
 */
export function treeCpuSeconds (pid: number): number {
  const f = statFields(pid)
  if (f.length === 0) return 0
  const own = (Number(f[11] ?? 0) + Number(f[12] ?? 0) + Number(f[13] ?? 0) + Number(f[14] ?? 0)) / TICK
  return own + childPids(pid).reduce((a, c) => a + treeCpuSeconds(c), 0)
}

/** A process tree without its reaped children's time (a Node service: its children are none or workers). */
export function liveTreeCpuSeconds (pid: number): number {
  return cpuSeconds(pid) + childPids(pid).reduce((a, c) => a + liveTreeCpuSeconds(c), 0)
}

/** Busy and total jiffies of the whole machine (/proc/stat, first line). */
export function boxJiffies (): { busy: number, total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0) // user nice system idle iowait irq softirq steal
  const idle = (v[3] ?? 0) + (v[4] ?? 0)
  return { busy: total - idle, total }
}

/** The postmaster's pid when PostgreSQL runs on this machine (a backend's parent), else undefined. */
export async function postmasterPid (pool: pg.Pool): Promise<number | undefined> {
  try {
    const backend = Number(((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid)
    const parent = parentPid(backend)
    return parent > 1 ? parent : undefined
  } catch { return undefined }
}

export interface CpuSnapshot { at: number, service: number, postgres: number | undefined, box: { busy: number, total: number } }

export function cpuSnapshot (servicePid: number, postgres: number | undefined): CpuSnapshot {
  return { at: performance.now(), service: liveTreeCpuSeconds(servicePid), postgres: postgres !== undefined ? treeCpuSeconds(postgres) : undefined, box: boxJiffies() }
}

/** What a run cost, per request (µs), and the shares of a core / of the machine over its wall time. */
export interface CpuCost {
  /** the measured server (service or ceiling): µs of CPU per request */
  serverUsPerReq: number
  /** PostgreSQL (every process of the cluster) µs of CPU per request; absent when it runs elsewhere */
  postgresUsPerReq?: number
  /** the load generator's µs of CPU per request */
  generatorUsPerReq: number
  /** cores' worth used: the server, the generator (1 = one core fully busy) */
  serverCores: number
  generatorCores: number
  /** share of the whole machine busy during the run (0–1) */
  boxBusy: number
  /** the generator or the machine ran out of CPU before the server did: the req/s measured them, not the server */
  saturated?: 'generator' | 'box'
}

/** Above these the run measured its generator or the machine (generator: one thread = one core). */
export const GENERATOR_SATURATED = 0.9
export const BOX_SATURATED = 0.97

export function cpuCost (a: CpuSnapshot, b: CpuSnapshot, requests: number, generatorSeconds: number, generatorThreads = 1): CpuCost {
  const n = Math.max(1, requests)
  const wall = Math.max(0.001, (b.at - a.at) / 1000)
  const server = b.service - a.service
  const boxTotal = Math.max(1, b.box.total - a.box.total)
  const boxBusy = (b.box.busy - a.box.busy) / boxTotal
  const generatorCores = generatorSeconds / wall
  const serverCores = server / wall
  const cost: CpuCost = {
    serverUsPerReq: server / n * 1e6,
    generatorUsPerReq: generatorSeconds / n * 1e6,
    serverCores,
    generatorCores,
    boxBusy
  }
  if (a.postgres !== undefined && b.postgres !== undefined) cost.postgresUsPerReq = (b.postgres - a.postgres) / n * 1e6
  // the server itself is single-threaded: a server using a full core is the bottleneck, as it should be
  if (generatorCores >= GENERATOR_SATURATED * generatorThreads && serverCores < 0.9) cost.saturated = 'generator'
  else if (boxBusy >= BOX_SATURATED && serverCores < 0.9) cost.saturated = 'box'
  return cost
}

export const machineCores = (): number => cpus().length
