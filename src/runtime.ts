// Resolves the database to use (configured or embedded), migrates it, creates the bootstrap
// admin and, on request, the demo dataset. Shared by the server and the CLI commands.
// Production never runs the embedded database nor seeds the demo accounts (their password is
// public); loadConfig already refuses such a configuration, and these functions refuse it again
// for a Config built some other way.
import pg from 'pg'
import type { Config } from './config.js'
import { createDb } from './db/index.js'
import type { EmbeddedDb } from './db/embedded.js'
import { migrateToLatest } from './db/migrate.js'
import { ensureBootstrapAdmin } from './domains/auth/bootstrap.js'

export interface Database {
  url: string
  embedded?: EmbeddedDb
}

const EMBEDDED_DB_NAME = 'gestion_emballages'

/** `ownSignals`: the caller stops an embedded database itself on SIGTERM/SIGINT (see embedded.ts). */
export async function resolveDatabase (config: Config, log: (msg: string) => void, opts: { ownSignals?: boolean } = {}): Promise<Database> {
  if (config.DATABASE_URL !== undefined) return { url: config.DATABASE_URL }
  if (config.NODE_ENV === 'production') throw new Error('DATABASE_URL is required in production: the embedded database is for development')
  log(`No DATABASE_URL: starting embedded PostgreSQL in ${config.EMBEDDED_PG_DIR}`)
  // loaded only when needed: production runs against DATABASE_URL and saves its memory
  const { startEmbeddedPostgres } = await import('./db/embedded.js')
  const embedded = await startEmbeddedPostgres({ dir: config.EMBEDDED_PG_DIR, port: config.EMBEDDED_PG_PORT, ownSignals: opts.ownSignals })
  const admin = new pg.Client(embedded.url)
  await admin.connect()
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DB_NAME])
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${EMBEDDED_DB_NAME}`)
  await admin.end()
  const url = embedded.url.replace(/\/postgres$/, `/${EMBEDDED_DB_NAME}`)
  return { url, embedded }
}

/** The demo dataset: on request, or by default on the embedded database; never in production. */
export function shouldSeedDemo (config: Config): boolean {
  if (config.NODE_ENV === 'production') return false
  return config.SEED_DEMO ?? config.DATABASE_URL === undefined
}

export async function prepareDatabase (config: Config, url: string, log: (msg: string) => void): Promise<void> {
  const handle = createDb({ connectionString: url, poolSize: 2, statementTimeoutMs: 600_000, connectTimeoutMs: 10_000, applicationName: 'gestion-emballages-api:migrate' })
  try {
    const applied = await migrateToLatest(handle.db)
    if (applied.length > 0) log(`Applied migrations: ${applied.join(', ')}`)
    const admin = await ensureBootstrapAdmin(handle.db, config.BOOTSTRAP_ADMIN_EMAIL, config.BOOTSTRAP_ADMIN_PASSWORD)
    if (admin === 'created') log(`Created bootstrap admin ${config.BOOTSTRAP_ADMIN_EMAIL ?? ''}`)
    if (shouldSeedDemo(config)) {
      const { seedDemo } = await import('../db/seed/demo.js')
      const seeded = await seedDemo(handle.db)
      if (seeded) log('Seeded the demo dataset (accounts in README.md)')
    }
  } finally {
    await handle.destroy()
  }
}
