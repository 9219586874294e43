// Inter-station transfers (PRODUCT.md §6) with their lines and append-only status history, weekly
// demand forecasts (§7), and the indexes the stock reads need (alerts, movements by reason/period).
// The transfer number comes from transfer_number_seq (migration 0003).
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE transfers (
      id uuid PRIMARY KEY,
      number text NOT NULL UNIQUE,
      requesting_station_id uuid NOT NULL REFERENCES stations (id),
      source_station_id uuid NOT NULL REFERENCES stations (id),
      status text NOT NULL DEFAULT 'REQUESTED' CHECK (status IN ('REQUESTED', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'IN_PREPARATION', 'SHIPPED', 'RECEIVED', 'CLOSED', 'SETTLED', 'ARCHIVED')),
      reason text CHECK (length(reason) <= 1000),
      status_reason text CHECK (length(status_reason) <= 1000),
      needed_by date,
      delivery_note_doc_id uuid,
      signed_note_doc_id uuid,
      settlement_ref text CHECK (length(settlement_ref) BETWEEN 1 AND 100),
      settlement_amount numeric(14,2) CHECK (settlement_amount >= 0),
      created_by uuid,
      confirmed_at timestamptz,
      shipped_at timestamptz,
      received_at timestamptz,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT transfers_distinct_stations CHECK (requesting_station_id <> source_station_id)
    );
    CREATE INDEX transfers_requesting ON transfers (requesting_station_id, created_at DESC, id DESC);
    CREATE INDEX transfers_source ON transfers (source_station_id, created_at DESC, id DESC);
    CREATE INDEX transfers_created ON transfers (created_at DESC, id DESC);
    CREATE INDEX transfers_status ON transfers (status, created_at DESC, id DESC);

    CREATE TABLE transfer_lines (
      id uuid PRIMARY KEY,
      transfer_id uuid NOT NULL REFERENCES transfers (id),
      article_id uuid NOT NULL REFERENCES articles (id),
      units_requested integer NOT NULL CHECK (units_requested > 0),
      units_granted integer CHECK (units_granted >= 0),
      units_shipped integer CHECK (units_shipped >= 0),
      units_received integer CHECK (units_received >= 0),
      note text CHECK (length(note) <= 500),
      UNIQUE (transfer_id, article_id)
    );
    CREATE INDEX transfer_lines_article ON transfer_lines (article_id);

    CREATE TABLE transfer_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      transfer_id uuid NOT NULL REFERENCES transfers (id),
      from_status text,
      to_status text NOT NULL,
      actor_user_id uuid,
      actor_role text,
      at timestamptz NOT NULL DEFAULT now(),
      note text
    );
    CREATE INDEX transfer_events_transfer ON transfer_events (transfer_id, id);
    CREATE TRIGGER transfer_events_append_only BEFORE UPDATE OR DELETE ON transfer_events
      FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();

    CREATE TABLE forecasts (
      station_id uuid NOT NULL REFERENCES stations (id),
      article_id uuid NOT NULL REFERENCES articles (id),
      iso_year integer NOT NULL CHECK (iso_year BETWEEN 2000 AND 2999),
      iso_week integer NOT NULL CHECK (iso_week BETWEEN 1 AND 53),
      units integer NOT NULL CHECK (units >= 0),
      updated_by uuid,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (station_id, article_id, iso_year, iso_week)
    );
    CREATE INDEX forecasts_article_week ON forecasts (article_id, iso_year, iso_week);

    -- stock reads: movements of a station by reason / period, and the alert list
    CREATE INDEX stock_movements_station_at ON stock_movements (station_id, at, id);
    CREATE INDEX stock_levels_low ON stock_levels (station_id, article_id) WHERE quantity <= alert_threshold;
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS stock_levels_low, stock_movements_station_at;
    DROP TABLE IF EXISTS forecasts, transfer_events, transfer_lines, transfers CASCADE;
  `.execute(db)
}
