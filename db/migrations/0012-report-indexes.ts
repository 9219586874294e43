// Indexes the reports read (PRODUCT.md §11): every report is an aggregate over a range of purchase
// orders, so what it reads must be in an index, in the order of the range, without a visit to the
// table (index-only scans) and without a sequential scan of purchase_order_lines, whatever its size.
//
// - purchase orders: the three keyset indexes (created_at, id), (station_id, created_at, id) and
//   (supplier_id, created_at, id) are rebuilt with the columns the reports aggregate INCLUDEd
//   (status, the other party, both nets, the confirmation and reception times). Same names, same
//   keys — the order lists keep using them — and no second copy of each to write on every checkout
//   and transition (status is already indexed, so a transition was never a HOT update);
// - purchase-order lines: the unique (purchase_order_id, line_no) constraint is rebuilt covering
//   the figures a report sums per order (article, contract line, packs ordered and received, both
//   pack prices and line nets, the confirmed delivery date), so the lines of a range of orders are
//   read from the index, order by order;
// - the contract-line index (the foreign key's) becomes partial (lines priced by a contract) and
//   covers packs received: contract utilization sums them per contract line from the index.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX purchase_orders_list, purchase_orders_station, purchase_orders_supplier;
    CREATE INDEX purchase_orders_list ON purchase_orders (created_at, id)
      INCLUDE (status, station_id, supplier_id, station_net, supplier_net, confirmed_at, received_at);
    CREATE INDEX purchase_orders_station ON purchase_orders (station_id, created_at, id)
      INCLUDE (status, supplier_id, station_net, supplier_net, confirmed_at, received_at);
    CREATE INDEX purchase_orders_supplier ON purchase_orders (supplier_id, created_at, id)
      INCLUDE (status, station_id, station_net, supplier_net, confirmed_at, received_at);

    ALTER TABLE purchase_order_lines
      DROP CONSTRAINT purchase_order_lines_purchase_order_id_line_no_key,
      ADD CONSTRAINT purchase_order_lines_purchase_order_id_line_no_key UNIQUE (purchase_order_id, line_no)
        INCLUDE (article_id, contract_line_id, packs_ordered, packs_received, supplier_pack_price, station_pack_price,
                 supplier_line_net, station_line_net, confirmed_delivery_date);

    DROP INDEX purchase_order_lines_contract_line;
    CREATE INDEX purchase_order_lines_contract_line ON purchase_order_lines (contract_line_id)
      INCLUDE (packs_received) WHERE contract_line_id IS NOT NULL;
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX purchase_order_lines_contract_line;
    CREATE INDEX purchase_order_lines_contract_line ON purchase_order_lines (contract_line_id);
    ALTER TABLE purchase_order_lines
      DROP CONSTRAINT purchase_order_lines_purchase_order_id_line_no_key,
      ADD CONSTRAINT purchase_order_lines_purchase_order_id_line_no_key UNIQUE (purchase_order_id, line_no);
    DROP INDEX purchase_orders_list, purchase_orders_station, purchase_orders_supplier;
    CREATE INDEX purchase_orders_list ON purchase_orders (created_at, id);
    CREATE INDEX purchase_orders_station ON purchase_orders (station_id, created_at, id);
    CREATE INDEX purchase_orders_supplier ON purchase_orders (supplier_id, created_at, id);
  `.execute(db)
}
