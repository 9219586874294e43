// Foundation: the PLATFORM organization, users and sessions (identity core), the append-only
// audit trail with its after-commit hash chain, idempotency keys and the transactional outbox.
// Frozen once released: later changes go in new migrations.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    CREATE EXTENSION IF NOT EXISTS citext;
    CREATE EXTENSION IF NOT EXISTS pg_trgm;

    CREATE TABLE organizations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      kind text NOT NULL CHECK (kind IN ('PLATFORM', 'STATION', 'SUPPLIER')),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      is_active boolean NOT NULL DEFAULT true,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (id, kind)
    );
    CREATE UNIQUE INDEX organizations_single_platform ON organizations ((true)) WHERE kind = 'PLATFORM';
    CREATE INDEX organizations_kind_name ON organizations (kind, name, id);
    INSERT INTO organizations (id, kind, name) VALUES ('00000000-0000-7000-8000-000000000001', 'PLATFORM', 'Blue Whale');

    CREATE TABLE users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id uuid NOT NULL,
      organization_kind text NOT NULL,
      email citext NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
      full_name text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
      phone text,
      role text NOT NULL CHECK (role IN ('ADMIN', 'MANAGER', 'HANDLER', 'STATION', 'SUPPLIER')),
      password_hash text NOT NULL,
      is_active boolean NOT NULL DEFAULT true,
      failed_logins integer NOT NULL DEFAULT 0,
      locked_until timestamptz,
      password_changed_at timestamptz NOT NULL DEFAULT now(),
      tokens_valid_after timestamptz NOT NULL DEFAULT '-infinity',
      last_login_at timestamptz,
      created_by uuid,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      FOREIGN KEY (organization_id, organization_kind) REFERENCES organizations (id, kind) ON UPDATE RESTRICT,
      CONSTRAINT users_role_matches_org CHECK (
        (organization_kind = 'PLATFORM' AND role IN ('ADMIN', 'MANAGER', 'HANDLER')) OR
        (organization_kind = 'STATION' AND role = 'STATION') OR
        (organization_kind = 'SUPPLIER' AND role = 'SUPPLIER'))
    );
    CREATE INDEX users_org ON users (organization_id, id);
    CREATE INDEX users_org_kind ON users (organization_id, organization_kind);
    CREATE INDEX users_created ON users (created_at, id);

    -- Every running instance keeps each user's "tokens valid after" instant in memory; this
    -- trigger tells them all (LISTEN user_tokens) the moment it changes or the user is deactivated.
    CREATE FUNCTION users_notify_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.tokens_valid_after IS DISTINCT FROM OLD.tokens_valid_after OR NEW.is_active IS DISTINCT FROM OLD.is_active THEN
        PERFORM pg_notify('user_tokens', NEW.id::text || ':' ||
          CASE WHEN NOT NEW.is_active THEN 'inactive'
               WHEN NEW.tokens_valid_after = '-infinity' THEN '-Infinity'
               ELSE floor(extract(epoch FROM NEW.tokens_valid_after) * 1000)::bigint::text END);
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER users_tokens_changed AFTER UPDATE OF tokens_valid_after, is_active ON users
      FOR EACH ROW EXECUTE FUNCTION users_notify_tokens();

    CREATE TABLE sessions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id),
      family_id uuid NOT NULL,
      refresh_hash text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      revoked_at timestamptz,
      replaced_by uuid,
      ip text,
      user_agent text
    );
    CREATE INDEX sessions_user ON sessions (user_id, created_at);
    CREATE INDEX sessions_family ON sessions (family_id);

    CREATE TABLE audit_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      actor_user_id uuid,
      actor_role text,
      actor_org_id uuid,
      action text NOT NULL,
      entity_type text NOT NULL,
      entity_id text,
      request_id text,
      idempotency_key text,
      ip text,
      user_agent text,
      changes jsonb
    );
    CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id, id);
    CREATE INDEX audit_events_actor ON audit_events (actor_user_id, id);
    CREATE INDEX audit_events_action ON audit_events (action, id);
    CREATE INDEX audit_events_time ON audit_events (occurred_at);

    -- Events waiting to be linked into the hash chain. Filled by a trigger so that the mutation
    -- pays no extra round trip; emptied by the single sealer.
    CREATE TABLE audit_unsealed (event_id bigint PRIMARY KEY);

    CREATE TABLE audit_seals (
      seq bigint PRIMARY KEY,
      event_id bigint NOT NULL UNIQUE REFERENCES audit_events (id),
      prev_hash text NOT NULL,
      hash text NOT NULL,
      sealed_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE FUNCTION audit_enqueue_unsealed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO audit_unsealed (event_id) VALUES (NEW.id);
      RETURN NULL;
    END $$;
    CREATE TRIGGER audit_events_enqueue AFTER INSERT ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_enqueue_unsealed();

    CREATE FUNCTION refuse_append_only_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$;
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change();
    CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
      FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();
    CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
      FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change();

    CREATE TABLE idempotency_keys (
      user_id uuid NOT NULL,
      key text NOT NULL,
      request_fingerprint text NOT NULL,
      method text NOT NULL,
      path text NOT NULL,
      status text NOT NULL DEFAULT 'DONE' CHECK (status IN ('IN_PROGRESS', 'DONE')),
      response_status integer NOT NULL,
      -- the exact bytes sent (already serialized with the caller's view), so a replay is identical
      response_body text,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL DEFAULT now() + interval '24 hours',
      PRIMARY KEY (user_id, key)
    );
    CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

    CREATE TABLE outbox_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      type text NOT NULL,
      organization_ids uuid[] NOT NULL DEFAULT '{}',
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      dispatched_at timestamptz
    );
    CREATE INDEX outbox_events_pending ON outbox_events (id) WHERE dispatched_at IS NULL;
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS outbox_events, idempotency_keys, audit_seals, audit_unsealed, sessions, users, organizations CASCADE;
    DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events;
    DROP TABLE IF EXISTS audit_events CASCADE;
    DROP FUNCTION IF EXISTS refuse_append_only_change, audit_enqueue_unsealed, users_notify_tokens;
  `.execute(db)
}
