// Scoped reads of transfers (PRODUCT.md §2.1 "transfers · read": platform staff all, a station the
// transfers it is involved in — as requester or as source — and 404 for any other; suppliers are
// refused by RBAC). Lines and totals report shipped − received as in transit (shipped, receipt
// pending) or lost (after the receipt).
import { sql, type Expression, type SqlBool } from 'kysely'
import type { Db } from '../../db/index.js'
import type { Actor } from '../../lib/permissions.js'
import { decodeCursor, page } from '../../lib/cursor.js'
import { notFound, problem } from '../../lib/problems.js'
import type { Static } from '@sinclair/typebox'
import type { TransferStatus } from './transfers.rules.js'
import type { EventsInput, ListTransfersInput, TransferDetailSchema, TransferLineSchema, TransferSchema, TransferTotalsSchema } from './transfers.schemas.js'

// The views are the response schemas' static types (transfers.schemas.ts): what the statements
// below select is checked against what the routes promise, with no restated interface.
export type TransferTotals = Static<typeof TransferTotalsSchema>
export type TransferLineView = Static<typeof TransferLineSchema>
export type TransferView = Static<typeof TransferSchema>
export type TransferDetailView = Static<typeof TransferDetailSchema>

// Shipped − received: in transit while the receipt is pending, lost once it is recorded.
const IN_TRANSIT = 'CASE WHEN l.units_received IS NULL THEN coalesce(l.units_shipped, 0) ELSE 0 END'
const LOST = 'CASE WHEN l.units_received IS NULL THEN 0 ELSE coalesce(l.units_shipped, 0) - l.units_received END'

/** Σ over the lines of the transfer aliased `t` (int sums: at most 500 lines × 10^6 units). */
const TOTALS = sql<TransferTotals>`(SELECT json_build_object(
    'lines', count(*)::int,
    'unitsRequested', coalesce(sum(l.units_requested), 0)::int,
    'unitsGranted', sum(l.units_granted)::int,
    'unitsShipped', sum(l.units_shipped)::int,
    'unitsReceived', sum(l.units_received)::int,
    'unitsInTransit', coalesce(sum(${sql.raw(IN_TRANSIT)}), 0)::int,
    'unitsLost', coalesce(sum(${sql.raw(LOST)}), 0)::int)
  FROM transfer_lines l WHERE l.transfer_id = t.id)`

/** The lines of the transfer aliased `t`, in article-code order. */
const LINES = sql<TransferLineView[]>`(SELECT coalesce(json_agg(json_build_object(
    'id', l.id, 'articleId', l.article_id, 'articleCode', a.code, 'articleName', a.name, 'baseUnit', a.base_unit,
    'unitsRequested', l.units_requested, 'unitsGranted', l.units_granted, 'unitsShipped', l.units_shipped, 'unitsReceived', l.units_received,
    'unitsInTransit', ${sql.raw(IN_TRANSIT)}, 'unitsLost', ${sql.raw(LOST)}, 'note', l.note) ORDER BY a.code, l.id), '[]'::json)
  FROM transfer_lines l JOIN articles a ON a.id = l.article_id WHERE l.transfer_id = t.id)`

const HEADER = [
  't.id', 't.number', 't.requestingStationId', 't.sourceStationId', 't.status', 't.reason', 't.neededBy', 't.statusReason',
  't.deliveryNoteDocId as deliveryNoteDocumentId', 't.signedNoteDocId as signedDeliveryNoteDocumentId', 't.settlementRef', 't.settlementAmount',
  't.createdBy', 't.createdAt', 't.confirmedAt', 't.shippedAt', 't.receivedAt', 't.updatedAt', 't.version'
] as const

/** A station sees the transfers it is involved in; staff see every transfer. */
function involved (actor: Actor): Expression<SqlBool> | null {
  if (actor.role !== 'STATION') return null
  return sql<SqlBool>`(t.requesting_station_id = ${actor.organizationId}::uuid OR t.source_station_id = ${actor.organizationId}::uuid)`
}

/** The transfer with its lines in the caller's scope (404 outside it). */
export async function getTransfer (db: Db, actor: Actor, id: string): Promise<TransferDetailView> {
  let q = db.selectFrom('transfers as t').select(HEADER).select([TOTALS.as('totals'), LINES.as('lines')]).where('t.id', '=', id)
  const scope = involved(actor)
  if (scope !== null) q = q.where(scope)
  const row = await q.executeTakeFirst()
  if (row === undefined) throw notFound('Transfer')
  return row
}

/**
 * What a transfer's ETag covers besides its version: the article fields its lines show (code,
 * name, base unit), which change without the transfer's version (an article renamed in the
 * catalogue), so a 304 never confirms a representation that shows a stale article.
 */
export function transferEtagPart (t: { lines: ReadonlyArray<{ articleCode: string, articleName: string, baseUnit: string }> }): string {
  return t.lines.map(l => `${l.articleCode}|${l.articleName}|${l.baseUnit}`).join('\n')
}

const CURSOR_TS = sql<string>`to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
const dayStart = (d: string): Date => new Date(`${d}T00:00:00.000Z`)
const nextDayStart = (d: string): Date => new Date(dayStart(d).getTime() + 86_400_000)

/** One index-ordered slice of the list: transfers with these stations on these sides. */
interface Branch { requesting?: string, source?: string }

/**
 * Which (requesting, source) combinations the list covers. "Either side" is two branches, each
 * served by its own index ((requesting_station_id | source_station_id, created_at, id)) and merged
 * by the keyset order, so a page costs the same at any depth (an OR would sort every match).
 */
function branchesOf (actor: Actor, q: ListTransfersInput): Branch[] {
  const me = actor.role === 'STATION' ? actor.organizationId : undefined
  const other = q.stationId !== undefined && q.stationId !== me ? q.stationId : undefined
  if (me === undefined) {
    if (other === undefined) {
      if (q.side !== undefined) throw problem('VALIDATION_FAILED', '`side` needs a `stationId`', { errors: [{ pointer: '/side', code: 'REQUIRES_STATION', detail: 'the side of which station? give stationId' }] })
      return [{}]
    }
    if (q.side === 'requesting') return [{ requesting: other }]
    if (q.side === 'source') return [{ source: other }]
    return [{ requesting: other }, { source: other }]
  }
  // a station: its own transfers, or those between it and `other`; `side` is the named station's role
  if (other === undefined) {
    if (q.side === 'requesting') return [{ requesting: me }]
    if (q.side === 'source') return [{ source: me }]
    return [{ requesting: me }, { source: me }]
  }
  if (q.side === 'requesting') return [{ requesting: other, source: me }]
  if (q.side === 'source') return [{ requesting: me, source: other }]
  return [{ requesting: me, source: other }, { requesting: other, source: me }]
}

export async function listTransfers (db: Db, actor: Actor, q: ListTransfersInput): Promise<{ items: TransferView[], nextCursor: string | null }> {
  const limit = q.limit ?? 50
  let after: [string, string] | undefined
  if (q.cursor !== undefined) {
    const [ts, id] = decodeCursor(q.cursor, 2)
    if (typeof ts !== 'string' || typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(Date.parse(ts))) throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
    after = [ts, id]
  }
  const branch = (b: Branch) => {
    let s = db.selectFrom('transfers as t').select(['t.id', 't.createdAt'])
      .orderBy('t.createdAt', 'desc').orderBy('t.id', 'desc').limit(limit + 1)
    if (b.requesting !== undefined) s = s.where('t.requestingStationId', '=', b.requesting)
    if (b.source !== undefined) s = s.where('t.sourceStationId', '=', b.source)
    if (q.status !== undefined) s = s.where('t.status', '=', q.status)
    if (q.from !== undefined) s = s.where('t.createdAt', '>=', dayStart(q.from))
    if (q.to !== undefined) s = s.where('t.createdAt', '<', nextDayStart(q.to))
    if (after !== undefined) s = s.where(sql<SqlBool>`(t.created_at, t.id) < (${after[0]}::timestamptz, ${after[1]}::uuid)`)
    return s
  }
  const [first, ...more] = branchesOf(actor, q).map(branch)
  if (first === undefined) return { items: [], nextCursor: null }
  let ids = db.selectFrom(first.as('b0')).selectAll()
  more.forEach((b, i) => { ids = ids.unionAll(db.selectFrom(b.as(`b${i + 1}`)).selectAll()) })
  const rows = await db.selectFrom(ids.as('p')).innerJoin('transfers as t', 't.id', 'p.id')
    .select(HEADER).select([TOTALS.as('totals'), CURSOR_TS.as('cursorTs')])
    .orderBy('t.createdAt', 'desc').orderBy('t.id', 'desc').limit(limit + 1)
    .execute()
  const p = page(rows, limit, r => [r.cursorTs, r.id])
  return { items: p.items.map(({ cursorTs: _, ...view }): TransferView => view), nextCursor: p.nextCursor }
}

/** The status history, oldest first; same scope as reading the transfer. */
export async function listTransferEvents (db: Db, actor: Actor, id: string, q: EventsInput) {
  let scoped = db.selectFrom('transfers as t').select('t.id').where('t.id', '=', id)
  const scope = involved(actor)
  if (scope !== null) scoped = scoped.where(scope)
  if (await scoped.executeTakeFirst() === undefined) throw notFound('Transfer')
  const limit = q.limit ?? 50
  let query = db.selectFrom('transferEvents').select(['id', 'fromStatus', 'toStatus', 'actorUserId', 'actorRole', 'at', 'note'])
    .where('transferId', '=', id).orderBy('id').limit(limit + 1)
    .$narrowType<{ fromStatus: TransferStatus | null, toStatus: TransferStatus }>()
  if (q.cursor !== undefined) {
    const [last] = decodeCursor(q.cursor, 1)
    if (typeof last !== 'number' || !Number.isSafeInteger(last)) throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
    query = query.where('id', '>', last)
  }
  return page(await query.execute(), limit, r => [r.id])
}
