// Exactly-once Idempotency-Key claims. The claim used to take the key's advisory lock and read the
// stored record in one statement, whose snapshot predates the lock: a request that waited for the
// first one's commit got the lock but read "no record" and ran a second time. The claim is now a
// VOLATILE function, so the read after the lock takes a fresh snapshot and sees the first request's
// committed record. An expired record is removed under the lock, so the record written at commit is
// a plain INSERT that fails loudly (23505) instead of silently doing nothing. Replays also return
// the headers that describe the stored response (ETag, Location).
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE idempotency_keys ADD COLUMN response_headers jsonb;

    CREATE FUNCTION idempotency_claim (p_user uuid, p_key text)
    RETURNS TABLE (locked boolean, fingerprint text, response_status integer, response_body text, response_headers jsonb)
    LANGUAGE plpgsql VOLATILE AS $fn$
    BEGIN
      IF NOT pg_try_advisory_xact_lock(hashtextextended(p_user::text || ':' || p_key, 7310)) THEN
        RETURN QUERY SELECT false, NULL::text, NULL::integer, NULL::text, NULL::jsonb;
        RETURN;
      END IF;
      DELETE FROM idempotency_keys k WHERE k.user_id = p_user AND k.key = p_key AND k.expires_at <= now();
      RETURN QUERY
        SELECT true, k.request_fingerprint, k.response_status, k.response_body, k.response_headers
        FROM (SELECT 1) AS one
        LEFT JOIN idempotency_keys k ON k.user_id = p_user AND k.key = p_key;
    END
    $fn$;
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`
    DROP FUNCTION IF EXISTS idempotency_claim (uuid, text);
    ALTER TABLE idempotency_keys DROP COLUMN IF EXISTS response_headers;
  `.execute(db)
}
