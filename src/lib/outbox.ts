// Domain events are written to the outbox in the transaction of the change; delivery (webhooks)
// only ever happens from there, after commit.
import { sql } from 'kysely'
import { writeWithCommit, type Db } from '../db/index.js'

/**
 * Event types that carry a secret (a sealed password-reset token, src/domains/auth/reset-delivery.ts)
 * and are meant for the platform's own mailer only: the dispatcher never claims them, so they never
 * get a place in the events feed and never reach a webhook, whoever they are addressed to.
 */
export const PRIVATE_EVENT_TYPES: readonly string[] = ['user.password_reset_requested']

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
