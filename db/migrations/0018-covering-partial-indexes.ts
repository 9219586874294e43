// Two partial indexes made covering, so the reads they serve are index-only whatever the prepared
// statement's plan (found by the bench's plan checks once the dataset had grown, settled):
//
// - stock_levels_low (migration 0008): the low-stock reads (GET /v1/stock?low, the alerts, the
//   dashboard's low-stock items and counts) select quantity and both thresholds of the levels at or
//   below their alert threshold. Without those columns in the index, the generic plan priced a heap
//   fetch per estimated row (a generic third of a station's levels) and chose a parallel sequential
//   scan of every stock level (228 000); with them INCLUDEd: an index-only scan (cost 42 vs 4 600).
// - purchase_orders_station_open (migration 0010): the replenishment's inbound-PO term reads the
//   ids of a station's open orders. Without the id in the index, PostgreSQL preferred an index-only
//   scan of the station's whole history (purchase_orders_station: 61 000 entries for the bench
//   station, 605 of them open) as soon as open orders elsewhere made its estimate large.
//
// Both are rebuilt in the migration's transaction; each holds only its few rows (low levels, open
// orders).
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX stock_levels_low;
    CREATE INDEX stock_levels_low ON stock_levels (station_id, article_id)
      INCLUDE (quantity, alert_threshold, critical_threshold) WHERE quantity <= alert_threshold;
    DROP INDEX purchase_orders_station_open;
    CREATE INDEX purchase_orders_station_open ON purchase_orders (station_id) INCLUDE (id)
      WHERE status IN ('PLACED', 'CONFIRMED', 'SHIPPED');
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX stock_levels_low;
    CREATE INDEX stock_levels_low ON stock_levels (station_id, article_id) WHERE quantity <= alert_threshold;
    DROP INDEX purchase_orders_station_open;
    CREATE INDEX purchase_orders_station_open ON purchase_orders (station_id) WHERE status IN ('PLACED', 'CONFIRMED', 'SHIPPED');
  `.execute(db)
}
