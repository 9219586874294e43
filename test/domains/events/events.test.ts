// The events feed: keyset pages of the caller's events, and the same events live over
// Server-Sent Events on a real HTTP connection — fed by the dispatcher's NOTIFY, resumed exactly
// after Last-Event-ID, scoped to the caller, bounded (per-user streams, lifetime), kept alive, and
// closed on revocation and on drain.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { bearer, expectProblem } from '../../helpers/app.js'
import { emit, eventually, org, staff, workerApp } from '../webhooks/fixtures.js'

let app: App
let base: string

beforeAll(async () => {
  app = await workerApp({ EVENTS_STREAM_MAX_PER_USER: 2, EVENTS_STREAM_HEARTBEAT_SECONDS: 1, SHUTDOWN_DRAIN_MS: 2000 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
})
afterAll(async () => { await app?.close() })

interface Frame { id?: string, event?: string, data?: string, comment?: string, retry?: string }

/** An EventSource-like reader: the frames as they arrive, the status, whether the server ended it. */
class Stream {
  frames: Frame[] = []
  status = 0
  headers: http.IncomingHttpHeaders = {}
  ended = false
  body = ''
  readonly #req: http.ClientRequest
  readonly #opened: Promise<void>
  #buffer = ''

  constructor (path: string, token: string, headers: Record<string, string> = {}) {
    let opened: () => void = () => {}
    this.#opened = new Promise(resolve => { opened = resolve })
    this.#req = http.get(`${base}${path}`, { headers: { accept: 'text/event-stream', ...bearer(token), ...headers } }, res => {
      this.status = res.statusCode ?? 0
      this.headers = res.headers
      opened()
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { this.body += chunk; this.#parse(chunk) })
      res.on('end', () => { this.ended = true })
      res.on('close', () => { this.ended = true })
    })
    this.#req.on('error', () => { this.ended = true; opened() })
  }

  #parse (chunk: string): void {
    this.#buffer += chunk
    let i: number
    while ((i = this.#buffer.indexOf('\n\n')) >= 0) {
      const block = this.#buffer.slice(0, i)
      this.#buffer = this.#buffer.slice(i + 2)
      const f: Frame = {}
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) f.comment = line.slice(1).trim()
        else {
          const at = line.indexOf(': ')
          const k = line.slice(0, at)
          if (k === 'id' || k === 'event' || k === 'data' || k === 'retry') f[k] = line.slice(at + 2)
        }
      }
      this.frames.push(f)
    }
  }

  async opened (): Promise<this> { await this.#opened; return this }
  events (): Array<{ seq: number, type: string, data: { id: number, sequence: number, type: string, data: Record<string, unknown> } }> {
    return this.frames.filter(f => f.event !== undefined).map(f => ({ seq: Number(f.id), type: f.event as string, data: JSON.parse(f.data as string) }))
  }

  async until (predicate: (s: this) => boolean, ms = 8000): Promise<void> {
    await eventually(async () => predicate(this) ? true : undefined, ms)
  }

  close (): void { this.#req.destroy() }
}

const low = (stationId: string, n: number) => ({ type: 'stock.low', organizationIds: [stationId], payload: { stationId, n } })

describe('GET /v1/events', () => {
  it('pages the caller\'s events in feed order, after a sequence or a cursor, by type', async () => {
    const station = await org(app, 'STATION')
    const other = await org(app, 'STATION')
    await emit(app, [low(station.id, 1), low(other.id, 1), low(station.id, 2), { type: 'transfer.requested', organizationIds: [station.id, other.id], payload: { n: 3 } }, low(station.id, 4)])
    const all = await eventually(async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/events?limit=200', headers: bearer(station.token) })
      const items = res.json().items as Array<{ id: number, sequence: number, type: string, occurredAt: string, data: { n: number } }>
      return items.length === 4 ? items : undefined
    })
    expect(all.map(i => [i.type, i.data.n])).toEqual([['stock.low', 1], ['stock.low', 2], ['transfer.requested', 3], ['stock.low', 4]])
    expect(all.map(i => i.sequence)).toEqual([...all.map(i => i.sequence)].sort((x, y) => x - y))
    const firstPage = await app.inject({ method: 'GET', url: '/v1/events?limit=2', headers: bearer(station.token) })
    expect(firstPage.json().items.map((i: { id: number }) => i.id)).toEqual(all.slice(0, 2).map(i => i.id))
    const second = await app.inject({ method: 'GET', url: `/v1/events?limit=2&cursor=${firstPage.json().nextCursor as string}`, headers: bearer(station.token) })
    expect(second.json().items.map((i: { id: number }) => i.id)).toEqual(all.slice(2, 4).map(i => i.id))
    const after = await app.inject({ method: 'GET', url: `/v1/events?after=${all[1]!.sequence}`, headers: bearer(station.token) })
    expect(after.json().items.map((i: { id: number }) => i.id)).toEqual(all.slice(2).map(i => i.id))
    const typed = await app.inject({ method: 'GET', url: '/v1/events?type=transfer.requested&type=master_order.created', headers: bearer(station.token) })
    expect(typed.json().items.map((i: { data: { n: number } }) => i.data.n)).toEqual([3])
    expectProblem(await app.inject({ method: 'GET', url: '/v1/events?cursor=abc.def', headers: bearer(station.token) }), 400, 'INVALID_CURSOR')
    expectProblem(await app.inject({ method: 'GET', url: '/v1/events?type=user.password_reset_requested', headers: bearer(station.token) }), 400, 'VALIDATION_FAILED')
    expectProblem(await app.inject({ method: 'GET', url: '/v1/events?limit=201', headers: bearer(station.token) }), 400, 'VALIDATION_FAILED')
    expectProblem(await app.inject({ method: 'GET', url: '/v1/events' }), 401)
  })
})

describe('GET /v1/events/stream', () => {
  it('needs Accept: text/event-stream (406 otherwise)', async () => {
    const station = await org(app, 'STATION')
    const res = await app.inject({ method: 'GET', url: '/v1/events/stream', headers: bearer(station.token) })
    expectProblem(res, 406, 'NOT_ACCEPTABLE')
  })

  it('sends the caller\'s events live, in order, and resumes exactly after Last-Event-ID', async () => {
    const station = await org(app, 'STATION')
    const other = await org(app, 'STATION')
    const s1 = await new Stream('/v1/events/stream', station.token).opened()
    expect(s1.status).toBe(200)
    expect(s1.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(s1.headers['cache-control']).toBe('no-store')
    expect(s1.headers['x-request-id']).toBeTruthy()
    await s1.until(s => s.frames.some(f => f.retry !== undefined))
    await emit(app, [low(station.id, 1), low(other.id, 99), low(station.id, 2)])
    await emit(app, [low(station.id, 3)])
    await s1.until(s => s.events().length === 3)
    const got = s1.events()
    expect(got.map(e => e.data.data.n)).toEqual([1, 2, 3])
    expect(got.every(e => e.type === 'stock.low' && e.data.sequence === e.seq)).toBe(true)
    s1.close()

    // more while disconnected; the reconnection resumes after the second one
    await emit(app, [low(station.id, 4), low(other.id, 98), low(station.id, 5)])
    const s2 = await new Stream('/v1/events/stream', station.token, { 'last-event-id': String(got[1]!.seq) }).opened()
    await s2.until(s => s.events().length === 3)
    await emit(app, [low(station.id, 6)])
    await s2.until(s => s.events().length === 4)
    expect(s2.events().map(e => e.data.data.n)).toEqual([3, 4, 5, 6])
    // `after` does the same for clients that cannot set the header; type filters
    const s3 = await new Stream(`/v1/events/stream?after=${got[0]!.seq}&type=stock.low`, station.token).opened()
    await s3.until(s => s.events().length === 5)
    expect(s3.events().map(e => e.data.data.n)).toEqual([2, 3, 4, 5, 6])
    s2.close()
    s3.close()
    // the other station saw only its own, platform staff everything
    const admin = await staff(app, 'HANDLER')
    const s4 = await new Stream(`/v1/events/stream?after=${got[0]!.seq - 1}`, other.token).opened()
    const s5 = await new Stream(`/v1/events/stream?after=${got[0]!.seq - 1}&type=stock.low`, admin.token).opened()
    await s4.until(s => s.events().length === 2)
    await s5.until(s => s.events().filter(e => e.data.data.stationId === station.id || e.data.data.stationId === other.id).length === 8)
    expect(s4.events().map(e => e.data.data.n)).toEqual([99, 98])
    s4.close()
    s5.close()
  })

  it('at most EVENTS_STREAM_MAX_PER_USER at once (429), keep-alive comments, the lifetime asked for', async () => {
    const station = await org(app, 'STATION')
    const a = await new Stream('/v1/events/stream', station.token).opened()
    const b = await new Stream('/v1/events/stream?timeoutSeconds=1', station.token).opened()
    const c = await new Stream('/v1/events/stream', station.token).opened()
    expect([a.status, b.status]).toEqual([200, 200])
    await c.until(s => s.ended)
    expect(c.status).toBe(429)
    expect(JSON.parse(c.body)).toMatchObject({ code: 'RATE_LIMITED' })
    await a.until(s => s.frames.some(f => f.comment === 'keep-alive'), 5000)
    const t0 = Date.now()
    await b.until(s => s.ended, 3000)
    expect(Date.now() - t0).toBeLessThan(2000)
    // b's slot is free again
    const d = await new Stream('/v1/events/stream', station.token).opened()
    expect(d.status).toBe(200)
    a.close()
    d.close()
  })

  it('ends when the caller\'s tokens are revoked', async () => {
    const station = await org(app, 'STATION')
    const s = await new Stream('/v1/events/stream', station.token).opened()
    expect(s.status).toBe(200)
    const out = await app.inject({ method: 'POST', url: '/v1/auth/logout-all', headers: bearer(station.token), payload: {} })
    expect(out.statusCode, out.body).toBe(204)
    await s.until(x => x.ended, 5000)
  })
})

describe('on drain', () => {
  it('every stream ends at once and new ones are refused', async () => {
    const [x, y] = await Promise.all([org(app, 'STATION'), org(app, 'SUPPLIER')])
    const streams = await Promise.all([x, y].map(async o => await new Stream('/v1/events/stream', o.token).opened()))
    const t0 = Date.now()
    const drained = app.drain(2000)
    for (const s of streams) await s.until(z => z.ended, 3000)
    expect(Date.now() - t0).toBeLessThan(1500)
    const late = await app.inject({ method: 'GET', url: '/v1/events/stream', headers: { ...bearer(x.token), accept: 'text/event-stream' } })
    expect(late.statusCode).toBe(503)
    await drained
  })
})
