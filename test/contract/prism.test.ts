// The service's answers agree with its OpenAPI document: Stoplight Prism, started in proxy mode
// from the document the service serves, sits between this test and the service while the test
// drives the order flow (sign-in → cart → checkout → confirm → ship → receive), a few reads,
// conditional requests, an idempotent replay and error cases. With `--errors=false` Prism forwards
// everything and lists what does not match the document in the `sl-violations` response header:
// every answer must come back without a response violation (media type, headers, body schema,
// status), and the requests this test sends on purpose as valid must have no request violation.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { createTestApp } from '../helpers/app.js'
import { DELIVERY_DATE, listen, orderParties, pdfForm, type OrderParties } from './fixture.js'

interface Violation { location: string[], severity: string, code?: string | number, message: string }
interface Exchange { label: string, status: number, headers: Headers, body: unknown, violations: Violation[] }

let app: App
let prism: ChildProcess | undefined
let dir: string
let service: string
let proxy: string
let parties: OrderParties
const exchanges: Exchange[] = []

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => { resolve(port) })
    })
  })
}

async function startPrism (document: string, upstream: string): Promise<string> {
  const port = await freePort()
  const bin = join(process.cwd(), 'node_modules', '.bin', 'prism')
  const child = spawn(bin, ['proxy', document, upstream, '--errors=false', '--cors=false', '--host', '127.0.0.1', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] })
  prism = child
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`Prism did not start:\n${output}`)) }, 60_000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (/listening on/i.test(output)) { clearTimeout(timer); resolve() }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`Prism exited (${String(code)}):\n${output}`)) })
  })
  return `http://127.0.0.1:${port}`
}

interface Call { token?: string, body?: unknown, form?: FormData, headers?: Record<string, string> }

/** One request through the proxy; its answer and Prism's violations are recorded. */
async function call (label: string, method: string, path: string, opts: Call = {}): Promise<Exchange> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) }
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`
  let body: string | FormData | undefined
  if (opts.form !== undefined) body = opts.form
  else if (opts.body !== undefined) { headers['content-type'] = 'application/json'; body = JSON.stringify(opts.body) }
  const res = await fetch(`${proxy}${path}`, { method, headers, body })
  const text = await res.text()
  const raw = res.headers.get('sl-violations')
  const violations = raw === null ? [] : JSON.parse(raw.replace(/^Too many violations! /, '')) as Violation[]
  const exchange: Exchange = { label, status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text), violations }
  exchanges.push(exchange)
  return exchange
}

const responseViolations = (e: Exchange): string[] =>
  e.violations.filter(v => v.location[0] === 'response').map(v => `${e.label} (${e.status}): ${v.location.join('.')} ${v.message}`)
const requestViolations = (e: Exchange): string[] =>
  e.violations.filter(v => v.location[0] === 'request').map(v => `${e.label}: ${v.location.join('.')} ${v.message}`)

function json<T> (e: Exchange, status: number): T {
  expect(e.status, `${e.label}: ${JSON.stringify(e.body)}`).toBe(status)
  return e.body as T
}

beforeAll(async () => {
  app = await createTestApp()
  parties = await orderParties(app)
  service = await listen(app)
  dir = await mkdtemp(join(tmpdir(), 'ge-prism-'))
  const document = join(dir, 'openapi.json')
  await writeFile(document, JSON.stringify(app.swagger()))
  proxy = await startPrism(document, service)
}, 120_000)

afterAll(async () => {
  prism?.kill('SIGTERM')
  await app?.close()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

describe('the order flow through a validating proxy (Prism) built from /openapi.json', () => {
  it('answers every request as the document says', async () => {
    const { stationId, supplierId, articleId } = parties
    // sign-in and the caller
    const st = json<{ accessToken: string }>(await call('login (station)', 'POST', '/v1/auth/login', { body: parties.station }), 200).accessToken
    const su = json<{ accessToken: string }>(await call('login (supplier)', 'POST', '/v1/auth/login', { body: parties.supplier }), 200).accessToken
    json(await call('me', 'GET', '/v1/me', { token: st }), 200)

    // catalog reads
    json(await call('article', 'GET', `/v1/articles/${articleId}`, { token: st }), 200)
    json(await call('offers (station)', 'GET', `/v1/offers?articleId=${articleId}`, { token: st }), 200)
    json(await call('offers (supplier)', 'GET', `/v1/offers?supplierId=${supplierId}`, { token: su }), 200)
    json(await call('suppliers (station)', 'GET', '/v1/suppliers?limit=5', { token: st }), 200)
    json(await call('station', 'GET', `/v1/stations/${stationId}`, { token: st }), 200)

    // the cart
    json(await call('empty cart', 'GET', `/v1/stations/${stationId}/cart`, { token: st }), 200)
    const added = await call('add a line', 'POST', `/v1/stations/${stationId}/cart/lines`, { token: st, body: { articleId, supplierId, packs: 10, desiredDeliveryDate: DELIVERY_DATE, note: null } })
    const cart = json<{ lines: Array<{ id: string }> }>(added, 201)
    const lineId = cart.lines[0]?.id as string
    expect(added.headers.get('location')).toBe(`/v1/stations/${stationId}/cart/lines/${lineId}`)
    json(await call('change a line', 'PATCH', `/v1/stations/${stationId}/cart/lines/${lineId}`, { token: st, body: { packs: 12 } }), 200)

    // checkout, and its replay
    const key = randomUUID()
    const placed = await call('checkout', 'POST', `/v1/stations/${stationId}/cart/checkout`, { token: st, body: {}, headers: { 'idempotency-key': key } })
    const mo = json<{ id: string, purchaseOrders: Array<{ id: string, lines: Array<{ id: string }> }> }>(placed, 201)
    expect(placed.headers.get('location')).toBe(`/v1/master-orders/${mo.id}`)
    const replay = await call('checkout replay', 'POST', `/v1/stations/${stationId}/cart/checkout`, { token: st, body: {}, headers: { 'idempotency-key': key } })
    json(replay, 201)
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    expect(replay.headers.get('location')).toBe(`/v1/master-orders/${mo.id}`)
    const po = mo.purchaseOrders[0] as { id: string, lines: Array<{ id: string }> }

    // order reads, conditional
    json(await call('master order', 'GET', `/v1/master-orders/${mo.id}`, { token: st }), 200)
    json(await call('master orders', 'GET', '/v1/master-orders?limit=10', { token: st }), 200)
    const read = await call('purchase order (station)', 'GET', `/v1/purchase-orders/${po.id}`, { token: st })
    json(read, 200)
    const etag = read.headers.get('etag') as string
    expect(etag).toMatch(/^"/)
    expect((await call('purchase order, not modified', 'GET', `/v1/purchase-orders/${po.id}`, { token: st, headers: { 'if-none-match': etag } })).status).toBe(304)
    json(await call('purchase orders (supplier)', 'GET', '/v1/purchase-orders?status=PLACED&include=lines', { token: su }), 200)

    // the supplier confirms and ships, the station receives
    const lines = po.lines.map(l => ({ lineId: l.id, confirmedDeliveryDate: DELIVERY_DATE }))
    json(await call('confirm', 'POST', `/v1/purchase-orders/${po.id}/confirm`, { token: su, body: { lines }, headers: { 'if-match': etag } }), 200)
    const note = json<{ id: string }>(await call('upload a delivery note', 'POST', '/v1/documents', { token: su, form: pdfForm('DELIVERY_NOTE') }), 201)
    json(await call('document', 'GET', `/v1/documents/${note.id}`, { token: su }), 200)
    json(await call('ship', 'POST', `/v1/purchase-orders/${po.id}/ship`, { token: su, body: { carrier: 'Geodis', trackingNumber: 'GEO-1', deliveryNoteDocumentId: note.id } }), 200)
    const signed = json<{ id: string }>(await call('upload the signed note', 'POST', '/v1/documents', { token: st, form: pdfForm('SIGNED_DELIVERY_NOTE') }), 201)
    json(await call('receive', 'POST', `/v1/purchase-orders/${po.id}/receive`, { token: st, body: { signedDeliveryNoteDocumentId: signed.id, lines: po.lines.map(l => ({ lineId: l.id, packsReceived: 12, discrepancy: null })) } }), 200)
    json(await call('purchase order (supplier)', 'GET', `/v1/purchase-orders/${po.id}`, { token: su }), 200)
    json(await call('status history', 'GET', `/v1/purchase-orders/${po.id}/events`, { token: st }), 200)

    json(await call('stock level', 'GET', `/v1/stations/${stationId}/stock/${articleId}`, { token: st }), 200)
    json(await call('stock movements', 'GET', `/v1/stations/${stationId}/stock-movements?articleId=${articleId}`, { token: st }), 200)

    // platform staff
    const ad = json<{ accessToken: string }>(await call('login (admin)', 'POST', '/v1/auth/login', { body: parties.admin }), 200).accessToken
    json(await call('purchase order (admin)', 'GET', `/v1/purchase-orders/${po.id}`, { token: ad }), 200)
    json(await call('master orders (admin)', 'GET', '/v1/master-orders?limit=5', { token: ad }), 200)
    json(await call('settings', 'GET', '/v1/settings', { token: ad }), 200)
    json(await call('users', 'GET', '/v1/users?limit=5', { token: ad }), 200)
    json(await call('station groups', 'GET', '/v1/station-groups?limit=5', { token: ad }), 200)
    json(await call('suppliers (admin)', 'GET', `/v1/suppliers/${supplierId}`, { token: ad }), 200)
    json(await call('contracts', 'GET', '/v1/contracts?limit=5', { token: ad }), 200)
    json(await call('audit events', 'GET', '/v1/audit-events?limit=20', { token: ad }), 200)

    // error answers are problem details the document declares
    expect((await call('unknown order', 'GET', `/v1/purchase-orders/${randomUUID()}`, { token: st })).status).toBe(404)
    expect((await call('a second confirm', 'POST', `/v1/purchase-orders/${po.id}/confirm`, { token: su, body: { lines } })).status).toBe(409)
    expect((await call('stale If-Match', 'POST', `/v1/purchase-orders/${po.id}/close`, { token: st, body: {}, headers: { 'if-match': '"1"' } })).status).toBe(412)
    json(await call('the next cart', 'GET', `/v1/stations/${stationId}/cart`, { token: st }), 200)
    expect((await call('checkout of an empty cart', 'POST', `/v1/stations/${stationId}/cart/checkout`, { token: st, body: {}, headers: { 'idempotency-key': randomUUID() } })).status).toBe(422)
    expect((await call('a supplier reading a cart', 'GET', `/v1/stations/${stationId}/cart`, { token: su })).status).toBe(403)
    expect((await call('no token', 'GET', '/v1/me')).status).toBe(401)
    expect((await call('bad credentials', 'POST', '/v1/auth/login', { body: { email: parties.station.email, password: 'not the password at all' } })).status).toBe(401)
    expect((await call('invalid body', 'POST', `/v1/stations/${stationId}/cart/lines`, { token: st, body: { articleId, supplierId, packs: 0, desiredDeliveryDate: DELIVERY_DATE } })).status).toBe(400)

    // (Prism does validate: the request sent invalid on purpose is reported)
    expect(requestViolations(exchanges.find(e => e.label === 'invalid body') as Exchange).join('\n')).toMatch(/packs/)
    const failures = exchanges.flatMap(responseViolations)
    expect(failures).toEqual([])
    // the requests meant to be valid are valid against the document too
    const meantInvalid = new Set(['no token', 'invalid body', 'bad credentials'])
    expect(exchanges.filter(e => !meantInvalid.has(e.label)).flatMap(requestViolations)).toEqual([])
    expect(exchanges.every(e => e.headers.get('x-request-id') !== null)).toBe(true)
  }, 120_000)
})
