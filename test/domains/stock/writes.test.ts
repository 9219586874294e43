// Stock writes: adjustments, consumptions, counts and thresholds — happy paths, the ledger
// invariant after each, scope (own station / staff / supplier 403 / another station 404),
// validation and INSUFFICIENT_STOCK changing nothing, stock.low once per downward crossing,
// Idempotency-Key replays, If-Match on thresholds.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import type { App } from '../../../src/lib/route.js'
import { countAudit, createTestApp, expectProblem } from '../../helpers/app.js'
import { createArticle } from '../../helpers/factories.js'
import { adjust, articles, consume, count, get, ledger, lowEvents, patch, post, snapshot, staff, station, stockUrl, supplier, type Party } from './helpers.js'

let app: App
let handler: Party
beforeAll(async () => { app = await createTestApp(); handler = await staff(app) })
afterAll(async () => { await app.close() })

async function expectLedgerBalanced (stationId: string): Promise<void> {
  for (const row of await ledger(app, stationId)) {
    expect(row.quantity, `article ${row.articleId}`).not.toBeNull()
    expect(row.quantity as number).toBeGreaterThanOrEqual(0)
    expect(row.sum ?? 0, `article ${row.articleId}`).toBe(row.quantity)
  }
}

describe('adjustments', () => {
  it('applies signed deltas with one ADJUSTMENT movement per line, audited with the operation id', async () => {
    const st = await station(app)
    const [a, b] = await articles(app, 2) as [string, string]
    const auditBefore = await countAudit(app, { action: 'stock.adjust' })
    const first = await adjust(app, st, st.id, [{ articleId: b, delta: 100 }, { articleId: a, delta: 40 }])
    expect(first.statusCode, first.body).toBe(200)
    const op = first.json()
    expect(op).toMatchObject({ stationId: st.id, reason: 'ADJUSTMENT' })
    // one change per line, in the order of the lines
    expect(op.changes).toEqual([
      { articleId: b, delta: 100, before: 0, after: 100, low: false, critical: false, out: false },
      { articleId: a, delta: 40, before: 0, after: 40, low: false, critical: false, out: false }
    ])
    const second = await adjust(app, handler, st.id, [{ articleId: b, delta: -30 }])
    expect(second.statusCode, second.body).toBe(200)
    expect(second.json().changes[0]).toMatchObject({ before: 100, after: 70, delta: -30 })

    const { rows } = await sql<{ articleId: string, delta: number, reason: string, refType: string, refId: string, actorUserId: string }>`
      SELECT article_id AS "articleId", delta, reason, ref_type AS "refType", ref_id AS "refId", actor_user_id AS "actorUserId"
      FROM stock_movements WHERE station_id = ${st.id}::uuid ORDER BY id`.execute(app.db)
    expect(rows).toHaveLength(3)
    expect(rows).toEqual(expect.arrayContaining([
      { articleId: a, delta: 40, reason: 'ADJUSTMENT', refType: 'STOCK_ADJUSTMENT', refId: op.refId, actorUserId: st.userId },
      { articleId: b, delta: 100, reason: 'ADJUSTMENT', refType: 'STOCK_ADJUSTMENT', refId: op.refId, actorUserId: st.userId },
      { articleId: b, delta: -30, reason: 'ADJUSTMENT', refType: 'STOCK_ADJUSTMENT', refId: second.json().refId, actorUserId: handler.userId }
    ]))
    expect(await countAudit(app, { action: 'stock.adjust' })).toBe(auditBefore + 2)
    const audit = await app.db.selectFrom('auditEvents').select(['entityType', 'entityId', 'changes']).where('entityId', '=', op.refId).executeTakeFirstOrThrow()
    expect(audit.entityType).toBe('stock_operation')
    expect(audit.changes).toMatchObject({ reason: 'test' })
    await expectLedgerBalanced(st.id)
  })

  it('a decrease below zero (or of an article never held) is 422 INSUFFICIENT_STOCK with a pointer per line and changes nothing', async () => {
    const st = await station(app)
    const [a, b, c] = await articles(app, 3) as [string, string, string]
    expect((await adjust(app, st, st.id, [{ articleId: a, delta: 10 }, { articleId: b, delta: 5 }])).statusCode).toBe(200)
    const before = await snapshot(app, st.id)
    const res = await adjust(app, st, st.id, [{ articleId: a, delta: -3 }, { articleId: b, delta: -6 }, { articleId: c, delta: -1 }])
    const problem = expectProblem(res, 422, 'INSUFFICIENT_STOCK')
    expect((problem.errors as Array<{ pointer: string }>).map(e => e.pointer).sort()).toEqual(['/lines/1/delta', '/lines/2/delta'])
    expect(await snapshot(app, st.id)).toEqual(before)
  })

  it('validation refuses before anything is written: duplicates 400, unknown 422, inactive 422, bounds 400', async () => {
    const st = await station(app)
    const [a] = await articles(app, 1) as [string]
    const inactive = (await createArticle(app.db, { isActive: false })).id
    expect((await adjust(app, st, st.id, [{ articleId: a, delta: 10 }])).statusCode).toBe(200)
    const before = await snapshot(app, st.id)
    const url = stockUrl(st.id, '/adjustments')

    const dup = expectProblem(await adjust(app, st, st.id, [{ articleId: a, delta: 1 }, { articleId: a, delta: 2 }]), 400, 'VALIDATION_FAILED')
    expect(dup.errors).toEqual([expect.objectContaining({ pointer: '/lines/1/articleId', code: 'DUPLICATE_LINE' })])
    const unknown = expectProblem(await adjust(app, st, st.id, [{ articleId: a, delta: 1 }, { articleId: randomUUID(), delta: 2 }, { articleId: inactive, delta: 3 }]), 422, 'REFERENCE_NOT_FOUND')
    expect(unknown.errors).toEqual([
      expect.objectContaining({ pointer: '/lines/1/articleId', code: 'REFERENCE_NOT_FOUND' }),
      expect.objectContaining({ pointer: '/lines/2/articleId', code: 'ARTICLE_INACTIVE' })
    ])
    expectProblem(await adjust(app, st, st.id, [{ articleId: inactive, delta: 3 }]), 422, 'ARTICLE_INACTIVE')
    expectProblem(await adjust(app, st, st.id, [{ articleId: a, delta: 0 }]), 400, 'VALIDATION_FAILED')
    expectProblem(await adjust(app, st, st.id, [{ articleId: a, delta: 2 ** 31 }]), 400, 'VALIDATION_FAILED')
    expectProblem(await adjust(app, st, st.id, [{ articleId: a, delta: 1.5 }]), 400, 'VALIDATION_FAILED')
    expectProblem(await adjust(app, st, st.id, []), 400, 'VALIDATION_FAILED')
    expectProblem(await post(app, st.token, url, { lines: [{ articleId: a, delta: 1 }] }), 400, 'VALIDATION_FAILED') // reason required
    expectProblem(await post(app, st.token, url, { reason: 'x', lines: [{ articleId: a, delta: 1, extra: true }] }), 400, 'VALIDATION_FAILED')
    const tooMany = Array.from({ length: 1001 }, () => ({ articleId: randomUUID(), delta: 1 }))
    expectProblem(await adjust(app, st, st.id, tooMany), 400, 'VALIDATION_FAILED')
    // the quantity would overflow int4: refused as a business rule, nothing written
    expectProblem(await adjust(app, st, st.id, [{ articleId: a, delta: 2 ** 31 - 1 }]), 422)
    expect(await snapshot(app, st.id)).toEqual(before)
  })

  it('stock already held of an article deactivated since can still be written off', async () => {
    const st = await station(app)
    const [a] = await articles(app, 1) as [string]
    expect((await adjust(app, st, st.id, [{ articleId: a, delta: 10 }])).statusCode).toBe(200)
    await app.db.updateTable('articles').set({ isActive: false }).where('id', '=', a).execute()
    const res = await adjust(app, st, st.id, [{ articleId: a, delta: -10 }])
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().changes[0]).toMatchObject({ after: 0, out: true })
  })

  it('scope: a station writes only its own stock (another: 404, nothing changed); suppliers 403; staff any station; unknown station 404', async () => {
    const own = await station(app)
    const other = await station(app)
    const sup = await supplier(app)
    const [a] = await articles(app, 1) as [string]
    expect((await adjust(app, handler, other.id, [{ articleId: a, delta: 5 }])).statusCode).toBe(200)
    const before = await snapshot(app, other.id)
    const audit = await countAudit(app)
    for (const path of ['/adjustments', '/consumptions', '/counts']) {
      const body = path === '/adjustments' ? { reason: 'x', lines: [{ articleId: a, delta: 1 }] } : path === '/consumptions' ? { lines: [{ articleId: a, units: 1 }] } : { lines: [{ articleId: a, counted: 0 }] }
      expectProblem(await post(app, own.token, stockUrl(other.id, path), body), 404, 'NOT_FOUND')
      expectProblem(await post(app, sup.token, stockUrl(other.id, path), body), 403, 'FORBIDDEN')
      expectProblem(await post(app, handler.token, stockUrl(randomUUID(), path), body), 404, 'NOT_FOUND')
    }
    expectProblem(await patch(app, own.token, stockUrl(other.id, `/${a}`), { alertThreshold: 3 }), 404, 'NOT_FOUND')
    expectProblem(await patch(app, sup.token, stockUrl(other.id, `/${a}`), { alertThreshold: 3 }), 403, 'FORBIDDEN')
    expect(await snapshot(app, other.id)).toEqual(before)
    expect(await countAudit(app)).toBe(audit)
    for (const role of ['ADMIN', 'MANAGER'] as const) {
      expect((await adjust(app, await staff(app, role), other.id, [{ articleId: a, delta: 1 }])).statusCode).toBe(200)
    }
  })

  it('an Idempotency-Key replays the first answer without a second movement', async () => {
    const st = await station(app)
    const [a] = await articles(app, 1) as [string]
    const key = randomUUID()
    const first = await adjust(app, st, st.id, [{ articleId: a, delta: 7 }], { 'idempotency-key': key })
    const again = await adjust(app, st, st.id, [{ articleId: a, delta: 7 }], { 'idempotency-key': key })
    expect(again.statusCode).toBe(200)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json()).toEqual(first.json())
    expect(await ledger(app, st.id)).toEqual([{ articleId: a, quantity: 7, sum: 7, movements: 1 }])
    expectProblem(await adjust(app, st, st.id, [{ articleId: a, delta: 8 }], { 'idempotency-key': key }), 422, 'IDEMPOTENCY_KEY_REUSED')
  })
})

describe('consumptions', () => {
  it('declares units used: CONSUMPTION movements of −units; more than on hand is 422 and changes nothing', async () => {
    const st = await station(app)
    const [a, b] = await articles(app, 2) as [string, string]
    await adjust(app, st, st.id, [{ articleId: a, delta: 50 }, { articleId: b, delta: 5 }])
    const res = await consume(app, st, st.id, [{ articleId: a, units: 20 }, { articleId: b, units: 5 }])
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ reason: 'CONSUMPTION', changes: [{ articleId: a, delta: -20, before: 50, after: 30 }, { articleId: b, delta: -5, before: 5, after: 0, out: true }] })
    const before = await snapshot(app, st.id)
    const refused = expectProblem(await consume(app, st, st.id, [{ articleId: a, units: 1 }, { articleId: b, units: 1 }]), 422, 'INSUFFICIENT_STOCK')
    expect(refused.errors).toEqual([expect.objectContaining({ pointer: '/lines/1/units', code: 'INSUFFICIENT_STOCK' })])
    expectProblem(await consume(app, st, st.id, [{ articleId: a, units: 0 }]), 400, 'VALIDATION_FAILED')
    expectProblem(await consume(app, st, st.id, [{ articleId: a, units: -1 }]), 400, 'VALIDATION_FAILED')
    expect(await snapshot(app, st.id)).toEqual(before)
    const { rows } = await sql<{ reason: string, n: number }>`SELECT reason, count(*)::int AS n FROM stock_movements WHERE station_id = ${st.id}::uuid GROUP BY reason ORDER BY reason`.execute(app.db)
    expect(rows).toEqual([{ reason: 'ADJUSTMENT', n: 2 }, { reason: 'CONSUMPTION', n: 2 }])
    await expectLedgerBalanced(st.id)
  })
})

describe('counts', () => {
  it('sets each level to the counted quantity with one COUNT movement per difference, none when equal, creating missing levels', async () => {
    const st = await station(app)
    const [up, down, same, fresh, freshZero] = await articles(app, 5) as [string, string, string, string, string]
    await adjust(app, st, st.id, [{ articleId: up, delta: 10 }, { articleId: down, delta: 30 }, { articleId: same, delta: 7 }])
    const res = await count(app, st, st.id, [
      { articleId: same, counted: 7 }, { articleId: fresh, counted: 12 }, { articleId: up, counted: 25 }, { articleId: down, counted: 4 }, { articleId: freshZero, counted: 0 }
    ])
    expect(res.statusCode, res.body).toBe(200)
    const op = res.json()
    expect(op).toMatchObject({ reason: 'COUNT', stationId: st.id })
    expect(op.changes).toEqual([
      { articleId: same, delta: 0, before: 7, after: 7, low: false, critical: false, out: false },
      { articleId: fresh, delta: 12, before: 0, after: 12, low: false, critical: false, out: false },
      { articleId: up, delta: 15, before: 10, after: 25, low: false, critical: false, out: false },
      { articleId: down, delta: -26, before: 30, after: 4, low: false, critical: false, out: false },
      { articleId: freshZero, delta: 0, before: 0, after: 0, low: true, critical: true, out: true }
    ])
    const { rows } = await sql<{ articleId: string, delta: number }>`
      SELECT article_id AS "articleId", delta FROM stock_movements WHERE station_id = ${st.id}::uuid AND reason = 'COUNT' AND ref_id = ${op.refId}::uuid ORDER BY article_id`.execute(app.db)
    expect(rows).toEqual([{ articleId: fresh, delta: 12 }, { articleId: up, delta: 15 }, { articleId: down, delta: -26 }].sort((x, y) => x.articleId < y.articleId ? -1 : 1))
    const levels = await app.db.selectFrom('stockLevels').select(['articleId', 'quantity']).where('stationId', '=', st.id).orderBy('articleId').execute()
    expect(levels).toEqual([[up, 25], [down, 4], [same, 7], [fresh, 12], [freshZero, 0]].map(([articleId, quantity]) => ({ articleId, quantity })).sort((x, y) => (x.articleId as string) < (y.articleId as string) ? -1 : 1))
    // an unchanged level keeps its version
    const sameLevel = await get(app, st.token, stockUrl(st.id, `/${same}`))
    expect(sameLevel.json().version).toBe(1)
    await expectLedgerBalanced(st.id)
  })

  it('validation (duplicates, negative, unknown) changes nothing', async () => {
    const st = await station(app)
    const [a] = await articles(app, 1) as [string]
    await adjust(app, st, st.id, [{ articleId: a, delta: 3 }])
    const before = await snapshot(app, st.id)
    const dup = expectProblem(await count(app, st, st.id, [{ articleId: a, counted: 1 }, { articleId: a, counted: 2 }, { articleId: a, counted: 3 }]), 400, 'VALIDATION_FAILED')
    expect(dup.errors).toEqual([
      expect.objectContaining({ pointer: '/lines/1/articleId', code: 'DUPLICATE_LINE' }),
      expect.objectContaining({ pointer: '/lines/2/articleId', code: 'DUPLICATE_LINE' })
    ])
    expectProblem(await count(app, st, st.id, [{ articleId: a, counted: -1 }]), 400, 'VALIDATION_FAILED')
    expectProblem(await count(app, st, st.id, [{ articleId: a, counted: 0 }, { articleId: randomUUID(), counted: 2 }]), 422, 'REFERENCE_NOT_FOUND')
    expect(await snapshot(app, st.id)).toEqual(before)
  })

  it('a count racing adjustments of the same articles loses nothing: Σ movements = quantity = the count plus what came after it', async () => {
    const st = await station(app)
    const ids = await articles(app, 3)
    await adjust(app, handler, st.id, ids.map(articleId => ({ articleId, delta: 100 })))
    const results = await Promise.all([
      ...Array.from({ length: 10 }, async () => await adjust(app, handler, st.id, ids.map(articleId => ({ articleId, delta: 1 })))),
      count(app, st, st.id, ids.map(articleId => ({ articleId, counted: 50 })))
    ])
    for (const r of results) expect(r.statusCode, r.body).toBe(200)
    const countOp = (results.at(-1) as { json: () => { changes: Array<{ before: number, after: number }> } }).json()
    for (const c of countOp.changes) expect(c.after).toBe(50)
    // each level is 50 plus the adjustments that committed after the count took its locks
    for (const row of await ledger(app, st.id)) {
      expect(row.sum).toBe(row.quantity)
      expect(row.quantity).toBeGreaterThanOrEqual(50)
      expect(row.quantity).toBeLessThanOrEqual(60)
    }
  })
})

describe('stock.low', () => {
  it('is emitted once per downward crossing of the alert threshold, by adjustments, consumptions, counts and a threshold raise', async () => {
    const st = await station(app)
    const [a] = await articles(app, 1) as [string]
    await adjust(app, st, st.id, [{ articleId: a, delta: 100 }])
    expect((await patch(app, st.token, stockUrl(st.id, `/${a}`), { alertThreshold: 20, criticalThreshold: 5 })).statusCode).toBe(200)
    expect(await lowEvents(app, st.id, a)).toEqual([])

    await consume(app, st, st.id, [{ articleId: a, units: 70 }]) // 30: above
    expect(await lowEvents(app, st.id, a)).toHaveLength(0)
    await consume(app, st, st.id, [{ articleId: a, units: 12 }]) // 18: crossing
    await consume(app, st, st.id, [{ articleId: a, units: 15 }]) // 3: still low, critical: no new event
    expect(await lowEvents(app, st.id, a)).toEqual([{ stationId: st.id, articleId: a, quantity: 18, alertThreshold: 20, criticalThreshold: 5, critical: false }])

    await count(app, st, st.id, [{ articleId: a, counted: 40 }]) // back above
    await count(app, st, st.id, [{ articleId: a, counted: 0 }]) // crossing by a count
    expect(await lowEvents(app, st.id, a)).toHaveLength(2)
    await adjust(app, st, st.id, [{ articleId: a, delta: 30 }])
    await adjust(app, st, st.id, [{ articleId: a, delta: -10 }]) // 20: at the threshold = low: crossing
    expect(await lowEvents(app, st.id, a)).toHaveLength(3)
    await adjust(app, st, st.id, [{ articleId: a, delta: 5 }]) // 25
    expect((await patch(app, st.token, stockUrl(st.id, `/${a}`), { alertThreshold: 30 })).statusCode).toBe(200) // raise: now low
    expect((await patch(app, st.token, stockUrl(st.id, `/${a}`), { alertThreshold: 40 })).statusCode).toBe(200) // already low
    const events = await lowEvents(app, st.id, a)
    expect(events).toHaveLength(4)
    expect(events[3]).toMatchObject({ quantity: 25, alertThreshold: 30 })
    // every event is addressed to the station only
    const { rows } = await sql<{ orgs: string[] }>`SELECT organization_ids AS orgs FROM outbox_events WHERE type = 'stock.low' AND payload->>'articleId' = ${a}`.execute(app.db)
    for (const r of rows) expect(r.orgs).toEqual([st.id])
  })

  it('50 parallel consumptions across the threshold emit exactly one event', async () => {
    const st = await station(app)
    const [a] = await articles(app, 1) as [string]
    await adjust(app, handler, st.id, [{ articleId: a, delta: 100 }])
    await patch(app, handler.token, stockUrl(st.id, `/${a}`), { alertThreshold: 60 })
    const results = await Promise.all(Array.from({ length: 50 }, async () => await consume(app, st, st.id, [{ articleId: a, units: 1 }])))
    for (const r of results) expect(r.statusCode, r.body).toBe(200)
    expect(await lowEvents(app, st.id, a)).toHaveLength(1)
    expect(await ledger(app, st.id)).toEqual([{ articleId: a, quantity: 50, sum: 50, movements: 51 }])
  })
})

describe('thresholds', () => {
  it('sets thresholds with If-Match, creating a zero level when absent (version 0 → 1); stale 412; critical > alert 422', async () => {
    const st = await station(app)
    const [a] = await articles(app, 1) as [string]
    const url = stockUrl(st.id, `/${a}`)
    const zero = await get(app, st.token, url)
    expect(zero.statusCode, zero.body).toBe(200)
    expect(zero.json()).toMatchObject({ quantity: 0, version: 0, updatedAt: null, movements: [] })
    const created = await patch(app, st.token, url, { alertThreshold: 10, criticalThreshold: 2 }, { 'if-match': String(zero.headers.etag) })
    expect(created.statusCode, created.body).toBe(200)
    expect(created.json()).toMatchObject({ stationId: st.id, articleId: a, quantity: 0, alertThreshold: 10, criticalThreshold: 2, low: true, critical: true, out: true, version: 1 })
    expect(await ledger(app, st.id)).toEqual([{ articleId: a, quantity: 0, sum: null, movements: 0 }])
    const etag = String(created.headers.etag)
    expect((await get(app, st.token, url)).headers.etag).toBe(etag)

    const before = await snapshot(app, st.id)
    expectProblem(await patch(app, st.token, url, { alertThreshold: 11 }, { 'if-match': String(zero.headers.etag) }), 412, 'PRECONDITION_FAILED')
    const bad = expectProblem(await patch(app, st.token, url, { criticalThreshold: 11 }, { 'if-match': etag }), 422, 'THRESHOLDS_INVALID')
    expect(bad.errors).toEqual([expect.objectContaining({ pointer: '/criticalThreshold' })])
    expectProblem(await patch(app, st.token, url, { alertThreshold: 1 }), 422, 'THRESHOLDS_INVALID')
    expectProblem(await patch(app, st.token, url, {}), 400, 'VALIDATION_FAILED')
    expectProblem(await patch(app, st.token, url, { alertThreshold: -1 }), 400, 'VALIDATION_FAILED')
    expectProblem(await patch(app, st.token, url, { quantity: 5 }), 400, 'VALIDATION_FAILED')
    expectProblem(await patch(app, st.token, stockUrl(st.id, `/${randomUUID()}`), { alertThreshold: 1 }), 404, 'NOT_FOUND')
    const inactive = (await createArticle(app.db, { isActive: false })).id
    expectProblem(await patch(app, handler.token, stockUrl(st.id, `/${inactive}`), { alertThreshold: 1 }), 422, 'ARTICLE_INACTIVE')
    expect(await snapshot(app, st.id)).toEqual(before)

    const updated = await patch(app, handler.token, url, { alertThreshold: 12 }, { 'if-match': etag })
    expect(updated.json()).toMatchObject({ alertThreshold: 12, criticalThreshold: 2, version: 2 })
    const audit = await app.db.selectFrom('auditEvents').select(['entityId', 'changes']).where('action', '=', 'stock.set_thresholds').where('entityId', '=', `${st.id}/${a}`).orderBy('id', 'desc').executeTakeFirstOrThrow()
    expect(audit.changes).toEqual({ before: { alertThreshold: 10, criticalThreshold: 2 }, after: { alertThreshold: 12, criticalThreshold: 2 } })
  })

  it('If-Match: * needs a stored level (RFC 9110 §13.1.1): 412 on a level never written, nothing created; a stored one matches', async () => {
    const st = await station(app)
    const [a] = await articles(app, 1) as [string]
    const url = stockUrl(st.id, `/${a}`)
    const before = await snapshot(app, st.id)
    const audits = await countAudit(app)
    expectProblem(await patch(app, st.token, url, { alertThreshold: 5 }, { 'if-match': '*' }), 412, 'PRECONDITION_FAILED')
    expectProblem(await patch(app, handler.token, url, { alertThreshold: 5 }, { 'if-match': ' * ' }), 412, 'PRECONDITION_FAILED')
    expect(await snapshot(app, st.id)).toEqual(before)
    expect(await countAudit(app)).toBe(audits)
    expect((await get(app, st.token, url)).json()).toMatchObject({ version: 0, updatedAt: null })
    // "0" is the way to create it only if absent; then * matches the stored level
    expect((await patch(app, st.token, url, { alertThreshold: 5 }, { 'if-match': '"0"' })).statusCode).toBe(200)
    const any = await patch(app, st.token, url, { alertThreshold: 6 }, { 'if-match': '*' })
    expect(any.statusCode, any.body).toBe(200)
    expect(any.json()).toMatchObject({ alertThreshold: 6, version: 2 })
  })

  it('parallel first threshold writes on an absent level: all succeed, one level, versions 1..n', async () => {
    const st = await station(app)
    const [a] = await articles(app, 1) as [string]
    const results = await Promise.all(Array.from({ length: 10 }, async (_, i) => await patch(app, handler.token, stockUrl(st.id, `/${a}`), { alertThreshold: 10 + i })))
    for (const r of results) expect(r.statusCode, r.body).toBe(200)
    expect(results.map(r => r.json().version as number).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  })
})
