// A transfer line's units narrow along the workflow under concurrency: granted ≤ requested,
// shipped ≤ granted, received ≤ shipped (PRODUCT.md §6). Held by the database (the CHECKs of
// migration 0015) as well as by the transitions' 422s, checked against what their guarded UPDATE
// acts on (… AND version = <read>). Per round: 50 parallel confirms of one transfer granting
// different amounts (a third of them more than requested), then 50 parallel receives declaring
// different amounts (a third of them more than shipped). Exactly one of each wins, with its own
// figures; every other answer is 409 INVALID_TRANSITION or the 422 naming the rule — never a
// CONSTRAINT_VIOLATED (the application never leans on the CHECK) nor a 5xx; the stored lines keep
// the order, the stock moved is exactly the winners' figures and Σ movements = quantity ≥ 0.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { createTestApp } from '../../helpers/app.js'
import { act, bodyFor, expectLedgerBalanced, ledger, network, noteOf, quantity, requested, signedNoteOf, type Network, type TransferJson } from './fixtures.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const PARALLEL = 50
const ROUNDS = 3
const REQUESTED = [30, 20] as const

interface Answer { statusCode: number, body: string }

/** Exactly one 200; every other answer a 409 INVALID_TRANSITION or a 422 BUSINESS_RULE_VIOLATED with `itemCode`. */
function oneWinner (answers: Answer[], itemCode: string): number {
  const winners = answers.map((a, i) => [a, i] as const).filter(([a]) => a.statusCode === 200)
  expect(winners, answers.map(a => `${a.statusCode} ${a.body.slice(0, 200)}`).join('\n')).toHaveLength(1)
  for (const a of answers.filter(x => x.statusCode !== 200)) {
    const p = JSON.parse(a.body) as { code: string, errors?: Array<{ code: string }> }
    if (a.statusCode === 409) expect(p.code, a.body).toBe('INVALID_TRANSITION')
    else {
      expect(a.statusCode, a.body).toBe(422)
      expect(p.code, a.body).toBe('BUSINESS_RULE_VIOLATED')
      expect(p.errors?.map(e => e.code), a.body).toContain(itemCode)
    }
  }
  return (winners[0] as readonly [Answer, number])[1]
}

async function storedLines (transferId: string): Promise<Array<{ requested: number, granted: number | null, shipped: number | null, received: number | null }>> {
  const { rows } = await sql<{ requested: number, granted: number | null, shipped: number | null, received: number | null }>`
    SELECT units_requested AS requested, units_granted AS granted, units_shipped AS shipped, units_received AS received
    FROM transfer_lines WHERE transfer_id = ${transferId}::uuid ORDER BY units_requested DESC`.execute(app.db)
  return rows
}

describe('transfer line units under concurrency', () => {
  let n: Network
  beforeAll(async () => { n = await network(app, { articleCount: 2, stock: 100_000 }) })

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: ${PARALLEL} confirms granting different amounts, then ${PARALLEL} receives declaring different amounts — one winner each, granted ≤ requested, shipped ≤ granted, received ≤ shipped`, async () => {
      const t = await requested(app, n, [...REQUESTED])
      // request i grants requested + 5 − i % 15 of each line: a third of them more than requested,
      // among them the first ones sent (the likeliest to take the row first)
      const grants = Array.from({ length: PARALLEL }, (_, i) => REQUESTED.map(r => r + 5 - i % 15))
      const confirms = await Promise.all(grants.map(async (g, i) => await act(app, i % 2 === 0 ? n.src.token : n.handler.token, t.id, 'confirm', {
        lines: t.lines.map(l => ({ lineId: l.id, unitsGranted: g[REQUESTED.indexOf(l.unitsRequested as 30 | 20)] }))
      })))
      const w = oneWinner(confirms, 'GRANTED_EXCEEDS_REQUESTED')
      const granted = grants[w] as number[]
      expect(granted.every((g, i) => g <= (REQUESTED[i] as number))).toBe(true)
      expect(await storedLines(t.id)).toEqual(REQUESTED.map((r, i) => ({ requested: r, granted: granted[i], shipped: null, received: null })))

      expect((await act(app, n.manager.token, t.id, 'prepare', {})).statusCode).toBe(200)
      const [a, b] = n.articles as [string, string]
      const srcBefore = [await quantity(app, n.src.id, a), await quantity(app, n.src.id, b)]
      const shipped = await act(app, n.src.token, t.id, 'ship', { deliveryNoteDocumentId: noteOf(n) })
      expect(shipped.statusCode, shipped.body).toBe(200)
      const detail = shipped.json() as TransferJson
      expect(await storedLines(t.id)).toEqual(REQUESTED.map((r, i) => ({ requested: r, granted: granted[i], shipped: granted[i], received: null })))
      expect([await quantity(app, n.src.id, a), await quantity(app, n.src.id, b)]).toEqual(srcBefore.map((q, i) => q - (granted[i] as number)))

      // request i declares shipped + 5 − i % 15 received on each line: a third of them more than shipped, the first ones first
      const declared = Array.from({ length: PARALLEL }, (_, i) => granted.map(s => Math.max(0, s + 5 - i % 15)))
      const reqBefore = [await quantity(app, n.req.id, a), await quantity(app, n.req.id, b)]
      const receives = await Promise.all(declared.map(async (d, i) => await act(app, i % 2 === 0 ? n.req.token : n.handler.token, t.id, 'receive', {
        signedDeliveryNoteDocumentId: signedNoteOf(n),
        lines: detail.lines.map(l => ({ lineId: l.id, unitsReceived: d[REQUESTED.indexOf(l.unitsRequested as 30 | 20)] }))
      })))
      const v = oneWinner(receives, 'RECEIVED_EXCEEDS_SHIPPED')
      const received = declared[v] as number[]
      expect(received.every((x, i) => x <= (granted[i] as number))).toBe(true)
      expect(await storedLines(t.id)).toEqual(REQUESTED.map((r, i) => ({ requested: r, granted: granted[i], shipped: granted[i], received: received[i] })))
      expect([await quantity(app, n.req.id, a), await quantity(app, n.req.id, b)]).toEqual(reqBefore.map((q, i) => q + (received[i] as number)))
      expectLedgerBalanced(await ledger(app, [n.src.id, n.req.id]))
      // nothing further moves: the transfer is RECEIVED and a second receive is a 409
      const again = await act(app, n.req.token, t.id, 'receive', bodyFor('receive', detail))
      expect(again.statusCode, again.body).toBe(409)
    }, 60_000)
  }
})
