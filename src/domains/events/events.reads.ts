// The events feed: the events an organization may receive (outbox_recipients, written by the
// dispatcher), in feed order (`seq`, assigned at dispatch in visibility order: a reader that has
// seen position N never later finds a smaller one appearing, so "after N" is a complete resume
// point). Platform staff read every event. Events that were never dispatched (password-reset
// events, which carry a secret) have no position and are never here.
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import { decodeCursor, page } from '../../lib/cursor.js'
import type { Actor } from '../../lib/permissions.js'
import { problem } from '../../lib/problems.js'
import type { EventView, ListEventsInput } from './events.schemas.js'

export interface FeedRow extends EventView { organizationIds: string[] }

export const seesEverything = (actor: Actor): boolean => actor.organizationKind === 'PLATFORM'

/** Up to `limit` of the caller's events after position `after`, oldest first. */
export async function readFeed (db: Db, actor: Actor, after: number, limit: number, types?: readonly string[]): Promise<EventView[]> {
  const typeFilter = types === undefined || types.length === 0 ? sql`` : sql`AND e.type = ANY(${types}::text[])`
  const { rows } = seesEverything(actor)
    ? await sql<EventView>`
        SELECT e.id, e.seq AS sequence, e.type, e.created_at AS occurred_at, e.payload AS data
        FROM outbox_events e
        WHERE e.seq > ${after} ${typeFilter}
        ORDER BY e.seq LIMIT ${limit}`.execute(db)
    : await sql<EventView>`
        SELECT e.id, e.seq AS sequence, e.type, e.created_at AS occurred_at, e.payload AS data
        FROM outbox_recipients r JOIN outbox_events e ON e.seq = r.seq
        WHERE r.organization_id = ${actor.organizationId}::uuid AND r.seq > ${after} ${typeFilter}
        ORDER BY r.seq LIMIT ${limit}`.execute(db)
  return rows
}

export async function listEvents (db: Db, actor: Actor, input: ListEventsInput): Promise<{ items: EventView[], nextCursor: string | null }> {
  const limit = input.limit ?? 50
  let after = input.after ?? 0
  if (input.cursor !== undefined) {
    const [seq] = decodeCursor(input.cursor, 1)
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
    after = seq
  }
  const rows = await readFeed(db, actor, after, limit + 1, input.type)
  return page(rows, limit, r => [r.sequence])
}

/** Events after `after` for every audience (with who may receive each): what the stream hub fans out. */
export async function readAll (db: Db, after: number, limit: number): Promise<FeedRow[]> {
  const { rows } = await sql<FeedRow>`
    SELECT e.id, e.seq AS sequence, e.type, e.created_at AS occurred_at, e.payload AS data, e.organization_ids
    FROM outbox_events e WHERE e.seq > ${after} ORDER BY e.seq LIMIT ${limit}`.execute(db)
  return rows
}

/** The feed's current last position (0 when empty). */
export async function lastSequence (db: Db): Promise<number> {
  const { rows } = await sql<{ seq: number | null }>`SELECT max(seq) AS seq FROM outbox_events`.execute(db)
  return rows[0]?.seq ?? 0
}
