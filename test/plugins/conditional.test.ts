// Conditional requests and client aborts, from the black-box probe: a 304 carries no body length
// or type, If-None-Match: * matches any current representation, If-Match compares strongly (a weak
// validator is a 412), and a client hanging up mid-body is a client error, not a database outage.
import { createConnection } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { toAppError } from '../../src/plugins/errors.js'
import { bearer, createTestApp, expectProblem, tokenFor } from '../helpers/app.js'
import { createStation } from '../helpers/factories.js'
import { placeOrder } from '../domains/orders/fixtures.js'

let app: App
let admin: Record<string, string>
let stationId: string
let base: string
beforeAll(async () => {
  app = await createTestApp()
  base = await app.listen({ host: '127.0.0.1', port: 0 })
  admin = bearer(tokenFor(app, { role: 'ADMIN' }))
  stationId = (await createStation(app.db)).id
})
afterAll(async () => { await app.close() })

describe('conditional requests', () => {
  it('a 304 has no Content-Length or Content-Type of a body it does not send (over HTTP; the PO read sends JSON PostgreSQL wrote)', async () => {
    const { poId } = await placeOrder(app)
    const url = `${base}/v1/purchase-orders/${poId}`
    const first = await fetch(url, { headers: admin })
    const etag = String(first.headers.get('etag'))
    await first.text()
    const again = await fetch(url, { headers: { ...admin, 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    expect(again.headers.get('content-length')).toBeNull()
    expect(again.headers.get('content-type')).toBeNull()
    expect(again.headers.get('etag')).toBe(etag)
  })

  it('If-None-Match: * matches an existing resource', async () => {
    const res = await app.inject({ method: 'GET', url: `/v1/stations/${stationId}`, headers: { ...admin, 'if-none-match': '*' } })
    expect(res.statusCode).toBe(304)
  })

  it('If-Match compares strongly: a weak validator of the current version is a 412 and changes nothing', async () => {
    const current = await app.inject({ method: 'GET', url: `/v1/stations/${stationId}`, headers: admin })
    const etag = String(current.headers.etag)
    const weak = await app.inject({ method: 'PATCH', url: `/v1/stations/${stationId}`, headers: { ...admin, 'if-match': `W/${etag}` }, payload: { name: 'Weakly matched' } })
    expectProblem(weak, 412, 'PRECONDITION_FAILED')
    const after = await app.inject({ method: 'GET', url: `/v1/stations/${stationId}`, headers: admin })
    expect(after.headers.etag).toBe(etag)
    const strong = await app.inject({ method: 'PATCH', url: `/v1/stations/${stationId}`, headers: { ...admin, 'if-match': etag }, payload: { name: 'Strongly matched' } })
    expect(strong.statusCode, strong.body).toBe(200)
  })
})

describe('a client that hangs up mid-body', () => {
  it('is a 400-class client error, not SERVICE_UNAVAILABLE (it used to be logged as a database outage)', async () => {
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET', statusCode: 400 })
    const e = toAppError(aborted)
    expect(e.status).toBe(400)
    expect(e.code).toBe('MALFORMED_REQUEST')
  })

  it('over a real socket: the service keeps serving and logs no error', async () => {
    const socket = createConnection({ host: '127.0.0.1', port: Number(new URL(base).port) })
    socket.on('error', () => {})
    await new Promise(resolve => socket.once('connect', resolve))
    socket.write('POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":')
    await new Promise(resolve => setTimeout(resolve, 100))
    socket.destroy()
    await new Promise(resolve => setTimeout(resolve, 100))
    expect((await fetch(`${base}/health/live`)).status).toBe(200)
  })
})
