// The load generator: wrk (C, one thread, event loop), which leaves the CPU to the server where
// autocannon (Node, on the same cores) saturated first and compressed every ratio toward 1.
//
// A scenario's requests are autocannon request objects (setupRequest hooks vary the path and the
// body). For wrk they are expanded ahead of the run into a file of ready-made HTTP requests that a
// small Lua script sends in turn — no per-request work in the generator beyond writing bytes:
// - reads: a few thousand requests, cycled;
// - writes: enough distinct requests for the run at a rate far above any measured (a write that
//   must be unique, like an article code, is never sent twice: the file is not cycled — past its
//   end the script repeats the last one, which answers 4xx and shows as non-2xx);
// - a finite list (`exhausted`): exactly its items; wrk stops its thread after the last answer.
// Specs that chain requests on responses (onResponse: checkout's cart then checkout) stay on
// autocannon; the report says which generator measured each run and how much CPU it used.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type autocannon from 'autocannon'
import type { LoadSpec } from './types.js'

const PATHS = ['/usr/bin/wrk', '/usr/local/bin/wrk']

let found: string | null | undefined

/** wrk's path: found, or installed from Debian's package when running as root; null when neither works. */
export function ensureWrk (log: (m: string) => void): string | null {
  if (found !== undefined) return found
  const which = (): string | undefined => PATHS.find(p => existsSync(p)) ?? (() => { try { return execFileSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).trim() || undefined } catch { return undefined } })()
  let path = which()
  if (path === undefined && process.getuid?.() === 0) {
    log('wrk is missing: installing the Debian package (apt-get install wrk)')
    try {
      execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk'], { stdio: 'ignore', timeout: 300_000 })
      path = which()
    } catch (err) { log(`apt-get install wrk failed: ${(err as Error).message.split('\n')[0] ?? ''}`) }
  }
  found = path ?? null
  if (found === null) log('wrk is not available (not installed, and not root to install it): autocannon drives every scenario, and its own CPU is reported')
  return found
}

/** Whether a spec can run on wrk (no request depends on an earlier answer, no fixed rate, none built lazily). */
export function wrkCompatible (spec: LoadSpec): boolean {
  return spec.overallRate === undefined && spec.lazy !== true && spec.requests.every(r => (r as { onResponse?: unknown }).onResponse === undefined)
}

/** Distinct requests prepared for an unbounded write run: the highest rate any scenario reaches × its length. */
const WRITE_RATE_BOUND = 5000
const READ_REQUESTS = 4000
/**
 * …and at most this many bytes of them: big bodies (the 1 000-line forecast upsert, ~60 KB each)
 * × 5 000/s overran V8's longest string (RangeError: Invalid string length) and would fill memory;
 * a scenario that fast with bodies that big does not exist (one past the end is the last one again).
 */
export const WRITE_BYTES_BOUND = 256 * 1024 * 1024

function rawRequest (host: string, r: autocannon.Request): string {
  const method = r.method ?? 'GET'
  const body = typeof r.body === 'string' ? r.body : r.body === undefined ? undefined : Buffer.from(r.body as Buffer).toString('utf8')
  const headers: Record<string, string> = { host, ...(r.headers as Record<string, string> | undefined) }
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body))
  const lines = [`${method} ${r.path ?? '/'} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
  return `${lines.join('\r\n')}\r\n\r\n${body ?? ''}`
}

/** Expands a spec's requests into the ready-made requests of one run, and whether the list is finite. */
export function expandRequests (spec: LoadSpec, host: string, seconds: number): { requests: string[], finite: boolean, cycled: boolean } {
  const finite = spec.exhausted !== undefined
  // a read list is cycled; as soon as one prepared request writes (a setupRequest may turn a GET
  // into a POST: the mixed scenario), none is sent twice and enough are prepared for the run
  let isRead = true
  let limit = finite ? 2_000_000 : READ_REQUESTS
  const out: string[] = []
  let bytes = 0
  for (let i = 0; i < limit; i++) {
    if (finite && spec.exhausted?.() === true) break
    const base = spec.requests[i % spec.requests.length]
    if (base === undefined) break
    const setup = (base as { setupRequest?: (r: autocannon.Request, ctx: unknown) => autocannon.Request | undefined }).setupRequest
    const r = setup !== undefined ? (setup({ ...base }, {}) ?? base) : base
    if (isRead && (r.method ?? 'GET') !== 'GET') {
      isRead = false
      if (!finite) limit = Math.ceil(WRITE_RATE_BOUND * seconds)
    }
    const raw = rawRequest(host, r)
    bytes += raw.length
    if (!isRead && !finite && bytes > WRITE_BYTES_BOUND && out.length > 0) break
    out.push(raw)
  }
  return { requests: out, finite, cycled: isRead && !finite }
}

// Requests are separated by a NUL byte (never in an HTTP request head or a JSON body). The file is
// read in the thread's init(), and each request cut from it as it is sent, so nothing heavy runs
// while connections wait; the generator's CPU is counted from the end of init() (a stamp file) to
// done(), from /proc/self/stat (the whole process: every thread).
const SCRIPT = `
local all, pos, last, cycle, n = nil, 1, nil, %CYCLE%, %N%
local function cpu()
  local f = io.open("/proc/self/stat", "r")
  local line = f:read("*l")
  f:close()
  local i, t = 0, 0
  for v in string.gmatch(string.match(line, "%) (.*)$"), "%S+") do
    i = i + 1
    if i == 12 or i == 13 then t = t + tonumber(v) end
    if i == 13 then break end
  end
  return t
end
init = function(args)
  local f = assert(io.open(%FILE%, "rb"))
  all = f:read("*a")
  f:close()
  local g = assert(io.open(%STAMP%, "w"))
  g:write(tostring(cpu()))
  g:close()
end
request = function()
  local e = string.find(all, "\\0", pos, true)
  if e == nil then
    if not cycle then return last end
    pos = 1
    e = string.find(all, "\\0", 1, true)
  end
  last = string.sub(all, pos, e - 1)
  pos = e + 1
  return last
end
%RESPONSE%
done = function(summary, latency, requests)
  local g = io.open(%STAMP%, "r")
  local t0 = g and tonumber(g:read("*a")) or 0
  if g then g:close() end
  local p = {}
  for _, q in ipairs({1, 10, 25, 50, 75, 90, 97.5, 99, 99.9, 99.99}) do p[#p + 1] = string.format('[%g,%.3f]', q, latency:percentile(q) / 1000) end
  io.write(string.format('WRKJSON {"requests":%d,"durationUs":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"meanMs":%.3f,"maxMs":%.3f,"percentiles":[%s],"prepared":%d,"cpuTicks":%d}\\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency.mean / 1000, latency.max / 1000, table.concat(p, ','), n, cpu() - t0))
end
`
// a finite list: stop once its last request has been answered (one thread: it sees every answer);
// the stop file tells runWrk, which ends wrk with SIGINT (wrk then reports the time actually run)
const STOP = `
local answered = 0
response = function(status, headers, body)
  answered = answered + 1
  if answered == n then
    local g = io.open(%DONE%, "w")
    if g then g:close() end
    wrk.thread:stop()
  end
end`

export interface WrkResult {
  requests: number
  durationS: number
  /** socket errors (connect, read, write) */
  errors: number
  timeouts: number
  /** answers outside 2xx/3xx */
  non2xx: number
  latency: { mean: number, p50: number, p90: number, p99: number, p999: number, max: number }
  percentiles: Array<[number, number]>
  /** CPU seconds wrk used (user + system) from the end of its set-up to the end of the run */
  cpuSeconds: number
  prepared: number
}

/** Runs wrk once against `url` with the spec's requests for `seconds`; `onStart` runs once wrk is up. */
export async function runWrk (wrk: string, spec: LoadSpec, o: { url: string, connections: number, seconds: number, timeoutS: number, onStart?: () => void }): Promise<WrkResult> {
  const host = new URL(o.url).host
  const { requests, finite, cycled } = expandRequests(spec, host, o.seconds + 2)
  if (requests.length === 0) throw new Error('no request to send')
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'))
  try {
    const file = join(dir, 'requests.bin')
    // wrk calls request() once before the run to check what it returns: that call takes a copy of
    // the first request, so the first one the scenario prepared is still sent
    writeFileSync(file, [requests[0], ...requests].map(r => `${r ?? ''}\0`).join(''))
    const script = join(dir, 'script.lua')
    const done = join(dir, 'done')
    writeFileSync(script, SCRIPT.replaceAll('%FILE%', JSON.stringify(file)).replaceAll('%STAMP%', JSON.stringify(join(dir, 'cpu-at-start')))
      .replace('%CYCLE%', String(cycled)).replace('%N%', String(requests.length)).replace('%RESPONSE%', finite ? STOP.replace('%DONE%', JSON.stringify(done)) : ''))
    const args = ['-t1', `-c${Math.min(o.connections, finite ? Math.max(1, requests.length) : o.connections)}`, `-d${o.seconds}s`, '--timeout', `${o.timeoutS}s`, '-s', script, o.url]
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      let text = ''
      child.stdout.on('data', (d: Buffer) => { text += d.toString() })
      child.stderr.on('data', (d: Buffer) => { text += d.toString() })
      const poll = finite ? setInterval(() => { if (existsSync(done)) { clearInterval(poll); child.kill('SIGINT') } }, 20) : undefined
      child.on('error', reject)
      child.on('exit', code => {
        clearInterval(poll)
        if (code === 0) resolve(text); else reject(new Error(`wrk exited ${String(code)}: ${text.slice(-2000)}`))
      })
      o.onStart?.()
    })
    const json = /WRKJSON (\{.*\})/.exec(out)?.[1]
    if (json === undefined) throw new Error(`wrk printed no result: ${out.slice(-2000)}`)
    const r = JSON.parse(json) as { requests: number, durationUs: number, connect: number, read: number, write: number, status: number, timeout: number, meanMs: number, maxMs: number, percentiles: Array<[number, number]>, prepared: number, cpuTicks: number }
    const cpu = r.cpuTicks / 100
    const pct = (q: number): number => r.percentiles.find(x => x[0] === q)?.[1] ?? 0
    return {
      requests: r.requests,
      durationS: r.durationUs / 1e6,
      errors: r.connect + r.read + r.write,
      timeouts: r.timeout,
      non2xx: r.status,
      latency: { mean: r.meanMs, p50: pct(50), p90: pct(90), p99: pct(99), p999: pct(99.9), max: r.maxMs },
      percentiles: r.percentiles,
      cpuSeconds: cpu,
      prepared: r.prepared
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
