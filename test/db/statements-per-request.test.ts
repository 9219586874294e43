// What the hot paths send to PostgreSQL, statement by statement: an article GET is one prepared
// (named) statement; an audited article POST is BEGIN + the insert, then the audit event with the
// COMMIT — two round trips, every parameterised statement named, so PostgreSQL parses and plans
// none of them again per request (a text with its values written in was parsed and planned every
// time). The background loops: an idle sealer tick is one named probe, and sealing a batch is four
// round trips. Counted on the pg client (no timing is asserted).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import pg from 'pg'
import { createTestApp, tokenFor, bearer } from '../helpers/app.js'
import { createArticle } from '../helpers/factories.js'
import type { App } from '../../src/lib/route.js'
import { hasUnsealed, sealPending } from '../../src/domains/audit/audit.service.js'
import { dispatchOutbox } from '../../src/domains/webhooks/dispatcher.js'

interface Sent { text: string, named: boolean, values: number }

/**
 * Every statement the service's pool clients put on the wire, grouped by round trip (those written
 * in one synchronous run, before any answer can arrive, share one). The token listener's own
 * client (a plain pg.Client) is left out.
 */
function wire (): Sent[][] {
  const trips: Sent[][] = []
  let open: Sent[] | undefined
  const original = pg.Client.prototype.query
  vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    if (this.constructor !== pg.Client) {
      if (open === undefined) {
        const trip: Sent[] = []
        open = trip
        trips.push(trip)
        queueMicrotask(() => { open = undefined })
      }
      const first = args[0]
      const q = typeof first === 'string' ? { text: first, name: undefined, values: args[1] } : first as { text: string, name?: string, values?: unknown[] }
      open.push({ text: q.text.replace(/\s+/g, ' ').trim(), named: typeof q.name === 'string' && q.name !== '', values: Array.isArray(q.values) ? q.values.length : 0 })
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args) as never
  })
  return trips
}

const head = (s: Sent): string => s.text.split(' ').slice(0, 3).join(' ')

let app: App
let token: string
beforeAll(async () => {
  // the sealer ticks once a minute here: the test drives it by hand
  app = await createTestApp({ AUDIT_SEAL_INTERVAL_MS: 60_000 })
  token = tokenFor(app, { role: 'MANAGER' })
})
afterAll(async () => { await app.close() })
afterEach(() => { vi.restoreAllMocks() })

describe('statements per request', () => {
  it('GET /v1/articles/{id}: one named statement, one round trip', async () => {
    const a = await createArticle(app.db)
    await app.inject({ method: 'GET', url: `/v1/articles/${a.id}`, headers: bearer(token) })
    const sent = wire()
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({ method: 'GET', url: `/v1/articles/${a.id}`, headers: bearer(token) })
      expect(res.statusCode).toBe(200)
    }
    expect(sent).toHaveLength(3)
    for (const trip of sent) {
      expect(trip).toHaveLength(1)
      expect(trip[0]).toMatchObject({ named: true, values: 1 })
      expect(trip[0]?.text).toMatch(/^SELECT id, code, .* FROM articles WHERE id = \$1::uuid$/)
    }
  })

  it('POST /v1/articles: BEGIN + insert, then the audit event + COMMIT; both inserts named', async () => {
    const body = (n: number): string => JSON.stringify({ code: `SPR-${Date.now().toString(36).toUpperCase()}-${n}`, name: 'Barquette', category: 'TRAY', baseUnit: 'piece', vatRate: '20.00' })
    const post = async (n: number, headers: Record<string, string> = {}): Promise<void> => {
      const res = await app.inject({ method: 'POST', url: '/v1/articles', headers: { ...bearer(token), 'content-type': 'application/json', ...headers }, payload: body(n) })
      expect(res.statusCode, res.body).toBe(201)
    }
    await post(0)
    const sent = wire()
    await post(1)
    expect(sent.map(trip => trip.map(head))).toEqual([
      ['begin', 'INSERT INTO articles'],
      ['INSERT INTO audit_events', 'commit']
    ])
    const [insert, audit] = [sent[0]?.[1], sent[1]?.[0]]
    expect(insert).toMatchObject({ named: true, values: 9 })
    expect(audit).toMatchObject({ named: true, values: 11 })

    // with an Idempotency-Key: the claim travels with BEGIN, the record with the COMMIT
    sent.length = 0
    await post(2, { 'idempotency-key': `spr-${Date.now()}` })
    expect(sent.map(trip => trip.map(head))).toEqual([
      ['begin', 'SELECT locked, fingerprint,'],
      ['INSERT INTO articles'],
      ['INSERT INTO audit_events', 'INSERT INTO idempotency_keys', 'commit']
    ])
    for (const s of sent.flat()) if (s.text !== 'begin' && s.text !== 'commit') expect(s, s.text).toMatchObject({ named: true })
  })

  it('the sealer: an idle tick is one named probe; a batch is four round trips', async () => {
    // seal whatever earlier tests left
    while (await sealPending(app.db, app.conf.auditChainKeys) > 0) { /* drain */ }
    const memory = {}
    await app.inject({ method: 'POST', url: '/v1/articles', headers: { ...bearer(token), 'content-type': 'application/json' }, payload: JSON.stringify({ code: `SPS-${Date.now().toString(36).toUpperCase()}`, name: 'Barquette', category: 'TRAY', baseUnit: 'piece', vatRate: '20.00' }) })
    const sent = wire()
    expect(await hasUnsealed(app.db)).toBe(true)
    expect(sent).toHaveLength(1)
    expect(sent[0]?.[0]).toMatchObject({ named: true })

    sent.length = 0
    expect(await sealPending(app.db, app.conf.auditChainKeys, 2000, memory)).toBe(1)
    expect(sent.map(trip => trip.map(head))).toEqual([
      ['begin', 'SELECT pg_try_advisory_xact_lock($1) AS'],
      ['SELECT e.id, to_char(e.occurred_at'],
      ['SELECT h.seq, h.hash,'],
      ['INSERT INTO audit_seals', 'commit']
    ])
    for (const s of sent.flat()) if (s.text !== 'begin' && s.text !== 'commit') expect(s, s.text).toMatchObject({ named: true })

    sent.length = 0
    expect(await hasUnsealed(app.db)).toBe(false)
    expect(sent).toHaveLength(1)
    const verify = await app.inject({ method: 'GET', url: '/v1/audit-events/verify?full=true', headers: bearer(tokenFor(app, { role: 'ADMIN' })) })
    expect(verify.statusCode, verify.body).toBe(200)
    expect(JSON.parse(verify.body)).toMatchObject({ ok: true })
  })

  it('the outbox dispatcher: an idle tick is one named probe', async () => {
    await dispatchOutbox(app.db)
    const sent = wire()
    expect(await dispatchOutbox(app.db)).toEqual({ events: 0, deliveries: 0 })
    expect(sent).toHaveLength(1)
    expect(sent[0]?.[0]).toMatchObject({ named: true })
    expect(sent[0]?.[0]?.text).toMatch(/^SELECT EXISTS \( SELECT 1 FROM outbox_events/)
  })
})
