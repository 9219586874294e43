// Articles: search, keyset pages, scope per role, writes (permissions, mass assignment, ETags).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import type { Role } from '../../../src/lib/permissions.js'
import { bearer, countAudit, createTestApp, expectProblem, tokenFor } from '../../helpers/app.js'
import { createArticle, createOffer, createStation, createSupplier, uniq } from '../../helpers/factories.js'

let app: App
let staff: Record<'ADMIN' | 'MANAGER' | 'HANDLER', string>
beforeAll(async () => {
  app = await createTestApp()
  staff = { ADMIN: tokenFor(app, { role: 'ADMIN' }), MANAGER: tokenFor(app, { role: 'MANAGER' }), HANDLER: tokenFor(app, { role: 'HANDLER' }) }
})
afterAll(async () => { await app.close() })

const get = async (token: string, url: string, headers: Record<string, string> = {}) => await app.inject({ method: 'GET', url, headers: { ...bearer(token), ...headers } })
const send = async (method: 'POST' | 'PATCH', token: string, url: string, payload: unknown, headers: Record<string, string> = {}) => await app.inject({ method, url, headers: { ...bearer(token), ...headers }, payload: payload as object })
const codes = (res: { json: () => { items: Array<{ code: string }> } }): string[] => res.json().items.map(a => a.code)

describe('POST /v1/articles', () => {
  it('lets platform staff create an article with the 20.00 VAT default, and refuses stations and suppliers', async () => {
    for (const role of ['ADMIN', 'MANAGER', 'HANDLER'] as const) {
      const code = uniq('NEW-')
      const res = await send('POST', staff[role], '/v1/articles', { code, name: 'Barquette PET 500 g', category: 'TRAY' })
      expect(res.statusCode, res.body).toBe(201)
      expect(res.json()).toMatchObject({ code, vatRate: '20.00', baseUnit: 'piece', isActive: true, version: 1, description: null })
      expect(res.headers.etag).toBe('"1"')
    }
    const station = await createStation(app.db)
    const supplier = await createSupplier(app.db)
    for (const [role, org] of [['STATION', station.id], ['SUPPLIER', supplier.id]] as const) {
      const before = await countAudit(app)
      const code = uniq('NO-')
      expectProblem(await send('POST', tokenFor(app, { role, organizationId: org }), '/v1/articles', { code, name: 'x', category: 'TRAY' }), 403, 'FORBIDDEN')
      expect(await countAudit(app)).toBe(before)
      expect(await app.db.selectFrom('articles').select('id').where('code', '=', code).executeTakeFirst()).toBeUndefined()
    }
  })

  it('rejects a duplicate code (409), a bad code, a bad category and unknown fields (400)', async () => {
    const a = await createArticle(app.db)
    expectProblem(await send('POST', staff.ADMIN, '/v1/articles', { code: a.code, name: 'dup', category: 'TRAY' }), 409, 'DUPLICATE')
    expectProblem(await send('POST', staff.ADMIN, '/v1/articles', { code: 'lower case', name: 'x', category: 'TRAY' }), 400, 'VALIDATION_FAILED')
    expectProblem(await send('POST', staff.ADMIN, '/v1/articles', { code: uniq('C-'), name: 'x', category: 'BOTTLE' }), 400, 'VALIDATION_FAILED')
    for (const extra of [{ id: '00000000-0000-4000-8000-000000000000' }, { version: 7 }, { search: 'x' }]) {
      expectProblem(await send('POST', staff.ADMIN, '/v1/articles', { code: uniq('C-'), name: 'x', category: 'TRAY', ...extra }), 400, 'VALIDATION_FAILED')
    }
  })
})

describe('PATCH /v1/articles/{id}', () => {
  it('updates a subset, bumps the version and audits the diff; a stale If-Match is 412 and changes nothing', async () => {
    const a = await createArticle(app.db, { vatRate: '20.00' })
    const url = `/v1/articles/${a.id}`
    const ok = await send('PATCH', staff.MANAGER, url, { vatRate: '5.50', material: 'PET recyclé' }, { 'if-match': '"1"' })
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json()).toMatchObject({ vatRate: '5.50', material: 'PET recyclé', version: 2 })
    expect(ok.headers.etag).toBe('"2"')
    const audit = await app.db.selectFrom('auditEvents').select(['action', 'changes']).where('entityId', '=', a.id).executeTakeFirstOrThrow()
    expect(audit).toMatchObject({ action: 'article.update', changes: { vatRate: { from: '20.00', to: '5.50' } } })
    expectProblem(await send('PATCH', staff.MANAGER, url, { name: 'stale' }, { 'if-match': '"1"' }), 412, 'PRECONDITION_FAILED')
    const row = await app.db.selectFrom('articles').select(['name', 'version']).where('id', '=', a.id).executeTakeFirstOrThrow()
    expect(row).toEqual({ name: a.name, version: 2 })
  })

  it('rejects code, id, version and empty bodies (400), stations and suppliers (403), unknown ids (404)', async () => {
    const a = await createArticle(app.db)
    const url = `/v1/articles/${a.id}`
    for (const body of [{ code: 'NEW-CODE' }, { id: a.id }, { version: 9 }, {}]) expectProblem(await send('PATCH', staff.ADMIN, url, body), 400, 'VALIDATION_FAILED')
    const supplier = await createSupplier(app.db)
    await createOffer(app.db, a.id, supplier.id)
    expectProblem(await send('PATCH', tokenFor(app, { role: 'SUPPLIER', organizationId: supplier.id }), url, { name: 'mine' }), 403)
    expectProblem(await send('PATCH', tokenFor(app, { role: 'STATION' }), url, { name: 'mine' }), 403)
    expectProblem(await send('PATCH', staff.ADMIN, '/v1/articles/00000000-0000-4000-8000-000000000000', { name: 'x' }), 404, 'NOT_FOUND')
    expectProblem(await send('PATCH', staff.ADMIN, '/v1/articles/not-a-uuid', { name: 'x' }), 400)
    const row = await app.db.selectFrom('articles').select(['name', 'version']).where('id', '=', a.id).executeTakeFirstOrThrow()
    expect(row).toEqual({ name: a.name, version: 1 })
  })
})

describe('GET /v1/articles/{id}', () => {
  it('answers with an ETag and 304 on If-None-Match', async () => {
    const a = await createArticle(app.db)
    const res = await get(staff.HANDLER, `/v1/articles/${a.id}`)
    expect(res.statusCode).toBe(200)
    expect(res.headers.etag).toBe('"1"')
    expect((await get(staff.HANDLER, `/v1/articles/${a.id}`, { 'if-none-match': '"1"' })).statusCode).toBe(304)
  })

  it('scopes rows: stations see active articles only, suppliers only the articles they offer', async () => {
    const active = await createArticle(app.db)
    const inactive = await createArticle(app.db, { isActive: false })
    const supplier = await createSupplier(app.db)
    await createOffer(app.db, active.id, supplier.id, { isActive: false })
    const station = tokenFor(app, { role: 'STATION', organizationId: (await createStation(app.db)).id })
    const sup = tokenFor(app, { role: 'SUPPLIER', organizationId: supplier.id })
    expect((await get(station, `/v1/articles/${active.id}`)).statusCode).toBe(200)
    expectProblem(await get(station, `/v1/articles/${inactive.id}`), 404)
    expect((await get(sup, `/v1/articles/${active.id}`)).statusCode).toBe(200)
    expectProblem(await get(sup, `/v1/articles/${inactive.id}`), 404)
    expect((await get(staff.HANDLER, `/v1/articles/${inactive.id}`)).statusCode).toBe(200)
  })
})

describe('GET /v1/articles (search)', () => {
  it('matches a code prefix, full-text word prefixes and a name fragment', async () => {
    const tag = uniq('Z').toUpperCase()
    const word = tag.toLowerCase()
    const a = await createArticle(app.db, { code: `${tag}-BARQ-500`, name: `Barquette ${word} cristal`, category: 'TRAY' })
    const b = await createArticle(app.db, { code: `${tag}-FILM-17`, name: 'Film étirable manuel', description: `bobine ${word} 17 microns`, category: 'FILM' })
    const c = await createArticle(app.db, { code: uniq('OTHER-'), name: `Cagette ${word}peuplier`, category: 'CRATE' })
    const q = async (s: string, role: Role = 'ADMIN') => codes(await get(tokenFor(app, { role }), `/v1/articles?q=${encodeURIComponent(s)}&limit=200`))
    expect(await q(`${tag}-BA`)).toEqual([a.code])
    expect(await q(tag.toLowerCase())).toEqual(expect.arrayContaining([a.code, b.code, c.code]))
    expect(await q(`bobine ${word}`)).toEqual([b.code])
    expect(await q(`${word} micro`)).toEqual([b.code])
    // a fragment inside a word (trigram ILIKE)
    expect(await q(`${word}peup`)).toEqual([c.code])
    expect(await q(`${tag}-NOPE`)).toEqual([])
    // special characters are data, not syntax
    expect(await q("%_\\'&|!:*()")).toEqual([])
  })

  it('filters by category, supplier (active offers only) and active flag, and pages by code', async () => {
    const tag = uniq('Y')
    const s1 = await createSupplier(app.db)
    const arts = []
    for (let i = 0; i < 5; i++) arts.push(await createArticle(app.db, { code: `${tag}-${i}`, category: i < 3 ? 'LABEL' : 'INSULATED', isActive: i !== 4 }))
    await createOffer(app.db, arts[0]?.id ?? '', s1.id)
    await createOffer(app.db, arts[1]?.id ?? '', s1.id, { isActive: false })
    await createOffer(app.db, arts[3]?.id ?? '', s1.id)
    const list = async (qs: string, token = staff.ADMIN) => codes(await get(token, `/v1/articles?q=${tag}&limit=200&${qs}`))
    expect(await list('category=LABEL')).toEqual([`${tag}-0`, `${tag}-1`, `${tag}-2`])
    expect(await list(`supplierId=${s1.id}`)).toEqual([`${tag}-0`, `${tag}-3`])
    expect(await list('active=false')).toEqual([`${tag}-4`])
    expect(await list('active=true&category=INSULATED')).toEqual([`${tag}-3`])
    // keyset pages of 2: complete, ordered, no duplicates
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res = await get(staff.ADMIN, `/v1/articles?q=${tag}&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`)
      expect(res.statusCode, res.body).toBe(200)
      const body = res.json() as { items: Array<{ code: string }>, nextCursor: string | null }
      seen.push(...body.items.map(i => i.code))
      cursor = body.nextCursor
      pages++
    } while (cursor !== null)
    expect(seen).toEqual(arts.map(a => a.code))
    expect(pages).toBe(3)
    expectProblem(await get(staff.ADMIN, '/v1/articles?cursor=forged.cursor'), 400, 'INVALID_CURSOR')
    expectProblem(await get(staff.ADMIN, '/v1/articles?category=NOPE'), 400)
    expectProblem(await get(staff.ADMIN, '/v1/articles?limit=500'), 400)
  })

  it('never shows inactive articles to a station, and only offered articles to a supplier', async () => {
    const tag = uniq('X')
    const on = await createArticle(app.db, { code: `${tag}-ON` })
    const off = await createArticle(app.db, { code: `${tag}-OFF`, isActive: false })
    const mine = await createSupplier(app.db)
    const other = await createSupplier(app.db)
    await createOffer(app.db, off.id, mine.id)
    await createOffer(app.db, on.id, other.id)
    const station = tokenFor(app, { role: 'STATION' })
    const sup = tokenFor(app, { role: 'SUPPLIER', organizationId: mine.id })
    expect(codes(await get(station, `/v1/articles?q=${tag}`))).toEqual([on.code])
    expect(codes(await get(station, `/v1/articles?q=${tag}&active=false`))).toEqual([])
    expect(codes(await get(sup, `/v1/articles?q=${tag}`))).toEqual([off.code])
    expect(codes(await get(sup, `/v1/articles?q=${tag}&supplierId=${other.id}`))).toEqual([])
  })
})
