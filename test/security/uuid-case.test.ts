// UUIDs are case-insensitive on input (RFC 9562 §4: "… MUST be treated as case insensitive on
// input"): the `uuid` format accepts upper case, so every request id is lower-cased once, at
// validation (src/lib/uuid-case.ts), and the services that compare ids as strings (own station,
// duplicate lines, known-article maps) see the canonical form. Upper-case ids must get exactly the
// answers the lower-case ones get, and nothing else is lower-cased.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { createValidators } from '../../src/app.js'
import { Uuid } from '../../src/lib/schemas.js'
import { withUuidCase } from '../../src/lib/uuid-case.js'
import { Type } from '@sinclair/typebox'
import { bearer, createTestApp, expectProblem } from '../helpers/app.js'
import { adjust, articles, count, get, patch, station, stockUrl } from '../domains/stock/helpers.js'
import { createTransfer, network, transferIn } from '../domains/transfers/fixtures.js'
import { addLine, offeredArticle, supplier } from '../domains/orders/fixtures.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const up = (id: string): string => id.toUpperCase()

describe('upper-case UUIDs are the same ids', () => {
  it('stock writes: own station in the path, articles in the body, duplicates across cases', async () => {
    const st = await station(app)
    const [x] = await articles(app, 1) as [string]
    const r1 = await adjust(app, st, up(st.id), [{ articleId: up(x), delta: 5 }])
    expect(r1.statusCode, r1.body).toBe(200)
    expect(r1.json()).toMatchObject({ stationId: st.id, changes: [{ articleId: x, before: 0, after: 5 }] })
    const r2 = await count(app, st, st.id, [{ articleId: up(x), counted: 3 }])
    expect(r2.statusCode, r2.body).toBe(200)
    expect(r2.json().changes[0]).toMatchObject({ articleId: x, before: 5, after: 3 })
    // the same article twice, once in each case, is a repeated line
    const dup = expectProblem(await adjust(app, st, st.id, [{ articleId: x, delta: 1 }, { articleId: up(x), delta: 1 }]), 400, 'VALIDATION_FAILED')
    expect(dup.errors).toEqual([expect.objectContaining({ pointer: '/lines/1/articleId' })])
    const t = await patch(app, st.token, stockUrl(up(st.id), `/${up(x)}`), { alertThreshold: 4 })
    expect(t.statusCode, t.body).toBe(200)
    expect(t.json()).toMatchObject({ stationId: st.id, articleId: x, alertThreshold: 4, low: true })
  })

  it('stock read: the own station named in upper case is read in full', async () => {
    const st = await station(app)
    const [x] = await articles(app, 1) as [string]
    await adjust(app, st, st.id, [{ articleId: x, delta: 2 }])
    const lower = await get(app, st.token, stockUrl(st.id, `/${x}`))
    const upper = await get(app, st.token, stockUrl(up(st.id), `/${up(x)}`))
    expect(upper.statusCode, upper.body).toBe(200)
    expect(upper.json()).toEqual(lower.json())
    expect(upper.json().movements).toHaveLength(1)
    expect(upper.headers.etag).toBe(lower.headers.etag)
    const ledger = await get(app, st.token, `/v1/stations/${up(st.id)}/stock-movements?articleId=${up(x)}`)
    expect(ledger.statusCode, ledger.body).toBe(200)
    expect(ledger.json().items).toHaveLength(1)
  })

  it('transfers: a station requests for itself in upper case; GET by an upper-case id', async () => {
    const n = await network(app, { articleCount: 1, stock: 50 })
    const [a] = n.articles as [string]
    const res = await createTransfer(app, n.req.token, { requestingStationId: up(n.req.id), sourceStationId: up(n.src.id), lines: [{ articleId: up(a), units: 3 }] })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json()).toMatchObject({ requestingStationId: n.req.id, sourceStationId: n.src.id, lines: [{ articleId: a, unitsRequested: 3 }] })
    // the requester and the source named alike in two cases are the same station
    expectProblem(await createTransfer(app, n.req.token, { sourceStationId: up(n.req.id), lines: [{ articleId: a, units: 3 }] }), 422, 'BUSINESS_RULE_VIOLATED')
    const t = await transferIn(app, n, 'REQUESTED')
    const byUpper = await get(app, n.src.token, `/v1/transfers/${up(t.id)}`)
    expect(byUpper.statusCode, byUpper.body).toBe(200)
    expect(byUpper.json().id).toBe(t.id)
    const listed = await get(app, n.req.token, `/v1/transfers?stationId=${up(n.src.id)}&side=source`)
    expect(listed.statusCode, listed.body).toBe(200)
    expect(listed.json().items.map((i: { id: string }) => i.id)).toContain(t.id)
  })

  it('carts: the own station and the line ids in upper case', async () => {
    const st = await station(app)
    const sup = await supplier(app)
    const { articleId } = await offeredArticle(app, sup.id)
    const cart = await get(app, st.token, `/v1/stations/${up(st.id)}/cart`)
    expect(cart.statusCode, cart.body).toBe(200)
    expect(cart.json().stationId).toBe(st.id)
    const added = await addLine(app, st.token, up(st.id), { articleId: up(articleId), supplierId: up(sup.id), packs: 2 })
    expect(added.statusCode, added.body).toBe(201)
    const line = added.json().lines[0]
    expect(line).toMatchObject({ articleId, supplierId: sup.id })
    // the same pair in the other case is the same line
    expectProblem(await addLine(app, st.token, st.id, { articleId, supplierId: sup.id, packs: 1 }), 409, 'CART_LINE_DUPLICATE')
    const del = await app.inject({ method: 'DELETE', url: `/v1/stations/${up(st.id)}/cart/lines/${up(String(line.id))}`, headers: bearer(st.token) })
    expect(del.statusCode, del.body).toBe(200)
  })

  it('forecasts: the own station in upper case', async () => {
    const st = await station(app)
    const [x] = await articles(app, 1) as [string]
    const put = await app.inject({ method: 'PUT', url: `/v1/stations/${up(st.id)}/forecasts`, headers: bearer(st.token), payload: { lines: [{ articleId: up(x), isoYear: 2030, isoWeek: 10, units: 7 }] } })
    expect(put.statusCode, put.body).toBe(200)
    expect(put.json()).toMatchObject({ stationId: st.id, inserted: 1 })
  })
})

describe('the normalization itself', () => {
  it('lower-cases only strings that are UUIDs, where the schema says uuid (the app compiles withUuidCase(schema))', () => {
    const { body, other } = createValidators()
    const schema = Type.Object({
      id: Uuid(),
      ids: Type.Array(Uuid()),
      either: Type.Union([Uuid(), Type.String({ maxLength: 10 })]),
      text: Type.String({ maxLength: 100 }),
      maybe: Type.Union([Uuid(), Type.Null()])
    })
    const U = 'ABCDEF01-2345-4789-ABCD-EF0123456789'
    const data = { id: U, ids: [U, U.toLowerCase()], either: 'ABC', text: U, maybe: U }
    expect(body.compile(withUuidCase(schema))(data)).toBe(true)
    expect(data).toEqual({ id: U.toLowerCase(), ids: [U.toLowerCase(), U.toLowerCase()], either: 'ABC', text: U, maybe: U.toLowerCase() })
    const q = { id: U }
    expect(other.compile(withUuidCase(Type.Object({ id: Uuid() })))(q)).toBe(true)
    expect(q.id).toBe(U.toLowerCase())
    // an invalid UUID is refused as before, untouched
    const bad = { id: 'ABCDEF01-2345-4789-ABCD-EF012345678Z', ids: [], either: 'x', text: '', maybe: null }
    expect(body.compile(withUuidCase(schema))(bad)).toBe(false)
    expect(bad.id).toBe('ABCDEF01-2345-4789-ABCD-EF012345678Z')
    // the schema objects themselves are not changed (the OpenAPI document is built from them)
    expect(JSON.stringify(schema)).not.toContain('uuidLowerCase')
  })

  it('leaves the OpenAPI document without the validation keyword', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' })
    expect(res.statusCode).toBe(200)
    expect(res.body).not.toContain('uuidLowerCase')
  })
})
