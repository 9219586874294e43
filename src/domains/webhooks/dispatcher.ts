// The outbox dispatcher: turns committed outbox events into feed positions and webhook deliveries.
//
// Mutations only INSERT their events (travelling with their COMMIT); the dispatcher polls for
// undispatched rows (OUTBOX_POLL_MS: one probe of the pending partial index, outside any
// transaction, when there is nothing) and, in one transaction:
// 1. takes the feed lock (pg_try_advisory_xact_lock): one dispatcher at a time numbers events, and
//    the lock is held until its commit, so feed positions become visible in increasing order —
//    a dispatcher that finds the lock taken skips the tick (the other one is at work);
// 2. claims a batch in id order (FOR UPDATE SKIP LOCKED), marks it dispatched with its positions,
//    lists the organizations that may read each event (outbox_recipients), creates one delivery per
//    matching active subscription and enqueues one job per delivery (graphile_worker.add_jobs) —
//    one statement;
// 3. NOTIFYs `outbox_feed` with the last position, which wakes the events streams of every
//    instance (src/domains/events/events.hub.ts).
// Events carrying secrets (PRIVATE_EVENT_TYPES) are never claimed. A subscription matches an event
// of one of its types addressed to its organization; a platform subscription matches every event
// of its types.
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import { PRIVATE_EVENT_TYPES } from '../../lib/outbox.js'

export const FEED_CHANNEL = 'outbox_feed'
export const DELIVER_TASK = 'webhook.deliver'
// a parameter, so the naming client prepares the lock statement once per connection instead of
// planning it on every tick
const FEED_LOCK = sql`hashtextextended(${'gestion-emballages:outbox-feed'}, 0)`

export interface DispatchResult { events: number, deliveries: number, lastSeq: number | null, locked: boolean }

/** One batch (at most `batchSize` events). */
export async function dispatchBatch (db: Db, batchSize: number): Promise<DispatchResult> {
  return await db.transaction().execute(async trx => {
    const lock = await sql<{ got: boolean }>`SELECT pg_try_advisory_xact_lock(${FEED_LOCK}) AS got`.execute(trx)
    if (lock.rows[0]?.got !== true) return { events: 0, deliveries: 0, lastSeq: null, locked: false }
    const { rows } = await sql<{ events: number, deliveries: number, jobs: number, lastSeq: number | null }>`
      WITH batch AS (
        SELECT id FROM outbox_events
        WHERE dispatched_at IS NULL AND type <> ALL(${PRIVATE_EVENT_TYPES}::text[])
        ORDER BY id LIMIT ${batchSize}
        FOR UPDATE SKIP LOCKED
      ), numbered AS (
        SELECT id, nextval('outbox_feed_seq') AS seq FROM (SELECT id FROM batch ORDER BY id) b
      ), ev AS (
        UPDATE outbox_events o SET dispatched_at = now(), seq = numbered.seq
        FROM numbered WHERE o.id = numbered.id
        RETURNING o.id, o.seq, o.type, o.organization_ids
      ), recipients AS (
        INSERT INTO outbox_recipients (organization_id, seq)
        SELECT DISTINCT r.org, ev.seq FROM ev CROSS JOIN LATERAL unnest(ev.organization_ids) AS r(org)
      ), deliveries AS (
        INSERT INTO webhook_deliveries (subscription_id, event_id, attempt, trigger, series_started_at, scheduled_at)
        SELECT s.id, ev.id, 1, 'EVENT', now(), now()
        FROM ev JOIN webhook_subscriptions s ON s.is_active AND s.events @> ARRAY[ev.type]
        WHERE s.organization_id = ANY(ev.organization_ids)
          OR s.organization_id IN (SELECT id FROM organizations WHERE kind = 'PLATFORM')
        RETURNING id
      ), jobs AS (
        SELECT j.id FROM (
          SELECT array_agg(ROW(${DELIVER_TASK}, json_build_object('deliveryId', id), NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec) AS specs
          FROM deliveries HAVING count(*) > 0
        ) a CROSS JOIN LATERAL graphile_worker.add_jobs(a.specs) j
      )
      SELECT (SELECT count(*)::int FROM ev) AS events, (SELECT max(seq) FROM ev) AS last_seq,
        (SELECT count(*)::int FROM deliveries) AS deliveries, (SELECT count(*)::int FROM jobs) AS jobs`.execute(trx)
    const r = rows[0] ?? { events: 0, deliveries: 0, jobs: 0, lastSeq: null }
    // every delivery has its job (a statement whose unreferenced part was skipped must not pass)
    if (r.jobs !== r.deliveries) throw new Error(`dispatch enqueued ${r.jobs} jobs for ${r.deliveries} deliveries`)
    if (r.lastSeq !== null) await sql`SELECT pg_notify(${FEED_CHANNEL}, ${String(r.lastSeq)})`.execute(trx)
    return { events: r.events, deliveries: r.deliveries, lastSeq: r.lastSeq, locked: true }
  })
}

/** Dispatches until the backlog is empty (or `maxBatches` were taken: the next tick goes on). */
export async function dispatchOutbox (db: Db, batchSize = 500, maxBatches = 20): Promise<{ events: number, deliveries: number }> {
  // an idle tick is this one statement (an index probe), not a locked transaction of three round
  // trips; an event committed after the probe is taken by the next tick, as one committed after
  // the claim's snapshot would be
  const probe = await sql<{ pending: boolean }>`SELECT EXISTS (
      SELECT 1 FROM outbox_events WHERE dispatched_at IS NULL AND type <> ALL(${PRIVATE_EVENT_TYPES}::text[])) AS pending`.execute(db)
  if (probe.rows[0]?.pending === false) return { events: 0, deliveries: 0 }
  let events = 0
  let deliveries = 0
  for (let i = 0; i < maxBatches; i++) {
    const r = await dispatchBatch(db, batchSize)
    events += r.events
    deliveries += r.deliveries
    if (!r.locked || r.events < batchSize) break
  }
  return { events, deliveries }
}

/**
 * Removes dispatched events older than the retention (their recipients and deliveries go with
 * them), and password-reset events as old whose sealed token is already gone (used or expired).
 * In batches: no long transaction, no long lock.
 */
export async function purgeOutbox (db: Db, retentionDays: number, batchSize = 5000): Promise<number> {
  let total = 0
  for (;;) {
    const r = await sql`DELETE FROM outbox_events WHERE id IN (
        SELECT id FROM outbox_events WHERE dispatched_at < now() - make_interval(days => ${retentionDays})
        ORDER BY dispatched_at LIMIT ${batchSize})`.execute(db)
    const n = Number(r.numAffectedRows ?? 0)
    total += n
    if (n < batchSize) break
  }
  const p = await sql`DELETE FROM outbox_events WHERE id IN (
      SELECT id FROM outbox_events
      WHERE dispatched_at IS NULL AND type = ANY(${PRIVATE_EVENT_TYPES}::text[]) AND NOT payload ? 'sealedToken'
        AND created_at < now() - make_interval(days => ${retentionDays})
      LIMIT ${batchSize})`.execute(db)
  return total + Number(p.numAffectedRows ?? 0)
}
