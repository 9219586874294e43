// The bench's wrk driver (test/load/lib/wrk.ts) against a local HTTP server that records what it
// receives: every request sent is one the scenario prepared, in order, bodies intact; a finite list
// is sent exactly once and no further; and what it reports (requests, non-2xx, CPU) agrees with what
// the server saw. Skipped where wrk is not installed (the bench installs it; CI need not).
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type autocannon from 'autocannon'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cpuCost } from './lib/cpu.js'
import { expandRequests, runWrk, WRITE_BYTES_BOUND } from './lib/wrk.js'
import type { LoadSpec } from './lib/types.js'

const WRK = ['/usr/bin/wrk', '/usr/local/bin/wrk'].find(p => existsSync(p))

let server: Server
let url = ''
const seen: Array<{ method: string, path: string, body: string }> = []

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', body: Buffer.concat(chunks).toString() })
      const status = req.url?.startsWith('/missing') === true ? 404 : 200
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const a = server.address()
  url = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`
})
afterAll(async () => { await new Promise(resolve => server.close(resolve)) })

function counterPost (prefix: string): autocannon.Request {
  let n = 0
  return {
    method: 'POST',
    path: '/items',
    headers: { 'content-type': 'application/json' },
    setupRequest: (r: autocannon.Request) => ({ ...r, body: JSON.stringify({ code: `${prefix}-${n++}` }) })
  } as autocannon.Request
}

describe('expandRequests', () => {
  it('cycles a read list, prepares distinct writes for the run, and takes a finite list exactly', () => {
    let i = 0
    const get = { method: 'GET', path: '/', setupRequest: (r: autocannon.Request) => ({ ...r, path: `/r/${i++ % 3}` }) } as autocannon.Request
    const reads = expandRequests({ url, requests: [get] }, 'h', 10)
    expect(reads.cycled).toBe(true)
    expect(new Set(reads.requests).size).toBe(3)
    expect(reads.requests[0]).toBe('GET /r/0 HTTP/1.1\r\nhost: h\r\n\r\n')
    const writes = expandRequests({ url, requests: [counterPost('W')] }, 'h', 2)
    expect(writes.cycled).toBe(false)
    expect(new Set(writes.requests).size).toBe(writes.requests.length)
    expect(writes.requests[1]).toContain('content-length: 14\r\n\r\n{"code":"W-1"}')
    // a GET whose setupRequest sometimes writes (the mixed scenario): prepared as writes, never cycled
    let k = 0
    const mixed = { method: 'GET', path: '/', setupRequest: (r: autocannon.Request) => ({ ...r, ...(k++ % 20 === 19 ? { method: 'POST', path: '/items', body: `{"n":${k}}` } : { path: '/r' }) }) } as autocannon.Request
    const mix = expandRequests({ url, requests: [mixed] }, 'h', 2)
    expect(mix.cycled).toBe(false)
    expect(mix.requests.length).toBeGreaterThan(4000)
    let left = 7
    const finite = expandRequests({ url, requests: [counterPost('F')], exhausted: () => left-- <= 0 }, 'h', 10)
    expect(finite).toMatchObject({ finite: true, cycled: false })
    expect(finite.requests).toHaveLength(7)
  })

  it('bounds the prepared writes by bytes as well as by rate: a 1 000-line upsert body × 5 000/s would overrun V8\'s longest string', () => {
    const big = 'x'.repeat(60_000)
    let n = 0
    const put = { method: 'PUT', path: '/f', setupRequest: (r: autocannon.Request) => ({ ...r, body: `{"n":${n++},"pad":"${big}"}` }) } as autocannon.Request
    const writes = expandRequests({ url, requests: [put] }, 'h', 17)
    expect(writes.requests.length).toBeLessThan(5000 * 17)
    expect(writes.requests.reduce((a, r) => a + r.length, 0)).toBeLessThanOrEqual(WRITE_BYTES_BOUND)
    expect(writes.requests.length).toBeGreaterThan(WRITE_BYTES_BOUND / 60_200 - 2)
    expect(new Set(writes.requests).size).toBe(writes.requests.length)
  })
})

describe('cpuCost', () => {
  it('divides each process\'s CPU by the requests and flags a generator or a machine that ran out first', () => {
    const a = { at: 0, service: 10, postgres: 5, box: { busy: 0, total: 0 } }
    const b = { at: 10_000, service: 12, postgres: 6, box: { busy: 150, total: 200 } }
    expect(cpuCost(a, b, 10_000, 0.5)).toMatchObject({ serverUsPerReq: 200, postgresUsPerReq: 100, generatorUsPerReq: 50, serverCores: 0.2, boxBusy: 0.75 })
    expect(cpuCost(a, b, 10_000, 9.5).saturated).toBe('generator')
    expect(cpuCost(a, { ...b, box: { busy: 199, total: 200 } }, 10_000, 1).saturated).toBe('box')
    // a server using its whole core is the bottleneck: nothing to flag
    expect(cpuCost(a, { ...b, service: 19.5, box: { busy: 200, total: 200 } }, 10_000, 1).saturated).toBeUndefined()
  })
})

describe.skipIf(WRK === undefined)('runWrk', () => {
  it('sends only prepared writes, each once, from the first one, and reports what the server saw', async () => {
    seen.length = 0
    const spec: LoadSpec = { url, requests: [counterPost('X')] }
    const r = await runWrk(WRK ?? '', spec, { url, connections: 4, seconds: 1, timeoutS: 5 })
    const posts = seen.filter(s => s.method === 'POST')
    expect(r.requests).toBeGreaterThan(10)
    // wrk counts the answers it read; the server may have taken a few more just before the end
    expect(posts.length).toBeGreaterThanOrEqual(r.requests)
    expect(posts.length).toBeLessThanOrEqual(r.requests + 4)
    // each prepared write once, from the first one (4 connections: arrivals interleave); a server
    // faster than the prepared rate (5 000/s: this local one can be) gets the last one again past
    // the end — a 4xx in a real scenario, counted as non-2xx, never a write sent twice unnoticed
    const codes = posts.map(p => Number((JSON.parse(p.body) as { code: string }).code.slice(2)))
    const distinct = [...new Set(codes)].sort((a, b) => a - b)
    expect(distinct).toEqual(Array.from({ length: Math.min(posts.length, r.prepared) }, (_, i) => i))
    expect(codes.length - distinct.length).toBe(codes.filter(c => c === r.prepared - 1).length - (distinct.length === r.prepared ? 1 : 0))
    expect(r.non2xx).toBe(0)
    expect(r.cpuSeconds).toBeGreaterThanOrEqual(0)
    expect(r.latency.p99).toBeGreaterThan(0)
  })

  it('stops after the last item of a finite list, and counts 4xx answers as non-2xx', async () => {
    seen.length = 0
    let i = 0
    const spec: LoadSpec = {
      url,
      requests: [{ method: 'GET', path: '/', setupRequest: (q: autocannon.Request) => ({ ...q, path: `/missing/${i++}` }) } as autocannon.Request],
      exhausted: () => i >= 25
    }
    const r = await runWrk(WRK ?? '', spec, { url, connections: 1, seconds: 5, timeoutS: 5 })
    expect(r.requests).toBe(25)
    expect(r.non2xx).toBe(25)
    expect(seen.map(s => s.path)).toEqual(Array.from({ length: 25 }, (_, k) => `/missing/${k}`))
  })
})
