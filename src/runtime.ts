// Resolves the database to use (configured or embedded), migrates it, creates the bootstrap
// admin and, on request, the demo dataset. Shared by the server and the CLI commands.
// Production never runs the embedded database nor seeds the demo accounts (their password is
// public); loadConfig already refuses such a configuration, and these functions refuse it again
// for a Config built some other way.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Config } from './config.js'
import { sql } from 'kysely'
import { createDb, type Db } from './db/index.js'
import type { EmbeddedDb } from './db/embedded.js'
import { migrateToLatest } from './db/migrate.js'
import { migrateQueue } from './lib/queue.js'
import { ensureLoginRole, grantServiceRole } from './db/roles.js'
import { ensureBootstrapAdmin } from './domains/auth/bootstrap.js'
import { migrations } from '../db/migrations/index.js'

export interface Database {
  url: string
  embedded?: EmbeddedDb
}

const EMBEDDED_DB_NAME = 'gestion_emballages'
/** the embedded database's restricted role for the service (the superuser runs the migrations) */
const EMBEDDED_SERVICE_ROLE = 'gestion_emballages_app'
/** service URL → owner URL of the embedded databases this process started (for prepareDatabase) */
const embeddedOwners = new Map<string, string>()

/** `ownSignals`: the caller stops an embedded database itself on SIGTERM/SIGINT (see embedded.ts). */
export async function resolveDatabase (config: Config, log: (msg: string) => void, opts: { ownSignals?: boolean } = {}): Promise<Database> {
  if (config.DATABASE_URL !== undefined) return { url: config.DATABASE_URL }
  if (config.NODE_ENV === 'production') throw new Error('DATABASE_URL is required in production: the embedded database is for development')
  log(`No DATABASE_URL: starting embedded PostgreSQL in ${config.EMBEDDED_PG_DIR}`)
  // loaded only when needed: production runs against DATABASE_URL and saves its memory
  const { startEmbeddedPostgres } = await import('./db/embedded.js')
  const embedded = await startEmbeddedPostgres({ dir: config.EMBEDDED_PG_DIR, port: config.EMBEDDED_PG_PORT, ownSignals: opts.ownSignals, notice: log })
  const admin = new pg.Client(embedded.url)
  await admin.connect()
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DB_NAME])
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${EMBEDDED_DB_NAME}`)
  await admin.end()
  const ownerUrl = embedded.url.replace(/\/postgres$/, `/${EMBEDDED_DB_NAME}`)
  // The service itself runs as a restricted role (a new password at every start), so that it
  // cannot switch the audit log's triggers off; migrations run as the superuser.
  const password = randomBytes(24).toString('base64url')
  const roleDb = createDb({ connectionString: ownerUrl, poolSize: 1, statementTimeoutMs: 30_000, connectTimeoutMs: 10_000 })
  try { await ensureLoginRole(roleDb.db, EMBEDDED_SERVICE_ROLE, password) } finally { await roleDb.destroy() }
  const service = new URL(ownerUrl)
  service.username = EMBEDDED_SERVICE_ROLE
  service.password = password
  const url = service.toString()
  embeddedOwners.set(url, ownerUrl)
  return { url, embedded }
}

const secondsSince = (t0: number): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`

/** The demo dataset: on request, or by default on the embedded database; never in production. */
export function shouldSeedDemo (config: Config): boolean {
  if (config.NODE_ENV === 'production') return false
  return config.SEED_DEMO ?? config.DATABASE_URL === undefined
}

/**
 * Migrates as the schema owner (DATABASE_OWNER_URL, the embedded superuser, or else `url` itself)
 * and, when the service connects as another role, grants that role its privileges.
 */
export async function prepareDatabase (config: Config, url: string, log: (msg: string) => void): Promise<void> {
  const ownerUrl = config.DATABASE_OWNER_URL ?? embeddedOwners.get(url) ?? url
  const handle = createDb({ connectionString: ownerUrl, poolSize: 2, statementTimeoutMs: 600_000, connectTimeoutMs: 10_000, applicationName: 'gestion-emballages-api:migrate' })
  try {
    // With no owner URL the service may be a restricted role that cannot create the migrator's
    // tables: when a migration Job already applied everything, there is nothing to do.
    const migrating = performance.now()
    const applied = ownerUrl === url && await migrationsRecorded(handle.db) ? [] : await migrateToLatest(handle.db)
    if (applied.length > 0) log(`Applied migrations: ${applied.join(', ')} (${secondsSince(migrating)})`)
    // the job queue's schema (graphile-worker), installed or upgraded by the owner too
    await migrateQueue(ownerUrl)
    if (ownerUrl !== url) await grantServiceRole(handle.db, await currentRole(url))
    const admin = await ensureBootstrapAdmin(handle.db, config.BOOTSTRAP_ADMIN_EMAIL, config.BOOTSTRAP_ADMIN_PASSWORD)
    if (admin === 'created') log(`Created bootstrap admin ${config.BOOTSTRAP_ADMIN_EMAIL ?? ''}`)
    if (shouldSeedDemo(config)) {
      const { seedDemo } = await import('../db/seed/demo.js')
      const seeding = performance.now()
      const seeded = await seedDemo(handle.db)
      if (seeded) log(`Seeded the demo dataset (${secondsSince(seeding)})`)
    }
  } finally {
    await handle.destroy()
  }
}

/** The role a connection string logs in as (connecting also checks its credentials early). */
async function currentRole (url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 })
  await client.connect()
  try {
    const r = await client.query<{ role: string }>('SELECT current_user AS role')
    return (r.rows[0] as { role: string }).role
  } finally {
    await client.end()
  }
}

/** Every known migration is recorded (read-only: creates nothing, works for a restricted role). */
async function migrationsRecorded (db: Db): Promise<boolean> {
  try {
    const r = await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(db)
    const done = new Set(r.rows.map(row => row.name))
    return Object.keys(migrations).every(name => done.has(name))
  } catch {
    return false
  }
}
