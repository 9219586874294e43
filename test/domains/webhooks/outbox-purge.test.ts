// The outbox retention (OUTBOX_RETENTION_DAYS, an hourly sweep of the queue's cron): dispatched
// events older than the retention go, with their feed entries and delivery history; recent ones,
// undispatched ones and password-reset events still holding their sealed token stay.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { purgeOutbox } from '../../../src/domains/webhooks/dispatcher.js'
import type { App } from '../../../src/lib/route.js'
import { createTestApp } from '../../helpers/app.js'
import { clearWebhooks, org, subscribe } from './fixtures.js'

let app: App
beforeAll(async () => {
  await clearWebhooks()
  app = await createTestApp({ WEBHOOK_ALLOW_PRIVATE: true })
})
afterAll(async () => { await app?.close() })

describe('the outbox purge', () => {
  it('removes dispatched events past the retention, and only them', async () => {
    const station = await org(app, 'STATION')
    const sub = await subscribe(app, station, 'http://127.0.0.1:9/never', ['stock.low'])
    const { rows } = await sql<{ id: number, label: string }>`
      WITH e AS (
        INSERT INTO outbox_events (type, organization_ids, payload, created_at, dispatched_at, seq)
        SELECT t, ARRAY[${station.id}::uuid], p::jsonb, now() - make_interval(days => c), now() - make_interval(days => d), CASE WHEN d IS NULL THEN NULL ELSE nextval('outbox_feed_seq') END
        FROM (VALUES ('old', 'stock.low', '{"label":"old"}', 40, 40), ('recent', 'stock.low', '{"label":"recent"}', 2, 2), ('pending', 'stock.low', '{"label":"pending"}', 40, NULL),
                     ('reset-used', 'user.password_reset_requested', '{"label":"reset-used"}', 40, NULL), ('reset-sealed', 'user.password_reset_requested', '{"label":"reset-sealed","sealedToken":"x"}', 40, NULL)) AS v(label, t, p, c, d)
        RETURNING id, seq, payload->>'label' AS label
      ), r AS (INSERT INTO outbox_recipients (organization_id, seq) SELECT ${station.id}::uuid, seq FROM e WHERE seq IS NOT NULL)
      , d AS (INSERT INTO webhook_deliveries (subscription_id, event_id, attempt, trigger, status, series_started_at, scheduled_at)
        SELECT ${sub.id}::uuid, id, 1, 'EVENT', 'SUCCEEDED', now(), now() FROM e WHERE seq IS NOT NULL)
      SELECT id, label FROM e`.execute(app.db)
    const id = Object.fromEntries(rows.map(r => [r.label, r.id]))
    expect(await purgeOutbox(app.db, 30, 1)).toBeGreaterThanOrEqual(2)
    const left = await sql<{ id: number }>`SELECT id FROM outbox_events WHERE id = ANY(${rows.map(r => r.id)}::bigint[])`.execute(app.db)
    expect(left.rows.map(r => r.id).sort()).toEqual([id.recent, id.pending, id['reset-sealed']].sort())
    const deliveries = await sql<{ eventId: number }>`SELECT event_id FROM webhook_deliveries WHERE subscription_id = ${sub.id}::uuid`.execute(app.db)
    expect(deliveries.rows.map(r => r.eventId)).toEqual([id.recent])
    const recipients = await sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox_recipients WHERE organization_id = ${station.id}::uuid`.execute(app.db)
    expect(recipients.rows[0]!.n).toBe(1)
    // the sweep as the queue's cron runs it
    await app.jobs.runNow('outbox-purge')
    await sql`DELETE FROM webhook_subscriptions WHERE id = ${sub.id}::uuid`.execute(app.db)
  })
})
