// Transfers over HTTP: requesting (who may, validation, numbering), reading (scope, ETag, lists
// with filters and keyset pages), the stock each step moves (ship −granted at the source, receive
// +received at the destination, Σ movements = quantity), refusals that change nothing
// (INSUFFICIENT_STOCK at confirm and at ship, over-receipt), the history and the outbox events.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { countAudit, createTestApp, expectProblem } from '../../helpers/app.js'
import { createArticle } from '../../helpers/factories.js'
import {
  act, bodyFor, createTransfer, expectLedgerBalanced, get, giveStock, ledger, network, quantity, requested, signedNoteOf, noteOf, transferIn,
  type Network, type TransferJson
} from './fixtures.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const count = async (table: 'transfers' | 'transferLines' | 'transferEvents' | 'stockMovements'): Promise<number> =>
  Number((await app.db.selectFrom(table).select(eb => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)

describe('requesting a transfer', () => {
  let n: Network
  beforeAll(async () => { n = await network(app, { articleCount: 3 }) })

  it('a station asks another one: 201 REQUESTED, TR number, Location, ETag, lines and totals, history, event', async () => {
    const audits = await countAudit(app, { action: 'transfer.create' })
    const res = await createTransfer(app, n.req.token, { sourceStationId: n.src.id, lines: [{ articleId: n.articles[0], units: 120 }, { articleId: n.articles[1], units: 30 }], reason: 'harvest peak', neededBy: '2099-06-30' })
    expect(res.statusCode, res.body).toBe(201)
    const t = res.json()
    expect(t.number).toMatch(new RegExp(`^TR-${new Date().getUTCFullYear()}-\\d{6,}$`))
    expect(res.headers.location).toBe(`/v1/transfers/${t.id}`)
    expect(res.headers.etag).toMatch(new RegExp(`^"${t.version}\\.[A-Za-z0-9_-]+"$`))
    expect(t).toMatchObject({ status: 'REQUESTED', requestingStationId: n.req.id, sourceStationId: n.src.id, reason: 'harvest peak', neededBy: '2099-06-30', createdBy: n.req.userId, version: 1, confirmedAt: null, shippedAt: null })
    expect(t.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/)
    expect(t.lines).toHaveLength(2)
    expect(t.lines.map((l: { unitsRequested: number }) => l.unitsRequested).sort()).toEqual([120, 30].sort())
    expect(t.lines[0]).toMatchObject({ unitsGranted: null, unitsShipped: null, unitsReceived: null, unitsInTransit: 0, unitsLost: 0, baseUnit: 'piece' })
    expect(t.totals).toEqual({ lines: 2, unitsRequested: 150, unitsGranted: null, unitsShipped: null, unitsReceived: null, unitsInTransit: 0, unitsLost: 0 })
    const events = (await get(app, n.src.token, `/v1/transfers/${t.id}/events`)).json()
    expect(events.items).toEqual([expect.objectContaining({ fromStatus: null, toStatus: 'REQUESTED', actorUserId: n.req.userId, actorRole: 'STATION', note: 'harvest peak' })])
    const out = await app.db.selectFrom('outboxEvents').select(['type', 'organizationIds', 'payload']).where(sql<boolean>`payload->>'transferId' = ${t.id}`).execute()
    expect(out).toEqual([{ type: 'transfer.requested', organizationIds: [n.req.id, n.src.id], payload: expect.objectContaining({ number: t.number, status: 'REQUESTED' }) }])
    expect(await countAudit(app, { action: 'transfer.create' })).toBe(audits + 1)
    const audit = await app.db.selectFrom('auditEvents').select(['entityType', 'actorUserId']).where('action', '=', 'transfer.create').where('entityId', '=', t.id).execute()
    expect(audit).toEqual([{ entityType: 'transfer', actorUserId: n.req.userId }])
  })

  it('platform staff request on behalf of a station (requestingStationId required)', async () => {
    const ok = await createTransfer(app, n.manager.token, { requestingStationId: n.other.id, sourceStationId: n.src.id, lines: [{ articleId: n.articles[2], units: 5 }] })
    expect(ok.statusCode, ok.body).toBe(201)
    expect(ok.json()).toMatchObject({ requestingStationId: n.other.id, createdBy: n.manager.userId })
    const missing = await createTransfer(app, n.handler.token, { sourceStationId: n.src.id, lines: [{ articleId: n.articles[2], units: 5 }] })
    expect(expectProblem(missing, 400, 'VALIDATION_FAILED').errors).toEqual([expect.objectContaining({ pointer: '/requestingStationId' })])
  })

  it('refusals write nothing: another requester, same station, unknown station or article, inactive article, duplicate lines, supplier, bad units', async () => {
    const inactive = await createArticle(app.db, { isActive: false })
    const before = await Promise.all([count('transfers'), count('transferLines'), count('transferEvents')])
    const audits = await countAudit(app)
    const line = { articleId: n.articles[0], units: 5 }
    expectProblem(await createTransfer(app, n.req.token, { requestingStationId: n.other.id, sourceStationId: n.src.id, lines: [line] }), 403, 'NOT_ALLOWED_FOR_PARTY')
    expectProblem(await createTransfer(app, n.req.token, { sourceStationId: n.req.id, lines: [line] }), 422, 'BUSINESS_RULE_VIOLATED')
    expectProblem(await createTransfer(app, n.admin.token, { requestingStationId: n.src.id, sourceStationId: n.src.id, lines: [line] }), 422, 'BUSINESS_RULE_VIOLATED')
    const unknown = expectProblem(await createTransfer(app, n.req.token, { sourceStationId: randomUUID(), lines: [line, { articleId: randomUUID(), units: 1 }] }), 422, 'REFERENCE_NOT_FOUND')
    expect((unknown.errors as Array<{ pointer: string }>).map(e => e.pointer)).toEqual(['/sourceStationId', '/lines/1/articleId'])
    expectProblem(await createTransfer(app, n.req.token, { sourceStationId: n.src.id, lines: [{ articleId: inactive.id, units: 1 }] }), 422, 'ARTICLE_INACTIVE')
    // a repeated article is a malformed body: 400, one item per repeated line (before the 422 checks)
    const dup = expectProblem(await createTransfer(app, n.req.token, { sourceStationId: n.req.id, lines: [line, { ...line, units: 7 }, { articleId: n.articles[1], units: 1 }, line] }), 400, 'VALIDATION_FAILED')
    expect(dup.errors).toEqual([
      expect.objectContaining({ pointer: '/lines/1/articleId', code: 'DUPLICATE_LINE' }),
      expect.objectContaining({ pointer: '/lines/3/articleId', code: 'DUPLICATE_LINE' })
    ])
    expectProblem(await createTransfer(app, n.supplier.token, { sourceStationId: n.src.id, lines: [line] }), 403, 'FORBIDDEN')
    expectProblem(await createTransfer(app, n.req.token, { sourceStationId: n.src.id, lines: [{ ...line, units: 0 }] }), 400, 'VALIDATION_FAILED')
    expectProblem(await createTransfer(app, n.req.token, { sourceStationId: n.src.id, lines: [] }), 400, 'VALIDATION_FAILED')
    expectProblem(await createTransfer(app, n.req.token, { sourceStationId: n.src.id, lines: [line], extra: 1 }), 400, 'VALIDATION_FAILED')
    expect(await Promise.all([count('transfers'), count('transferLines'), count('transferEvents')])).toEqual(before)
    expect(await countAudit(app)).toBe(audits)
  })

  // held by the database: the sequence and UNIQUE (number) — 3 rounds of 50 parallel requests
  for (let round = 1; round <= 3; round++) {
    it(`numbers are unique and come from transfer_number_seq, also when requested concurrently (round ${round}: 50 at once)`, async () => {
      const start = Number((await sql<{ n: string }>`SELECT last_value AS n FROM transfer_number_seq`.execute(app.db)).rows[0]?.n)
      const results = await Promise.all(Array.from({ length: 50 }, async (_, i) => await createTransfer(app, i % 2 === 0 ? n.req.token : n.handler.token, { requestingStationId: n.req.id, sourceStationId: n.src.id, lines: [{ articleId: n.articles[0], units: 1 + i }] })))
      expect(results.map(r => r.statusCode)).toEqual(results.map(() => 201))
      const numbers = results.map(r => (r.json() as { number: string }).number)
      expect(new Set(numbers).size).toBe(50)
      const seqs = numbers.map(x => Number(x.split('-')[2]))
      for (const s of seqs) { expect(s).toBeGreaterThan(start); expect(s).toBeLessThanOrEqual(start + 50) }
      const end = Number((await sql<{ n: string }>`SELECT last_value AS n FROM transfer_number_seq`.execute(app.db)).rows[0]?.n)
      expect(end).toBe(start + 50)
    })
  }
})

describe('reading transfers', () => {
  let n: Network
  beforeAll(async () => { n = await network(app, { articleCount: 2, stock: 10_000 }) })

  it('ETag and 304; If-Match on an action: stale → 412 and nothing changes, current → 200', async () => {
    const t = await requested(app, n)
    const first = await get(app, n.src.token, `/v1/transfers/${t.id}`)
    const etag1 = String(first.headers.etag)
    expect(etag1).toMatch(/^"1\.[A-Za-z0-9_-]+"$/)
    const again = await get(app, n.src.token, `/v1/transfers/${t.id}`, { 'if-none-match': etag1 })
    expect(again.statusCode).toBe(304)
    expect(again.body).toBe('')
    expectProblem(await act(app, n.src.token, t.id, 'confirm', bodyFor('confirm', t), { 'if-match': '"7"' }), 412, 'PRECONDITION_FAILED')
    expect((await get(app, n.src.token, `/v1/transfers/${t.id}`)).json()).toMatchObject({ status: 'REQUESTED', version: 1 })
    const ok = await act(app, n.src.token, t.id, 'confirm', bodyFor('confirm', t), { 'if-match': '"1"' })
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.headers.etag).toMatch(/^"2\.[A-Za-z0-9_-]+"$/)
    expect((await get(app, n.src.token, `/v1/transfers/${t.id}`, { 'if-none-match': etag1 })).statusCode).toBe(200)
  })

  it('the ETag covers the article fields shown on the lines: a renamed article is never confirmed by a 304', async () => {
    const m = await network(app, { articleCount: 1, stock: 100 })
    const created = await createTransfer(app, m.req.token, { sourceStationId: m.src.id, lines: [{ articleId: m.articles[0], units: 10 }] })
    const t: TransferJson = created.json()
    const first = await get(app, m.req.token, `/v1/transfers/${t.id}`)
    const etag = String(first.headers.etag)
    // the create answers the ETag a read answers
    expect(created.headers.etag).toBe(etag)
    expect((await get(app, m.req.token, `/v1/transfers/${t.id}`, { 'if-none-match': etag })).statusCode).toBe(304)
    await app.db.updateTable('articles').set({ name: 'Renamed crate' }).where('id', '=', m.articles[0] as string).execute()
    const renamed = await get(app, m.req.token, `/v1/transfers/${t.id}`, { 'if-none-match': etag })
    expect(renamed.statusCode).toBe(200)
    expect(renamed.json().lines[0].articleName).toBe('Renamed crate')
    expect(renamed.headers.etag).not.toBe(etag)
    expect(renamed.headers.etag).toMatch(/^"1\./)
    // an action answers the ETag a read of its answer would: If-None-Match with it is a 304
    const confirmed = await act(app, m.src.token, t.id, 'confirm', bodyFor('confirm', t), { 'if-match': String(renamed.headers.etag) })
    expect(confirmed.statusCode, confirmed.body).toBe(200)
    expect((await get(app, m.req.token, `/v1/transfers/${t.id}`, { 'if-none-match': String(confirmed.headers.etag) })).statusCode).toBe(304)
  })

  it('lists: scope, filters (status, stationId either side, side, dates), keyset pages newest first', async () => {
    const m = await network(app, { articleCount: 1, stock: 1000 })
    // m.req asks m.src 7 times; m.src asks m.req twice (so m.req is on both sides); one between m.src and m.other
    const mine: TransferJson[] = []
    for (let i = 0; i < 7; i++) mine.push(await requested(app, m, 1 + i))
    const back: TransferJson[] = []
    for (let i = 0; i < 2; i++) {
      const r = await createTransfer(app, m.src.token, { sourceStationId: m.req.id, lines: [{ articleId: m.articles[0], units: 3 }] })
      back.push(r.json())
    }
    const third = (await createTransfer(app, m.other.token, { sourceStationId: m.src.id, lines: [{ articleId: m.articles[0], units: 2 }] })).json() as TransferJson
    await act(app, m.src.token, (mine[0] as TransferJson).id, 'reject', { reason: 'no' })

    const all = async (token: string, query: string): Promise<string[]> => {
      const ids: string[] = []
      let cursor: string | null = null
      do {
        const res = await get(app, token, `/v1/transfers?limit=2&${query}${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
        expect(res.statusCode, res.body).toBe(200)
        const body = res.json() as { items: Array<{ id: string, createdAt: string, totals: { lines: number } }>, nextCursor: string | null }
        expect(body.items.length).toBeLessThanOrEqual(2)
        for (const it of body.items) expect(it.totals.lines).toBe(1)
        ids.push(...body.items.map(i => i.id))
        cursor = body.nextCursor
      } while (cursor !== null)
      return ids
    }
    const newestFirst = (ts: TransferJson[]): string[] => [...ts].reverse().map(t => t.id)
    // a station: both sides, newest first, across pages (no duplicates, none missing)
    expect(await all(m.req.token, '')).toEqual(newestFirst([...mine, ...back]))
    expect(await all(m.req.token, 'side=requesting')).toEqual(newestFirst(mine))
    expect(await all(m.req.token, 'side=source')).toEqual(newestFirst(back))
    expect(await all(m.req.token, 'status=REJECTED')).toEqual([(mine[0] as TransferJson).id])
    // a station naming another station: the transfers between the two
    expect(await all(m.src.token, `stationId=${m.other.id}`)).toEqual([third.id])
    expect(await all(m.src.token, `stationId=${m.req.id}&side=source`)).toEqual(newestFirst(back))
    // the uninvolved station sees none of m.req's
    expect(await all(m.other.token, `stationId=${m.req.id}`)).toEqual([])
    expect(await all(m.other.token, '')).toEqual([third.id])
    // staff: any station, either side or one
    expect(await all(m.handler.token, `stationId=${m.src.id}`)).toEqual(newestFirst([...mine, ...back, third]))
    expect(await all(m.handler.token, `stationId=${m.src.id}&side=requesting`)).toEqual(newestFirst(back))
    expectProblem(await get(app, m.handler.token, '/v1/transfers?side=source'), 400, 'VALIDATION_FAILED')
    // dates (UTC creation day)
    const today = new Date().toISOString().slice(0, 10)
    expect(await all(m.req.token, `from=${today}&to=${today}`)).toHaveLength(9)
    expect(await all(m.req.token, 'to=2000-01-01')).toEqual([])
    expectProblem(await get(app, m.req.token, '/v1/transfers?cursor=abc.def'), 400, 'INVALID_CURSOR')
    expectProblem(await get(app, m.supplier.token, '/v1/transfers'), 403, 'FORBIDDEN')
  })
})

describe('stock moved by the workflow', () => {
  it('ship takes the granted units off the source, receive adds the received units to the destination; shipped − received is in transit, then lost', async () => {
    const n = await network(app, { articleCount: 2, stock: 100 })
    const [a, b] = n.articles as [string, string]
    const t = await requested(app, n, [60, 50])
    const lineOf = (x: TransferJson, art: string) => x.lines.find(l => l.articleId === art) as TransferJson['lines'][number]
    // partial grant: 40 of 60, 50 of 50
    const conf = await act(app, n.src.token, t.id, 'confirm', { lines: [{ lineId: lineOf(t, a).id, unitsGranted: 40 }, { lineId: lineOf(t, b).id, unitsGranted: 50 }] })
    expect(conf.statusCode, conf.body).toBe(200)
    expect(conf.json().totals).toMatchObject({ unitsRequested: 110, unitsGranted: 90, unitsShipped: null })
    expect(await quantity(app, n.src.id, a)).toBe(100) // nothing moves at confirm
    expect((await act(app, n.handler.token, t.id, 'prepare', {})).statusCode).toBe(200)
    const shipped = await act(app, n.src.token, t.id, 'ship', { deliveryNoteDocumentId: noteOf(n) })
    expect(shipped.statusCode, shipped.body).toBe(200)
    const s = shipped.json() as TransferJson & { deliveryNoteDocumentId: string, shippedAt: string }
    expect(s).toMatchObject({ status: 'SHIPPED', deliveryNoteDocumentId: noteOf(n) })
    expect(s.shippedAt).not.toBeNull()
    expect(lineOf(s, a)).toMatchObject({ unitsShipped: 40, unitsInTransit: 40, unitsLost: 0 })
    expect(s.totals).toMatchObject({ unitsShipped: 90, unitsInTransit: 90, unitsLost: 0, unitsReceived: null })
    expect([await quantity(app, n.src.id, a), await quantity(app, n.src.id, b)]).toEqual([60, 50])
    const outs = await app.db.selectFrom('stockMovements').select(['stationId', 'articleId', 'delta', 'reason', 'refType', 'refId', 'actorUserId']).where('refId', '=', t.id).orderBy('id').execute()
    expect(outs).toHaveLength(2)
    expect(outs.every(m => m.reason === 'TRANSFER_OUT' && m.refType === 'TRANSFER' && m.stationId === n.src.id && m.actorUserId === n.src.userId)).toBe(true)
    expect(outs.map(m => m.delta).sort()).toEqual([-40, -50].sort())

    // receive: 35 of 40 (5 lost), 50 of 50
    const rec = await act(app, n.req.token, t.id, 'receive', { signedDeliveryNoteDocumentId: signedNoteOf(n), lines: [{ lineId: lineOf(t, a).id, unitsReceived: 35, note: '5 crushed' }, { lineId: lineOf(t, b).id, unitsReceived: 50 }] })
    expect(rec.statusCode, rec.body).toBe(200)
    const r = rec.json() as TransferJson & { signedDeliveryNoteDocumentId: string }
    expect(r).toMatchObject({ status: 'RECEIVED', signedDeliveryNoteDocumentId: signedNoteOf(n) })
    expect(lineOf(r, a)).toMatchObject({ unitsReceived: 35, unitsInTransit: 0, unitsLost: 5, note: '5 crushed' })
    expect(r.totals).toMatchObject({ unitsShipped: 90, unitsReceived: 85, unitsInTransit: 0, unitsLost: 5 })
    expect([await quantity(app, n.req.id, a), await quantity(app, n.req.id, b)]).toEqual([35, 50])
    const ins = await app.db.selectFrom('stockMovements').select(['stationId', 'delta', 'reason']).where('refId', '=', t.id).where('reason', '=', 'TRANSFER_IN').execute()
    expect(ins.map(m => m.delta).sort()).toEqual([35, 50].sort())
    expect(ins.every(m => m.stationId === n.req.id)).toBe(true)
    expectLedgerBalanced(await ledger(app, [n.req.id, n.src.id]))

    for (const [who, verb, body] of [[n.req, 'close', {}], [n.admin, 'settle', { settlementRef: 'AV-2026-0001', settlementAmount: '412.50' }], [n.manager, 'archive', {}]] as const) {
      const res = await act(app, who.token, t.id, verb, body)
      expect(res.statusCode, res.body).toBe(200)
    }
    const final = (await get(app, n.src.token, `/v1/transfers/${t.id}`)).json()
    expect(final).toMatchObject({ status: 'ARCHIVED', settlementRef: 'AV-2026-0001', settlementAmount: '412.50', version: 8 })
    const events = (await get(app, n.req.token, `/v1/transfers/${t.id}/events?limit=3`)).json()
    expect(events.items.map((e: { toStatus: string }) => e.toStatus)).toEqual(['REQUESTED', 'CONFIRMED', 'IN_PREPARATION'])
    const rest = (await get(app, n.req.token, `/v1/transfers/${t.id}/events?limit=10&cursor=${encodeURIComponent(events.nextCursor)}`)).json()
    expect(rest.items.map((e: { toStatus: string, actorRole: string }) => `${e.toStatus}:${e.actorRole}`)).toEqual(['SHIPPED:STATION', 'RECEIVED:STATION', 'CLOSED:STATION', 'SETTLED:ADMIN', 'ARCHIVED:MANAGER'])
    expect(rest.nextCursor).toBeNull()
    const types = await app.db.selectFrom('outboxEvents').select(['type', 'organizationIds']).where(sql<boolean>`payload->>'transferId' = ${t.id}`).orderBy('id').execute()
    expect(types.map(e => e.type)).toEqual(['transfer.requested', 'transfer.confirmed', 'transfer.prepared', 'transfer.shipped', 'transfer.received', 'transfer.closed', 'transfer.settled', 'transfer.archived'])
    expect(types.every(e => JSON.stringify(e.organizationIds) === JSON.stringify([n.req.id, n.src.id]))).toBe(true)
  })

  it('INSUFFICIENT_STOCK at confirm (granted > the source\'s stock) changes nothing', async () => {
    const n = await network(app, { articleCount: 2, stock: 20 })
    const t = await requested(app, n, [30, 10])
    const before = await ledger(app, [n.src.id])
    const audits = await countAudit(app)
    const res = await act(app, n.src.token, t.id, 'confirm', bodyFor('confirm', t))
    const p = expectProblem(res, 422, 'INSUFFICIENT_STOCK')
    expect(p.errors).toEqual([expect.objectContaining({ code: 'INSUFFICIENT_STOCK', pointer: expect.stringMatching(/^\/lines\/\d\/unitsGranted$/) })])
    expect((await get(app, n.src.token, `/v1/transfers/${t.id}`)).json()).toMatchObject({ status: 'REQUESTED', version: 1, totals: { unitsGranted: null } })
    expect(await ledger(app, [n.src.id])).toEqual(before)
    expect(await countAudit(app)).toBe(audits)
    // more than requested, or nothing at all, are business-rule refusals
    const over = { lines: t.lines.map(l => ({ lineId: l.id, unitsGranted: l.unitsRequested + 1 })) }
    expect(expectProblem(await act(app, n.src.token, t.id, 'confirm', over), 422, 'BUSINESS_RULE_VIOLATED').errors).toHaveLength(2)
    expectProblem(await act(app, n.src.token, t.id, 'confirm', { lines: t.lines.map(l => ({ lineId: l.id, unitsGranted: 0 })) }), 422, 'BUSINESS_RULE_VIOLATED')
    expectProblem(await act(app, n.src.token, t.id, 'confirm', { lines: [{ lineId: t.lines[0]?.id, unitsGranted: 1 }] }), 422, 'BUSINESS_RULE_VIOLATED')
    expectProblem(await act(app, n.src.token, t.id, 'confirm', { lines: [...t.lines, { id: randomUUID() }].map(l => ({ lineId: l.id, unitsGranted: 1 })) }), 422, 'BUSINESS_RULE_VIOLATED')
    // granting what is there works
    const ok = await act(app, n.src.token, t.id, 'confirm', { lines: t.lines.map(l => ({ lineId: l.id, unitsGranted: Math.min(20, l.unitsRequested) })) })
    expect(ok.statusCode, ok.body).toBe(200)
  })

  it('INSUFFICIENT_STOCK at ship (the stock left since the confirmation) changes nothing', async () => {
    const n = await network(app, { articleCount: 2, stock: 50 })
    const t = await transferIn(app, n, 'IN_PREPARATION', [40, 10])
    // another transfer empties the first article in between
    const rival = await transferIn(app, n, 'IN_PREPARATION', [20, 1])
    expect((await act(app, n.src.token, rival.id, 'ship', { deliveryNoteDocumentId: noteOf(n) })).statusCode).toBe(200)
    const before = await ledger(app, [n.src.id, n.req.id])
    const moves = await count('stockMovements')
    const audits = await countAudit(app)
    // the ship body has no lines: no pointer into it (never /articles/<id>); the detail names the article
    const short = expectProblem(await act(app, n.src.token, t.id, 'ship', { deliveryNoteDocumentId: noteOf(n) }), 422, 'INSUFFICIENT_STOCK')
    expect(short.errors).toBeUndefined()
    expect(short.detail).toContain(n.articles[0])
    expect((await get(app, n.src.token, `/v1/transfers/${t.id}`)).json()).toMatchObject({ status: 'IN_PREPARATION', version: t.version, deliveryNoteDocumentId: null, totals: { unitsShipped: null } })
    expect(await ledger(app, [n.src.id, n.req.id])).toEqual(before)
    expect(await count('stockMovements')).toBe(moves)
    expect(await countAudit(app)).toBe(audits)
    expect((await app.db.selectFrom('transferEvents').select('toStatus').where('transferId', '=', t.id).execute()).map(e => e.toStatus)).toEqual(['REQUESTED', 'CONFIRMED', 'IN_PREPARATION'])
    // once restocked it ships
    await giveStock(app, n.src.id, [n.articles[0] as string], 10)
    expect((await act(app, n.src.token, t.id, 'ship', { deliveryNoteDocumentId: noteOf(n) })).statusCode).toBe(200)
    expect(await quantity(app, n.src.id, n.articles[0] as string)).toBe(0)
    expectLedgerBalanced(await ledger(app, [n.src.id, n.req.id]))
  })

  it('receive: at most what shipped, every shipped line once; lines that shipped nothing may be left out', async () => {
    const n = await network(app, { articleCount: 2, stock: 100 })
    let t = await requested(app, n, [10, 10])
    const [l0, l1] = t.lines as [TransferJson['lines'][number], TransferJson['lines'][number]]
    t = (await act(app, n.src.token, t.id, 'confirm', { lines: [{ lineId: l0.id, unitsGranted: 10 }, { lineId: l1.id, unitsGranted: 0 }] })).json()
    await act(app, n.handler.token, t.id, 'prepare', {})
    t = (await act(app, n.src.token, t.id, 'ship', { deliveryNoteDocumentId: noteOf(n) })).json()
    expect(await ledger(app, [n.src.id])).toEqual(expect.arrayContaining([expect.objectContaining({ articleId: l1.articleId, quantity: 100 })]))
    const over = expectProblem(await act(app, n.req.token, t.id, 'receive', { signedDeliveryNoteDocumentId: signedNoteOf(n), lines: [{ lineId: l0.id, unitsReceived: 11 }] }), 422, 'BUSINESS_RULE_VIOLATED')
    expect(over.errors).toEqual([expect.objectContaining({ pointer: '/lines/0/unitsReceived', code: 'RECEIVED_EXCEEDS_SHIPPED' })])
    expectProblem(await act(app, n.req.token, t.id, 'receive', { signedDeliveryNoteDocumentId: signedNoteOf(n), lines: [{ lineId: l1.id, unitsReceived: 0 }] }), 422, 'BUSINESS_RULE_VIOLATED')
    expect(await quantity(app, n.req.id, l0.articleId)).toBe(0)
    const ok = await act(app, n.req.token, t.id, 'receive', { signedDeliveryNoteDocumentId: signedNoteOf(n), lines: [{ lineId: l0.id, unitsReceived: 10 }] })
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json().lines.find((l: { id: string }) => l.id === l1.id)).toMatchObject({ unitsGranted: 0, unitsShipped: 0, unitsReceived: 0, unitsLost: 0 })
    expect(await quantity(app, n.req.id, l0.articleId)).toBe(10)
    expectLedgerBalanced(await ledger(app, [n.src.id, n.req.id]))
  })

  it('reject needs a reason; cancel takes an optional one; both are final and recorded', async () => {
    const n = await network(app, { articleCount: 1 })
    const t = await requested(app, n)
    expectProblem(await act(app, n.src.token, t.id, 'reject', {}), 400, 'VALIDATION_FAILED')
    const rejected = await act(app, n.src.token, t.id, 'reject', { reason: 'needed here' })
    expect(rejected.json()).toMatchObject({ status: 'REJECTED', statusReason: 'needed here' })
    const u = await requested(app, n)
    const cancelled = await act(app, n.req.token, u.id, 'cancel', {})
    expect(cancelled.json()).toMatchObject({ status: 'CANCELLED', statusReason: null })
    expectProblem(await act(app, n.req.token, u.id, 'cancel', {}), 409, 'INVALID_TRANSITION')
  })

  it('actions whose fields are all optional accept a request without a body; the others refuse it', async () => {
    const n = await network(app, { articleCount: 1, stock: 100 })
    const t = await transferIn(app, n, 'CONFIRMED')
    const bare = async (token: string, id: string, verb: string) => await app.inject({ method: 'POST', url: `/v1/transfers/${id}/${verb}`, headers: { authorization: `Bearer ${token}` } })
    expect((await bare(n.handler.token, t.id, 'prepare')).json()).toMatchObject({ status: 'IN_PREPARATION' })
    expectProblem(await bare(n.src.token, t.id, 'ship'), 400, 'VALIDATION_FAILED')
    const u = await requested(app, n)
    expect((await bare(n.req.token, u.id, 'cancel')).json()).toMatchObject({ status: 'CANCELLED' })
  })

  it('an Idempotency-Key replays the first answer of an action without acting twice', async () => {
    const n = await network(app, { articleCount: 1, stock: 100 })
    const t = await transferIn(app, n, 'IN_PREPARATION')
    const key = randomUUID()
    const first = await act(app, n.src.token, t.id, 'ship', { deliveryNoteDocumentId: noteOf(n) }, { 'idempotency-key': key })
    const second = await act(app, n.src.token, t.id, 'ship', { deliveryNoteDocumentId: noteOf(n) }, { 'idempotency-key': key })
    expect(first.statusCode).toBe(200)
    expect(second.statusCode).toBe(200)
    expect(second.headers['idempotent-replayed']).toBe('true')
    expect(second.body).toBe(first.body)
    expect(await quantity(app, n.src.id, n.articles[0] as string)).toBe(90)
    expectProblem(await act(app, n.src.token, t.id, 'ship', { deliveryNoteDocumentId: signedNoteOf(n) }, { 'idempotency-key': key }), 422, 'IDEMPOTENCY_KEY_REUSED')
  })
})
