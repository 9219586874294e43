// A station asks another station of the network for units of some articles (PRODUCT.md §6):
// the transfer starts REQUESTED, numbered TR-YYYY-NNNNNN from transfer_number_seq (gaps allowed,
// duplicates impossible; the year is the creation year, UTC). Nothing moves in stock until the
// source ships. Runs in the caller's (audited) transaction.
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import type { Actor } from '../../lib/permissions.js'
import { emitEvents } from '../../lib/outbox.js'
import { problem, type ProblemItem } from '../../lib/problems.js'
import { uuidv7 } from '../../lib/ids.js'
import { assertDistinctLines } from '../../lib/lines.js'
import { getTransfer, type TransferDetailView } from './transfers.reads.js'
import type { CreateTransferInput } from './transfers.schemas.js'

interface Known { id: string, kind: 'station' | 'article', isActive: boolean }

/** The station asking: a station user asks for itself only; platform staff name the station. */
function requesterOf (actor: Actor, input: CreateTransferInput): string {
  if (actor.role === 'STATION') {
    if (input.requestingStationId !== undefined && input.requestingStationId !== actor.organizationId) {
      throw problem('NOT_ALLOWED_FOR_PARTY', 'A station requests transfers for itself only', { errors: [{ pointer: '/requestingStationId', code: 'NOT_ALLOWED_FOR_PARTY', detail: 'omit it or give your own station' }] })
    }
    return actor.organizationId
  }
  if (input.requestingStationId === undefined) {
    throw problem('VALIDATION_FAILED', 'Platform staff name the requesting station', { errors: [{ pointer: '/requestingStationId', code: 'REQUIRED', detail: 'the station that asks for the units' }] })
  }
  return input.requestingStationId
}

export async function createTransfer (db: Db, actor: Actor, input: CreateTransferInput): Promise<TransferDetailView> {
  const requesting = requesterOf(actor, input)
  // a repeated article is a malformed body (400), answered before the business rules (422)
  assertDistinctLines(input.lines, l => l.articleId, i => `/lines/${i}/articleId`, 'one line per article')
  const source = input.sourceStationId
  if (requesting === source) {
    throw problem('BUSINESS_RULE_VIOLATED', 'A transfer moves units between two different stations', { errors: [{ pointer: '/sourceStationId', code: 'SAME_STATION', detail: 'the source is the requesting station' }] })
  }

  const articleIds = input.lines.map(l => l.articleId)
  const { rows } = await sql<Known>`
    SELECT s.id, 'station' AS kind, s.is_active FROM stations s WHERE s.id IN (${requesting}::uuid, ${source}::uuid)
    UNION ALL
    SELECT a.id, 'article', a.is_active FROM articles a WHERE a.id = ANY(${articleIds}::uuid[])`.execute(db)
  const known = new Map(rows.map(r => [`${r.kind}:${r.id}`, r.isActive]))
  const missing: ProblemItem[] = []
  const inactive: ProblemItem[] = []
  if (known.get(`station:${requesting}`) !== true) missing.push({ pointer: '/requestingStationId', code: 'REFERENCE_NOT_FOUND', detail: 'no active station with this id' })
  if (known.get(`station:${source}`) !== true) missing.push({ pointer: '/sourceStationId', code: 'REFERENCE_NOT_FOUND', detail: 'no active station with this id' })
  input.lines.forEach((l, i) => {
    const active = known.get(`article:${l.articleId}`)
    if (active === undefined) missing.push({ pointer: `/lines/${i}/articleId`, code: 'REFERENCE_NOT_FOUND', detail: 'no article with this id' })
    else if (!active) inactive.push({ pointer: `/lines/${i}/articleId`, code: 'ARTICLE_INACTIVE', detail: 'this article is no longer in the catalog' })
  })
  if (missing.length > 0) throw problem('REFERENCE_NOT_FOUND', 'A station or article of the request does not exist', { errors: missing.slice(0, 50) })
  if (inactive.length > 0) throw problem('ARTICLE_INACTIVE', 'Inactive articles cannot be requested', { errors: inactive.slice(0, 50) })

  // The transfer, its lines and the first history row in one statement.
  const id = uuidv7()
  const lineIds = input.lines.map(() => uuidv7())
  const created = await sql<{ number: string }>`
    WITH seq AS (SELECT nextval('transfer_number_seq') AS n),
    t AS (
      INSERT INTO transfers (id, number, requesting_station_id, source_station_id, reason, needed_by, created_by)
      SELECT ${id}::uuid, 'TR-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-' || lpad(n::text, greatest(6, length(n::text)), '0'),
        ${requesting}::uuid, ${source}::uuid, ${input.reason ?? null}, ${input.neededBy ?? null}::date, ${actor.userId}::uuid
      FROM seq
      RETURNING id, number
    ), l AS (
      INSERT INTO transfer_lines (id, transfer_id, article_id, units_requested)
      SELECT x.id, t.id, x.a, x.u FROM t, unnest(${lineIds}::uuid[], ${articleIds}::uuid[], ${input.lines.map(l => l.units)}::int[]) AS x(id, a, u)
    ), e AS (
      INSERT INTO transfer_events (transfer_id, from_status, to_status, actor_user_id, actor_role, note)
      SELECT t.id, NULL, 'REQUESTED', ${actor.userId}::uuid, ${actor.role}, ${input.reason ?? null} FROM t
    )
    SELECT number FROM t`.execute(db)
  const number = created.rows[0]?.number ?? ''

  const view = await getTransfer(db, actor, id)
  await emitEvents(db, [{
    type: 'transfer.requested',
    organizationIds: [requesting, source],
    payload: { transferId: id, number, requestingStationId: requesting, sourceStationId: source, fromStatus: null, status: 'REQUESTED', version: view.version }
  }])
  return view
}
