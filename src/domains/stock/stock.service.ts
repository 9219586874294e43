// Station stock changes. Every change goes through a movement in the same transaction (PRODUCT.md
// §6: Σ movements = quantity for every station × article), and quantities only move by relative
// upserts/guarded updates, never read-then-write, so concurrent receipts never lose an update.
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import type { Actor } from '../../lib/permissions.js'
import type { StockReason } from '../../db/schema.js'
import { emitEvents, type OutboxEvent } from '../../lib/outbox.js'
import { AppError } from '../../lib/problems.js'

export interface StockIncrease {
  articleId: string
  /** base units, > 0 */
  units: number
}

export interface StockReference {
  reason: StockReason
  refType: string
  refId: string
}

export interface StockDelta {
  articleId: string
  /** signed base units; 0 is ignored */
  delta: number
}

export interface StockChange {
  articleId: string
  before: number
  after: number
  alertThreshold: number
  criticalThreshold: number
}

interface ChangedRow { articleId: string, after: number, delta: number, alertThreshold: number, criticalThreshold: number }

export interface StockDeltaOptions {
  /**
   * Where an article's change sits in the caller's request body (e.g. `/lines/2/units`), for the
   * INSUFFICIENT_STOCK problem's items. Without it the problem has no items (there is no body
   * field to point at — a transfer's ship names no lines) and its detail names the articles.
   */
  pointerOf?: (articleId: string) => string
}

/** At most this many short articles are named in an INSUFFICIENT_STOCK detail. */
const NAMED_IN_DETAIL = 20

/**
 * Applies signed deltas to a station's stock with one movement row per entry, in one statement
 * whatever the number of entries (PRODUCT.md §6, invariant 8):
 * - levels move by a guarded relative upsert (`quantity + delta >= 0`), never read-then-write, so
 *   concurrent changes never lose an update; an entry that would go below zero (or take from a
 *   level that does not exist) changes nothing and the call fails with 422 INSUFFICIENT_STOCK —
 *   the caller's transaction rolls back, so a multi-article change is all or nothing; the
 *   problem's items point into the caller's body through `opts.pointerOf` (none without it);
 * - entries are applied in article-id order, so two transactions touching the same articles take
 *   the row locks in the same order and cannot deadlock; entries for one article are merged for
 *   the level (an upsert cannot touch a row twice) but keep one movement each;
 * - a level that crosses its alert threshold downward emits one `stock.low` outbox event (once per
 *   crossing: the next decrease starts below the threshold).
 * Returns each article's level before and after.
 */
export async function applyStockDeltas (db: Db, actor: Actor, stationId: string, entries: readonly StockDelta[], ref: StockReference, opts: StockDeltaOptions = {}): Promise<StockChange[]> {
  const moving = entries.filter(e => e.delta !== 0)
  if (moving.length === 0) return []
  const merged = new Map<string, number>()
  for (const e of moving) merged.set(e.articleId, (merged.get(e.articleId) ?? 0) + e.delta)
  const articles = [...merged.keys()].sort()
  const deltas = articles.map(a => merged.get(a) as number)
  const { rows } = await sql<ChangedRow>`
    WITH input AS (
      SELECT a, d FROM unnest(${articles}::uuid[], ${deltas}::int[]) AS x(a, d)
    ), levels AS (
      -- The proposed row is checked against quantity >= 0 BEFORE the conflict is detected, so it
      -- carries greatest(d, 0) (a decrease always conflicts: see the WHERE) and the update reads
      -- the real delta from the input, not from EXCLUDED.
      INSERT INTO stock_levels AS l (station_id, article_id, quantity)
      SELECT ${stationId}::uuid, i.a, greatest(i.d, 0) FROM input i
      -- a decrease never creates a level: a missing row has nothing to take from
      WHERE i.d >= 0 OR EXISTS (SELECT 1 FROM stock_levels e WHERE e.station_id = ${stationId}::uuid AND e.article_id = i.a)
      ORDER BY i.a
      ON CONFLICT (station_id, article_id) DO UPDATE
        SET quantity = l.quantity + (SELECT d FROM input WHERE a = l.article_id), version = l.version + 1, updated_at = now()
        WHERE l.quantity + (SELECT d FROM input WHERE a = l.article_id) >= 0
      RETURNING l.article_id, l.quantity, l.alert_threshold, l.critical_threshold
    ), movements AS (
      INSERT INTO stock_movements (station_id, article_id, delta, reason, ref_type, ref_id, actor_user_id)
      SELECT ${stationId}::uuid, m.a, m.d, ${ref.reason}, ${ref.refType}, ${ref.refId}::uuid, ${actor.userId}::uuid
      FROM unnest(${moving.map(e => e.articleId)}::uuid[], ${moving.map(e => e.delta)}::int[]) AS m(a, d)
      WHERE m.a IN (SELECT article_id FROM levels)
    )
    SELECT v.article_id AS "articleId", v.quantity AS after, i.d AS delta,
           v.alert_threshold AS "alertThreshold", v.critical_threshold AS "criticalThreshold"
    FROM levels v JOIN input i ON i.a = v.article_id`.execute(db)
  if (rows.length < articles.length) {
    const changed = new Set(rows.map(r => r.articleId))
    const short = articles.filter(a => !changed.has(a))
    const why = (a: string): string => `article ${a}: the change of ${merged.get(a) as number} units would take the stock below zero`
    const { pointerOf } = opts
    if (pointerOf === undefined) {
      const named = short.slice(0, NAMED_IN_DETAIL).map(why).join('; ')
      throw new AppError('INSUFFICIENT_STOCK', `Not enough stock at the station for ${short.length} article(s): ${named}${short.length > NAMED_IN_DETAIL ? '; …' : ''}`)
    }
    throw new AppError('INSUFFICIENT_STOCK', `Not enough stock at the station for ${short.length} article(s)`, {
      errors: short.map(a => ({ pointer: pointerOf(a), code: 'INSUFFICIENT_STOCK', detail: why(a) }))
    })
  }
  const changes = rows.map(r => ({ articleId: r.articleId, before: r.after - r.delta, after: r.after, alertThreshold: r.alertThreshold, criticalThreshold: r.criticalThreshold }))
  await emitLowCrossings(db, stationId, changes)
  return changes
}

/** One `stock.low` outbox event per level that went from above its alert threshold to at or below it. */
async function emitLowCrossings (db: Db, stationId: string, changes: readonly StockChange[]): Promise<void> {
  const low = changes.filter(c => c.before > c.alertThreshold && c.after <= c.alertThreshold)
  await emitEvents(db, low.map(c => stockLowEvent(stationId, c.articleId, c.after, c.alertThreshold, c.criticalThreshold)))
}

/** The `stock.low` event (PRODUCT.md §10), for the station only. */
export function stockLowEvent (stationId: string, articleId: string, quantity: number, alertThreshold: number, criticalThreshold: number): OutboxEvent {
  return {
    type: 'stock.low',
    organizationIds: [stationId],
    payload: { stationId, articleId, quantity, alertThreshold, criticalThreshold, critical: quantity <= criticalThreshold }
  }
}

export interface StockCount {
  articleId: string
  /** base units found, ≥ 0 */
  counted: number
}

/**
 * An inventory count: sets each article's level to the counted quantity, with one COUNT movement
 * per difference (counted − on hand; none when they agree), set-based whatever the number of
 * articles (PRODUCT.md §6). Two statements, both in article order like `applyStockDeltas`, so
 * they cannot deadlock with it:
 * 1. an upsert that creates the missing levels at 0 and locks every counted level (its
 *    `DO UPDATE … WHERE false` updates nothing but locks the conflicting row);
 * 2. one CTE, in a snapshot taken after those locks (nobody else can move these levels now), that
 *    computes the differences in SQL, sets the quantities and writes the movements.
 * A level crossing its alert threshold downward emits `stock.low`, as for any other change.
 * Entries must name distinct articles. Returns every counted article's level before and after.
 */
export async function applyStockCounts (db: Db, actor: Actor, stationId: string, counts: readonly StockCount[], ref: StockReference): Promise<StockChange[]> {
  if (counts.length === 0) return []
  const sorted = [...counts].sort((a, b) => a.articleId < b.articleId ? -1 : a.articleId > b.articleId ? 1 : 0)
  const articles = sorted.map(c => c.articleId)
  await sql`
    INSERT INTO stock_levels AS l (station_id, article_id, quantity)
    SELECT ${stationId}::uuid, a, 0 FROM unnest(${articles}::uuid[]) AS x(a) ORDER BY a
    ON CONFLICT (station_id, article_id) DO UPDATE SET quantity = l.quantity WHERE false`.execute(db)
  const { rows } = await sql<StockChange>`
    WITH input AS (
      SELECT a, c FROM unnest(${articles}::uuid[], ${sorted.map(c => c.counted)}::int[]) AS x(a, c)
    ), current AS (
      SELECT l.article_id, l.quantity AS before, i.c AS counted, l.alert_threshold, l.critical_threshold
      FROM stock_levels l JOIN input i ON i.a = l.article_id
      WHERE l.station_id = ${stationId}::uuid
    ), levels AS (
      UPDATE stock_levels l SET quantity = k.counted, version = l.version + 1, updated_at = now()
      FROM current k
      WHERE l.station_id = ${stationId}::uuid AND l.article_id = k.article_id AND k.counted <> k.before
    ), movements AS (
      INSERT INTO stock_movements (station_id, article_id, delta, reason, ref_type, ref_id, actor_user_id)
      SELECT ${stationId}::uuid, k.article_id, k.counted - k.before, ${ref.reason}, ${ref.refType}, ${ref.refId}::uuid, ${actor.userId}::uuid
      FROM current k WHERE k.counted <> k.before ORDER BY k.article_id
    )
    SELECT article_id AS "articleId", before, counted AS after, alert_threshold AS "alertThreshold", critical_threshold AS "criticalThreshold"
    FROM current ORDER BY article_id`.execute(db)
  await emitLowCrossings(db, stationId, rows)
  return rows
}

/** Adds units (receipts, transfers in): `applyStockDeltas` with positive deltas. */
export async function addStock (db: Db, actor: Actor, stationId: string, entries: readonly StockIncrease[], ref: StockReference): Promise<void> {
  await applyStockDeltas(db, actor, stationId, entries.filter(e => e.units > 0).map(e => ({ articleId: e.articleId, delta: e.units })), ref)
}
