// Catalog (articles, supplier offers), platform settings, master contracts and their price lines,
// and the number sequences. The contract cap is held by a CHECK constraint as the last line of
// defence behind the guarded UPDATE that reserves packs.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE settings (
      id boolean PRIMARY KEY DEFAULT true CHECK (id),
      default_fee_pct numeric(5,2) NOT NULL DEFAULT 8.00 CHECK (default_fee_pct >= 0 AND default_fee_pct <= 100),
      allow_catalog_fallback boolean NOT NULL DEFAULT true,
      receiving_tolerance_pct numeric(5,2) NOT NULL DEFAULT 0.00 CHECK (receiving_tolerance_pct >= 0 AND receiving_tolerance_pct <= 100),
      lockout_threshold integer NOT NULL DEFAULT 5 CHECK (lockout_threshold BETWEEN 1 AND 100),
      lockout_minutes integer NOT NULL DEFAULT 15 CHECK (lockout_minutes BETWEEN 1 AND 1440),
      rate_limit_per_minute integer NOT NULL DEFAULT 600 CHECK (rate_limit_per_minute BETWEEN 1 AND 1000000),
      version integer NOT NULL DEFAULT 1,
      updated_at timestamptz NOT NULL DEFAULT now(),
      updated_by uuid
    );
    INSERT INTO settings DEFAULT VALUES;

    CREATE TABLE articles (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      code text NOT NULL CHECK (code ~ '^[A-Z0-9][A-Z0-9._-]{1,63}$'),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      description text,
      category text NOT NULL CHECK (category IN ('TRAY','CRATE','PLATTER','FILM','CARDBOARD_BOX','PLASTIC_BAG','PAPER_BAG','INSULATED','LABEL','OTHER')),
      base_unit text NOT NULL DEFAULT 'piece',
      material text,
      dimensions text,
      vat_rate numeric(5,2) NOT NULL DEFAULT 20.00 CHECK (vat_rate >= 0 AND vat_rate <= 100),
      is_active boolean NOT NULL DEFAULT true,
      search tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(description, '') || ' ' || code)) STORED,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX articles_code ON articles (code);
    CREATE INDEX articles_code_prefix ON articles (code text_pattern_ops);
    CREATE INDEX articles_search ON articles USING gin (search);
    CREATE INDEX articles_name_trgm ON articles USING gin (name gin_trgm_ops);
    CREATE INDEX articles_category ON articles (category, code);
    CREATE INDEX articles_active ON articles (is_active, code);

    CREATE TABLE offers (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      article_id uuid NOT NULL REFERENCES articles (id),
      supplier_id uuid NOT NULL REFERENCES suppliers (id),
      supplier_ref text NOT NULL CHECK (length(supplier_ref) BETWEEN 1 AND 64),
      pack_label text NOT NULL CHECK (length(pack_label) BETWEEN 1 AND 100),
      units_per_pack integer NOT NULL CHECK (units_per_pack >= 1),
      catalog_pack_price numeric(14,4) NOT NULL CHECK (catalog_pack_price >= 0),
      moq_packs integer NOT NULL DEFAULT 1 CHECK (moq_packs >= 1),
      pack_multiple integer NOT NULL DEFAULT 1 CHECK (pack_multiple >= 1),
      lead_time_days integer NOT NULL DEFAULT 0 CHECK (lead_time_days BETWEEN 0 AND 365),
      is_active boolean NOT NULL DEFAULT true,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (article_id, supplier_id)
    );
    CREATE INDEX offers_supplier ON offers (supplier_id, article_id);
    CREATE INDEX offers_list ON offers (created_at, id);

    -- Deactivating a supplier deactivates its offers (existing orders keep their frozen lines).
    CREATE FUNCTION deactivate_supplier_offers() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.is_active AND NOT NEW.is_active THEN
        UPDATE offers SET is_active = false, version = version + 1, updated_at = now() WHERE supplier_id = NEW.id AND is_active;
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER suppliers_deactivate_offers AFTER UPDATE OF is_active ON suppliers FOR EACH ROW EXECUTE FUNCTION deactivate_supplier_offers();

    CREATE SEQUENCE contract_number_seq;
    CREATE SEQUENCE master_order_number_seq;
    CREATE SEQUENCE purchase_order_number_seq;
    CREATE SEQUENCE transfer_number_seq;

    CREATE TABLE contracts (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      number text NOT NULL UNIQUE,
      supplier_id uuid NOT NULL REFERENCES suppliers (id),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      kind text NOT NULL CHECK (kind IN ('ANNUAL', 'MULTI_YEAR', 'SEASONAL', 'SPOT')),
      status text NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'ACTIVE', 'SUSPENDED', 'TERMINATED', 'EXPIRED')),
      valid_from date NOT NULL,
      valid_until date NOT NULL,
      currency char(3) NOT NULL DEFAULT 'EUR' CHECK (currency = 'EUR'),
      fee_pct numeric(5,2) NOT NULL CHECK (fee_pct >= 0 AND fee_pct <= 100),
      payment_terms text,
      delivery_sla_days integer CHECK (delivery_sla_days BETWEEN 0 AND 365),
      notes text,
      created_by uuid NOT NULL REFERENCES users (id),
      approved_by uuid REFERENCES users (id),
      approved_at timestamptz,
      renewed_from_id uuid REFERENCES contracts (id),
      status_reason text,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (valid_from <= valid_until),
      CHECK (approved_by IS NULL OR approved_by <> created_by)
    );
    CREATE INDEX contracts_supplier ON contracts (supplier_id, status, valid_from);
    CREATE INDEX contracts_status_until ON contracts (status, valid_until);
    CREATE INDEX contracts_list ON contracts (created_at, id);
    CREATE INDEX contracts_renewed_from ON contracts (renewed_from_id);
    CREATE INDEX contracts_created_by ON contracts (created_by);

    CREATE TABLE contract_lines (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      contract_id uuid NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
      article_id uuid NOT NULL REFERENCES articles (id),
      supplier_id uuid NOT NULL REFERENCES suppliers (id),
      pack_price numeric(14,4) NOT NULL CHECK (pack_price >= 0),
      committed_packs integer CHECK (committed_packs > 0),
      allowance_pct numeric(5,2) NOT NULL DEFAULT 0 CHECK (allowance_pct >= 0 AND allowance_pct <= 1000),
      ordered_packs integer NOT NULL DEFAULT 0 CHECK (ordered_packs >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (contract_id, article_id),
      CONSTRAINT contract_lines_cap CHECK (committed_packs IS NULL OR ordered_packs <= floor(committed_packs * (1 + allowance_pct / 100)))
    );
    CREATE INDEX contract_lines_article ON contract_lines (article_id, supplier_id);
    CREATE INDEX contract_lines_supplier ON contract_lines (supplier_id);
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS contract_lines, contracts, offers, articles, settings CASCADE;
    DROP SEQUENCE IF EXISTS contract_number_seq, master_order_number_seq, purchase_order_number_seq, transfer_number_seq;
    DROP FUNCTION IF EXISTS deactivate_supplier_offers CASCADE;
  `.execute(db)
}
