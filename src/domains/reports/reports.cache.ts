// The reports' cache. Measured on the standard dataset (README, reports section; a loaded 2-core
// machine): computing a year of a platform-wide report took 0.13–2.2 s, the biggest station's
// 16–480 ms, while an answer from the cache costs one small query (the data version) and sending
// bytes computed once. So every report is cached, per report, caller scope (audience +
// organization) and normalized parameters — in Redis when REDIS_URL is set (shared by every
// instance), otherwise in this process (an LRU bounded in bytes) — its JSON kept gzip-compressed.
//
// Invalidation comes from the domain events: every change a report shows (checkout, every
// purchase-order transition, contract approval/suspension/…, transfers, stock falling low) writes
// an outbox event in its own transaction. An entry is valid only for the data version it was
// computed at: the newest outbox id visible to the report's database and the number of events in
// the last VERSION_WINDOW ids — the count catches a transaction that committed after a newer id
// was already visible (ids are taken at insert, commits land in any order). A station's or a
// supplier's version counts only the events addressed to it (outbox organization_ids), so other
// tenants' activity does not empty its cache. What changes without an event (a stock level
// rising back above its threshold, a threshold edited, a draft contract line, a name) is bounded
// by the entry's time to live. Reading the version is one index-range query on the report's own
// database (the replica when one is configured, so version and data come from the same place).
//
// Hit rate in /metrics: reports_cache_lookups_total{report,result="hit"|"miss"},
// reports_cache_hit_ratio{report}, reports_not_modified_total, reports_compute_seconds.
import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { gunzipSync, gzip as gzipCallback } from 'node:zlib'
import { sql } from 'kysely'
import client from 'prom-client'
import type { Redis } from 'ioredis'
import type { Db } from '../../db/index.js'

const gzipAsync = promisify(gzipCallback)

/** Outbox ids looked at for a late commit (see above). */
export const VERSION_WINDOW = 2000

/** The registry /metrics adds to its own (src/plugins/health.ts): counters live for the process. */
export const reportMetrics = new client.Registry()
const lookups = new client.Counter({
  name: 'reports_cache_lookups_total',
  help: 'Report requests answered from the cache (hit) or computed (miss)',
  labelNames: ['report', 'result'] as const,
  registers: [reportMetrics]
})
const notModified = new client.Counter({
  name: 'reports_not_modified_total',
  help: 'Report requests answered 304 Not Modified (If-None-Match matched)',
  labelNames: ['report'] as const,
  registers: [reportMetrics]
})
const computeSeconds = new client.Histogram({
  name: 'reports_compute_seconds',
  help: 'Time to compute a report on a cache miss (queries and serialization)',
  labelNames: ['report'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [reportMetrics]
})
const hitCounts = new Map<string, { hit: number, miss: number }>()
// eslint-disable-next-line no-new
new client.Gauge({
  name: 'reports_cache_hit_ratio',
  help: 'Share of report requests answered from the cache since the process started',
  labelNames: ['report'] as const,
  registers: [reportMetrics],
  collect () {
    for (const [report, c] of hitCounts) this.set({ report }, c.hit + c.miss === 0 ? 0 : c.hit / (c.hit + c.miss))
  }
})

function count (report: string, result: 'hit' | 'miss'): void {
  lookups.inc({ report, result })
  const c = hitCounts.get(report) ?? { hit: 0, miss: 0 }
  c[result]++
  hitCounts.set(report, c)
}

export function countNotModified (report: string): void { notModified.inc({ report }) }

export interface CachedReport {
  /** the data version the body was computed at */
  version: string
  /** epoch ms */
  computedAt: number
  /** strong validator of the JSON body (the CSV's is derived from it) */
  etag: string
  /**
   * The JSON body in the caller's view, as UTF-8 bytes (outside the JS heap): as it is below
   * GZIP_FROM_BYTES, gzip-compressed from there on — compressed once, sent as it is to the clients
   * that accept gzip and inflated for the others (a report's JSON shrinks ten times or more, so
   * the cache holds ten times more reports).
   */
  bytes: Buffer
  encoding: 'identity' | 'gzip'
}

/** Bodies from this size on are kept gzip-compressed. */
export const GZIP_FROM_BYTES = 1024

/** The JSON body of an entry, uncompressed. */
export const jsonOf = (r: CachedReport): Buffer => (r.encoding === 'gzip' ? gunzipSync(r.bytes) : r.bytes)

export interface ReportStore {
  get: (key: string) => Promise<CachedReport | undefined>
  set: (key: string, value: CachedReport, ttlMs: number) => Promise<void>
  close: () => Promise<void>
}

const sizeOf = (r: CachedReport): number => r.bytes.length

/** In-process LRU bounded by the bytes of the bodies it holds; entries also expire. */
export class MemoryStore implements ReportStore {
  readonly #entries = new Map<string, { value: CachedReport, expires: number }>()
  #bytes = 0
  constructor (readonly maxBytes = 16 * 1024 * 1024) {}

  async get (key: string): Promise<CachedReport | undefined> {
    const e = this.#entries.get(key)
    if (e === undefined) return undefined
    this.#entries.delete(key)
    if (e.expires <= Date.now()) {
      this.#bytes -= sizeOf(e.value)
      return undefined
    }
    this.#entries.set(key, e) // most recently used last
    return e.value
  }

  async set (key: string, value: CachedReport, ttlMs: number): Promise<void> {
    const old = this.#entries.get(key)
    if (old !== undefined) {
      this.#entries.delete(key)
      this.#bytes -= sizeOf(old.value)
    }
    if (sizeOf(value) > this.maxBytes / 2) return // one report never takes the whole cache
    this.#entries.set(key, { value, expires: Date.now() + ttlMs })
    this.#bytes += sizeOf(value)
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break
      this.#entries.delete(k)
      this.#bytes -= sizeOf(e.value)
    }
  }

  get size (): number { return this.#entries.size }
  async close (): Promise<void> { this.#entries.clear(); this.#bytes = 0 }
}

/** Entries in Redis (shared by every instance), expiring with their TTL. A Redis failure is a miss, never an error. */
export class RedisStore implements ReportStore {
  constructor (readonly redis: Redis, readonly onError: (err: Error) => void = () => {}) {}

  async get (key: string): Promise<CachedReport | undefined> {
    try {
      const raw = await this.redis.get(key)
      if (raw === null) return undefined
      const stored = JSON.parse(raw) as Omit<CachedReport, 'bytes'> & { bytes: string }
      return { ...stored, bytes: Buffer.from(stored.bytes, 'base64') }
    } catch (err) {
      this.onError(err as Error)
      return undefined
    }
  }

  async set (key: string, value: CachedReport, ttlMs: number): Promise<void> {
    try {
      await this.redis.set(key, JSON.stringify({ ...value, bytes: value.bytes.toString('base64') }), 'PX', ttlMs)
    } catch (err) {
      this.onError(err as Error)
    }
  }

  async close (): Promise<void> { this.redis.disconnect() }
}

/**
 * The data version for a scope: `<newest outbox id>.<events in the last VERSION_WINDOW ids>`,
 * counting only the events addressed to `organizationId` when one is given.
 */
export async function dataVersion (db: Db, organizationId: string | null): Promise<string> {
  const mine = organizationId === null ? sql`` : sql`AND e.organization_ids @> ARRAY[${organizationId}::uuid]`
  const r = await sql<{ head: string, n: number }>`SELECT coalesce(max(e.id), 0)::text AS head, count(*) AS n FROM outbox_events e
    WHERE e.id > (SELECT coalesce(max(id), 0) FROM outbox_events) - ${VERSION_WINDOW}::int ${mine}`.execute(db)
  const row = r.rows[0]
  return `${row?.head ?? '0'}.${row?.n ?? 0}`
}

/**
 * Reads data versions, sharing a read already in flight for the same organization: under
 * concurrency, requests that arrive while a version read runs take its answer (they may miss an
 * event committed less than one such read — about a millisecond — before they arrived); a lone
 * request always reads afresh, so a client's own write is seen by its next report.
 */
export class VersionReader {
  readonly #inFlight = new Map<string, Promise<string>>()
  constructor (readonly db: Db) {}

  async read (organizationId: string | null): Promise<string> {
    const k = organizationId ?? '*'
    let p = this.#inFlight.get(k)
    if (p === undefined) {
      p = dataVersion(this.db, organizationId).finally(() => { this.#inFlight.delete(k) })
      this.#inFlight.set(k, p)
    }
    return await p
  }
}

export const cacheKey = (parts: unknown[]): string => `ge-report:${createHash('sha256').update(JSON.stringify(parts)).digest('base64url')}`
const etagOfBody = (body: Buffer): string => `"r${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`

export interface Lookup {
  report: string
  key: string
  version: string
  ttlMs: number
  /** computes the JSON body (in the caller's view) */
  compute: () => Promise<string>
}

export class ReportCache {
  readonly #inFlight = new Map<string, Promise<CachedReport>>()
  constructor (readonly store: ReportStore) {}

  /** The entry for the key at this version: the stored one when fresh, else computed once however many ask at the same time. */
  async fetch (l: Lookup): Promise<{ entry: CachedReport, hit: boolean }> {
    const stored = await this.store.get(l.key)
    if (stored !== undefined && stored.version === l.version && Date.now() - stored.computedAt < l.ttlMs) {
      count(l.report, 'hit')
      return { entry: stored, hit: true }
    }
    count(l.report, 'miss')
    const flight = `${l.key}@${l.version}`
    let p = this.#inFlight.get(flight)
    if (p === undefined) {
      p = this.#compute(l).finally(() => { this.#inFlight.delete(flight) })
      this.#inFlight.set(flight, p)
    }
    return { entry: await p, hit: false }
  }

  async #compute (l: Lookup): Promise<CachedReport> {
    const end = computeSeconds.startTimer({ report: l.report })
    const body = Buffer.from(await l.compute())
    const zipped = body.length >= GZIP_FROM_BYTES
    const bytes = zipped ? await gzipAsync(body, { level: 6 }) : body
    end()
    const entry: CachedReport = { version: l.version, computedAt: Date.now(), etag: etagOfBody(body), bytes, encoding: zipped ? 'gzip' : 'identity' }
    await this.store.set(l.key, entry, l.ttlMs)
    return entry
  }

  async close (): Promise<void> { await this.store.close() }
}
