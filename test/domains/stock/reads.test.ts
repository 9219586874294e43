// Stock reads: the level list with its filters and keyset pages, one level (zero level, ETag and
// 304, latest movements), the movement ledger, the alert list — and who sees what: staff every
// station, a station its own in full and other active stations' quantities only, suppliers 403.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { createTestApp, expectProblem } from '../../helpers/app.js'
import { createArticle } from '../../helpers/factories.js'
import { adjust, articles, consume, count, get, patch, staff, station, stockUrl, supplier, type Party } from './helpers.js'

let app: App
let handler: Party
beforeAll(async () => { app = await createTestApp(); handler = await staff(app) })
afterAll(async () => { await app.close() })

type Item = Record<string, unknown> & { stationId: string, articleId: string }

async function all (token: string, url: string): Promise<Item[]> {
  const out: Item[] = []
  let cursor: string | null = null
  do {
    const sep = url.includes('?') ? '&' : '?'
    const res = await get(app, token, cursor === null ? `${url}${sep}limit=2` : `${url}${sep}limit=2&cursor=${encodeURIComponent(cursor)}`)
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json() as { items: Item[], nextCursor: string | null }
    out.push(...body.items)
    cursor = body.nextCursor
  } while (cursor !== null)
  return out
}

describe('levels', () => {
  // station A: ok (100 > 20), low (15 ≤ 20), critical (3 ≤ 5), out (0); station B: one level
  let a: Party, b: Party, ids: string[]
  beforeAll(async () => {
    a = await station(app)
    b = await station(app)
    ids = await articles(app, 4, { category: 'FILM' })
    await adjust(app, handler, a.id, ids.map((articleId, i) => ({ articleId, delta: [100, 15, 3, 1][i] as number })))
    await consume(app, a, a.id, [{ articleId: ids[3] as string, units: 1 }])
    for (const articleId of ids) {
      const r = await patch(app, a.token, stockUrl(a.id, `/${articleId}`), { alertThreshold: 20, criticalThreshold: 5 })
      expect(r.statusCode, r.body).toBe(200)
    }
    await adjust(app, handler, b.id, [{ articleId: ids[0] as string, delta: 42 }])
    await patch(app, handler.token, stockUrl(b.id, `/${ids[0] as string}`), { alertThreshold: 50 })
  })

  it('staff list every station in (station, article) order, keyset-paginated, with flags; filters', async () => {
    const mine = await all(handler.token, `/v1/stock?stationId=${a.id}`)
    expect(mine.map(i => i.articleId)).toEqual(ids)
    expect(mine.map(i => [i.quantity, i.low, i.critical, i.out])).toEqual([[100, false, false, false], [15, true, false, false], [3, true, true, false], [0, true, true, true]])
    expect(mine[0]).toMatchObject({ stationId: a.id, alertThreshold: 20, criticalThreshold: 5, baseUnit: 'piece', version: expect.any(Number), updatedAt: expect.any(String) })
    expect(typeof mine[0]?.articleCode).toBe('string')

    const q = (f: string) => all(handler.token, `/v1/stock?stationId=${a.id}&${f}`)
    expect((await q('low=true')).map(i => i.quantity)).toEqual([15, 3, 0])
    expect((await q('low=false')).map(i => i.quantity)).toEqual([100])
    expect((await q('critical=true')).map(i => i.quantity)).toEqual([3, 0])
    expect((await q('critical=false')).map(i => i.quantity)).toEqual([100, 15])
    expect((await q('out=true')).map(i => i.quantity)).toEqual([0])
    expect((await q('out=false')).map(i => i.quantity)).toEqual([100, 15, 3])
    expect((await q(`articleId=${ids[1] as string}`)).map(i => i.quantity)).toEqual([15])
    expect(await q('category=TRAY')).toEqual([])
    const byArticle = await all(handler.token, `/v1/stock?articleId=${ids[0] as string}&category=FILM`)
    expect(byArticle.map(i => i.stationId).sort()).toEqual([a.id, b.id].sort())
    expectProblem(await get(app, handler.token, '/v1/stock?cursor=forged.cursor'), 400, 'INVALID_CURSOR')
    expectProblem(await get(app, handler.token, '/v1/stock?low=maybe'), 400, 'VALIDATION_FAILED')
  })

  it('a station sees its own levels in full and other active stations\' quantities only; low/critical filters stay on its own station', async () => {
    const seen = await all(b.token, `/v1/stock?articleId=${ids[0] as string}`)
    const own = seen.find(i => i.stationId === b.id)
    const other = seen.find(i => i.stationId === a.id)
    expect(own).toMatchObject({ quantity: 42, alertThreshold: 50, low: true, critical: false, out: false })
    expect(other).toMatchObject({ quantity: 100, out: false })
    for (const hidden of ['alertThreshold', 'criticalThreshold', 'low', 'critical', 'movements']) expect(other).not.toHaveProperty(hidden)
    // filters on thresholds never reach other stations
    expect((await all(b.token, '/v1/stock?low=true')).map(i => i.stationId)).toEqual([b.id])
    expect(await all(b.token, `/v1/stock?stationId=${a.id}&critical=true`)).toEqual([])
    expect((await all(b.token, `/v1/stock?stationId=${a.id}&out=true`)).map(i => i.quantity)).toEqual([0])
  })

  it('an inactive station\'s stock is hidden from other stations (404 / absent), not from staff', async () => {
    const hidden = await station(app, { isActive: false })
    const [x] = await articles(app, 1) as [string]
    await adjust(app, handler, hidden.id, [{ articleId: x, delta: 9 }])
    expect(await all(a.token, `/v1/stock?articleId=${x}`)).toEqual([])
    expectProblem(await get(app, a.token, stockUrl(hidden.id, `/${x}`)), 404, 'NOT_FOUND')
    expect((await all(handler.token, `/v1/stock?articleId=${x}`)).map(i => i.quantity)).toEqual([9])
    // its own user still sees it
    expect((await get(app, hidden.token, stockUrl(hidden.id, `/${x}`))).json()).toMatchObject({ quantity: 9 })
  })

  it('suppliers get 403 on every stock read', async () => {
    const sup = await supplier(app)
    for (const url of ['/v1/stock', '/v1/stock/alerts', stockUrl(a.id, `/${ids[0] as string}`), `/v1/stations/${a.id}/stock-movements`]) {
      expectProblem(await get(app, sup.token, url), 403, 'FORBIDDEN')
    }
  })
})

describe('one level', () => {
  it('quantity, thresholds, flags, version as ETag (304 when unchanged), the last 20 movements newest first', async () => {
    const st = await station(app)
    const [x] = await articles(app, 1) as [string]
    for (let i = 0; i < 12; i++) await adjust(app, st, st.id, [{ articleId: x, delta: 10 }])
    for (let i = 0; i < 12; i++) await consume(app, st, st.id, [{ articleId: x, units: 1 }])
    const url = stockUrl(st.id, `/${x}`)
    const res = await get(app, st.token, url)
    expect(res.statusCode, res.body).toBe(200)
    const level = res.json()
    expect(level).toMatchObject({ stationId: st.id, articleId: x, quantity: 108, alertThreshold: 0, criticalThreshold: 0, low: false, critical: false, out: false, version: 24 })
    expect(level.movements).toHaveLength(20)
    expect(level.movements[0]).toMatchObject({ delta: -1, reason: 'CONSUMPTION', refType: 'STOCK_CONSUMPTION', actorUserId: st.userId, articleId: x })
    const movementIds = level.movements.map((m: { id: number }) => m.id)
    expect([...movementIds].sort((p: number, q: number) => q - p)).toEqual(movementIds)
    const etag = String(res.headers.etag)
    expect(etag).toMatch(/^"24\./)
    expect((await get(app, st.token, url, { 'if-none-match': etag })).statusCode).toBe(304)
    await consume(app, st, st.id, [{ articleId: x, units: 1 }])
    expect((await get(app, st.token, url, { 'if-none-match': etag })).statusCode).toBe(200)
    // staff see the movements too; another station sees the quantity only
    expect((await get(app, handler.token, url)).json().movements).toHaveLength(20)
    const other = await station(app)
    const seen = (await get(app, other.token, url)).json()
    expect(seen).toMatchObject({ quantity: 107, out: false, version: 25 })
    for (const hidden of ['alertThreshold', 'criticalThreshold', 'low', 'critical', 'movements']) expect(seen).not.toHaveProperty(hidden)
  })

  it('a pair with no level answers a zero level for an existing article; unknown article 404; an inactive one 404 for stations', async () => {
    const st = await station(app)
    const [x] = await articles(app, 1) as [string]
    const zero = await get(app, st.token, stockUrl(st.id, `/${x}`))
    expect(zero.json()).toMatchObject({ quantity: 0, version: 0, low: true, critical: true, out: true, updatedAt: null, movements: [] })
    expectProblem(await get(app, st.token, stockUrl(st.id, `/${randomUUID()}`)), 404, 'NOT_FOUND')
    expectProblem(await get(app, handler.token, stockUrl(randomUUID(), `/${x}`)), 404, 'NOT_FOUND')
    const inactive = (await createArticle(app.db, { isActive: false })).id
    expectProblem(await get(app, st.token, stockUrl(st.id, `/${inactive}`)), 404, 'NOT_FOUND')
    expect((await get(app, handler.token, stockUrl(st.id, `/${inactive}`))).json()).toMatchObject({ quantity: 0, version: 0 })
    expectProblem(await get(app, st.token, stockUrl(st.id, '/not-a-uuid')), 400, 'VALIDATION_FAILED')
  })
})

describe('movements', () => {
  it('the station\'s ledger newest first, filters reason / articleId / from / to, keyset pages; own station and staff only', async () => {
    const st = await station(app)
    const [x, y] = await articles(app, 2) as [string, string]
    await adjust(app, st, st.id, [{ articleId: x, delta: 10 }, { articleId: y, delta: 20 }])
    await consume(app, st, st.id, [{ articleId: x, units: 3 }])
    await count(app, st, st.id, [{ articleId: y, counted: 18 }])
    const url = `/v1/stations/${st.id}/stock-movements`
    const everything = await all(st.token, url)
    expect(everything.slice(0, 2).map(m => [m.articleId, m.delta, m.reason])).toEqual([[y, -2, 'COUNT'], [x, -3, 'CONSUMPTION']])
    expect(everything).toHaveLength(4)
    expect(everything.slice(2).map(m => m.delta).sort()).toEqual([10, 20])
    expect((await all(st.token, `${url}?reason=CONSUMPTION`)).map(m => m.delta)).toEqual([-3])
    expect((await all(st.token, `${url}?articleId=${y}`)).map(m => m.delta)).toEqual([-2, 20])
    const today = new Date().toISOString().slice(0, 10)
    expect(await all(st.token, `${url}?from=${today}&to=${today}`)).toHaveLength(4)
    expect(await all(st.token, `${url}?to=2020-01-01`)).toEqual([])
    expect(await all(st.token, `${url}?from=2099-01-01`)).toEqual([])
    expect(await all(handler.token, url)).toHaveLength(4)
    const other = await station(app)
    expectProblem(await get(app, other.token, url), 404, 'NOT_FOUND')
    expectProblem(await get(app, handler.token, `/v1/stations/${randomUUID()}/stock-movements`), 404, 'NOT_FOUND')
    expectProblem(await get(app, st.token, `${url}?reason=THEFT`), 400, 'VALIDATION_FAILED')
  })
})

describe('alerts', () => {
  it('levels at or below their alert threshold with their severity; a station sees its own only', async () => {
    const s1 = await station(app)
    const s2 = await station(app)
    const [ok, low, crit, out] = await articles(app, 4) as [string, string, string, string]
    await adjust(app, handler, s1.id, [{ articleId: ok, delta: 50 }, { articleId: low, delta: 15 }, { articleId: crit, delta: 4 }, { articleId: out, delta: 1 }])
    await consume(app, handler, s1.id, [{ articleId: out, units: 1 }])
    for (const a of [ok, low, crit, out]) await patch(app, handler.token, stockUrl(s1.id, `/${a}`), { alertThreshold: 20, criticalThreshold: 5 })
    await adjust(app, handler, s2.id, [{ articleId: low, delta: 1 }])
    await patch(app, handler.token, stockUrl(s2.id, `/${low}`), { alertThreshold: 10 })

    const mine = await all(s1.token, '/v1/stock/alerts')
    expect(mine.map(i => [i.articleId, i.severity])).toEqual([[low, 'LOW'], [crit, 'CRITICAL'], [out, 'OUT']].sort((p, q) => (p[0] as string) < (q[0] as string) ? -1 : 1))
    for (const i of mine) expect(i.stationId).toBe(s1.id)
    expect(await all(s1.token, `/v1/stock/alerts?stationId=${s2.id}`)).toEqual([])
    expect((await all(s1.token, '/v1/stock/alerts?critical=true')).map(i => i.severity).sort()).toEqual(['CRITICAL', 'OUT'])
    expect((await all(s1.token, '/v1/stock/alerts?out=true')).map(i => i.articleId)).toEqual([out])
    const staffView = await all(handler.token, `/v1/stock/alerts?articleId=${low}`)
    expect(staffView.map(i => i.stationId).sort()).toEqual([s1.id, s2.id].sort())
  })
})
