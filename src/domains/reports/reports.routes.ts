// Reports (PRODUCT.md §11; API.md "GET /v1/reports/…"): spend, contract utilization, supplier
// performance and the dashboard, for every role within its scope (§2.1 "reports": all / own
// station / own supplier; the scope is decided in reports.service.ts), each figure in the
// caller's price view (§2.2).
//
// Every report is JSON by default and CSV with `Accept: text/csv` (a second media type of the 200
// response, streamed). Answers come from the report cache (reports.cache.ts) when the data has
// not changed since they were computed: `ETag` (a digest of the representation) and
// `If-None-Match` → 304, `Cache-Control: private, max-age=…` (how long a client may reuse it
// without asking), `X-Report-Cache: hit|miss`. The queries run on DATABASE_READ_URL when it is
// set (a read replica; its own pool), on the primary otherwise.
import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type, type TSchema } from '@sinclair/typebox'
import type { Readable } from 'node:stream'
import { createDb, type Db } from '../../db/index.js'
import { audienceSerializer, type Audience, type AudienceSerializer } from '../../lib/audience.js'
import { defineRoute } from '../../lib/define-route.js'
import { actorOf, type App } from '../../lib/route.js'
import { cacheKey, countNotModified, jsonOf, MemoryStore, RedisStore, ReportCache, VersionReader, type CachedReport, type ReportStore } from './reports.cache.js'
import { csvStream, dashboardTable, performanceTable, spendTable, utilizationTable, type CsvTable } from './reports.csv.js'
import {
  DashboardPlatform, DashboardQuery, DashboardStation, DashboardSupplier, PerformanceQuery, PerformanceReport, SpendPlatform, SpendQuery,
  SpendStation, SpendSupplier, UtilizationPlatform, UtilizationQuery, UtilizationStation
} from './reports.schemas.js'
import { businessDate } from '../contracts/pricing.service.js'
import { dashboardReport, performanceReport, reportPeriod, reportScope, spendReport, utilizationReport, type ReportScope } from './reports.service.js'

const TAG = 'reports'
const SCOPE = 'Every role: platform staff see every station and supplier (both price sides and the margin); a station user its own station (station prices only); a supplier user its own orders and contracts (supplier prices only). A stationId (supplierId) naming another organization than a station (supplier) caller\'s own is answered 404.'
const HOW = 'Read-only. JSON, or CSV with `Accept: text/csv` (header row, RFC 4180, cells that a spreadsheet would run as a formula prefixed with \'). Cached per caller scope and invalidated by the domain events; `ETag` + `If-None-Match` → 304.'

/** How long a client may reuse an answer without asking (Cache-Control max-age), and how long the server keeps it at most. */
const FRESHNESS = {
  spend: { maxAge: 60, ttlMs: 300_000 },
  'contract-utilization': { maxAge: 60, ttlMs: 60_000 },
  'supplier-performance': { maxAge: 60, ttlMs: 300_000 },
  dashboard: { maxAge: 15, ttlMs: 15_000 }
} as const
type ReportName = keyof typeof FRESHNESS

// (ETag is added to every conditional GET by the document's shaping: JSON and CSV have their own)
const HEADERS = {
  'Cache-Control': { type: 'string', maxLength: 64, description: 'private, max-age=N: N seconds a client may reuse the report without asking (15 for the dashboard, 60 otherwise)' },
  'X-Report-Cache': { type: 'string', enum: ['hit', 'miss'], description: 'Whether the report came from the cache or was computed for this request' },
  Vary: { type: 'string', maxLength: 64, description: 'Accept, Accept-Encoding: the representation depends on them' }
}

/** The 200 response: the audience views as JSON, or CSV. */
function ok (description: string, views: TSchema[]): TSchema {
  const refs = views.map(v => Type.Ref(v))
  return Type.Unsafe<unknown>({
    description,
    headers: HEADERS,
    content: {
      'application/json': { schema: refs.length === 1 ? refs[0] : Type.Union(refs) },
      'text/csv': { schema: Type.String({ maxLength: 256 * 1024 * 1024, description: 'The same report as CSV (header row first), in the caller\'s view' }) }
    }
  })
}

/** Accept prefers text/csv over application/json (q-values; absent or *\/* → JSON). */
export function prefersCsv (accept: string | undefined): boolean {
  if (accept === undefined) return false
  let csv = 0
  let json = 0
  let any = 0
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.trim().toLowerCase().split(';').map(s => s.trim())
    const qp = params.find(p => p.startsWith('q='))
    const q = qp === undefined ? 1 : Number(qp.slice(2))
    if (!Number.isFinite(q)) continue
    if (type === 'text/csv') csv = Math.max(csv, q)
    else if (type === 'application/json') json = Math.max(json, q)
    else if (type === '*/*' || type === 'text/*' || type === 'application/*') any = Math.max(any, q)
  }
  return csv > 0 && csv > Math.max(json, any)
}

/** If-None-Match compares weakly (RFC 9110 §13.1.2): W/"x" matches "x" and the other way round. */
function matches (ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false
  const opaque = etag.replace(/^W\//, '')
  return ifNoneMatch.split(',').some(t => { const v = t.trim(); return v === '*' || v.replace(/^W\//, '') === opaque })
}

/** Accept-Encoding names gzip (or *) with a q above 0. */
export function acceptsGzip (acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined) return false
  return acceptEncoding.split(',').some(part => {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';').map(x => x.trim())
    const q = params.find(p => p.startsWith('q='))
    return (coding === 'gzip' || coding === 'x-gzip' || coding === '*') && (q === undefined || Number(q.slice(2)) > 0)
  })
}

interface Answer {
  report: ReportName
  scope: ReportScope
  /** what else the answer depends on (normalized parameters, the date) */
  parts: unknown[]
  /** the outbox recipient whose events change it (null: every event) */
  versionOf: string | null
  data: () => Promise<unknown>
  csv: (report: Record<string, unknown>, audience: Audience) => CsvTable
}

export default async function reportsRoutes (app: App): Promise<void> {
  for (const s of [SpendPlatform, SpendStation, SpendSupplier, UtilizationPlatform, UtilizationStation, PerformanceReport, DashboardPlatform, DashboardStation, DashboardSupplier]) app.addSchema(s)
  const views: Record<ReportName, AudienceSerializer> = {
    spend: audienceSerializer({ platform: SpendPlatform, station: SpendStation, supplier: SpendSupplier }),
    'contract-utilization': audienceSerializer({ platform: UtilizationPlatform, station: UtilizationStation, supplier: UtilizationPlatform }),
    'supplier-performance': audienceSerializer({ platform: PerformanceReport, station: PerformanceReport, supplier: PerformanceReport }),
    dashboard: audienceSerializer({ platform: DashboardPlatform, station: DashboardStation, supplier: DashboardSupplier })
  }

  // the read replica, when there is one: its own pool, so reports never queue behind the primary's
  let db: Db = app.db
  const conf = app.conf
  if (conf.DATABASE_READ_URL !== undefined) {
    const replica = createDb({
      connectionString: conf.DATABASE_READ_URL,
      poolSize: conf.DATABASE_POOL_SIZE,
      statementTimeoutMs: conf.DATABASE_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: conf.DATABASE_CONNECT_TIMEOUT_MS,
      applicationName: 'gestion-emballages-api:reports',
      preparedStatements: conf.DATABASE_PREPARED_STATEMENTS,
      onPoolError: err => { app.log.warn({ err: err.message }, 'idle read-replica connection lost') }
    })
    db = replica.db
    app.addHook('onClose', async () => { await replica.destroy() })
  }

  let store: ReportStore = new MemoryStore()
  if (conf.REDIS_URL !== undefined) {
    // loaded only when configured (as the rate limiter does)
    const { Redis } = await import('ioredis')
    const redis = new Redis(conf.REDIS_URL, { connectTimeout: 1000, commandTimeout: 200, maxRetriesPerRequest: 1, enableOfflineQueue: false })
    redis.on('error', err => { app.log.warn({ err: err.message }, 'redis error (reports are computed without the cache)') })
    store = new RedisStore(redis, err => { app.log.warn({ err: err.message }, 'report cache unavailable') })
  }
  const cache = new ReportCache(store)
  const versions = new VersionReader(db)
  app.addHook('onClose', async () => { await cache.close() })
  // entries of different databases never mix in a shared Redis (the URL hashed, never stored)
  const database = createHash('sha256').update(conf.DATABASE_READ_URL ?? conf.DATABASE_URL ?? 'embedded').digest('base64url').slice(0, 16)

  async function answer (request: FastifyRequest, reply: FastifyReply, a: Answer): Promise<Buffer | Readable | null> {
    const { maxAge, ttlMs } = FRESHNESS[a.report]
    const version = await versions.read(a.versionOf)
    const key = cacheKey([database, a.report, a.scope.audience, a.scope.stationId, a.scope.supplierId, ...a.parts])
    const { entry, hit } = await cache.fetch({
      report: a.report,
      key,
      version,
      ttlMs,
      compute: async () => views[a.report].serialize(a.scope.audience, await a.data())
    })
    const csv = prefersCsv(request.headers.accept)
    // the JSON compressed once with the entry, sent as it is when the client takes gzip (as a
    // compressed body elsewhere in the API, its validator is weak); the CSV is streamed (and
    // compressed, if asked, by the compression plugin)
    const gzip = !csv && entry.encoding === 'gzip' && acceptsGzip(request.headers['accept-encoding'])
    const etag = csv ? entry.etag.replace(/"$/, '.csv"') : gzip ? `W/${entry.etag}` : entry.etag
    void reply.header('etag', etag).header('cache-control', `private, max-age=${maxAge}`).header('vary', 'Accept, Accept-Encoding').header('x-report-cache', hit ? 'hit' : 'miss')
    if (matches(request.headers['if-none-match'], etag)) {
      countNotModified(a.report)
      void reply.code(304)
      return null
    }
    if (csv) return sendCsv(reply, entry, a)
    void reply.type('application/json; charset=utf-8')
    if (gzip) {
      void reply.header('content-encoding', 'gzip')
      return entry.bytes
    }
    return jsonOf(entry)
  }

  function sendCsv (reply: FastifyReply, entry: CachedReport, a: Answer): Readable {
    const table = a.csv(JSON.parse(jsonOf(entry).toString()) as Record<string, unknown>, a.scope.audience)
    void reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${table.filename}"`)
    return csvStream(table)
  }

  defineRoute(app, {
    method: 'GET',
    url: '/v1/reports/spend',
    operationId: 'getSpendReport',
    tag: TAG,
    summary: 'Spend over a period, grouped',
    description: `${SCOPE} Net amounts of the purchase orders created in [from, to] (UTC days, as GET /v1/purchase-orders filters them; default: the last 365 days), grouped by supplier, station, article, category or month. basis=ordered (default): the frozen nets of every order not CANCELLED or DECLINED; basis=received: packs received × the frozen pack price, rounded to the cent per line (what is invoiced), over the orders received so far. Station side (what stations pay), supplier side (what Blue Whale pays) and the margin, as the caller may see them; totals to the cent. ${HOW}`,
    access: 'reports:read',
    querystring: SpendQuery,
    notModified: true,
    response: { 200: ok('The spend report in the caller\'s view', [SpendPlatform, SpendStation, SpendSupplier]) }
  }, async (request, reply) => {
    const q = request.query
    const scope = reportScope(actorOf(request), q)
    const period = reportPeriod(q)
    const groupBy = q.groupBy ?? 'supplier'
    const basis = q.basis ?? 'ordered'
    return await answer(request, reply, {
      report: 'spend',
      scope,
      parts: [period.from, period.to, groupBy, basis],
      versionOf: scope.stationId ?? scope.supplierId,
      data: async () => await spendReport(db, scope, period, groupBy, basis),
      csv: spendTable
    })
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/reports/contract-utilization',
    operationId: 'getContractUtilizationReport',
    tag: TAG,
    summary: 'Contract lines: committed, ordered, received, projected',
    description: 'Platform staff: every contract; a supplier user: its own contracts (another supplierId: 404). Per contract line: committed packs (the cap) and the cap with its allowance, packs ordered (what counts against the cap: non-cancelled order lines, less the shortfalls given back when a short delivery was closed), packs received, remaining packs, % used, the share of the validity period elapsed today (France) and the ordered packs projected linearly to its end. A station user (who may not read contracts) gets the contract lines its own orders drew on, with its own ordered and received packs and their projection only — no cap, no other station. Default: ACTIVE and SUSPENDED contracts (effective status). ' + HOW,
    access: 'reports:read',
    querystring: UtilizationQuery,
    notModified: true,
    response: { 200: ok('The contract utilization report in the caller\'s view', [UtilizationPlatform, UtilizationStation]) }
  }, async (request, reply) => {
    const q = request.query
    const scope = reportScope(actorOf(request), { supplierId: q.supplierId })
    const today = businessDate()
    return await answer(request, reply, {
      report: 'contract-utilization',
      scope,
      parts: [q.status ?? null, q.contractId ?? null, today],
      // contract events are addressed to the supplier only: a station's share is invalidated by every event
      versionOf: scope.audience === 'supplier' ? scope.supplierId : null,
      data: async () => await utilizationReport(db, scope, q, today),
      csv: utilizationTable
    })
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/reports/supplier-performance',
    operationId: 'getSupplierPerformanceReport',
    tag: TAG,
    summary: 'Supplier performance over a period',
    description: `${SCOPE} Per supplier, over the purchase orders created in [from, to] (UTC days; default: the last 365 days): orders placed, declined, cancelled, confirmed, received; average confirmation delay (placed → confirmed, hours) and lead time (placed → received, days) from the orders' own timestamps; on-time rate (lines of the received orders received on or before their confirmed delivery date, the reception's date taken in France, ÷ those lines that had a confirmed date); fill rate (packs received ÷ packs ordered on the received orders). A station sees its own orders' figures; a supplier its own row. No price. ${HOW}`,
    access: 'reports:read',
    querystring: PerformanceQuery,
    notModified: true,
    response: { 200: ok('The supplier performance report', [PerformanceReport]) }
  }, async (request, reply) => {
    const q = request.query
    const scope = reportScope(actorOf(request), q)
    const period = reportPeriod(q)
    return await answer(request, reply, {
      report: 'supplier-performance',
      scope,
      parts: [period.from, period.to],
      versionOf: scope.stationId ?? scope.supplierId,
      data: async () => await performanceReport(db, scope, period),
      csv: performanceTable
    })
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/reports/dashboard',
    operationId: 'getDashboard',
    tag: TAG,
    summary: 'Dashboard for the caller\'s scope',
    description: 'Platform staff: every station and supplier. A station user: its own open orders (station prices), its stock levels at or below their alert threshold (the most urgent listed) and the transfers it is part of that are not final. A supplier user: its own open orders (supplier prices) and its ACTIVE contracts near their cap (a capped line at 80 % or more) or ending within 30 days; no stock, no transfers. Open orders: not yet invoiced, not cancelled or declined, counted per status. ' + HOW,
    access: 'reports:read',
    querystring: DashboardQuery,
    notModified: true,
    response: { 200: ok('The dashboard in the caller\'s view', [DashboardPlatform, DashboardStation, DashboardSupplier]) }
  }, async (request, reply) => {
    const scope = reportScope(actorOf(request), {})
    const today = businessDate()
    return await answer(request, reply, {
      report: 'dashboard',
      scope,
      parts: [today],
      versionOf: scope.stationId ?? scope.supplierId,
      data: async () => await dashboardReport(db, scope, today),
      csv: dashboardTable
    })
  })
}
