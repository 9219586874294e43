// Sign-in lockout per email string, and reset tokens that do not outlive their delivery.
//
// login_throttles counts failed sign-ins per email address whether or not an account has it, so
// an unknown address gets exactly the answers a known one gets (401 → 429 after the threshold,
// the same statements, the same time): the lockout is no longer an account-existence oracle. The
// key is the SHA-256 of the lower-cased address (no address is stored for people without an
// account); rows are swept once their window and lock are over. Existing account locks move over.
//
// Password-reset events carry the token sealed (AES-256-GCM, src/domains/auth/reset-delivery.ts),
// never in clear, and only until it is of no more use: a trigger strips it the moment the event is
// marked dispatched, and a sweep strips it once the reset token is used or expired (the partial
// index keeps that sweep to the few events still holding one).
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE login_throttles (
      email_key text PRIMARY KEY,
      failed_logins integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
      window_started_at timestamptz NOT NULL DEFAULT now(),
      locked_until timestamptz
    );
    CREATE INDEX login_throttles_sweep ON login_throttles (window_started_at);

    INSERT INTO login_throttles (email_key, failed_logins, window_started_at, locked_until)
    SELECT encode(sha256(convert_to(lower(email::text), 'UTF8')), 'hex'),
      CASE WHEN locked_until > now() THEN 0 ELSE failed_logins END,
      coalesce(CASE WHEN locked_until <= now() THEN locked_until END, now()),
      CASE WHEN locked_until > now() THEN locked_until END
    FROM users WHERE failed_logins > 0 OR locked_until > now();

    UPDATE outbox_events
    SET payload = payload - 'token' - 'email' - 'fullName'
    WHERE type = 'user.password_reset_requested';

    CREATE INDEX outbox_events_reset_secrets ON outbox_events (id)
      WHERE type = 'user.password_reset_requested' AND payload ? 'sealedToken';

    CREATE FUNCTION outbox_strip_delivered_secret() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF NEW.dispatched_at IS NOT NULL AND NEW.type = 'user.password_reset_requested' THEN
        NEW.payload := NEW.payload - 'sealedToken';
      END IF;
      RETURN NEW;
    END
    $fn$;
    CREATE TRIGGER outbox_events_strip_delivered_secret BEFORE UPDATE OF dispatched_at ON outbox_events
      FOR EACH ROW EXECUTE FUNCTION outbox_strip_delivered_secret();
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`
    DROP TRIGGER IF EXISTS outbox_events_strip_delivered_secret ON outbox_events;
    DROP FUNCTION IF EXISTS outbox_strip_delivered_secret();
    DROP INDEX IF EXISTS outbox_events_reset_secrets;
    DROP TABLE IF EXISTS login_throttles;
  `.execute(db)
}
