// Concurrent double actions on one transfer have exactly one effect (invariant 6 under concurrency),
// and stock moved by transfers stays ≥ 0 with Σ movements = quantity (invariant 8): 50 parallel
// confirms, ships and receives of one transfer, with and without a shared Idempotency-Key, looped
// a few rounds; and many transfers shipping at once from one source that cannot serve them all.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { countAudit, createTestApp } from '../../helpers/app.js'
import { act, bodyFor, expectLedgerBalanced, noteOf, giveStock, ledger, network, quantity, requested, transferIn, type Network, type Party, type TransferJson } from './fixtures.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const PARALLEL = 50
const ROUNDS = 3

async function historyOf (id: string): Promise<string[]> {
  return (await app.db.selectFrom('transferEvents').select('toStatus').where('transferId', '=', id).orderBy('id').execute()).map(e => e.toStatus)
}

async function outboxTypes (id: string): Promise<string[]> {
  const rows = await app.db.selectFrom('outboxEvents').select('type').where(sql<boolean>`payload->>'transferId' = ${id}`).orderBy('id').execute()
  return rows.map(r => r.type)
}

/** 50 parallel requests of `verb` by the given parties (round-robin): exactly one 200, every other a 409 INVALID_TRANSITION. */
async function race (t: TransferJson, verb: string, parties: Party[], headers: () => Record<string, string> = () => ({})): Promise<Array<{ statusCode: number, body: string, headers: Record<string, unknown> }>> {
  const body = bodyFor(verb, t)
  return await Promise.all(Array.from({ length: PARALLEL }, async (_, i) => await act(app, (parties[i % parties.length] as Party).token, t.id, verb, body, headers())))
}

function expectOneWinner (results: Array<{ statusCode: number, body: string }>): void {
  const codes = results.map(r => r.statusCode)
  expect(codes.filter(c => c === 200), codes.join(',')).toHaveLength(1)
  for (const r of results.filter(x => x.statusCode !== 200)) {
    expect(r.statusCode, r.body).toBe(409)
    expect(JSON.parse(r.body).code).toBe('INVALID_TRANSITION')
  }
}

describe('concurrent double actions on one transfer', () => {
  let n: Network
  beforeAll(async () => { n = await network(app, { articleCount: 2, stock: 100_000 }) })

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: ${PARALLEL} confirms, ships and receives at once — exactly one effect each, stock moved once`, async () => {
      const t = await requested(app, n, [30, 20])
      const [a, b] = n.articles as [string, string]
      const audits = await countAudit(app, { action: 'transfer.confirm' })
      expectOneWinner(await race(t, 'confirm', [n.src, n.handler, n.admin]))
      expect(await countAudit(app, { action: 'transfer.confirm' })).toBe(audits + 1)
      expect((await act(app, n.manager.token, t.id, 'prepare', {})).statusCode).toBe(200)

      const srcBefore = [await quantity(app, n.src.id, a), await quantity(app, n.src.id, b)]
      expectOneWinner(await race(t, 'ship', [n.src, n.handler]))
      expect([await quantity(app, n.src.id, a), await quantity(app, n.src.id, b)]).toEqual([(srcBefore[0] as number) - 30, (srcBefore[1] as number) - 20])
      const outs = await app.db.selectFrom('stockMovements').select(['delta']).where('refId', '=', t.id).where('reason', '=', 'TRANSFER_OUT').execute()
      expect(outs.map(m => m.delta).sort()).toEqual([-20, -30])

      const shipped = (await act(app, n.src.token, t.id, 'close', {})) // wrong party and status: refused, no effect
      expect(shipped.statusCode).toBe(403)
      const detail = (await app.inject({ method: 'GET', url: `/v1/transfers/${t.id}`, headers: { authorization: `Bearer ${n.req.token}` } })).json() as TransferJson
      const reqBefore = [await quantity(app, n.req.id, a), await quantity(app, n.req.id, b)]
      expectOneWinner(await race(detail, 'receive', [n.req, n.handler]))
      expect([await quantity(app, n.req.id, a), await quantity(app, n.req.id, b)]).toEqual([(reqBefore[0] as number) + 30, (reqBefore[1] as number) + 20])
      expect(await app.db.selectFrom('stockMovements').select('delta').where('refId', '=', t.id).where('reason', '=', 'TRANSFER_IN').execute()).toHaveLength(2)

      expectOneWinner(await race(detail, 'close', [n.req, n.admin]))
      expect(await historyOf(t.id)).toEqual(['REQUESTED', 'CONFIRMED', 'IN_PREPARATION', 'SHIPPED', 'RECEIVED', 'CLOSED'])
      expect(await outboxTypes(t.id)).toEqual(['transfer.requested', 'transfer.confirmed', 'transfer.prepared', 'transfer.shipped', 'transfer.received', 'transfer.closed'])
      expectLedgerBalanced(await ledger(app, [n.src.id, n.req.id]))
    }, 60_000)

    it(`round ${round}: ${PARALLEL} ships with one Idempotency-Key — one effect, the others replay it or wait (409 IDEMPOTENCY_IN_PROGRESS)`, async () => {
      const t = await transferIn(app, n, 'IN_PREPARATION', [7, 3])
      const before = await quantity(app, n.src.id, n.articles[0] as string)
      const key = randomUUID()
      const results = await race(t, 'ship', [n.src], () => ({ 'idempotency-key': key }))
      const fresh = results.filter(r => r.statusCode === 200 && r.headers['idempotent-replayed'] === undefined)
      const replays = results.filter(r => r.statusCode === 200 && r.headers['idempotent-replayed'] === 'true')
      const waiting = results.filter(r => r.statusCode === 409)
      expect(fresh).toHaveLength(1)
      expect(fresh.length + replays.length + waiting.length).toBe(PARALLEL)
      for (const r of replays) expect(r.body).toBe(fresh[0]?.body)
      for (const r of waiting) expect(JSON.parse(r.body).code).toBe('IDEMPOTENCY_IN_PROGRESS')
      expect(await quantity(app, n.src.id, n.articles[0] as string)).toBe(before - 7)
      expect(await historyOf(t.id)).toEqual(['REQUESTED', 'CONFIRMED', 'IN_PREPARATION', 'SHIPPED'])
    }, 60_000)
  }

  it('cancel racing confirm: exactly one of them wins, the other is 409', async () => {
    for (let i = 0; i < 5; i++) {
      const t = await requested(app, n, 5)
      const results = await Promise.all(Array.from({ length: 20 }, async (_, k) => k % 2 === 0
        ? await act(app, n.src.token, t.id, 'confirm', bodyFor('confirm', t))
        : await act(app, n.req.token, t.id, 'cancel', {})))
      expect(results.filter(r => r.statusCode === 200)).toHaveLength(1)
      expect(results.filter(r => r.statusCode === 409)).toHaveLength(19)
      expect(await historyOf(t.id)).toHaveLength(2)
    }
  }, 60_000)
})

describe('many transfers shipping from one source at once', () => {
  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: the source serves as many as its stock allows, never below zero, Σ movements = quantity`, async () => {
      const n = await network(app, { articleCount: 2, stock: 100 })
      // 12 transfers of 20 + 5 units, each confirmed while the stock covered it: only 5 can ship
      const transfers: TransferJson[] = []
      for (let i = 0; i < 12; i++) transfers.push(await transferIn(app, n, 'IN_PREPARATION', [20, 5]))
      const results = await Promise.all(transfers.map(async t => await act(app, n.src.token, t.id, 'ship', { deliveryNoteDocumentId: noteOf(n) })))
      const shipped = results.filter(r => r.statusCode === 200)
      expect(shipped).toHaveLength(5)
      for (const r of results.filter(x => x.statusCode !== 200)) expect(JSON.parse(r.body).code, r.body).toBe('INSUFFICIENT_STOCK')
      expect(await quantity(app, n.src.id, n.articles[0] as string)).toBe(0)
      expect(await quantity(app, n.src.id, n.articles[1] as string)).toBe(100 - 5 * 5)
      const states = await app.db.selectFrom('transfers').select('status').where('id', 'in', transfers.map(t => t.id)).execute()
      expect(states.filter(s => s.status === 'SHIPPED')).toHaveLength(5)
      expect(states.filter(s => s.status === 'IN_PREPARATION')).toHaveLength(7)
      expectLedgerBalanced(await ledger(app, [n.src.id]))
      // receipts at one destination in parallel add up exactly
      const receipts = await Promise.all(transfers.map(async t => await act(app, n.req.token, t.id, 'receive', bodyFor('receive', { ...t, lines: t.lines.map(l => ({ ...l, unitsShipped: l.unitsGranted })) }))))
      expect(receipts.filter(r => r.statusCode === 200)).toHaveLength(5)
      expect(await quantity(app, n.req.id, n.articles[0] as string)).toBe(100)
      expectLedgerBalanced(await ledger(app, [n.src.id, n.req.id]))
      await giveStock(app, n.src.id, n.articles, 1)
      expectLedgerBalanced(await ledger(app, [n.src.id, n.req.id]))
    }, 60_000)
  }
})
