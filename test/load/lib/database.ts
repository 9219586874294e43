// The benchmark database: embedded PostgreSQL in .data/bench-pg (database `bench`) or the given
// URL; migrated with the service's own migrator, then filled by the generator unless --reuse finds
// a complete dataset of the same scale, seed and generator version.
import pg from 'pg'
import { createDb } from '../../../src/db/index.js'
import { migrateToLatest } from '../../../src/db/migrate.js'
import { startEmbeddedPostgres, type EmbeddedDb } from '../../../src/db/embedded.js'
import { hashPassword } from '../../../src/lib/password.js'
import { WRITTEN_ARTICLE_PREFIXES } from './helpers.js'
import { BENCH_PASSWORD, GENERATOR_VERSION, generateDataset, readDatasetInfo, verifyDataset, type DatasetInfo, type Scale } from '../dataset/generate.js'

export interface BenchDatabase {
  url: string
  embedded?: EmbeddedDb
  stop: () => Promise<void>
}

const DB_NAME = 'bench'

export async function openDatabase (opts: { databaseUrl?: string, dir: string, log: (m: string) => void }): Promise<BenchDatabase> {
  if (opts.databaseUrl !== undefined) return { url: opts.databaseUrl, stop: async () => {} }
  opts.log(`starting embedded PostgreSQL in ${opts.dir}`)
  const embedded = await startEmbeddedPostgres({ dir: opts.dir })
  const admin = new pg.Client(embedded.url)
  await admin.connect()
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB_NAME])
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DB_NAME}`)
  await admin.end()
  return { url: embedded.url.replace(/\/postgres$/, `/${DB_NAME}`), embedded, stop: async () => { await embedded.stop() } }
}

async function migrate (url: string): Promise<void> {
  const handle = createDb({ connectionString: url, poolSize: 2, statementTimeoutMs: 600_000, connectTimeoutMs: 10_000, applicationName: 'bench:migrate' })
  try { await migrateToLatest(handle.db) } finally { await handle.destroy() }
}

/** Empties the database (only when it is a bench database or has no data) and migrates it. */
/**
 * VACUUM (ANALYZE) a reused dataset: earlier runs' writes (checkouts, confirmations, forecasts)
 * left pages that autovacuum may not have visited yet, and the plan checks must see the steady
 * state a running database has (visibility map set, statistics current), as after generation.
 */
async function settle (url: string, log: (m: string) => void): Promise<void> {
  const c = new pg.Client(url)
  await c.connect()
  try {
    // earlier runs' article writes (ceiling-write, article-create) before their scenarios dropped them
    const left = await c.query("DELETE FROM articles WHERE code LIKE ANY (SELECT p || '-%' FROM unnest($1::text[]) AS p)", [Object.values(WRITTEN_ARTICLE_PREFIXES)])
    if ((left.rowCount ?? 0) > 0) log(`dropped ${left.rowCount ?? 0} articles left by earlier runs' write scenarios`)
    const t = performance.now()
    await c.query('VACUUM (ANALYZE)')
    log(`VACUUM (ANALYZE) of the reused dataset in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  } finally { await c.end() }
}

async function reset (url: string, log: (m: string) => void): Promise<void> {
  const c = new pg.Client(url)
  await c.connect()
  try {
    const marker = await readDatasetInfo(c)
    const hasUsers = ((await c.query("SELECT to_regclass('public.users') IS NOT NULL AS d")).rows[0] as { d: boolean }).d
    const hasData = hasUsers && ((await c.query('SELECT EXISTS (SELECT 1 FROM users) AS d')).rows[0] as { d: boolean }).d
    if (marker === undefined && hasData) {
      throw new Error('Refusing to wipe a database that holds data but no bench_dataset marker; point --database-url at an empty database')
    }
    log('wiping the bench database (DROP SCHEMA public CASCADE)')
    await c.query('DROP SCHEMA public CASCADE')
    await c.query('CREATE SCHEMA public')
    for (const seq of ['contract_number_seq', 'master_order_number_seq', 'purchase_order_number_seq', 'transfer_number_seq']) await c.query(`DROP SEQUENCE IF EXISTS ${seq}`)
  } finally { await c.end() }
}

export async function prepareDataset (url: string, opts: { scale: Scale, seed: number, reuse: boolean, log: (m: string) => void }): Promise<DatasetInfo> {
  const c = new pg.Client(url)
  await c.connect()
  try {
    const info = await readDatasetInfo(c).catch(() => undefined)
    if (opts.reuse && info !== undefined && info.scale === opts.scale && info.seed === opts.seed && info.version === GENERATOR_VERSION) {
      await c.end()
      await migrate(url) // later migrations of the service still apply
      opts.log(`reusing the ${info.scale} dataset generated ${info.generatedAt} (seed ${info.seed})`)
      await settle(url, opts.log)
      return info
    }
    if (opts.reuse) opts.log(info === undefined ? 'no dataset to reuse: generating' : `existing dataset is ${info.scale}/seed ${info.seed}/v${info.version}: regenerating`)
  } finally { await c.end().catch(() => {}) }
  await reset(url, opts.log)
  await migrate(url)
  const passwordHash = await hashPassword(BENCH_PASSWORD)
  const g = new pg.Client(url)
  await g.connect()
  try {
    const info = await generateDataset(g, { scale: opts.scale, seed: opts.seed, passwordHash, log: opts.log })
    const problems = await verifyDataset(g)
    if (problems.length > 0) throw new Error(`The generated dataset is inconsistent:\n  ${problems.join('\n  ')}`)
    return info
  } finally { await g.end() }
}
