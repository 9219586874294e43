// Offers: the three price views on every endpoint, supplier scope and field limits, ETags.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { bearer, countAudit, createTestApp, expectProblem, tokenFor } from '../../helpers/app.js'
import { createArticle, createContract, createOffer, createStation, createSupplier } from '../../helpers/factories.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const send = async (method: 'GET' | 'POST' | 'PATCH', token: string, url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  await app.inject({ method, url, headers: { ...bearer(token), ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) })

const PLATFORM_ONLY = ['feePct', 'supplierPackPrice']
const SUPPLIER_FORBIDDEN = ['stationPackPrice', 'feePct', 'supplierPackPrice', 'priceSource']
const STATION_FORBIDDEN = ['catalogPackPrice', 'feePct', 'supplierPackPrice']

async function setup () {
  const s1 = await createSupplier(app.db)
  const s2 = await createSupplier(app.db)
  const art = await createArticle(app.db)
  const plain = await createArticle(app.db)
  const o1 = await createOffer(app.db, art.id, s1.id, { catalogPackPrice: '12.0000' })
  const o2 = await createOffer(app.db, art.id, s2.id, { catalogPackPrice: '11.0000' })
  const o3 = await createOffer(app.db, plain.id, s1.id, { catalogPackPrice: '20.0000' })
  // today s1 sells `art` under an ACTIVE contract at 10.0000 with a 5 % fee
  await createContract(app.db, s1.id, [{ articleId: art.id, packPrice: '10.0000' }], { feePct: '5.00' })
  const station = await createStation(app.db)
  return {
    s1,
    s2,
    art,
    plain,
    o1,
    o2,
    o3,
    admin: tokenFor(app, { role: 'ADMIN' }),
    sup1: tokenFor(app, { role: 'SUPPLIER', organizationId: s1.id }),
    station: tokenFor(app, { role: 'STATION', organizationId: station.id })
  }
}

describe('offer price views', () => {
  it('GET /v1/offers/{id}: staff see both sides and the fee; the supplier its catalog price; a station what it pays today', async () => {
    const x = await setup()
    const settings = await app.db.selectFrom('settings').select('defaultFeePct').executeTakeFirstOrThrow()
    const staff = (await send('GET', x.admin, `/v1/offers/${x.o1.id}`)).json()
    expect(staff).toMatchObject({ catalogPackPrice: '12.0000', supplierPackPrice: '10.0000', feePct: '5.00', stationPackPrice: '10.5000', priceSource: 'CONTRACT' })
    const sup = await send('GET', x.sup1, `/v1/offers/${x.o1.id}`)
    expect(sup.json()).toMatchObject({ catalogPackPrice: '12.0000' })
    for (const f of SUPPLIER_FORBIDDEN) expect(sup.json()).not.toHaveProperty(f)
    const st = await send('GET', x.station, `/v1/offers/${x.o1.id}`)
    expect(st.json()).toMatchObject({ stationPackPrice: '10.5000', priceSource: 'CONTRACT' })
    for (const f of STATION_FORBIDDEN) expect(st.json()).not.toHaveProperty(f)
    expect(st.body).not.toContain('12.0000')
    // no contract: catalog price plus the default fee
    const cat = (await send('GET', x.station, `/v1/offers/${x.o3.id}`)).json()
    expect(cat.priceSource).toBe('CATALOG')
    const expected = (await import('../../../src/lib/money.js')).stationPackPrice('20.0000', settings.defaultFeePct)
    expect(cat.stationPackPrice).toBe(expected)
    expect(st.headers.etag).toMatch(/^"1\.[A-Za-z0-9_-]+"$/)
    expect((await send('GET', x.station, `/v1/offers/${x.o1.id}`, undefined, { 'if-none-match': String(st.headers.etag) })).statusCode).toBe(304)
    // today's price is computed at read time: when it changes, the ETag does too (no stale 304)
    const e3 = String((await send('GET', x.station, `/v1/offers/${x.o3.id}`)).headers.etag)
    await app.db.updateTable('settings').set({ defaultFeePct: '9.50' }).execute()
    try {
      const changed = await send('GET', x.station, `/v1/offers/${x.o3.id}`, undefined, { 'if-none-match': e3 })
      expect(changed.statusCode).toBe(200)
      expect(changed.json().stationPackPrice).not.toBe(expected)
    } finally {
      await app.db.updateTable('settings').set({ defaultFeePct: settings.defaultFeePct }).execute()
    }
  })

  it('GET /v1/offers: views per item, supplier limited to its own, station to active offers', async () => {
    const x = await setup()
    await app.db.updateTable('offers').set({ isActive: false }).where('id', '=', x.o3.id).execute()
    const staff = (await send('GET', x.admin, `/v1/offers?articleId=${x.art.id}`)).json().items as Array<Record<string, unknown>>
    expect(staff).toHaveLength(2)
    for (const i of staff) for (const f of PLATFORM_ONLY) expect(i).toHaveProperty(f)
    const sup = (await send('GET', x.sup1, `/v1/offers?articleId=${x.art.id}`)).json().items as Array<Record<string, unknown>>
    expect(sup.map(i => i.id)).toEqual([x.o1.id])
    for (const i of sup) for (const f of SUPPLIER_FORBIDDEN) expect(i).not.toHaveProperty(f)
    expect((await send('GET', x.sup1, `/v1/offers?supplierId=${x.s2.id}`)).json().items).toEqual([])
    expect(((await send('GET', x.sup1, `/v1/offers?supplierId=${x.s1.id}`)).json().items as unknown[]).length).toBe(2)
    const st = (await send('GET', x.station, `/v1/offers?supplierId=${x.s1.id}`)).json().items as Array<Record<string, unknown>>
    expect(st.map(i => i.id)).toEqual([x.o1.id])
    for (const i of st) for (const f of STATION_FORBIDDEN) expect(i).not.toHaveProperty(f)
    expect((await send('GET', x.station, `/v1/offers?supplierId=${x.s1.id}&active=false`)).json().items).toEqual([])
    expectProblem(await send('GET', x.sup1, `/v1/offers/${x.o2.id}`), 404)
    expectProblem(await send('GET', x.station, `/v1/offers/${x.o3.id}`), 404)
  })

  it('pages offers by creation order without gaps or duplicates', async () => {
    const s = await createSupplier(app.db)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await createOffer(app.db, (await createArticle(app.db)).id, s.id)).id)
    const token = tokenFor(app, { role: 'HANDLER' })
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const body = (await send('GET', token, `/v1/offers?supplierId=${s.id}&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`)).json() as { items: Array<{ id: string }>, nextCursor: string | null }
      seen.push(...body.items.map(i => i.id))
      cursor = body.nextCursor
    } while (cursor !== null)
    expect(seen).toEqual(ids)
  })
})

describe('offer writes', () => {
  it('only staff create offers (suppliers 403, even for themselves); staff must name the supplier; duplicates are 409', async () => {
    const x = await setup()
    const art = await createArticle(app.db)
    const body = { articleId: art.id, supplierRef: 'CDV-B500', packLabel: 'carton de 600', unitsPerPack: 600, catalogPackPrice: '54.0000', moqPacks: 5 }
    const before = await countAudit(app)
    expectProblem(await send('POST', x.sup1, '/v1/offers', { ...body, supplierId: x.s2.id }), 403, 'FORBIDDEN')
    expectProblem(await send('POST', x.sup1, '/v1/offers', body), 403, 'FORBIDDEN')
    expectProblem(await send('POST', x.sup1, '/v1/offers', { ...body, supplierId: x.s1.id, unitsPerPack: 999 }), 403, 'FORBIDDEN')
    expectProblem(await send('POST', x.station, '/v1/offers', body), 403, 'FORBIDDEN')
    expectProblem(await send('POST', x.admin, '/v1/offers', body), 400, 'VALIDATION_FAILED')
    expect(await countAudit(app)).toBe(before)
    const mine = await send('POST', x.admin, '/v1/offers', { ...body, supplierId: x.s1.id })
    expect(mine.statusCode, mine.body).toBe(201)
    expect(mine.json()).toMatchObject({ supplierId: x.s1.id, catalogPackPrice: '54.0000', moqPacks: 5, packMultiple: 1, leadTimeDays: 0 })
    const asSupplier = await send('GET', x.sup1, `/v1/offers/${mine.json().id as string}`)
    for (const f of SUPPLIER_FORBIDDEN) expect(asSupplier.json()).not.toHaveProperty(f)
    expectProblem(await send('POST', x.admin, '/v1/offers', { ...body, supplierId: x.s1.id }), 409, 'DUPLICATE')
    const staff = await send('POST', x.admin, '/v1/offers', { ...body, supplierId: x.s2.id })
    expect(staff.statusCode).toBe(201)
    expect(staff.json()).toHaveProperty('feePct')
    for (const extra of [{ id: x.o1.id }, { version: 2 }, { stationPackPrice: '1.0000' }]) expectProblem(await send('POST', x.admin, '/v1/offers', { ...body, ...extra }), 400)
    expectProblem(await send('POST', x.admin, '/v1/offers', { ...body, supplierId: x.s2.id, articleId: '00000000-0000-4000-8000-000000000000' }), 422, 'REFERENCE_NOT_FOUND')
  })

  it('a supplier edits only price, reference, MOQ, multiple and lead time of its own offers', async () => {
    const x = await setup()
    const url = `/v1/offers/${x.o1.id}`
    const ok = await send('PATCH', x.sup1, url, { catalogPackPrice: '13.5000', leadTimeDays: 4, moqPacks: 2, packMultiple: 2, supplierRef: 'NEW-REF' }, { 'if-match': '"1"' })
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json()).toMatchObject({ catalogPackPrice: '13.5000', leadTimeDays: 4, version: 2 })
    for (const f of SUPPLIER_FORBIDDEN) expect(ok.json()).not.toHaveProperty(f)
    const bad = expectProblem(await send('PATCH', x.sup1, url, { catalogPackPrice: '1.0000', packLabel: 'x', isActive: false, unitsPerPack: 1 }), 400, 'VALIDATION_FAILED')
    expect((bad.errors as Array<{ pointer: string }>).map(e => e.pointer).sort()).toEqual(['/isActive', '/packLabel', '/unitsPerPack'])
    expectProblem(await send('PATCH', x.sup1, `/v1/offers/${x.o2.id}`, { catalogPackPrice: '0.0100' }), 404)
    expectProblem(await send('PATCH', x.station, url, { catalogPackPrice: '0.0100' }), 403)
    expectProblem(await send('PATCH', x.admin, url, { isActive: false }, { 'if-match': '"1"' }), 412, 'PRECONDITION_FAILED')
    expectProblem(await send('PATCH', x.admin, url, { articleId: x.plain.id }), 400)
    const row = await app.db.selectFrom('offers').select(['catalogPackPrice', 'packLabel', 'isActive', 'version']).where('id', '=', x.o1.id).executeTakeFirstOrThrow()
    expect(row).toEqual({ catalogPackPrice: '13.5000', packLabel: 'box of 100', isActive: true, version: 2 })
    const o2 = await app.db.selectFrom('offers').select('catalogPackPrice').where('id', '=', x.o2.id).executeTakeFirstOrThrow()
    expect(o2.catalogPackPrice).toBe('11.0000')
    const staff = await send('PATCH', x.admin, url, { isActive: false, packLabel: 'carton de 50' }, { 'if-match': '"2"' })
    expect(staff.json()).toMatchObject({ isActive: false, packLabel: 'carton de 50', version: 3 })
  })
})
