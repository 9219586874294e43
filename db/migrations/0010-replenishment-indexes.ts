// The two reads of a replenishment proposal that grew with history (PRODUCT.md §7):
// - a station's forecasts over a window of ISO weeks: the primary key (station, article, year,
//   week) serves the lists and the upsert, but a window across every article had to read all of
//   the station's weeks, past ones included; this index reads exactly the window, and carries the
//   article so that finding which articles the window holds needs no heap access. units stays out
//   of it so an upsert that changes units only can remain a HOT update;
// - a station's open purchase orders (PLACED, CONFIRMED, SHIPPED: the inbound quantities): a
//   partial index holding only those, instead of every order the station ever placed.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX forecasts_station_week ON forecasts (station_id, iso_year, iso_week) INCLUDE (article_id);
    CREATE INDEX purchase_orders_station_open ON purchase_orders (station_id) WHERE status IN ('PLACED', 'CONFIRMED', 'SHIPPED');
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS forecasts_station_week, purchase_orders_station_open`.execute(db)
}
