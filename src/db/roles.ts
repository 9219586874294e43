// Two database roles. Migrations run as the schema owner (DATABASE_OWNER_URL, or the embedded
// server's superuser); the service runs as a restricted role (DATABASE_URL) with DML privileges
// only: it owns nothing, so it cannot ALTER TABLE … DISABLE TRIGGER, drop a table or TRUNCATE,
// and on the audit trail it may only insert events and seals and read the queue (the queue is
// written by the log's own SECURITY DEFINER triggers). The privileges are granted again after
// every migration, so tables added later are covered.
import { sql } from 'kysely'
import type { Db } from './index.js'

/** Tables the service reads but never writes, and those it may only append to. */
const READ_ONLY = ['audit_unsealed', 'audit_seals_unkeyed', 'kysely_migration', 'kysely_migration_lock']
const APPEND_ONLY = ['audit_events', 'audit_seals']

/** Grants `role` what the service needs in the public schema, and nothing more. Run as the owner. */
export async function grantServiceRole (owner: Db, role: string): Promise<void> {
  // the same role under two URLs: revoking would strip the owner of its own privileges
  const self = await sql<{ me: string }>`SELECT current_user AS me`.execute(owner)
  if (self.rows[0]?.me === role) return
  const r = sql.id(role)
  const existing = await sql<{ name: string }>`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(${[...READ_ONLY, ...APPEND_ONLY]}::text[])`.execute(owner)
  const present = new Set(existing.rows.map(row => row.name))
  const list = (names: string[]) => sql.join(names.filter(n => present.has(n)).map(n => sql.id('public', n)))
  await owner.transaction().execute(async trx => {
    // instances starting together would run these at once: concurrent GRANT/REVOKE on the same
    // tables fails in PostgreSQL ("tuple concurrently updated"), so they take turns
    await sql`SELECT pg_advisory_xact_lock(hashtextextended('gestion-emballages:grants', 0))`.execute(trx)
    await sql`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${r}`.execute(trx)
    await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${r}`.execute(trx)
    await sql`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${r}`.execute(trx)
    if ([...READ_ONLY, ...APPEND_ONLY].some(n => present.has(n))) {
      await sql`REVOKE INSERT, UPDATE, DELETE ON ${list([...READ_ONLY, ...APPEND_ONLY])} FROM ${r}`.execute(trx)
    }
    if (APPEND_ONLY.some(n => present.has(n))) await sql`GRANT INSERT ON ${list(APPEND_ONLY)} TO ${r}`.execute(trx)
    // the job queue (src/lib/queue.ts): its rows and functions, never its schema or version
    const queue = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'graphile_worker'`.execute(trx)
    if ((queue.rows[0]?.n ?? 0) > 0) {
      await sql`GRANT USAGE ON SCHEMA graphile_worker TO ${r}`.execute(trx)
      await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA graphile_worker TO ${r}`.execute(trx)
      await sql`REVOKE INSERT, UPDATE, DELETE ON graphile_worker.migrations FROM ${r}`.execute(trx)
      await sql`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA graphile_worker TO ${r}`.execute(trx)
      await sql`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA graphile_worker TO ${r}`.execute(trx)
      // its tables have row-level security on and no policy (only their owner uses them by
      // default): the service role gets every row of them, and still cannot alter them
      const rls = await sql<{ name: string }>`SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'graphile_worker' AND c.relkind = 'r' AND c.relrowsecurity`.execute(trx)
      for (const { name } of rls.rows) {
        await sql`DROP POLICY IF EXISTS service_role ON ${sql.id('graphile_worker', name)}`.execute(trx)
        await sql`CREATE POLICY service_role ON ${sql.id('graphile_worker', name)} TO ${r} USING (true) WITH CHECK (true)`.execute(trx)
      }
    }
  })
}

/** Creates a login role with no special attribute (or resets its password). Needs CREATEROLE. */
export async function ensureLoginRole (admin: Db, role: string, password: string): Promise<void> {
  // the role may be created by another process at the same moment: tolerate "already exists"
  await sql.raw(`DO $$ BEGIN
      CREATE ROLE ${quoteIdent(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END $$`).execute(admin)
  await sql.raw(`ALTER ROLE ${quoteIdent(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${quoteLiteral(password)}`).execute(admin)
}

function quoteIdent (name: string): string { return '"' + name.replace(/"/g, '""') + '"' }
function quoteLiteral (value: string): string { return "'" + value.replace(/'/g, "''") + "'" }
