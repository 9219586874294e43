// A level's critical threshold never exceeds its alert threshold (PRODUCT.md §6: critical ≤ alert;
// the reads rely on it — critical and out imply low, so the partial index of low levels serves the
// critical and out filters). The threshold write already refuses it (422 THRESHOLDS_INVALID,
// checked under the level's row lock before anything is written); this CHECK makes it hold whatever
// writes the row (a script, an import, a future code path).
//
// No row should violate it: every threshold ever written went through that check. Should a database
// hold some anyway, the migration does not refuse to start: it lowers each such level's critical
// threshold to its alert threshold — the alert threshold (when the station wants to reorder) is the
// one the station chose to act on; a critical threshold above it has no meaning, since a level is
// critical only once it is low — bumps its version (its ETag changes: a client holding the old
// thresholds gets a 412 on its next write, not a silent overwrite) and says how many it changed in a
// NOTICE and a process warning at start. Quantities and movements are untouched. Such a change is
// not an audited action (no audit event: the migration is no user's); the list beforehand is
//   SELECT station_id, article_id, alert_threshold, critical_threshold FROM stock_levels
//   WHERE critical_threshold > alert_threshold
// The CHECK is then added validated (one scan of stock_levels, stations × articles rows, inside the
// migration's transaction).
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ n: number }>`
    WITH clamped AS (
      UPDATE stock_levels SET critical_threshold = alert_threshold, version = version + 1, updated_at = now()
      WHERE critical_threshold > alert_threshold
      RETURNING 1
    )
    SELECT count(*)::int AS n FROM clamped`.execute(db)
  const clamped = rows[0]?.n ?? 0
  if (clamped > 0) {
    await sql.raw(`DO $$ BEGIN RAISE NOTICE '% stock level(s) had a critical threshold above the alert threshold: lowered to it (see db/migrations/0014-stock-threshold-order.ts)', ${clamped}; END $$`).execute(db)
    process.emitWarning(`${clamped} stock level(s) had a critical threshold above the alert threshold: lowered to it, version bumped (see db/migrations/0014-stock-threshold-order.ts)`, { code: 'STOCK_THRESHOLDS_CLAMPED' })
  }
  await sql`ALTER TABLE stock_levels ADD CONSTRAINT stock_levels_thresholds_ordered CHECK (critical_threshold <= alert_threshold)`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE stock_levels DROP CONSTRAINT IF EXISTS stock_levels_thresholds_ordered`.execute(db)
}
