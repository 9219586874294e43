// Domain events are written to the outbox in the transaction of the change; delivery (webhooks)
// only ever happens from there, after commit.
import { sql } from 'kysely'
import { writeWithCommit, type Db } from '../db/index.js'

export interface OutboxEvent {
  type: string
  /** organizations allowed to receive the event (station, supplier…) */
  organizationIds: string[]
  payload: Record<string, unknown>
}

/** Writes the events; inside a transaction they travel with its COMMIT (no round trip of their own). */
export async function emitEvents (db: Db, events: OutboxEvent[]): Promise<void> {
  if (events.length === 0) return
  await writeWithCommit(db, sql`INSERT INTO outbox_events (type, organization_ids, payload)
    SELECT t, string_to_array(o, ',')::uuid[], p::jsonb
    FROM unnest(${events.map(e => e.type)}::text[], ${events.map(e => e.organizationIds.join(','))}::text[], ${events.map(e => JSON.stringify(e.payload))}::text[]) AS x(t, o, p)`)
}
