// The open cart: lines CRUD, the live quote with every problem code, scope, If-Match, and a
// constant number of queries whatever the number of lines.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CamelCasePlugin, Kysely, PostgresDialect, sql } from 'kysely'
import type { App } from '../../../src/lib/route.js'
import type { Database } from '../../../src/db/schema.js'
import { createPool } from '../../../src/db/index.js'
import { getCart } from '../../../src/domains/carts/carts.service.js'
import { bearer, countAudit, createTestApp, expectProblem, tokenFor } from '../../helpers/app.js'
import { createArticle, createContract, createOffer } from '../../helpers/factories.js'
import { testDatabaseUrl } from '../../helpers/db.js'
import { addLine, FAR_DATE, get, offeredArticle, staff, station, supplier, type Party } from '../orders/fixtures.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const cartUrl = (stationId: string) => `/v1/stations/${stationId}/cart`
const daysFromToday = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10)

describe('cart lines', () => {
  let st: Party, sup: Party
  beforeAll(async () => { st = await station(app); sup = await supplier(app) })

  it('creates the cart on first read, once', async () => {
    const s = await station(app)
    const [r1, r2] = await Promise.all([get(app, s.token, cartUrl(s.id)), get(app, s.token, cartUrl(s.id))])
    expect(r1.statusCode).toBe(200)
    expect(r1.json().id).toBe(r2.json().id)
    expect(r1.json()).toMatchObject({ stationId: s.id, status: 'OPEN', lines: [], totals: { net: '0.00', vat: '0.00', gross: '0.00', currency: 'EUR' } })
    expect(r1.headers.etag).toBe(`"${String(r1.json().version)}"`)
  })

  it('adds, changes and removes lines; one line per article × supplier', async () => {
    const { articleId } = await offeredArticle(app, sup.id, { catalogPackPrice: '10.0000' })
    const before = await countAudit(app, { action: 'cart.add_line' })
    const added = await addLine(app, st.token, st.id, { articleId, supplierId: sup.id, packs: 4, note: 'urgent' })
    expect(added.statusCode, added.body).toBe(201)
    expect(await countAudit(app, { action: 'cart.add_line' })).toBe(before + 1)
    const line = added.json().lines[0]
    expect(line).toMatchObject({ articleId, supplierId: sup.id, packs: 4, note: 'urgent', priceSource: 'CATALOG', stationPackPrice: '10.8000', lineNet: '43.20', problems: [] })

    expectProblem(await addLine(app, st.token, st.id, { articleId, supplierId: sup.id, packs: 1 }), 409, 'CART_LINE_DUPLICATE')

    const patched = await app.inject({ method: 'PATCH', url: `${cartUrl(st.id)}/lines/${String(line.id)}`, headers: bearer(st.token), payload: { packs: 6, note: null } })
    expect(patched.statusCode, patched.body).toBe(200)
    expect(patched.json().lines[0]).toMatchObject({ packs: 6, note: null, lineNet: '64.80' })

    const other = await offeredArticle(app, sup.id)
    await addLine(app, st.token, st.id, { articleId: other.articleId, supplierId: sup.id, packs: 1 })
    const del = await app.inject({ method: 'DELETE', url: `${cartUrl(st.id)}/lines/${String(line.id)}`, headers: bearer(st.token) })
    expect(del.statusCode).toBe(200)
    expect(del.json().lines.map((l: { articleId: string }) => l.articleId)).toEqual([other.articleId])
    expectProblem(await app.inject({ method: 'DELETE', url: `${cartUrl(st.id)}/lines/${String(line.id)}`, headers: bearer(st.token) }), 404, 'NOT_FOUND')

    const cleared = await app.inject({ method: 'DELETE', url: `${cartUrl(st.id)}/lines`, headers: bearer(st.token) })
    expect(cleared.statusCode).toBe(200)
    expect(cleared.json().lines).toEqual([])
  })

  it('refuses a pair without an offer, and inactive articles/suppliers/offers, with 422', async () => {
    const lonely = await createArticle(app.db)
    expectProblem(await addLine(app, st.token, st.id, { articleId: lonely.id, supplierId: sup.id, packs: 1 }), 422, 'REFERENCE_NOT_FOUND')
    expectProblem(await addLine(app, st.token, st.id, { articleId: randomUUID(), supplierId: randomUUID(), packs: 1 }), 422, 'REFERENCE_NOT_FOUND')
    const inactive = await offeredArticle(app, sup.id, { isActive: false })
    expectProblem(await addLine(app, st.token, st.id, { articleId: inactive.articleId, supplierId: sup.id, packs: 1 }), 422, 'OFFER_INACTIVE')
    const art = await createArticle(app.db, { isActive: false })
    await createOffer(app.db, art.id, sup.id)
    expectProblem(await addLine(app, st.token, st.id, { articleId: art.id, supplierId: sup.id, packs: 1 }), 422, 'ARTICLE_INACTIVE')
  })

  it('validates the body (unknown fields, packs ≥ 1, dates)', async () => {
    const { articleId } = await offeredArticle(app, sup.id)
    expectProblem(await app.inject({ method: 'POST', url: `${cartUrl(st.id)}/lines`, headers: bearer(st.token), payload: { articleId, supplierId: sup.id, packs: 1, desiredDeliveryDate: FAR_DATE, price: '1.00' } }), 400, 'VALIDATION_FAILED')
    expectProblem(await addLine(app, st.token, st.id, { articleId, supplierId: sup.id, packs: 0 }), 400, 'VALIDATION_FAILED')
    expectProblem(await addLine(app, st.token, st.id, { articleId, supplierId: sup.id, packs: 1, desiredDeliveryDate: '2026-13-45' }), 400, 'VALIDATION_FAILED')
    expectProblem(await app.inject({ method: 'PATCH', url: `${cartUrl(st.id)}/lines/${randomUUID()}`, headers: bearer(st.token), payload: {} }), 400, 'VALIDATION_FAILED')
  })

  it('honours If-Match with the cart version', async () => {
    const s = await station(app)
    const { articleId } = await offeredArticle(app, sup.id)
    const cart = await get(app, s.token, cartUrl(s.id))
    const etag = String(cart.headers.etag)
    const ok = await app.inject({ method: 'POST', url: `${cartUrl(s.id)}/lines`, headers: { ...bearer(s.token), 'if-match': etag }, payload: { articleId, supplierId: sup.id, packs: 1, desiredDeliveryDate: FAR_DATE } })
    expect(ok.statusCode).toBe(201)
    const stale = await app.inject({ method: 'DELETE', url: `${cartUrl(s.id)}/lines`, headers: { ...bearer(s.token), 'if-match': etag } })
    expectProblem(stale, 412, 'PRECONDITION_FAILED')
    expect((await get(app, s.token, cartUrl(s.id))).json().lines).toHaveLength(1)
  })
})

describe('cart scope', () => {
  it('lets staff in, keeps suppliers out (403) and other stations out (404)', async () => {
    const st = await station(app)
    const other = await station(app)
    const sup = await supplier(app)
    const h = await staff(app, 'MANAGER')
    const { articleId } = await offeredArticle(app, sup.id)
    expect((await addLine(app, h.token, st.id, { articleId, supplierId: sup.id, packs: 2 })).statusCode).toBe(201)
    const asStaff = (await get(app, h.token, cartUrl(st.id))).json()
    expect(asStaff.lines[0]).toMatchObject({ supplierPackPrice: '10.0000', stationPackPrice: '10.8000', feePct: '8.00', supplierLineNet: '20.00' })
    expect(asStaff.supplierTotals).toMatchObject({ net: '20.00' })
    const asStation = (await get(app, st.token, cartUrl(st.id))).json()
    expect(asStation.id).toBe(asStaff.id)
    for (const f of ['supplierPackPrice', 'feePct', 'supplierLineNet']) expect(asStation.lines[0][f]).toBeUndefined()
    expect(asStation.supplierTotals).toBeUndefined()

    expectProblem(await get(app, sup.token, cartUrl(st.id)), 403, 'FORBIDDEN')
    expectProblem(await addLine(app, sup.token, st.id, { articleId, supplierId: sup.id, packs: 2 }), 403, 'FORBIDDEN')
    expectProblem(await get(app, other.token, cartUrl(st.id)), 404, 'NOT_FOUND')
    const before = await countAudit(app)
    expectProblem(await addLine(app, other.token, st.id, { articleId, supplierId: sup.id, packs: 2 }), 404, 'NOT_FOUND')
    expectProblem(await app.inject({ method: 'DELETE', url: `${cartUrl(st.id)}/lines`, headers: bearer(other.token) }), 404, 'NOT_FOUND')
    expect(await countAudit(app)).toBe(before)
    expect((await get(app, st.token, cartUrl(st.id))).json().lines).toHaveLength(1)
    expectProblem(await get(app, h.token, cartUrl(randomUUID())), 404, 'NOT_FOUND')
  })
})

describe('live quote', () => {
  it('reports every problem code on its line', async () => {
    const st = await station(app)
    const sup = await supplier(app)
    const sup2 = await supplier(app)
    const token = st.token
    const moq = await offeredArticle(app, sup.id, { moqPacks: 10 })
    const mult = await offeredArticle(app, sup.id, { packMultiple: 6 })
    const lead = await offeredArticle(app, sup.id, { leadTimeDays: 10 })
    const artOff = await offeredArticle(app, sup.id)
    const offOff = await offeredArticle(app, sup.id)
    const supOff = await offeredArticle(app, sup2.id)
    const capped = await offeredArticle(app, sup.id)
    const noPrice = await offeredArticle(app, sup.id)
    await createContract(app.db, sup.id, [{ articleId: capped.articleId, packPrice: '5.0000', committedPacks: 10, allowancePct: '10.00' }])
    const lines: Array<[string, string, number, string]> = [
      [moq.articleId, sup.id, 9, FAR_DATE],
      [mult.articleId, sup.id, 8, FAR_DATE],
      [lead.articleId, sup.id, 1, daysFromToday(3)],
      [artOff.articleId, sup.id, 1, FAR_DATE],
      [offOff.articleId, sup.id, 1, FAR_DATE],
      [supOff.articleId, sup2.id, 1, FAR_DATE],
      [capped.articleId, sup.id, 12, FAR_DATE],
      [noPrice.articleId, sup.id, 1, FAR_DATE]
    ]
    for (const [articleId, supplierId, packs, desiredDeliveryDate] of lines) {
      const r = await addLine(app, token, st.id, { articleId, supplierId, packs, desiredDeliveryDate })
      expect(r.statusCode, r.body).toBe(201)
    }
    // things change after the lines were added
    await app.db.updateTable('articles').set({ isActive: false }).where('id', '=', artOff.articleId).execute()
    await app.db.updateTable('offers').set({ isActive: false }).where('id', '=', offOff.offerId).execute()
    await app.db.updateTable('suppliers').set({ isActive: false }).where('id', '=', sup2.id).execute()
    await sql`UPDATE settings SET allow_catalog_fallback = false`.execute(app.db)
    try {
      const cart = (await get(app, token, cartUrl(st.id))).json()
      const codes = cart.lines.map((l: { problems: Array<{ code: string }> }) => l.problems.map(p => p.code).sort())
      expect(codes).toEqual([
        ['BELOW_MOQ', 'NO_CONTRACT_PRICE'],
        ['NOT_A_MULTIPLE', 'NO_CONTRACT_PRICE'],
        ['DELIVERY_DATE_TOO_EARLY', 'NO_CONTRACT_PRICE'],
        ['ARTICLE_INACTIVE', 'NO_CONTRACT_PRICE'],
        ['NO_CONTRACT_PRICE', 'OFFER_INACTIVE'],
        ['NO_CONTRACT_PRICE', 'OFFER_INACTIVE', 'SUPPLIER_INACTIVE'],
        ['CONTRACT_CAP_EXCEEDED'],
        ['NO_CONTRACT_PRICE']
      ])
      expect(cart.lines[0]).toMatchObject({ priceSource: null, stationPackPrice: null, lineNet: null })
      expect(cart.lines[6]).toMatchObject({ priceSource: 'CONTRACT', stationPackPrice: '5.4000', lineNet: '64.80' })
      expect(cart.lines[6].problems[0].detail).toContain('11 remaining')
      // totals cover the priced lines only
      expect(cart.totals).toEqual({ net: '64.80', vat: '12.96', gross: '77.76', currency: 'EUR' })
    } finally {
      await sql`UPDATE settings SET allow_catalog_fallback = true`.execute(app.db)
    }
  })

  it('accepts a delivery date exactly at today + lead time', async () => {
    const st = await station(app)
    const sup = await supplier(app)
    const lead = await offeredArticle(app, sup.id, { leadTimeDays: 5 })
    const r = await addLine(app, st.token, st.id, { articleId: lead.articleId, supplierId: sup.id, packs: 1, desiredDeliveryDate: daysFromToday(5) })
    expect(r.statusCode, r.body).toBe(201)
    expect(r.json().lines[0].problems).toEqual([])
  })

  it('reads the cart in a constant number of queries whatever the number of lines', async () => {
    const pool = createPool({ connectionString: await testDatabaseUrl(), poolSize: 2, statementTimeoutMs: 10_000, connectTimeoutMs: 5_000 })
    let queries = 0
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new CamelCasePlugin()], log: e => { if (e.level === 'query') queries++ } })
    try {
      const count = async (n: number): Promise<number> => {
        const st = await station(app)
        const sup = await supplier(app)
        for (let i = 0; i < n; i++) {
          const { articleId } = await offeredArticle(app, sup.id)
          const r = await addLine(app, st.token, st.id, { articleId, supplierId: sup.id, packs: 1 })
          expect(r.statusCode, r.body).toBe(201)
        }
        const actor = { userId: st.userId, role: 'STATION' as const, organizationId: st.id, organizationKind: 'STATION' as const }
        queries = 0
        const cart = await getCart(db, actor, st.id)
        expect(cart.lines).toHaveLength(n)
        return queries
      }
      expect(await count(2)).toBe(await count(25))
    } finally {
      await db.destroy()
    }
  })

  it('refuses an unknown station id format with 400 and an unauthenticated caller with 401', async () => {
    expectProblem(await app.inject({ method: 'GET', url: '/v1/stations/not-a-uuid/cart', headers: bearer(tokenFor(app, { role: 'ADMIN' })) }), 400)
    expectProblem(await app.inject({ method: 'GET', url: cartUrl(randomUUID()) }), 401)
  })
})
