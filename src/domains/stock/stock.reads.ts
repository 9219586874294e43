// Stock reads (PRODUCT.md §6, §2.1 "stock · read"): levels, one level with its latest movements,
// the movement ledger and the alert list. Scope:
// - platform staff: every station;
// - a STATION user: its own station in full, and the quantities of the other ACTIVE stations
//   (their thresholds, low/critical flags and movements are absent: "quantities only"); an
//   inactive other station is a 404 like everywhere else (§2.1 "active ones");
// - suppliers never get here (RBAC: 403).
// Every list is keyset-paginated on an index: levels on the primary key (station, article), the
// alert list on the partial index of low levels, movements on (station, id) newest first.
import type { ExpressionBuilder, SqlBool, Expression } from 'kysely'
import type { Db } from '../../db/index.js'
import type { Database } from '../../db/schema.js'
import { decodeCursor, page } from '../../lib/cursor.js'
import { isPlatformRole, type Actor } from '../../lib/permissions.js'
import { notFound, problem } from '../../lib/problems.js'
import {
  LEVEL_MOVEMENTS, type MovementListInput, type StockAlert, type StockAlertInput, type StockLevelDetail, type StockLevelView,
  type StockListInput, type StockMovementView
} from './stock.schemas.js'

interface LevelRow {
  stationId: string
  articleId: string
  articleCode: string
  articleName: string
  baseUnit: string
  quantity: number
  alertThreshold: number
  criticalThreshold: number
  version: number
  updatedAt: Date | null
}

/** Whether the caller sees this station's stock in full (thresholds, flags, movements). */
export function seesInFull (actor: Actor, stationId: string): boolean {
  return isPlatformRole(actor.role) || actor.organizationId === stationId
}

/** A level in the caller's view: thresholds and the flags derived from them only in full. */
export function levelView (actor: Actor, r: LevelRow): StockLevelView {
  const base = { stationId: r.stationId, articleId: r.articleId, articleCode: r.articleCode, articleName: r.articleName, baseUnit: r.baseUnit, quantity: r.quantity }
  const tail = { out: r.quantity === 0, version: r.version, updatedAt: r.updatedAt }
  if (!seesInFull(actor, r.stationId)) return { ...base, ...tail }
  return {
    ...base,
    alertThreshold: r.alertThreshold,
    criticalThreshold: r.criticalThreshold,
    low: r.quantity <= r.alertThreshold,
    critical: r.quantity <= r.criticalThreshold,
    ...tail
  }
}

/**
 * 404 unless the caller may read this station's stock: staff any existing station, a station its
 * own and the other active ones. Returns whether it sees it in full.
 */
export async function assertReadScope (db: Db, actor: Actor, stationId: string): Promise<boolean> {
  if (actor.role === 'STATION' && actor.organizationId === stationId) return true
  if (actor.role === 'SUPPLIER') throw notFound('Station')
  let q = db.selectFrom('stations').select('id').where('id', '=', stationId)
  if (actor.role === 'STATION') q = q.where('isActive', '=', true)
  if (await q.executeTakeFirst() === undefined) throw notFound('Station')
  return actor.role !== 'STATION'
}

type LevelEb = ExpressionBuilder<Database & { l: Database['stockLevels'], a: Database['articles'], s: Database['stations'] }, 'l' | 'a' | 's'>

function levelsBase (db: Db) {
  return db.selectFrom('stockLevels as l')
    .innerJoin('articles as a', 'a.id', 'l.articleId')
    .innerJoin('stations as s', 's.id', 'l.stationId')
    .select([
      'l.stationId', 'l.articleId', 'a.code as articleCode', 'a.name as articleName', 'a.baseUnit',
      'l.quantity', 'l.alertThreshold', 'l.criticalThreshold', 'l.version', 'l.updatedAt'
    ])
}

function afterCursor (cursor: string): [string, string] {
  const [station, article] = decodeCursor(cursor, 2)
  if (typeof station !== 'string' || typeof article !== 'string') throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
  return [station, article]
}

/** The flag filters as conditions; `true` filters add the (redundant) low condition so the partial index of low levels serves them. */
function flagConditions (eb: LevelEb, f: { low?: boolean, critical?: boolean, out?: boolean }): Array<Expression<SqlBool>> {
  const c: Array<Expression<SqlBool>> = []
  const low = eb('l.quantity', '<=', eb.ref('l.alertThreshold'))
  // critical ≤ alert on every level (the threshold write refuses otherwise; CHECK stock_levels_thresholds_ordered,
  // migration 0014), so critical and out imply low
  if (f.low === true || f.critical === true || f.out === true) c.push(low)
  if (f.low === false) c.push(eb('l.quantity', '>', eb.ref('l.alertThreshold')))
  if (f.critical === true) c.push(eb('l.quantity', '<=', eb.ref('l.criticalThreshold')))
  if (f.critical === false) c.push(eb('l.quantity', '>', eb.ref('l.criticalThreshold')))
  if (f.out === true) c.push(eb('l.quantity', '=', 0))
  if (f.out === false) c.push(eb('l.quantity', '>', 0))
  return c
}

/** `GET /v1/stock`: levels in (station, article) order. */
export async function listStock (db: Db, actor: Actor, input: StockListInput): Promise<{ items: StockLevelView[], nextCursor: string | null }> {
  const limit = input.limit ?? 50
  const rows = await levelsQuery(db, actor, input, input.low !== undefined || input.critical !== undefined, input.cursor, limit)
  return page(rows.map(r => levelView(actor, r)), limit, r => [r.stationId, r.articleId])
}

/** `GET /v1/stock/alerts`: levels at or below their alert threshold, the caller's own station for a STATION user. */
export async function listAlerts (db: Db, actor: Actor, input: StockAlertInput): Promise<{ items: StockAlert[], nextCursor: string | null }> {
  const limit = input.limit ?? 50
  const rows = await levelsQuery(db, actor, { ...input, low: true }, true, input.cursor, limit)
  return page(rows.map(r => ({
    ...levelView(actor, r),
    severity: r.quantity === 0 ? 'OUT' as const : r.quantity <= r.criticalThreshold ? 'CRITICAL' as const : 'LOW' as const
  })), limit, r => [r.stationId, r.articleId])
}

async function levelsQuery (db: Db, actor: Actor, f: StockListInput, ownOnly: boolean, cursor: string | undefined, limit: number): Promise<LevelRow[]> {
  let q = levelsBase(db)
  if (actor.role === 'STATION') {
    // thresholds of other stations are not the caller's to see, nor to filter on
    if (ownOnly) q = q.where('l.stationId', '=', actor.organizationId)
    else q = q.where(eb => eb.or([eb('s.isActive', '=', true), eb('l.stationId', '=', actor.organizationId)]))
  }
  if (f.stationId !== undefined) q = q.where('l.stationId', '=', f.stationId)
  if (f.articleId !== undefined) q = q.where('l.articleId', '=', f.articleId)
  if (f.category !== undefined) q = q.where('a.category', '=', f.category)
  const flags = f
  q = q.where(eb => eb.and(flagConditions(eb, flags)))
  if (cursor !== undefined) {
    const [station, article] = afterCursor(cursor)
    q = q.where(eb => eb(eb.refTuple('l.stationId', 'l.articleId'), '>', eb.tuple(station, article)))
  }
  return await q.orderBy('l.stationId').orderBy('l.articleId').limit(limit + 1).execute()
}

const MOVEMENT_COLUMNS = ['m.id', 'm.stationId', 'm.articleId', 'a.code as articleCode', 'm.delta', 'm.reason', 'm.refType', 'm.refId', 'm.actorUserId', 'm.at'] as const

/**
 * `GET /v1/stations/{stationId}/stock/{articleId}`. A station × article that never had a level is
 * answered as a zero level (version 0, no movements) when the article exists — and, for a station
 * user, is active: "how many X do we have" has an answer, 0, and a PATCH with If-Match "0" sets its
 * thresholds. An unknown article is a 404.
 */
export async function getLevel (db: Db, actor: Actor, stationId: string, articleId: string): Promise<StockLevelDetail> {
  const full = await assertReadScope(db, actor, stationId)
  const [row, movements] = await Promise.all([
    db.selectFrom('articles as a')
      .leftJoin('stockLevels as l', join => join.onRef('l.articleId', '=', 'a.id').on('l.stationId', '=', stationId))
      .select(['a.code', 'a.name', 'a.baseUnit', 'a.isActive', 'l.quantity', 'l.alertThreshold', 'l.criticalThreshold', 'l.version', 'l.updatedAt'])
      .where('a.id', '=', articleId)
      .executeTakeFirst(),
    full
      ? db.selectFrom('stockMovements as m').innerJoin('articles as a', 'a.id', 'm.articleId').select(MOVEMENT_COLUMNS)
        .where('m.stationId', '=', stationId).where('m.articleId', '=', articleId)
        .orderBy('m.id', 'desc').limit(LEVEL_MOVEMENTS).execute()
      : Promise.resolve(undefined)
  ])
  if (row === undefined || (row.version === null && !row.isActive && !isPlatformRole(actor.role))) throw notFound('Stock level')
  const level = levelView(actor, {
    stationId,
    articleId,
    articleCode: row.code,
    articleName: row.name,
    baseUnit: row.baseUnit,
    quantity: row.quantity ?? 0,
    alertThreshold: row.alertThreshold ?? 0,
    criticalThreshold: row.criticalThreshold ?? 0,
    version: row.version ?? 0,
    updatedAt: row.updatedAt ?? null
  })
  return movements === undefined ? level : { ...level, movements }
}

/** What a level's ETag covers besides its version: the article fields shown with it. */
export function levelEtagPart (l: { articleCode: string, articleName: string, baseUnit: string }): string {
  return `${l.articleCode}|${l.articleName}|${l.baseUnit}`
}

const dayStart = (d: string): Date => new Date(`${d}T00:00:00.000Z`)
const nextDayStart = (d: string): Date => new Date(dayStart(d).getTime() + 86_400_000)

/** `GET /v1/stations/{stationId}/stock-movements`: the station's ledger, newest first. Own station or staff; another station's ledger is a 404. */
export async function listMovements (db: Db, actor: Actor, stationId: string, input: MovementListInput): Promise<{ items: StockMovementView[], nextCursor: string | null }> {
  if (actor.role === 'STATION' && actor.organizationId !== stationId) throw notFound('Station')
  await assertReadScope(db, actor, stationId)
  const limit = input.limit ?? 50
  let q = db.selectFrom('stockMovements as m').innerJoin('articles as a', 'a.id', 'm.articleId').select(MOVEMENT_COLUMNS)
    .where('m.stationId', '=', stationId)
  if (input.articleId !== undefined) q = q.where('m.articleId', '=', input.articleId)
  if (input.reason !== undefined) q = q.where('m.reason', '=', input.reason)
  if (input.from !== undefined) q = q.where('m.at', '>=', dayStart(input.from))
  if (input.to !== undefined) q = q.where('m.at', '<', nextDayStart(input.to))
  if (input.cursor !== undefined) {
    const [id] = decodeCursor(input.cursor, 1)
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
    q = q.where('m.id', '<', id)
  }
  const rows = await q.orderBy('m.id', 'desc').limit(limit + 1).execute()
  return page(rows, limit, r => [r.id])
}

/** Exposed for the write side: a level as the writer (always in full) sees it. */
export async function readLevel (db: Db, actor: Actor, stationId: string, articleId: string): Promise<StockLevelView> {
  const row = await levelsBase(db).where('l.stationId', '=', stationId).where('l.articleId', '=', articleId).executeTakeFirst()
  if (row === undefined) throw notFound('Stock level')
  return levelView(actor, row)
}
