// Scoped reads of master and purchase orders: a station sees its own orders, a supplier only the
// POs addressed to it (never a master order), staff everything; a row outside the caller's scope is
// a 404. The hot PO reads run the constant texts of orders.sql.ts (the GET ones answer JSON written
// by PostgreSQL); the rest use the query builder.
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import { rawRows } from '../../db/prepared.js'
import { audienceOf } from '../../lib/audience.js'
import { decodeCursor, encodeCursor, page } from '../../lib/cursor.js'
import type { Actor } from '../../lib/permissions.js'
import { notFound, problem } from '../../lib/problems.js'
import type { MasterOrderStatus } from './master-status.js'
import type { ListMasterOrdersInput, ListPurchaseOrdersInput } from './orders.schemas.js'
import { LIST, listText, PO_BY_ID_TEXTS, PO_JSON_BY_ID, POS_OF_MASTER } from './orders.sql.js'
import { MO_COLUMNS, moView, poView, type MasterOrderListItem, type MasterOrderView, type PoRow, type PurchaseOrderView } from './orders.views.js'

// ---- purchase orders -------------------------------------------------------------------------

/**
 * One query: the PO in the caller's scope with its lines, as the object view (what mutations answer
 * through the audience serializer; GET answers getPurchaseOrderJson below).
 */
export async function getPurchaseOrder (db: Db, actor: Actor, id: string): Promise<PurchaseOrderView> {
  const rows = actor.role === 'STATION'
    ? await rawRows<PoRow>(db, PO_BY_ID_TEXTS.station, [id, actor.organizationId])
    : actor.role === 'SUPPLIER'
      ? await rawRows<PoRow>(db, PO_BY_ID_TEXTS.supplier, [id, actor.organizationId])
      : await rawRows<PoRow>(db, PO_BY_ID_TEXTS.platform, [id])
  const row = rows[0]
  if (row === undefined) throw notFound('Purchase order')
  return poView(row, row.lines ?? [])
}

export interface PurchaseOrderJson { version: number, body: string }

/** The PO in the caller's scope and view, with its lines, as the response body (one query). */
export async function getPurchaseOrderJson (db: Db, actor: Actor, id: string): Promise<PurchaseOrderJson> {
  const audience = audienceOf(actor)
  const rows = await rawRows<PurchaseOrderJson>(db, PO_JSON_BY_ID[audience], audience === 'platform' ? [id] : [id, actor.organizationId])
  const row = rows[0]
  if (row === undefined) throw notFound('Purchase order')
  return row
}

const dayStart = (d: string): Date => new Date(`${d}T00:00:00.000Z`)
const nextDayStart = (d: string): Date => new Date(dayStart(d).getTime() + 86_400_000)

interface PageRow { items: string, n: number, cursorTs: string | null, cursorId: string | null }

/** A page of POs in the caller's scope and view, newest first, as the response body `{ items, nextCursor }`. */
export async function listPurchaseOrdersJson (db: Db, actor: Actor, q: ListPurchaseOrdersInput): Promise<string> {
  const limit = q.limit ?? 50
  let shape = 0
  const params: unknown[] = []
  if (actor.role === 'STATION') { shape |= LIST.STATION_SCOPE; params.push(actor.organizationId) }
  if (actor.role === 'SUPPLIER') { shape |= LIST.SUPPLIER_SCOPE; params.push(actor.organizationId) }
  if (q.stationId !== undefined) { shape |= LIST.STATION; params.push(q.stationId) }
  if (q.supplierId !== undefined) { shape |= LIST.SUPPLIER; params.push(q.supplierId) }
  if (q.status !== undefined) { shape |= LIST.STATUS; params.push(q.status) }
  if (q.from !== undefined) { shape |= LIST.FROM; params.push(dayStart(q.from)) }
  if (q.to !== undefined) { shape |= LIST.TO; params.push(nextDayStart(q.to)) }
  if (q.cursor !== undefined) {
    const [ts, id] = decodeCursor(q.cursor, 2)
    if (typeof ts !== 'string' || typeof id !== 'string') throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
    shape |= LIST.CURSOR
    params.push(ts, id)
  }
  if (q.include === 'lines') shape |= LIST.LINES
  params.push(limit)
  const [row] = await rawRows<PageRow>(db, listText(shape), params)
  // an aggregate without GROUP BY: always one row
  if (row === undefined) throw new Error('the purchase-order page query returned no row')
  const next = row.n > limit && row.cursorTs !== null && row.cursorId !== null ? JSON.stringify(encodeCursor([row.cursorTs, row.cursorId])) : 'null'
  return `{"items":[${row.items}],"nextCursor":${next}}`
}

function scopedPo (db: Db, actor: Actor, id: string) {
  let q = db.selectFrom('purchaseOrders').select('id').where('id', '=', id)
  if (actor.role === 'STATION') q = q.where('stationId', '=', actor.organizationId)
  if (actor.role === 'SUPPLIER') q = q.where('supplierId', '=', actor.organizationId)
  return q
}

/** The status history of a PO in the caller's scope, oldest first. */
export async function listPurchaseOrderEvents (db: Db, actor: Actor, id: string, q: { limit?: number, cursor?: string }) {
  const po = await scopedPo(db, actor, id).executeTakeFirst()
  if (po === undefined) throw notFound('Purchase order')
  const limit = q.limit ?? 50
  let query = db.selectFrom('purchaseOrderEvents').select(['id', 'fromStatus', 'toStatus', 'actorUserId', 'actorRole', 'at', 'note'])
    .where('purchaseOrderId', '=', id).orderBy('id').limit(limit + 1)
  if (q.cursor !== undefined) {
    const [after] = decodeCursor(q.cursor, 1)
    if (typeof after !== 'number') throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
    query = query.where('id', '>', after)
  }
  return page(await query.execute(), limit, r => [r.id])
}

// ---- master orders ---------------------------------------------------------------------------

/** The created_at text with microseconds: a JS Date would lose them and break the keyset. */
const CURSOR_TS = sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

/** master_orders.status is plain text; checkout ('PLACED') and deriveMasterStatus are its only writers. */
type MasterStatusColumn = { status: MasterOrderStatus }

export async function listMasterOrders (db: Db, actor: Actor, q: ListMasterOrdersInput): Promise<{ items: MasterOrderListItem[], nextCursor: string | null }> {
  const limit = q.limit ?? 50
  let query = db.selectFrom('masterOrders').select(MO_COLUMNS).select(CURSOR_TS.as('cursorTs'))
    .orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(limit + 1)
  if (actor.role === 'STATION') query = query.where('stationId', '=', actor.organizationId)
  if (q.stationId !== undefined) query = query.where('stationId', '=', q.stationId)
  if (q.status !== undefined) query = query.where('status', '=', q.status)
  if (q.from !== undefined) query = query.where('createdAt', '>=', dayStart(q.from))
  if (q.to !== undefined) query = query.where('createdAt', '<', nextDayStart(q.to))
  if (q.cursor !== undefined) {
    const [ts, id] = decodeCursor(q.cursor, 2)
    if (typeof ts !== 'string' || typeof id !== 'string') throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
    query = query.where(sql<boolean>`(created_at, id) < (${ts}::timestamptz, ${id}::uuid)`)
  }
  const rows = await query.$narrowType<MasterStatusColumn>().execute()
  const p = page(rows, limit, r => [r.cursorTs, r.id])
  return { items: p.items.map(moView), nextCursor: p.nextCursor }
}

/** The master order in the caller's scope with its purchase orders and their lines. */
export async function getMasterOrder (db: Db, actor: Actor, id: string): Promise<MasterOrderView> {
  let q = db.selectFrom('masterOrders').select(MO_COLUMNS).where('id', '=', id)
  if (actor.role === 'STATION') q = q.where('stationId', '=', actor.organizationId)
  if (actor.role === 'SUPPLIER') throw notFound('Master order')
  const row = await q.$narrowType<MasterStatusColumn>().executeTakeFirst()
  if (row === undefined) throw notFound('Master order')
  const pos = await rawRows<PoRow>(db, POS_OF_MASTER, [id])
  return { ...moView(row), purchaseOrders: pos.map(p => poView(p, p.lines ?? [])) }
}
