// Regressions of issue 10 §3, one per input a black-box fuzz turned into a 500 or a leak: each
// is refused (400 with errors[]) or stored intact, never a 5xx, and a refusal changes nothing.
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { redactChanges } from '../../src/domains/audit/audit.service.js'
import { findMalformedText } from '../../src/plugins/http.js'
import { bearer, countAudit, createTestApp, expectProblem, tokenFor } from '../helpers/app.js'
import { createArticle, createStation, createSupplier, createUser } from '../helpers/factories.js'
import { offeredArticle, station } from '../domains/orders/fixtures.js'
import { encodeLoose } from './schema-arbitraries.js'

let app: App
let admin: string
let json: Record<string, string>
beforeAll(async () => {
  app = await createTestApp()
  admin = tokenFor(app, await createUser(app.db, 'ADMIN'))
  json = { ...bearer(admin), 'content-type': 'application/json' }
})
afterAll(async () => { await app.close() })

async function fullNameOf (id: string): Promise<string> {
  const r = await sql<{ name: string }>`SELECT full_name AS name FROM users WHERE id = ${id}`.execute(app.db)
  return r.rows[0]?.name ?? ''
}

describe('NUL characters', () => {
  it('in a JSON string: 400 with a pointer, nothing stored, no audit event', async () => {
    const u = await createUser(app.db, 'HANDLER', undefined, { fullName: 'Before' })
    const before = await countAudit(app)
    const res = await app.inject({ method: 'PATCH', url: `/v1/users/${u.userId}`, headers: json, payload: '{"fullName":"a\\u0000b"}' })
    const body = expectProblem(res, 400, 'VALIDATION_FAILED')
    expect(body.errors).toEqual([expect.objectContaining({ pointer: '/fullName', code: 'INVALID_TEXT' })])
    expect(await fullNameOf(u.userId)).toBe('Before')
    expect(await countAudit(app)).toBe(before)
  })

  it('in a nested string, an array item or an object key: 400 naming where', async () => {
    const st = await station(app)
    const { articleId } = await offeredArticle(app, (await createSupplier(app.db)).id)
    const cases: Array<[string, string, string]> = [
      ['POST', '/v1/contracts', '{"lines":[{"articleId":"x","packPrice":"1\\u0000"}]}'],
      ['POST', `/v1/stations/${st.id}/cart/lines`, `{"articleId":"${articleId}","note":"\\u0000"}`],
      ['POST', '/v1/articles', '{"a\\u0000":1}']
    ]
    const pointers = []
    for (const [method, url, payload] of cases) {
      const res = await app.inject({ method: method as 'POST', url, headers: json, payload })
      pointers.push((expectProblem(res, 400, 'VALIDATION_FAILED').errors as Array<{ pointer: string }>)[0]?.pointer)
    }
    expect(pointers).toEqual(['/lines/0/packPrice', '/note', '/a\uFFFD'])
  })

  it('in a query parameter or a path parameter: 400, never a database error', async () => {
    const body = expectProblem(await app.inject({ method: 'GET', url: '/v1/users?q=%00', headers: bearer(admin) }), 400, 'VALIDATION_FAILED')
    expect(body.errors).toEqual([expect.objectContaining({ pointer: '/q', code: 'INVALID_TEXT' })])
    for (const url of ['/v1/stations?q=a%00b', '/v1/articles?q=%00', '/v1/audit-events?entityType=%00', '/v1/users/%00']) {
      expectProblem(await app.inject({ method: 'GET', url, headers: bearer(admin) }), 400, 'VALIDATION_FAILED')
    }
  })
})

describe('unpaired UTF-16 surrogates', () => {
  it('in a field the audit event records: 400 instead of a 500 from the jsonb write; nothing changed', async () => {
    const a = await createArticle(app.db, { name: 'Barquette' })
    const before = await countAudit(app)
    for (const payload of ['{"name":"x\\ud800y"}', '{"name":"x\\udc00y"}', '{"description":"\\udfff\\ud800"}']) {
      const res = await app.inject({ method: 'PATCH', url: `/v1/articles/${a.id}`, headers: json, payload })
      expectProblem(res, 400, 'VALIDATION_FAILED')
    }
    const row = await sql<{ name: string, version: number }>`SELECT name, version FROM articles WHERE id = ${a.id}`.execute(app.db)
    expect(row.rows[0]).toEqual({ name: 'Barquette', version: 1 })
    expect(await countAudit(app)).toBe(before)
  })

  it('in a personal field: refused, not silently stored as U+FFFD', async () => {
    const u = await createUser(app.db, 'HANDLER', undefined, { fullName: 'Before' })
    expectProblem(await app.inject({ method: 'PATCH', url: `/v1/users/${u.userId}`, headers: json, payload: '{"fullName":"x\\ud800y"}' }), 400, 'VALIDATION_FAILED')
    expect(await fullNameOf(u.userId)).toBe('Before')
  })

  it('well-formed pairs (emoji, flags, families) and right-to-left text are stored exactly', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const name = '😀 👩‍👩‍👧‍👦 🇫🇷 \u202Eשלום مرحبا'
    const res = await app.inject({ method: 'PATCH', url: `/v1/users/${u.userId}`, headers: json, payload: JSON.stringify({ fullName: name }) })
    expect(res.statusCode, res.body).toBe(200)
    expect(await fullNameOf(u.userId)).toBe(name)
  })

  it('findMalformedText reports the first bad string, walks deep bodies without recursion, accepts pairs', () => {
    expect(findMalformedText({ a: ['ok', { b: 'x\uD83D' }] })).toBe('/a/1/b')
    expect(findMalformedText({ 'a/b~': '\u0000' })).toBe('/a~1b~0')
    expect(findMalformedText('\uDE00')).toBe('/')
    expect(findMalformedText({ a: '😀', b: ['🇫🇷', 1, null, true] })).toBeUndefined()
    let deep: unknown = '\u0000'
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(findMalformedText(deep)?.length).toBe(200_000)
  })

  it('percent-encoded in a query (invalid UTF-8 on the wire) is never a 5xx', async () => {
    for (const q of [encodeLoose('\uD800'), '%ED%A0%80%ED%B0%80', '%C0%80', '%FF', '%ZZ']) {
      const res = await app.inject({ method: 'GET', url: `/v1/users?q=${q}`, headers: bearer(admin) })
      expect(res.statusCode, `${q}: ${res.body}`).toBeLessThan(500)
    }
  })
})

describe('an emoji across the audit record\'s 500-character cut', () => {
  it('is cut by code point: the change succeeds and its audit event holds well-formed text', async () => {
    const sup = await createSupplier(app.db)
    const notes = 'a'.repeat(499) + '😀' + 'b'.repeat(100)
    const res = await app.inject({ method: 'POST', url: '/v1/contracts', headers: json, payload: { supplierId: sup.id, name: 'Accord', kind: 'ANNUAL', validFrom: '2026-01-01', validUntil: '2026-12-31', notes } })
    expect(res.statusCode, res.body).toBe(201)
    const id = (res.json() as { id: string }).id
    const ev = await sql<{ changes: { notes: string } }>`SELECT changes FROM audit_events WHERE entity_id = ${id} AND action = 'contract.create'`.execute(app.db)
    expect(ev.rows[0]?.changes.notes).toBe('a'.repeat(499) + '😀…')
    const row = await sql<{ notes: string }>`SELECT notes FROM contracts WHERE id = ${id}`.execute(app.db)
    expect(row.rows[0]?.notes).toBe(notes)
  })

  it('redactChanges counts code points: 500 emoji are kept whole, 501 are cut after the 500th', () => {
    expect(redactChanges('😀'.repeat(300))).toBe('😀'.repeat(300))
    expect(redactChanges('😀'.repeat(501))).toBe('😀'.repeat(500) + '…')
    expect(redactChanges({ notes: 'x'.repeat(499) + '🇫🇷' })).toEqual({ notes: 'x'.repeat(499) + '\uD83C\uDDEB…' })
  })
})

describe('dates PostgreSQL cannot store or the service cannot compute with', () => {
  it('year 0000 and years beyond the accepted range are 400 with a pointer, in bodies and queries', async () => {
    const sup = await createSupplier(app.db)
    const before = await countAudit(app)
    for (const [validFrom, validUntil] of [['0000-01-01', '2026-12-31'], ['2026-01-01', '9999-12-31'], ['1899-12-31', '2026-12-31'], ['2026-01-01', '3000-01-01']]) {
      const res = await app.inject({ method: 'POST', url: '/v1/contracts', headers: json, payload: { supplierId: sup.id, name: 'Accord', kind: 'ANNUAL', validFrom, validUntil } })
      const body = expectProblem(res, 400, 'VALIDATION_FAILED')
      const field = validFrom === '2026-01-01' ? '/validUntil' : '/validFrom'
      expect(body.errors).toEqual([{ pointer: field, code: 'INVALID_PATTERN', detail: `${field} must be a date from 1900-01-01 to 2999-12-31` }])
    }
    expect(await countAudit(app)).toBe(before)
    expectProblem(await app.inject({ method: 'GET', url: '/v1/purchase-orders?from=0000-01-01', headers: bearer(admin) }), 400, 'VALIDATION_FAILED')
  })

  it('a desired delivery date in year 0000 is refused before the cart changes', async () => {
    const st = await station(app)
    const sup = await createSupplier(app.db)
    const { articleId } = await offeredArticle(app, sup.id)
    const res = await app.inject({ method: 'POST', url: `/v1/stations/${st.id}/cart/lines`, headers: bearer(st.token), payload: { articleId, supplierId: sup.id, packs: 1, desiredDeliveryDate: '0000-01-01' } })
    const body = expectProblem(res, 400, 'VALIDATION_FAILED')
    expect(body.errors).toEqual([expect.objectContaining({ pointer: '/desiredDeliveryDate' })])
    const lines = await sql<{ n: number }>`SELECT count(*)::int AS n FROM cart_lines l JOIN carts c ON c.id = l.cart_id WHERE c.station_id = ${st.id}`.execute(app.db)
    expect(lines.rows[0]?.n).toBe(0)
  })

  it('the edges of the range are accepted', async () => {
    const sup = await createSupplier(app.db)
    const res = await app.inject({ method: 'POST', url: '/v1/contracts', headers: json, payload: { supplierId: sup.id, name: 'Accord', kind: 'MULTI_YEAR', validFrom: '1900-01-01', validUntil: '2999-12-31' } })
    expect(res.statusCode, res.body).toBe(201)
  })
})

describe('answers from outside the routes', () => {
  it('a path parameter longer than the router allows is 414 problem details', async () => {
    const res = await app.inject({ method: 'GET', url: `/v1/users/${'a'.repeat(300)}`, headers: { ...bearer(admin), 'x-request-id': 'long-param-1' } })
    const body = expectProblem(res, 414, 'URI_TOO_LONG')
    expect(body.requestId).toBe('long-param-1')
    expect(res.headers['x-request-id']).toBe('long-param-1')
  })

  it('a path that is not valid percent-encoding is 400 problem details', async () => {
    expectProblem(await app.inject({ method: 'GET', url: '/v1/users/%E0%A4%A', headers: bearer(admin) }), 400, 'MALFORMED_REQUEST')
  })

  it('headers beyond Node\'s limit (431) and malformed HTTP (400) are problem details on the socket', async () => {
    const server = await createTestApp()
    await server.listen({ port: 0, host: '127.0.0.1' })
    const port = (server.server.address() as AddressInfo).port
    const ask = async (headers: Record<string, string>, path = '/v1/me'): Promise<{ status: number, type: string, body: string }> => await new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers }, res => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', c => { body += c as string })
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }) })
      })
      req.on('error', reject)
      req.end()
    })
    try {
      const big = await ask({ 'x-padding': 'x'.repeat(20_000) })
      expect(big.status).toBe(431)
      expect(big.type).toBe('application/problem+json; charset=utf-8')
      expect(JSON.parse(big.body)).toMatchObject({ status: 431, code: 'HEADER_FIELDS_TOO_LARGE', requestId: expect.any(String) })
      const longUrl = await ask({}, `/v1/users?q=${'x'.repeat(20_000)}`)
      expect(longUrl.status).toBe(431)
      expect(longUrl.type).toContain('application/problem+json')
    } finally {
      await server.close()
    }
  })
})

describe('problem details never name constraints or tables', () => {
  it('a duplicate says which field, in API words', async () => {
    const st = await createStation(app.db)
    const res = await app.inject({ method: 'POST', url: '/v1/stations', headers: json, payload: { code: st.code, name: 'Another' } })
    const body = expectProblem(res, 409, 'DUPLICATE')
    expect(body.detail).toBe('A resource with the same code already exists')
    expect(res.body).not.toMatch(/_key|stations_|constraint/i)
  })

  it('a missing reference says which field, not the foreign key', async () => {
    const ghost = tokenFor(app, { role: 'ADMIN' }) // a user that does not exist: created_by cannot reference it
    const sup = await createSupplier(app.db)
    const res = await app.inject({ method: 'POST', url: '/v1/contracts', headers: { ...bearer(ghost), 'content-type': 'application/json' }, payload: { supplierId: sup.id, name: 'Accord', kind: 'ANNUAL', validFrom: '2026-01-01', validUntil: '2026-12-31' } })
    const body = expectProblem(res, 422, 'REFERENCE_NOT_FOUND')
    expect(body.detail).toBe('The resource referenced by createdBy does not exist')
    expect(res.body).not.toMatch(/_fkey|contracts_|table/i)
  })
})
