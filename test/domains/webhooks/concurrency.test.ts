// Several workers never deliver one message concurrently twice (PRODUCT.md §10): two apps, each
// with its own queue runner and outbox dispatcher, on one database, plus dispatch batches fired
// from the test itself; events committed in parallel transactions while they all run. Every
// (subscription, event) is fanned out once and each attempt sent once, never overlapping another
// attempt of the same message — including retries. Looped.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dispatchBatch } from '../../../src/domains/webhooks/dispatcher.js'
import type { App } from '../../../src/lib/route.js'
import { createTestApp } from '../../helpers/app.js'
import { emit, eventually, org, subscribe, WORKER, workerApp } from './fixtures.js'
import { Receiver } from './receiver.js'

let a: App
let b: App
let receiver: Receiver

beforeAll(async () => {
  a = await workerApp({ WORKER_CONCURRENCY: 6 })
  b = await createTestApp({ ...WORKER, WORKER_CONCURRENCY: 6 })
  receiver = await Receiver.start()
})
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()])
  await receiver?.close()
})

const ROUNDS = 3
const EVENTS = 40

describe('two workers on one database', () => {
  it.each(Array.from({ length: ROUNDS }, (_, i) => i + 1))('round %i: each message once at a time, retries included', async (round) => {
    const station = await org(a, 'STATION')
    const plain = `/r${round}/plain`
    const flaky = `/r${round}/flaky`
    receiver.plans.set(plain, () => ({ status: 204, delayMs: 5 + Math.floor(Math.random() * 40) }))
    // every message fails once on this one: its retry may be picked by either worker
    const failedOnce = new Set<string>()
    receiver.plans.set(flaky, r => {
      const id = r.headers['webhook-id'] ?? ''
      if (failedOnce.has(id)) return { status: 200, delayMs: Math.floor(Math.random() * 30) }
      failedOnce.add(id)
      return { status: 503, delayMs: Math.floor(Math.random() * 30) }
    })
    const s1 = await subscribe(a, station, receiver.url(plain), ['stock.low'])
    const s2 = await subscribe(a, station, receiver.url(flaky), ['stock.low'])

    // committed from 8 parallel transactions, while the dispatchers of both apps and the test's run
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < EVENTS; i += 8) await emit(i % 2 === 0 ? a : b, [{ type: 'stock.low', organizationIds: [station.id], payload: { stationId: station.id, n: i } }])
    })
    const extraDispatchers = Array.from({ length: 6 }, async () => {
      for (let i = 0; i < 10; i++) await dispatchBatch(i % 2 === 0 ? a.db : b.db, 7)
    })
    await Promise.all([...writers, ...extraDispatchers])

    await receiver.waitFor(() => receiver.at(plain).length >= EVENTS && receiver.at(flaky).length >= 2 * EVENTS, 30_000)
    // a little longer: a duplicate would arrive now
    await new Promise(resolve => setTimeout(resolve, 300))
    const plainIds = receiver.ids(plain)
    const flakyIds = receiver.ids(flaky)
    expect(plainIds).toHaveLength(EVENTS)
    expect(new Set(plainIds).size).toBe(EVENTS)
    expect(flakyIds).toHaveLength(2 * EVENTS)
    expect(new Set(flakyIds).size).toBe(EVENTS)
    expect(receiver.maxConcurrentPerId).toBe(1)

    const rows = await eventually(async () => {
      const r = await sql<{ subscriptionId: string, eventId: number, attempts: number, succeeded: number }>`
        SELECT subscription_id, event_id, count(*)::int AS attempts, count(*) FILTER (WHERE status = 'SUCCEEDED')::int AS succeeded
        FROM webhook_deliveries WHERE subscription_id IN (${s1.id}::uuid, ${s2.id}::uuid) GROUP BY 1, 2`.execute(a.db)
      return r.rows.length === 2 * EVENTS && r.rows.every(x => x.succeeded === 1) ? r.rows : undefined
    })
    for (const r of rows) expect(r.attempts).toBe(r.subscriptionId === s1.id ? 1 : 2)
    // every event of the round has one feed position
    const seqs = await sql<{ n: number, distinct: number }>`
      SELECT count(*)::int AS n, count(DISTINCT seq)::int AS distinct FROM outbox_events WHERE type = 'stock.low' AND organization_ids = ARRAY[${station.id}::uuid]`.execute(a.db)
    expect(seqs.rows[0]).toEqual({ n: EVENTS, distinct: EVENTS })
  }, 60_000)
})
