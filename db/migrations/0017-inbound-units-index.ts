// The replenishment's inbound-PO term (PRODUCT.md §7) sums, for a station, packs ordered × units
// per pack over the lines of its open orders, walking the lines' (purchase_order_id, line_no) index
// from each open order. units_per_pack was the one column not INCLUDEd (migration 0012 covered the
// reports' columns), so every line read was a heap fetch: about 3 000 per page for the bench
// station's 600 open orders, 2 ms of its 16 ms. With it, that walk is index-only.
//
// The constraint is rebuilt with the column added to INCLUDE (same name, same uniqueness; the
// index is rebuilt inside the migration's transaction, which holds an ACCESS EXCLUSIVE lock on
// purchase_order_lines meanwhile: a few seconds per million lines).
import { sql, type Kysely } from 'kysely'

const COVERED = 'article_id, contract_line_id, packs_ordered, packs_received, supplier_pack_price, station_pack_price, supplier_line_net, station_line_net, confirmed_delivery_date'

async function rebuild (db: Kysely<any>, include: string): Promise<void> {
  await sql.raw(`
    ALTER TABLE purchase_order_lines
      DROP CONSTRAINT purchase_order_lines_purchase_order_id_line_no_key,
      ADD CONSTRAINT purchase_order_lines_purchase_order_id_line_no_key UNIQUE (purchase_order_id, line_no) INCLUDE (${include})
  `).execute(db)
}

export async function up (db: Kysely<any>): Promise<void> {
  await rebuild(db, `${COVERED}, units_per_pack`)
}

export async function down (db: Kysely<any>): Promise<void> {
  await rebuild(db, COVERED)
}
