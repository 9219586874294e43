// At most one attempt of a (subscription, event) is pending at a time (PRODUCT.md §10: never two
// deliveries of one event at once), held by the database: the partial unique index
// webhook_deliveries_one_pending (subscription_id, event_id) WHERE status = 'PENDING', next to the
// key (subscription_id, event_id, attempt). A replay inserts its attempt ON CONFLICT DO NOTHING and
// answers 409 when nothing was inserted. Per round: the pending attempt is recorded as failed (as a
// worker would), then 50 parallel replays of the event — exactly one 202, the others 409 CONFLICT,
// one pending attempt, attempt numbers 1…n without a gap or a repeat. No worker runs here (the
// attempts stay pending); the dispatcher is called by the test.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dispatchBatch } from '../../../src/domains/webhooks/dispatcher.js'
import type { App } from '../../../src/lib/route.js'
import { bearer, createTestApp, expectProblem } from '../../helpers/app.js'
import { emit, org, subscribe, type Created, type Org } from './fixtures.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => {
  await sql`DELETE FROM webhook_subscriptions WHERE url LIKE 'https://203.0.114.10/replay-race/%'`.execute(app.db)
  await app.close()
})

const PARALLEL = 50
const ROUNDS = 3

interface Attempt { id: number, attempt: number, status: string, trigger: string }

async function attempts (subscriptionId: string): Promise<Attempt[]> {
  const { rows } = await sql<Attempt>`SELECT id::int AS id, attempt, status, trigger FROM webhook_deliveries WHERE subscription_id = ${subscriptionId}::uuid ORDER BY attempt`.execute(app.db)
  return rows
}

describe('replays of one event', () => {
  let station: Org
  let sub: Created
  let first: Attempt
  beforeAll(async () => {
    station = await org(app, 'STATION')
    sub = await subscribe(app, station, `https://203.0.114.10/replay-race/${station.id}`, ['stock.low'])
    await emit(app, [{ type: 'stock.low', organizationIds: [station.id], payload: { stationId: station.id } }])
    for (let i = 0; i < 20 && (await attempts(sub.id)).length === 0; i++) await dispatchBatch(app.db, 500)
    const fanned = await attempts(sub.id)
    expect(fanned).toMatchObject([{ attempt: 1, status: 'PENDING', trigger: 'EVENT' }])
    first = fanned[0] as Attempt
  })

  it('the database refuses a second pending attempt, and an attempt number twice', async () => {
    const again = (attempt: number) => sql`
      INSERT INTO webhook_deliveries (subscription_id, event_id, attempt, trigger, series_started_at, scheduled_at)
      SELECT subscription_id, event_id, ${attempt}, 'REPLAY', now(), now() FROM webhook_deliveries WHERE id = ${first.id}`.execute(app.db)
    await expect(again(2)).rejects.toThrow(/webhook_deliveries_one_pending/)
    await expect(again(1)).rejects.toThrow(/webhook_deliveries_attempt_key|webhook_deliveries_one_pending/)
    expect(await attempts(sub.id)).toHaveLength(1)
  })

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: ${PARALLEL} parallel replays once the pending attempt failed — one 202, the others 409, one pending attempt`, async () => {
      // the worker's record of a failed attempt: the pending one becomes FAILED (no retry scheduled)
      const failed = await sql`UPDATE webhook_deliveries SET status = 'FAILED', attempted_at = now(), error = 'test' WHERE subscription_id = ${sub.id}::uuid AND status = 'PENDING'`.execute(app.db)
      expect(Number(failed.numAffectedRows)).toBe(1)
      const answers = await Promise.all(Array.from({ length: PARALLEL }, async () =>
        await app.inject({ method: 'POST', url: `/v1/webhooks/${sub.id}/deliveries/${first.id}/replay`, headers: bearer(station.token) })))
      const accepted = answers.filter(a => a.statusCode === 202)
      expect(accepted, answers.map(a => `${a.statusCode} ${a.body.slice(0, 200)}`).join('\n')).toHaveLength(1)
      for (const a of answers.filter(x => x.statusCode !== 202)) expectProblem(a, 409, 'CONFLICT')
      const all = await attempts(sub.id)
      expect(all.map(a => a.attempt)).toEqual(Array.from({ length: round + 1 }, (_, i) => i + 1))
      expect(all.filter(a => a.status === 'PENDING')).toEqual([expect.objectContaining({ attempt: round + 1, trigger: 'REPLAY' })])
      expect(accepted[0]?.json()).toMatchObject({ attempt: round + 1, status: 'PENDING', trigger: 'REPLAY', eventId: expect.any(Number) })
    }, 60_000)
  }
})
