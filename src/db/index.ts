// Kysely over a pg Pool configured explicitly: bounded size and waits, server-side timeouts so a
// stuck statement or an abandoned transaction cannot hold a connection forever, type parsers so
// int8 arrives as a number and numeric/date arrive as exact strings, and statement naming so
// PostgreSQL plans each distinct query once per connection instead of on every call.
import { createHash } from 'node:crypto'
import pg from 'pg'
import { CamelCasePlugin, Kysely, PostgresDialect } from 'kysely'
import type { Database } from './schema.js'

export type Db = Kysely<Database>

const PG_INT8 = 20
const PG_NUMERIC = 1700
const PG_DATE = 1082

const parsers = new Map<number, (v: string) => unknown>([
  [PG_INT8, (v: string) => Number(v)],
  [PG_NUMERIC, (v: string) => v],
  [PG_DATE, (v: string) => v]
])
const types = {
  getTypeParser (oid: number, format?: 'text' | 'binary') {
    return parsers.get(oid) ?? pg.types.getTypeParser(oid, format)
  }
}

const MAX_NAMED_PER_CONNECTION = 2000
const nameCache = new Map<string, string>()

function statementName (text: string): string {
  let name = nameCache.get(text)
  if (name === undefined) {
    name = 'k' + createHash('sha1').update(text).digest('base64url')
    if (nameCache.size > 10_000) nameCache.clear()
    nameCache.set(text, name)
  }
  return name
}

/**
 * A pg Client that names parameterised statements by a hash of their text, so `pg` prepares them
 * once per connection (Kysely never names its queries). Statement-less texts (BEGIN, COMMIT…) and
 * connections that already hold many prepared statements fall back to unnamed queries.
 */
class NamingClient extends pg.Client {
  #named = 0
  override query (...args: unknown[]): any {
    const [text, values] = args
    if (typeof text === 'string' && Array.isArray(values) && values.length > 0 && typeof args[2] !== 'function') {
      const name = statementName(text)
      const parsed = (this as unknown as { connection: { parsedStatements: Record<string, string> } }).connection.parsedStatements
      if (parsed[name] !== undefined || this.#named < MAX_NAMED_PER_CONNECTION) {
        if (parsed[name] === undefined) this.#named++
        return super.query({ name, text, values } as pg.QueryConfig)
      }
    }
    return (super.query as (...a: unknown[]) => unknown)(...args)
  }
}

export interface DbOptions {
  connectionString: string
  poolSize: number
  statementTimeoutMs: number
  connectTimeoutMs: number
  applicationName?: string
  onPoolError?: (err: Error) => void
}

export interface DbHandle {
  db: Db
  pool: pg.Pool
  destroy: () => Promise<void>
}

export function createPool (opts: DbOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.poolSize,
    connectionTimeoutMillis: opts.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: opts.statementTimeoutMs,
    idle_in_transaction_session_timeout: Math.max(opts.statementTimeoutMs * 2, 10_000),
    application_name: opts.applicationName ?? 'gestion-emballages-api',
    types,
    Client: NamingClient
  } as pg.PoolConfig)
  // Without a listener, an idle client losing its connection (PostgreSQL restart) kills the process.
  pool.on('error', err => { opts.onPoolError?.(err) })
  return pool
}

export function createDb (opts: DbOptions): DbHandle {
  const pool = createPool(opts)
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    plugins: [new CamelCasePlugin()]
  })
  let destroyed = false
  return {
    db,
    pool,
    destroy: async () => {
      if (destroyed) return
      destroyed = true
      await db.destroy()
    }
  }
}
