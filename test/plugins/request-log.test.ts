// Request logs: one line per request (Fastify's own logging wrote two), JSON unless development on
// a terminal, where pino-pretty prints it on one human-readable line.
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import type { App } from '../../src/lib/route.js'
import { prettyLogStream } from '../../src/plugins/request-log.js'
import { testDatabaseUrl } from '../helpers/db.js'

class Lines extends Writable {
  readonly lines: string[] = []
  override _write (chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString().split('\n')) if (line !== '') this.lines.push(line)
    done()
  }
}

async function appLogging (logRequests: boolean, out: Lines): Promise<App> {
  const url = await testDatabaseUrl()
  const config = loadConfig({}, { NODE_ENV: 'test', LOG_LEVEL: 'info', LOG_REQUESTS: logRequests, RATE_LIMIT_ENABLED: false, DATABASE_URL: url, MAX_EVENT_LOOP_DELAY_MS: 0 })
  const app = await buildApp({ config, connectionString: url, logger: { level: 'info', stream: out } })
  await app.ready()
  return app
}

describe('request log lines', () => {
  const out = new Lines()
  const quiet = new Lines()
  let app: App
  let silent: App
  beforeAll(async () => {
    app = await appLogging(true, out)
    silent = await appLogging(false, quiet)
  })
  afterAll(async () => { await app.close(); await silent.close() })

  it('writes exactly one JSON line per request: method, URL, status, time and request id', async () => {
    const before = out.lines.length
    await app.inject({ method: 'GET', url: '/health/live?probe=1', headers: { 'x-request-id': 'one-line-please' } })
    const written = out.lines.slice(before).map(l => JSON.parse(l) as Record<string, unknown>)
    expect(written).toHaveLength(1)
    const [line] = written
    expect(line).toMatchObject({ level: 30, msg: 'request completed', requestId: 'one-line-please', req: { method: 'GET', url: '/health/live?probe=1' }, res: { statusCode: 200 } })
    expect(typeof line?.responseTime).toBe('number')
    // errors too: one line for a 404 (its status in it)
    const mark = out.lines.length
    await app.inject({ method: 'GET', url: '/no/such/route' })
    const notFound = out.lines.slice(mark).map(l => JSON.parse(l) as { msg: string, res?: { statusCode: number } })
    expect(notFound.filter(l => l.msg === 'request completed')).toHaveLength(1)
    expect(notFound.find(l => l.msg === 'request completed')?.res?.statusCode).toBe(404)
    expect(notFound.filter(l => l.msg === 'incoming request')).toEqual([])
  })

  it('keeps redacting credentials in request lines', async () => {
    const before = out.lines.length
    await app.inject({ method: 'GET', url: '/health/live', headers: { authorization: 'Bearer secret-token-value' } })
    expect(out.lines.slice(before).join('\n')).not.toContain('secret-token-value')
  })

  it('writes none with LOG_REQUESTS=false', async () => {
    await silent.inject({ method: 'GET', url: '/health/live' })
    expect(quiet.lines.filter(l => l.includes('request completed') || l.includes('incoming request'))).toEqual([])
  })
})

describe('pretty development logs', () => {
  it('only in development, on a terminal or with LOG_PRETTY=true; LOG_PRETTY=false and every other environment keep JSON', async () => {
    expect(await prettyLogStream({ NODE_ENV: 'development', LOG_PRETTY: undefined }, true)).toBeDefined()
    expect(await prettyLogStream({ NODE_ENV: 'development', LOG_PRETTY: true }, false)).toBeDefined()
    expect(await prettyLogStream({ NODE_ENV: 'development', LOG_PRETTY: undefined }, false)).toBeUndefined()
    expect(await prettyLogStream({ NODE_ENV: 'development', LOG_PRETTY: false }, true)).toBeUndefined()
    expect(await prettyLogStream({ NODE_ENV: 'production', LOG_PRETTY: true }, true)).toBeUndefined()
    expect(await prettyLogStream({ NODE_ENV: 'test', LOG_PRETTY: true }, true)).toBeUndefined()
  })

  it('prints a request on one readable line, other entries with their message', async () => {
    const sink = new Lines()
    const transform = await prettyLogStream({ NODE_ENV: 'development', LOG_PRETTY: true }, false, sink)
    if (transform === undefined) throw new Error('no pretty stream')
    const printed: string[] = []
    const entry = { level: 30, time: Date.now(), pid: 1, hostname: 'h', requestId: 'r-1', req: { method: 'GET', url: '/v1/articles?limit=5', remoteAddress: '127.0.0.1' }, res: { statusCode: 200 }, responseTime: 3.1, msg: 'request completed' }
    transform.write(`${JSON.stringify(entry)}\n`)
    transform.write(`${JSON.stringify({ level: 40, time: Date.now(), pid: 1, hostname: 'h', msg: 'pool error', detail: 'x' })}\n`)
    await new Promise(resolve => setTimeout(resolve, 50))
    printed.push(...sink.lines)
    expect(printed).toHaveLength(2)
    expect(printed[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO.*GET \/v1\/articles\?limit=5 200 3\.1 ms.*requestId.*r-1/)
    expect(printed[0]).not.toContain('remoteAddress')
    expect(printed[1]).toMatch(/WARN.*pool error.*detail/)
  })
})
