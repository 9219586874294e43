// Audit integrity against whoever can write the tables (issue 11):
// - The chain is keyed: links are HMACs computed by the service with a configured key the database
//   never sees, and each seal records its key id. The old unkeyed SHA-256 chain proves nothing
//   against the database owner, so it is kept for the record as `audit_seals_unkeyed` and every
//   event is queued again: the sealer re-links the whole log under the key.
// - The unsealed queue is protected like the log: an event leaves it only by being sealed (a
//   trigger on the seals removes it; a direct DELETE of an unsealed event, UPDATE and TRUNCATE are
//   refused), and only the SECURITY DEFINER triggers write it, so the service's role needs no
//   INSERT or DELETE on it.
// - The last verified seal is stored (with a MAC under the chain key) so verify can resume there.
// Roles are cluster-wide and not created here: the runtime grants the service's role its
// privileges after migrating (src/db/roles.ts).
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE audit_seals RENAME TO audit_seals_unkeyed;
    ALTER INDEX audit_seals_pkey RENAME TO audit_seals_unkeyed_pkey;
    ALTER INDEX audit_seals_event_id_key RENAME TO audit_seals_unkeyed_event_id_key;

    CREATE TABLE audit_seals (
      seq bigint PRIMARY KEY CHECK (seq > 0),
      event_id bigint NOT NULL UNIQUE REFERENCES audit_events (id),
      key_id text NOT NULL,
      prev_hash text NOT NULL,
      hash text NOT NULL,
      sealed_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
      FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();
    CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
      FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change();

    -- the queue: only real events, written by the enqueue trigger with the owner's rights
    ALTER TABLE audit_unsealed ADD CONSTRAINT audit_unsealed_event_fk FOREIGN KEY (event_id) REFERENCES audit_events (id);
    CREATE OR REPLACE FUNCTION audit_enqueue_unsealed() RETURNS trigger LANGUAGE plpgsql
      SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    BEGIN
      INSERT INTO public.audit_unsealed (event_id) VALUES (NEW.id);
      RETURN NULL;
    END $$;

    -- an event leaves the queue when, and only when, its seal is written
    CREATE FUNCTION audit_dequeue_sealed() RETURNS trigger LANGUAGE plpgsql
      SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    BEGIN
      DELETE FROM public.audit_unsealed u USING new_seals s WHERE u.event_id = s.event_id;
      RETURN NULL;
    END $$;
    CREATE TRIGGER audit_seals_dequeue AFTER INSERT ON audit_seals
      REFERENCING NEW TABLE AS new_seals FOR EACH STATEMENT EXECUTE FUNCTION audit_dequeue_sealed();

    CREATE FUNCTION audit_unsealed_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_seals WHERE event_id = OLD.event_id) THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'audit_unsealed is append-only until sealing: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$;
    CREATE TRIGGER audit_unsealed_guard BEFORE UPDATE OR DELETE ON audit_unsealed
      FOR EACH ROW EXECUTE FUNCTION audit_unsealed_guard();
    CREATE TRIGGER audit_unsealed_no_truncate BEFORE TRUNCATE ON audit_unsealed
      FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change();

    -- re-link every event under the key
    INSERT INTO audit_unsealed (event_id) SELECT id FROM audit_events ON CONFLICT DO NOTHING;

    -- where an incremental verify resumes: the last verified seal and the event id below which
    -- every event was proven sealed or queued; mac = HMAC under key_id (a forged row is ignored)
    CREATE TABLE audit_verify_checkpoint (
      id boolean PRIMARY KEY DEFAULT true CHECK (id),
      seq bigint NOT NULL,
      hash text NOT NULL,
      event_horizon bigint NOT NULL,
      key_id text NOT NULL,
      mac text NOT NULL,
      verified_at timestamptz NOT NULL DEFAULT now()
    );
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE audit_verify_checkpoint;
    DROP TRIGGER audit_unsealed_no_truncate ON audit_unsealed;
    DROP TRIGGER audit_unsealed_guard ON audit_unsealed;
    DROP FUNCTION audit_unsealed_guard;
    ALTER TABLE audit_unsealed DROP CONSTRAINT audit_unsealed_event_fk;
    DROP TABLE audit_seals;
    DROP FUNCTION audit_dequeue_sealed;
    CREATE OR REPLACE FUNCTION audit_enqueue_unsealed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO audit_unsealed (event_id) VALUES (NEW.id);
      RETURN NULL;
    END $$;
    ALTER TABLE audit_seals_unkeyed RENAME TO audit_seals;
    ALTER INDEX audit_seals_unkeyed_pkey RENAME TO audit_seals_pkey;
    ALTER INDEX audit_seals_unkeyed_event_id_key RENAME TO audit_seals_event_id_key;
    DELETE FROM audit_unsealed u USING audit_seals s WHERE s.event_id = u.event_id;
  `.execute(db)
}
