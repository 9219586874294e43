// Carts, master orders, purchase orders with frozen lines and their status history; station stock
// levels and the append-only stock-movement ledger.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE carts (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      station_id uuid NOT NULL REFERENCES stations (id),
      status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'CHECKED_OUT')),
      master_order_id uuid,
      created_by uuid REFERENCES users (id),
      checked_out_at timestamptz,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX carts_one_open ON carts (station_id) WHERE status = 'OPEN';
    CREATE INDEX carts_station ON carts (station_id, created_at);

    CREATE TABLE cart_lines (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      cart_id uuid NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
      station_id uuid NOT NULL REFERENCES stations (id),
      article_id uuid NOT NULL REFERENCES articles (id),
      supplier_id uuid NOT NULL REFERENCES suppliers (id),
      packs integer NOT NULL CHECK (packs > 0 AND packs <= 1000000),
      desired_delivery_date date NOT NULL,
      note text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (cart_id, article_id, supplier_id)
    );
    CREATE INDEX cart_lines_station ON cart_lines (station_id);
    CREATE INDEX cart_lines_article ON cart_lines (article_id);
    CREATE INDEX cart_lines_supplier ON cart_lines (supplier_id);

    CREATE TABLE master_orders (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      number text NOT NULL UNIQUE,
      station_id uuid NOT NULL REFERENCES stations (id),
      cart_id uuid NOT NULL UNIQUE REFERENCES carts (id),
      status text NOT NULL DEFAULT 'PLACED',
      supplier_count integer NOT NULL CHECK (supplier_count >= 1),
      supplier_net numeric(14,2) NOT NULL, supplier_vat numeric(14,2) NOT NULL, supplier_gross numeric(14,2) NOT NULL,
      station_net numeric(14,2) NOT NULL, station_vat numeric(14,2) NOT NULL, station_gross numeric(14,2) NOT NULL,
      currency char(3) NOT NULL DEFAULT 'EUR',
      created_by uuid REFERENCES users (id),
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX master_orders_station ON master_orders (station_id, created_at, id);
    CREATE INDEX master_orders_list ON master_orders (created_at, id);
    CREATE INDEX master_orders_status ON master_orders (status, created_at, id);
    ALTER TABLE carts ADD CONSTRAINT carts_master_order_fk FOREIGN KEY (master_order_id) REFERENCES master_orders (id);
    CREATE INDEX carts_master_order ON carts (master_order_id);

    CREATE TABLE purchase_orders (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      number text NOT NULL UNIQUE,
      master_order_id uuid NOT NULL REFERENCES master_orders (id),
      station_id uuid NOT NULL REFERENCES stations (id),
      supplier_id uuid NOT NULL REFERENCES suppliers (id),
      status text NOT NULL DEFAULT 'PLACED' CHECK (status IN ('PLACED','CONFIRMED','DECLINED','SHIPPED','RECEIVED','CLOSED','INVOICED','ARCHIVED','CANCELLED')),
      supplier_net numeric(14,2) NOT NULL, supplier_vat numeric(14,2) NOT NULL, supplier_gross numeric(14,2) NOT NULL,
      station_net numeric(14,2) NOT NULL, station_vat numeric(14,2) NOT NULL, station_gross numeric(14,2) NOT NULL,
      invoiced_supplier_net numeric(14,2), invoiced_supplier_vat numeric(14,2), invoiced_supplier_gross numeric(14,2),
      invoiced_station_net numeric(14,2), invoiced_station_vat numeric(14,2), invoiced_station_gross numeric(14,2),
      currency char(3) NOT NULL DEFAULT 'EUR',
      carrier text, tracking_no text,
      delivery_note_doc_id uuid, signed_note_doc_id uuid,
      invoice_number text, invoice_date date,
      confirmed_at timestamptz, shipped_at timestamptz, received_at timestamptz, closed_at timestamptz,
      invoiced_at timestamptz, archived_at timestamptz, cancelled_at timestamptz,
      status_reason text,
      created_by uuid REFERENCES users (id),
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (master_order_id, supplier_id)
    );
    CREATE INDEX purchase_orders_station ON purchase_orders (station_id, created_at, id);
    CREATE INDEX purchase_orders_supplier ON purchase_orders (supplier_id, created_at, id);
    CREATE INDEX purchase_orders_status ON purchase_orders (status, created_at, id);
    CREATE INDEX purchase_orders_list ON purchase_orders (created_at, id);

    CREATE TABLE purchase_order_lines (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      purchase_order_id uuid NOT NULL REFERENCES purchase_orders (id),
      line_no integer NOT NULL CHECK (line_no >= 1),
      station_id uuid NOT NULL REFERENCES stations (id),
      supplier_id uuid NOT NULL REFERENCES suppliers (id),
      article_id uuid NOT NULL REFERENCES articles (id),
      contract_line_id uuid REFERENCES contract_lines (id),
      article_code text NOT NULL, article_name text NOT NULL,
      supplier_ref text NOT NULL, pack_label text NOT NULL,
      units_per_pack integer NOT NULL CHECK (units_per_pack >= 1),
      supplier_pack_price numeric(14,4) NOT NULL CHECK (supplier_pack_price >= 0),
      fee_pct numeric(5,2) NOT NULL,
      station_pack_price numeric(14,4) NOT NULL CHECK (station_pack_price >= 0),
      vat_rate numeric(5,2) NOT NULL,
      price_source text NOT NULL CHECK (price_source IN ('CONTRACT', 'CATALOG')),
      packs_ordered integer NOT NULL CHECK (packs_ordered > 0),
      supplier_line_net numeric(14,2) NOT NULL,
      station_line_net numeric(14,2) NOT NULL,
      desired_delivery_date date NOT NULL,
      confirmed_delivery_date date,
      packs_received integer CHECK (packs_received >= 0),
      discrepancy text,
      UNIQUE (purchase_order_id, line_no)
    );
    CREATE INDEX purchase_order_lines_station ON purchase_order_lines (station_id);
    CREATE INDEX purchase_order_lines_supplier ON purchase_order_lines (supplier_id);
    CREATE INDEX purchase_order_lines_article ON purchase_order_lines (article_id);
    CREATE INDEX purchase_order_lines_contract_line ON purchase_order_lines (contract_line_id);

    CREATE TABLE purchase_order_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      purchase_order_id uuid NOT NULL REFERENCES purchase_orders (id),
      from_status text,
      to_status text NOT NULL,
      actor_user_id uuid,
      actor_role text,
      at timestamptz NOT NULL DEFAULT now(),
      note text
    );
    CREATE INDEX purchase_order_events_po ON purchase_order_events (purchase_order_id, id);
    CREATE TRIGGER purchase_order_events_append_only BEFORE UPDATE OR DELETE ON purchase_order_events
      FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();

    CREATE TABLE stock_levels (
      station_id uuid NOT NULL REFERENCES stations (id),
      article_id uuid NOT NULL REFERENCES articles (id),
      quantity integer NOT NULL DEFAULT 0 CHECK (quantity >= 0),
      alert_threshold integer NOT NULL DEFAULT 0 CHECK (alert_threshold >= 0),
      critical_threshold integer NOT NULL DEFAULT 0 CHECK (critical_threshold >= 0),
      version integer NOT NULL DEFAULT 1,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (station_id, article_id)
    );
    CREATE INDEX stock_levels_article ON stock_levels (article_id, station_id);

    CREATE TABLE stock_movements (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      station_id uuid NOT NULL REFERENCES stations (id),
      article_id uuid NOT NULL REFERENCES articles (id),
      delta integer NOT NULL CHECK (delta <> 0),
      reason text NOT NULL CHECK (reason IN ('PO_RECEIPT', 'TRANSFER_OUT', 'TRANSFER_IN', 'ADJUSTMENT', 'COUNT', 'CONSUMPTION')),
      ref_type text,
      ref_id uuid,
      actor_user_id uuid,
      at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX stock_movements_station_article ON stock_movements (station_id, article_id, id);
    CREATE INDEX stock_movements_station ON stock_movements (station_id, id);
    CREATE INDEX stock_movements_article ON stock_movements (article_id);
    CREATE TRIGGER stock_movements_append_only BEFORE UPDATE OR DELETE ON stock_movements
      FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS stock_movements, stock_levels, purchase_order_events, purchase_order_lines, purchase_orders CASCADE;
    ALTER TABLE carts DROP CONSTRAINT IF EXISTS carts_master_order_fk;
    DROP TABLE IF EXISTS master_orders, cart_lines, carts CASCADE;
  `.execute(db)
}
