// Station stock changes. Every change goes through a movement in the same transaction (PRODUCT.md
// §6: Σ movements = quantity for every station × article), and quantities only move by relative
// upserts/guarded updates, never read-then-write, so concurrent receipts never lose an update.
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import type { Actor } from '../../lib/permissions.js'
import type { StockReason } from '../../db/schema.js'

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

/**
 * Adds units to a station's stock, one movement row per entry, in two statements whatever the
 * number of entries. Entries are applied in article-id order so two transactions adding to the same
 * articles take the row locks in the same order and cannot deadlock. Entries for one article are
 * merged for the level (an upsert cannot touch a row twice) but keep one movement each.
 */
export async function addStock (db: Db, actor: Actor, stationId: string, entries: readonly StockIncrease[], ref: StockReference): Promise<void> {
  const positive = entries.filter(e => e.units > 0)
  if (positive.length === 0) return
  const merged = new Map<string, number>()
  for (const e of positive) merged.set(e.articleId, (merged.get(e.articleId) ?? 0) + e.units)
  const articles = [...merged.keys()].sort()
  const units = articles.map(a => merged.get(a) as number)
  await sql`
    INSERT INTO stock_levels (station_id, article_id, quantity)
    SELECT ${stationId}::uuid, a, q FROM unnest(${articles}::uuid[], ${units}::int[]) AS x(a, q)
    ORDER BY a
    ON CONFLICT (station_id, article_id) DO UPDATE
      SET quantity = stock_levels.quantity + EXCLUDED.quantity, version = stock_levels.version + 1, updated_at = now()`.execute(db)
  await sql`
    INSERT INTO stock_movements (station_id, article_id, delta, reason, ref_type, ref_id, actor_user_id)
    SELECT ${stationId}::uuid, a, d, ${ref.reason}, ${ref.refType}, ${ref.refId}::uuid, ${actor.userId}::uuid
    FROM unnest(${positive.map(e => e.articleId)}::uuid[], ${positive.map(e => e.units)}::int[]) AS x(a, d)`.execute(db)
}
