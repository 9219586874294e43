// Forecasts (PRODUCT.md §7): the bulk upsert (one statement whatever the number of lines, all or
// nothing, ISO week 53 only where it exists, audited once, idempotent replays, concurrent upserts
// serialise), the station's list (scope, filters, keyset pages) and the suppliers' aggregated
// demand (only the articles it offers, sums over stations, never a per-station row).
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { CamelCasePlugin, Kysely, PostgresDialect } from 'kysely'
import type { App } from '../../../src/lib/route.js'
import type { Database } from '../../../src/db/schema.js'
import { createPool } from '../../../src/db/index.js'
import { addWeeks, isoWeekOf, isoWeeksInYear, upsertForecasts, weekKey, type IsoWeek } from '../../../src/domains/forecasts/forecasts.service.js'
import { bearer, countAudit, createTestApp, expectProblem } from '../../helpers/app.js'
import { createArticle, createOffer } from '../../helpers/factories.js'
import { testDatabaseUrl } from '../../helpers/db.js'
import { get, keysDeep, offeredArticle, staff, station, supplier, type Party } from '../orders/fixtures.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })
afterEach(() => { vi.restoreAllMocks() })

interface Line { articleId: string, isoYear: number, isoWeek: number, units: number }

const url = (stationId: string): string => `/v1/stations/${stationId}/forecasts`
async function put (token: string, stationId: string, lines: Line[], headers: Record<string, string> = {}) {
  return await app.inject({ method: 'PUT', url: url(stationId), headers: { ...bearer(token), ...headers }, payload: { lines } })
}
async function stored (stationId: string): Promise<Line[]> {
  return await app.db.selectFrom('forecasts').select(['articleId', 'isoYear', 'isoWeek', 'units']).where('stationId', '=', stationId)
    .orderBy('articleId').orderBy('isoYear').orderBy('isoWeek').execute()
}
const byKey = (a: Line, b: Line): number => a.articleId < b.articleId ? -1 : a.articleId > b.articleId ? 1 : a.isoYear - b.isoYear || a.isoWeek - b.isoWeek

/** `weeks` consecutive ISO weeks from 2026-W40 (across the year end) for each article. */
function grid (articleIds: string[], weeks: number, units: (i: number, w: number) => number, start: IsoWeek = { year: 2026, week: 40 }): Line[] {
  const out: Line[] = []
  articleIds.forEach((articleId, i) => {
    let w = start
    for (let k = 0; k < weeks; k++) { out.push({ articleId, isoYear: w.year, isoWeek: w.week, units: units(i, k) }); w = addWeeks(w, 1) }
  })
  return out
}

async function articles (n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) ids.push((await createArticle(app.db)).id)
  return ids
}

describe('ISO weeks', () => {
  it('knows which years have a week 53 and walks weeks across year ends', () => {
    expect([2020, 2026, 2032, 2037].map(isoWeeksInYear)).toEqual([53, 53, 53, 53])
    expect([2021, 2024, 2025, 2027, 2028].map(isoWeeksInYear)).toEqual([52, 52, 52, 52, 52])
    expect(isoWeekOf('2026-12-31')).toEqual({ year: 2026, week: 53 })
    expect(isoWeekOf('2027-01-03')).toEqual({ year: 2026, week: 53 })
    expect(isoWeekOf('2027-01-04')).toEqual({ year: 2027, week: 1 })
    expect(isoWeekOf('2024-12-30')).toEqual({ year: 2025, week: 1 })
    expect(weekKey(addWeeks({ year: 2026, week: 52 }, 2))).toBe('2027-W01')
    expect(weekKey(addWeeks({ year: 2025, week: 52 }, 1))).toBe('2026-W01')
  })
})

describe('PUT forecasts', () => {
  let st: Party
  beforeAll(async () => { st = await station(app) })

  it('upserts lines, reports what changed, and leaves unchanged lines untouched', async () => {
    const s = await station(app)
    const ids = await articles(2)
    const first = grid(ids, 3, (i, w) => 100 * (i + 1) + w)
    const before = await countAudit(app, { action: 'forecast.upsert' })
    const r1 = await put(s.token, s.id, first)
    expect(r1.statusCode, r1.body).toBe(200)
    expect(r1.json()).toEqual({ stationId: s.id, lines: 6, inserted: 6, updated: 0, unchanged: 0, articles: 2, fromWeek: '2026-W40', toWeek: '2026-W42' })
    expect(await stored(s.id)).toEqual([...first].sort(byKey))

    const second = first.map((l, i) => i === 0 ? { ...l, units: 0 } : l).concat([{ articleId: ids[0] as string, isoYear: 2026, isoWeek: 53, units: 7 }])
    const r2 = await put(s.token, s.id, second)
    expect(r2.json()).toMatchObject({ lines: 7, inserted: 1, updated: 1, unchanged: 5, toWeek: '2026-W53' })
    expect(await stored(s.id)).toEqual([...second].sort(byKey))
    // one audit event per upsert, with a summary instead of the lines
    expect(await countAudit(app, { action: 'forecast.upsert' })).toBe(before + 2)
    const ev = await app.db.selectFrom('auditEvents').select(['entityType', 'entityId', 'changes']).where('action', '=', 'forecast.upsert').where('entityId', '=', s.id).orderBy('id', 'desc').executeTakeFirstOrThrow()
    expect(ev).toMatchObject({ entityType: 'station', changes: { lines: 7, inserted: 1, updated: 1, unchanged: 5 } })
  })

  it('refuses repeated lines (400), week 53 in a year without one and unknown articles (422), with a pointer per line, nothing saved, no audit', async () => {
    const [a] = await articles(1) as [string]
    const auditBefore = await countAudit(app)
    // a repeated (article, week) is a malformed body, answered before the business rules
    const repeated = await put(st.token, st.id, [
      { articleId: a, isoYear: 2026, isoWeek: 53, units: 1 },
      { articleId: a, isoYear: 2027, isoWeek: 53, units: 1 },
      { articleId: a, isoYear: 2026, isoWeek: 1, units: 1 },
      { articleId: a, isoYear: 2026, isoWeek: 1, units: 2 }
    ])
    expect(expectProblem(repeated, 400, 'VALIDATION_FAILED').errors).toEqual([
      { pointer: '/lines/3', code: 'DUPLICATE_LINE', detail: 'line 3 repeats line 2: one line per article and ISO week' }
    ])
    const bad53 = await put(st.token, st.id, [
      { articleId: a, isoYear: 2026, isoWeek: 53, units: 1 },
      { articleId: a, isoYear: 2027, isoWeek: 53, units: 1 },
      { articleId: a, isoYear: 2026, isoWeek: 1, units: 1 }
    ])
    const p = expectProblem(bad53, 422, 'BUSINESS_RULE_VIOLATED')
    expect(p.errors).toEqual([
      { pointer: '/lines/1/isoWeek', code: 'ISO_WEEK_OUT_OF_RANGE', detail: expect.any(String) }
    ])
    const unknown = randomUUID()
    const missing = await put(st.token, st.id, [
      { articleId: a, isoYear: 2026, isoWeek: 2, units: 1 },
      { articleId: unknown, isoYear: 2026, isoWeek: 2, units: 1 },
      { articleId: a, isoYear: 2026, isoWeek: 3, units: 1 },
      { articleId: unknown, isoYear: 2026, isoWeek: 1, units: 1 }
    ])
    const m = expectProblem(missing, 422, 'REFERENCE_NOT_FOUND')
    expect((m.errors as Array<{ pointer: string }>).map(e => e.pointer)).toEqual(['/lines/1/articleId', '/lines/3/articleId'])
    expect(await stored(st.id)).toEqual([])
    expect(await countAudit(app)).toBe(auditBefore)
  })

  it('validates the body: units ≥ 0, weeks 1–53, at most 5 000 lines, no unknown fields', async () => {
    const [a] = await articles(1) as [string]
    for (const line of [{ articleId: a, isoYear: 2026, isoWeek: 1, units: -1 }, { articleId: a, isoYear: 2026, isoWeek: 0, units: 1 }, { articleId: a, isoYear: 2026, isoWeek: 54, units: 1 }, { articleId: a, isoYear: 2026, isoWeek: 1, units: 1.5 }]) {
      expectProblem(await put(st.token, st.id, [line]), 400, 'VALIDATION_FAILED')
    }
    expectProblem(await app.inject({ method: 'PUT', url: url(st.id), headers: bearer(st.token), payload: { lines: [{ articleId: a, isoYear: 2026, isoWeek: 1, units: 1, stationId: st.id }] } }), 400, 'VALIDATION_FAILED')
    expectProblem(await app.inject({ method: 'PUT', url: url(st.id), headers: bearer(st.token), payload: { lines: [] } }), 400, 'VALIDATION_FAILED')
    const tooMany = Array.from({ length: 5001 }, (_, i) => ({ articleId: a, isoYear: 2000 + Math.floor(i / 52), isoWeek: 1 + (i % 52), units: 1 }))
    expectProblem(await put(st.token, st.id, tooMany), 400, 'VALIDATION_FAILED')
    expect(await stored(st.id)).toEqual([])
  })

  it('scopes: own station only (another station 404), staff any existing station, suppliers 403', async () => {
    const other = await station(app)
    const [a] = await articles(1) as [string]
    const line = [{ articleId: a, isoYear: 2026, isoWeek: 10, units: 5 }]
    expectProblem(await put(st.token, other.id, line), 404, 'NOT_FOUND')
    expectProblem(await get(app, st.token, url(other.id)), 404, 'NOT_FOUND')
    const sup = await supplier(app)
    expectProblem(await put(sup.token, st.id, line), 403, 'FORBIDDEN')
    expectProblem(await get(app, sup.token, url(st.id)), 403, 'FORBIDDEN')
    const h = await staff(app)
    expect((await put(h.token, other.id, line)).statusCode).toBe(200)
    expect((await get(app, h.token, url(other.id))).json().items).toHaveLength(1)
    expectProblem(await put(h.token, randomUUID(), line), 404, 'NOT_FOUND')
    expect(await stored(st.id)).toEqual([])
  })

  it('replays an Idempotency-Key and refuses it with another body', async () => {
    const s = await station(app)
    const [a] = await articles(1) as [string]
    const key = randomUUID()
    const lines = [{ articleId: a, isoYear: 2026, isoWeek: 20, units: 5 }]
    const r1 = await put(s.token, s.id, lines, { 'idempotency-key': key })
    const r2 = await put(s.token, s.id, lines, { 'idempotency-key': key })
    expect(r2.statusCode).toBe(200)
    expect(r2.headers['idempotent-replayed']).toBe('true')
    expect(r2.json()).toEqual(r1.json())
    expectProblem(await put(s.token, s.id, [{ ...lines[0] as Line, units: 6 }], { 'idempotency-key': key }), 422, 'IDEMPOTENCY_KEY_REUSED')
    expect((await stored(s.id))[0]?.units).toBe(5)
  })

  it('writes thousands of lines with a constant number of statements (the service: 2 vs 3 000 lines)', async () => {
    const pool = createPool({ connectionString: await testDatabaseUrl(), poolSize: 2, statementTimeoutMs: 20_000, connectTimeoutMs: 5_000 })
    let queries = 0
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new CamelCasePlugin()], log: e => { if (e.level === 'query') queries++ } })
    try {
      const ids = await articles(60)
      const count = async (lines: Line[], role: 'STATION' | 'HANDLER'): Promise<number> => {
        const s = await station(app)
        const actor = role === 'STATION'
          ? { userId: s.userId, role, organizationId: s.id, organizationKind: 'STATION' as const }
          : { userId: s.userId, role, organizationId: s.id, organizationKind: 'PLATFORM' as const }
        queries = 0
        const summary = await upsertForecasts(db, actor, s.id, lines)
        expect(summary.inserted).toBe(lines.length)
        expect((await stored(s.id)).length).toBe(lines.length)
        return queries
      }
      const small = grid(ids.slice(0, 2), 1, () => 1)
      const big = grid(ids, 50, (i, w) => i * w)
      expect(big).toHaveLength(3000)
      // a station user: no scope query, the upsert alone; staff: + the station's existence
      expect(await count(small, 'STATION')).toBe(1)
      expect(await count(big, 'STATION')).toBe(1)
      expect(await count(small, 'HANDLER')).toBe(await count(big, 'HANDLER'))
    } finally {
      await db.destroy()
    }
  })

  it('through HTTP, 5 000 lines touch the forecasts table in exactly one statement', async () => {
    const s = await station(app)
    const ids = await articles(100)
    const lines = grid(ids, 50, (i, w) => i + w)
    const texts: string[] = []
    const original = pg.Client.prototype.query
    vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const first = args[0]
      texts.push(typeof first === 'string' ? first : (first as { text: string }).text)
      return (original as (...a: unknown[]) => unknown).apply(this, args) as never
    })
    const r = await put(s.token, s.id, lines)
    vi.restoreAllMocks()
    expect(r.statusCode, r.body).toBe(200)
    expect(r.json()).toMatchObject({ lines: 5000, inserted: 5000 })
    expect(texts.filter(t => /\bforecasts\b/.test(t))).toHaveLength(1)
    expect((await stored(s.id)).length).toBe(5000)
  })

  // 3 rounds, each on a new station (the first writers race to insert, the others to update)
  it.each([1, 2, 3])('fifty concurrent upserts of the same lines in different orders serialise: no deadlock, the last one wins every line (round %i)', async () => {
    const s = await station(app)
    const ids = await articles(10)
    const base = grid(ids, 20, () => 0)
    const shuffled = (k: number): Line[] => base.map(l => ({ ...l, units: k })).sort((x, y) => ((x.isoWeek * 7919 + k) % 31) - ((y.isoWeek * 7919 + k) % 31))
    const h = await staff(app)
    const results = await Promise.all(Array.from({ length: 50 }, async (_, k) => await put(k % 2 === 0 ? s.token : h.token, s.id, shuffled(k + 1))))
    expect(results.map(r => r.statusCode)).toEqual(Array(50).fill(200))
    // each key inserted by exactly one of them (the primary key), the others updated or left it
    expect(results.reduce((n, r) => n + (r.json() as { inserted: number }).inserted, 0)).toBe(200)
    const rows = await stored(s.id)
    expect(rows).toHaveLength(200)
    // every line carries the units of one and the same request
    expect(new Set(rows.map(r => r.units)).size).toBe(1)
  })
})

describe('GET forecasts', () => {
  it('filters by article and week range and pages by keyset without gaps or repeats', async () => {
    const s = await station(app)
    const ids = await articles(3)
    const lines = grid(ids, 10, (i, w) => i * 100 + w, { year: 2026, week: 49 })
    expect((await put(s.token, s.id, lines)).statusCode).toBe(200)
    const seen: Array<{ articleId: string, week: string, units: number }> = []
    let cursor: string | null = null
    do {
      const res = await get(app, s.token, `${url(s.id)}?limit=7${cursor !== null ? `&cursor=${cursor}` : ''}`)
      expect(res.statusCode, res.body).toBe(200)
      const body = res.json() as { items: Array<{ articleId: string, week: string, units: number }>, nextCursor: string | null }
      seen.push(...body.items)
      cursor = body.nextCursor
    } while (cursor !== null)
    expect(seen.map(i => `${i.articleId}:${i.week}:${i.units}`)).toEqual([...lines].sort(byKey).map(l => `${l.articleId}:${weekKey({ year: l.isoYear, week: l.isoWeek })}:${l.units}`))

    const one = (await get(app, s.token, `${url(s.id)}?articleId=${ids[1] as string}&from=2026-W51&to=2026-W53`)).json()
    expect(one.items.map((i: { week: string, units: number }) => [i.week, i.units])).toEqual([['2026-W51', 102], ['2026-W52', 103], ['2026-W53', 104]])
    expect(one.items[0]).toMatchObject({ articleId: ids[1], isoYear: 2026, isoWeek: 51, articleCode: expect.any(String), updatedBy: s.userId })
    const crossYear = (await get(app, s.token, `${url(s.id)}?articleId=${ids[0] as string}&from=2026-W53&to=2027-W01`)).json()
    expect(crossYear.items.map((i: { week: string }) => i.week)).toEqual(['2026-W53', '2027-W01'])
    expectProblem(await get(app, s.token, `${url(s.id)}?from=2026-W54`), 400, 'VALIDATION_FAILED')
    expectProblem(await get(app, s.token, `${url(s.id)}?cursor=forged.cursor`), 400, 'INVALID_CURSOR')
  })
})

describe('supplier demand', () => {
  it('sums every station\'s forecasts per article and week, only for the articles the supplier offers, and never shows a station', async () => {
    const sup = await supplier(app)
    const rival = await supplier(app)
    const offered = [(await offeredArticle(app, sup.id)).articleId, (await offeredArticle(app, sup.id)).articleId]
    const inactive = (await offeredArticle(app, sup.id, { isActive: false })).articleId
    const notOffered = (await offeredArticle(app, rival.id)).articleId
    // the rival offers one of the supplier's articles too: the demand is the article's, whoever supplies it
    await createOffer(app.db, offered[0] as string, rival.id)
    const stations = [await station(app), await station(app), await station(app)]
    const all = [...offered, inactive, notOffered]
    const sent: Line[][] = []
    for (const [i, s] of stations.entries()) {
      const lines = grid(all, 4, (a, w) => (i + 1) * 1000 + a * 10 + w)
      sent.push(lines)
      expect((await put(s.token, s.id, lines)).statusCode).toBe(200)
    }
    // the independent computation: Σ over the stations of what each sent, for the offered articles
    const expected = new Map<string, number>()
    for (const lines of sent) {
      for (const l of lines) {
        if (!offered.includes(l.articleId)) continue
        const k = `${l.articleId}:${weekKey({ year: l.isoYear, week: l.isoWeek })}`
        expected.set(k, (expected.get(k) ?? 0) + l.units)
      }
    }
    const items: Array<Record<string, unknown>> = []
    const bodies: unknown[] = []
    let cursor: string | null = null
    do {
      const res = await get(app, sup.token, `/v1/suppliers/${sup.id}/demand?limit=3${cursor !== null ? `&cursor=${cursor}` : ''}`)
      expect(res.statusCode, res.body).toBe(200)
      const body = res.json() as { items: Array<Record<string, unknown>>, nextCursor: string | null }
      bodies.push(body)
      items.push(...body.items)
      cursor = body.nextCursor
    } while (cursor !== null)
    expect(new Map(items.map(i => [`${String(i.articleId)}:${String(i.week)}`, i.units]))).toEqual(expected)
    expect(items).toHaveLength(expected.size)
    // no per-station row, no station identity anywhere in the answer
    const keys = keysDeep(bodies)
    expect([...keys].filter(k => /station/i.test(k))).toEqual([])
    const text = JSON.stringify(bodies)
    for (const s of stations) expect(text).not.toContain(s.id)

    const filtered = (await get(app, sup.token, `/v1/suppliers/${sup.id}/demand?articleId=${offered[1] as string}&from=2026-W41&to=2026-W42`)).json()
    expect(filtered.items.map((i: { week: string, units: number }) => [i.week, i.units])).toEqual([['2026-W41', 1011 + 2011 + 3011], ['2026-W42', 1012 + 2012 + 3012]])
    // an article the supplier does not offer (or no longer offers) yields nothing
    expect((await get(app, sup.token, `/v1/suppliers/${sup.id}/demand?articleId=${inactive}`)).json().items).toEqual([])
    expect((await get(app, sup.token, `/v1/suppliers/${sup.id}/demand?articleId=${notOffered}`)).json().items).toEqual([])
  })

  it('scopes: own supplier only (another 404), staff any existing supplier, stations 403', async () => {
    const sup = await supplier(app)
    const other = await supplier(app)
    expectProblem(await get(app, sup.token, `/v1/suppliers/${other.id}/demand`), 404, 'NOT_FOUND')
    const st = await station(app)
    expectProblem(await get(app, st.token, `/v1/suppliers/${sup.id}/demand`), 403, 'FORBIDDEN')
    const h = await staff(app, 'MANAGER')
    expect((await get(app, h.token, `/v1/suppliers/${sup.id}/demand`)).statusCode).toBe(200)
    expectProblem(await get(app, h.token, `/v1/suppliers/${randomUUID()}/demand`), 404, 'NOT_FOUND')
  })
})
