// The report cache: a second request is a hit with the same ETag, If-None-Match is a 304 (JSON
// and CSV have their own validators), a domain event of the caller's scope (checkout, cancel)
// makes the next request recompute with the new figures while another tenant's event does not,
// an event committed below the newest id still changes the version, entries expire, the LRU
// stays within its bytes, 50 concurrent requests compute once, Redis shares entries between
// instances, and /metrics reports the hit rate.
import { randomUUID } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { dataVersion, MemoryStore, ReportCache, reportMetrics, VersionReader, type CachedReport } from '../../../src/domains/reports/reports.cache.js'
import { createTestApp } from '../../helpers/app.js'
import { act, placeOrder, staff, type Party, type PlacedOrder } from '../orders/fixtures.js'
import { createArticle, createContract, createSupplier } from '../../helpers/factories.js'
import { getJson, ownDatabase, utcDay } from './fixtures.js'
import { REDIS_TEST_URL, redisReachable } from '../../helpers/redis.js'

const redisUp = await redisReachable()
if (!redisUp) console.warn(`reports cache: no Redis at ${REDIS_TEST_URL}; the shared-cache test is skipped`)

let url: string
let app: App
let handler: Party
let o: PlacedOrder
const today = utcDay(Date.now())

beforeAll(async () => {
  url = await ownDatabase('cache')
  app = await createTestApp({}, url)
  handler = await staff(app)
  o = await placeOrder(app, [3, 4])
})
afterAll(async () => { await app.close() })

async function computed (report: string): Promise<number> {
  const m = (await reportMetrics.getMetricsAsJSON()).find(x => x.name === 'reports_compute_seconds')
  // histogram values carry the series name (…_bucket, …_sum, …_count) in metricName
  const v = m?.values.find(x => 'metricName' in x && x.metricName === 'reports_compute_seconds_count' && x.labels.report === report)
  return v?.value ?? 0
}

describe('report cache over HTTP', () => {
  it('miss, then hit with the same ETag; If-None-Match → 304 without a body; CSV has its own validator', async () => {
    const u = `/v1/reports/spend?from=${today}&to=${today}&stationId=${o.st.id}`
    const first = await getJson(app, handler.token, u)
    expect(first.headers['x-report-cache']).toBe('miss')
    expect(first.headers['cache-control']).toBe('private, max-age=60')
    expect(first.headers.vary).toBe('Accept, Accept-Encoding')
    const second = await getJson(app, handler.token, u)
    expect(second.headers['x-report-cache']).toBe('hit')
    expect(second.headers.etag).toBe(first.headers.etag)
    expect(second.raw).toBe(first.raw)
    const before = await computed('spend')
    const nm = await app.inject({ method: 'GET', url: u, headers: { authorization: `Bearer ${handler.token}`, 'if-none-match': String(first.headers.etag) } })
    expect(nm.statusCode).toBe(304)
    expect(nm.body).toBe('')
    expect(nm.headers.etag).toBe(first.headers.etag)
    expect(await computed('spend')).toBe(before)
    const csv = await app.inject({ method: 'GET', url: u, headers: { authorization: `Bearer ${handler.token}`, accept: 'text/csv' } })
    expect(csv.headers.etag).not.toBe(first.headers.etag)
    expect((await app.inject({ method: 'GET', url: u, headers: { authorization: `Bearer ${handler.token}`, accept: 'text/csv', 'if-none-match': String(first.headers.etag) } })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: u, headers: { authorization: `Bearer ${handler.token}`, accept: 'text/csv', 'if-none-match': `"x", ${String(csv.headers.etag)}` } })).statusCode).toBe(304)
  })

  it('a client taking gzip gets the body compressed once with the entry, a weak validator, and 304 by weak comparison', async () => {
    const sup = await createSupplier(app.db)
    const articles = await Promise.all(Array.from({ length: 30 }, async () => await createArticle(app.db)))
    const c = await createContract(app.db, sup.id, articles.map(x => ({ articleId: x.id, packPrice: '1.0000', committedPacks: 100 })))
    const u = `/v1/reports/contract-utilization?contractId=${c.id}`
    const plain = await app.inject({ method: 'GET', url: u, headers: { authorization: `Bearer ${handler.token}` } })
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.rawPayload.length).toBeGreaterThan(1024)
    const zipped = await app.inject({ method: 'GET', url: u, headers: { authorization: `Bearer ${handler.token}`, 'accept-encoding': 'br;q=0, gzip, deflate' } })
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(zipped.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(gunzipSync(zipped.rawPayload).toString()).toBe(plain.body)
    expect(zipped.headers.etag).toBe(`W/${String(plain.headers.etag)}`)
    expect(zipped.rawPayload.length).toBeLessThan(plain.rawPayload.length)
    const nm = await app.inject({ method: 'GET', url: u, headers: { authorization: `Bearer ${handler.token}`, 'accept-encoding': 'gzip', 'if-none-match': String(plain.headers.etag) } })
    expect(nm.statusCode).toBe(304)
    const noGzip = await app.inject({ method: 'GET', url: u, headers: { authorization: `Bearer ${handler.token}`, 'accept-encoding': 'gzip;q=0, identity' } })
    expect(noGzip.headers['content-encoding']).toBeUndefined()
    expect(noGzip.body).toBe(plain.body)
  })

  it('an event of the caller\'s scope recomputes with the new figures; another station\'s event leaves its cache alone', async () => {
    const mine = await placeOrder(app, [5])
    const u = `/v1/reports/spend?from=${today}&to=${today}&groupBy=month`
    const dash = '/v1/reports/dashboard'
    const a = await getJson(app, mine.st.token, u)
    expect(a.body.totals.purchaseOrders).toBe(1)
    const d = await getJson(app, mine.st.token, dash)
    expect(d.body.openOrders[0]).toMatchObject({ status: 'PLACED', purchaseOrders: 1 })
    expect((await getJson(app, mine.st.token, u)).headers['x-report-cache']).toBe('hit')
    const platform = await getJson(app, handler.token, u)
    expect((await getJson(app, handler.token, u)).headers['x-report-cache']).toBe('hit')

    // someone else's order: the station's entry stays, the platform's is recomputed
    const other = await placeOrder(app, [2])
    expect((await getJson(app, mine.st.token, u)).headers['x-report-cache']).toBe('hit')
    const platform2 = await getJson(app, handler.token, u)
    expect(platform2.headers['x-report-cache']).toBe('miss')
    expect(platform2.body.totals.purchaseOrders).toBe(platform.body.totals.purchaseOrders + 1)

    // the station cancels its order: its next reports are recomputed, without it
    const cancel = await act(app, mine.st.token, mine.poId, 'cancel', { reason: 'changed our mind' })
    expect(cancel.statusCode, cancel.body).toBe(200)
    const b = await getJson(app, mine.st.token, u)
    expect(b.headers['x-report-cache']).toBe('miss')
    expect(b.headers.etag).not.toBe(a.headers.etag)
    expect(b.body.totals).toEqual({ purchaseOrders: 0, stationNet: '0.00' })
    const d2 = await getJson(app, mine.st.token, dash)
    expect(d2.headers['x-report-cache']).toBe('miss')
    expect(d2.body.openOrders[0]).toMatchObject({ status: 'PLACED', purchaseOrders: 0 })
    // the old ETag no longer matches
    expect((await app.inject({ method: 'GET', url: u, headers: { authorization: `Bearer ${mine.st.token}`, 'if-none-match': String(a.headers.etag) } })).statusCode).toBe(200)
    expect(other.st.id).not.toBe(mine.st.id)
  })

  it('50 concurrent requests for a report nobody computed yet compute it once and get the same answer', async () => {
    const u = `/v1/reports/spend?from=${utcDay(Date.now() - 40 * 86_400_000)}&to=${today}&groupBy=article&basis=received`
    const before = await computed('spend')
    const answers = await Promise.all(Array.from({ length: 50 }, async () => await getJson(app, handler.token, u)))
    expect(await computed('spend')).toBe(before + 1)
    expect(new Set(answers.map(a => a.raw)).size).toBe(1)
    expect(new Set(answers.map(a => String(a.headers.etag))).size).toBe(1)
    expect(answers.every(a => a.status === 200)).toBe(true)
  })

  it('/metrics reports lookups by result and the hit ratio', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' })
    expect(res.body).toMatch(/reports_cache_lookups_total\{report="spend",result="hit"\} \d+/)
    expect(res.body).toMatch(/reports_cache_lookups_total\{report="spend",result="miss"\} \d+/)
    expect(res.body).toMatch(/reports_cache_hit_ratio\{report="spend"\} 0\.\d+/)
    expect(res.body).toMatch(/reports_not_modified_total\{report="spend"\} [1-9]/)
  })
})

describe('data version', () => {
  it('changes with a new event, and with an event committed below the newest id (a late commit)', async () => {
    const insert = async (id: number | null, org: string): Promise<void> => {
      if (id === null) await sql`INSERT INTO outbox_events (type, organization_ids, payload) VALUES ('test.event', ARRAY[${org}::uuid], '{}')`.execute(app.db)
      else await sql`INSERT INTO outbox_events (id, type, organization_ids, payload) OVERRIDING SYSTEM VALUE VALUES (${id}::bigint, 'test.event', ARRAY[${org}::uuid], '{}')`.execute(app.db)
    }
    const org = randomUUID()
    const v0 = await dataVersion(app.db, null)
    const head = Number(v0.split('.')[0])
    await insert(head + 100, org)
    const v1 = await dataVersion(app.db, null)
    expect(v1).not.toBe(v0)
    const mine1 = await dataVersion(app.db, org)
    // a transaction that took id head+50 commits now, after head+100 was visible
    await insert(head + 50, org)
    const v2 = await dataVersion(app.db, null)
    expect(v2.split('.')[0]).toBe(v1.split('.')[0])
    expect(v2).not.toBe(v1)
    expect(await dataVersion(app.db, org)).not.toBe(mine1)
    // another organization's event: this organization's version stays
    const mine2 = await dataVersion(app.db, org)
    await insert(null, randomUUID())
    expect(await dataVersion(app.db, org)).toBe(mine2)
    expect(await dataVersion(app.db, null)).not.toBe(v2)
  })
})

describe('version reads', () => {
  it('concurrent reads share one answer; the next read after a write sees it', async () => {
    const reader = new VersionReader(app.db)
    const org = randomUUID()
    const [a, b, c] = await Promise.all([reader.read(null), reader.read(null), reader.read(org)])
    expect(a).toBe(b)
    await sql`INSERT INTO outbox_events (type, organization_ids, payload) VALUES ('test.event', ARRAY[${org}::uuid], '{}')`.execute(app.db)
    expect(await reader.read(null)).not.toBe(a)
    expect(await reader.read(org)).not.toBe(c)
  })
})

describe('stores', () => {
  const entry = (body: string, version = 'v'): CachedReport => ({ version, computedAt: Date.now(), etag: '"e"', bytes: Buffer.from(body), encoding: 'identity' })

  it('entries expire; a stale version or an old entry is recomputed', async () => {
    const cache = new ReportCache(new MemoryStore())
    let n = 0
    const lookup = (version: string, ttlMs: number) => ({ report: 'test', key: 'k', version, ttlMs, compute: async () => `body-${++n}` })
    expect((await cache.fetch(lookup('1', 60_000))).hit).toBe(false)
    expect((await cache.fetch(lookup('1', 60_000))).hit).toBe(true)
    expect((await cache.fetch(lookup('2', 60_000))).entry.bytes.toString()).toBe('body-2')
    expect((await cache.fetch(lookup('2', 30))).hit).toBe(true)
    await new Promise(resolve => setTimeout(resolve, 60))
    const late = await cache.fetch(lookup('2', 30))
    expect(late.hit).toBe(false)
    expect(late.entry.bytes.toString()).toBe('body-3')
  })

  it('the LRU keeps within its bytes, evicting the least recently used', async () => {
    const store = new MemoryStore(400)
    await store.set('a', entry('x'.repeat(90)), 60_000)
    await store.set('b', entry('x'.repeat(90)), 60_000)
    await store.set('c', entry('x'.repeat(90)), 60_000)
    await store.get('a')
    await store.set('d', entry('x'.repeat(90)), 60_000)
    await store.set('e', entry('x'.repeat(90)), 60_000)
    expect(await store.get('b')).toBeUndefined()
    expect(await store.get('a')).toBeDefined()
    expect(store.size).toBe(4)
    await store.set('huge', entry('x'.repeat(201)), 60_000)
    expect(await store.get('huge')).toBeUndefined()
  })
})

describe.skipIf(!redisUp)('Redis (REDIS_URL): instances share the cache', () => {
  it('what one instance computed, another answers from Redis; an event recomputes it', async () => {
    const redisUrl = REDIS_TEST_URL
    const one = await createTestApp({ REDIS_URL: redisUrl }, url)
    const two = await createTestApp({ REDIS_URL: redisUrl }, url)
    try {
      const u = `/v1/reports/supplier-performance?from=${today}&to=${today}&stationId=${o.st.id}`
      const first = await getJson(one, handler.token, u)
      expect(first.status).toBe(200)
      const again = await getJson(two, handler.token, u)
      expect(again.headers['x-report-cache']).toBe('hit')
      expect(again.raw).toBe(first.raw)
      expect(again.headers.etag).toBe(first.headers.etag)
      await placeOrder(app, [1], { st: o.st })
      const after = await getJson(two, handler.token, u)
      expect(after.headers['x-report-cache']).toBe('miss')
      expect(after.body.items.length).toBe(first.body.items.length + 1)
      expect((await getJson(one, handler.token, u)).headers['x-report-cache']).toBe('hit')
    } finally {
      await one.close()
      await two.close()
    }
  })
})
