// Kysely over a pg Pool configured explicitly: bounded size and waits, server-side timeouts so a
// stuck statement or an abandoned transaction cannot hold a connection forever, type parsers so
// int8 arrives as a number and numeric/date arrive as exact strings, and statement naming so
// PostgreSQL plans each distinct query once per connection instead of on every call.
import { createHash } from 'node:crypto'
import pg from 'pg'
import { CamelCasePlugin, Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely'
// pg's conversion of a query value to its text form (what it sends for a parameter)
import pgUtils from 'pg/lib/utils.js'
import type { Database } from './schema.js'

export type Db = Kysely<Database>

const PG_INT8 = 20
const PG_NUMERIC = 1700
const PG_DATE = 1082

const prepareValue = pgUtils.prepareValue

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
 * Marks a statement, written with inline literals only (see `literal`), that may travel with the
 * transaction's COMMIT instead of on its own: `sql.raw(DEFERRED_TO_COMMIT + text)` inside a
 * transaction returns at once with no rows, and the client sends `text; commit` as one simple
 * query — one round trip instead of two. If the statement fails, the COMMIT in the same message
 * never runs and the transaction rolls back (Kysely sends ROLLBACK after a failed commit). Any
 * other statement issued before the commit sends the deferred one first, so order is kept.
 */
export const DEFERRED_TO_COMMIT = '/*deferred-to-commit*/'

const QUOTES = /'/g
const BACKSLASHES = /\\/g

/** A SQL literal for a value written into a statement's text (statements sent with BEGIN or COMMIT). */
export function literal (v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return 'NULL'
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError('literal: not a finite number')
    return String(v)
  }
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE'
  // Quotes doubled and, when there are backslashes, those doubled in an E'' string (as pg's
  // escapeLiteral, which walks the string a character at a time) — correct whatever
  // standard_conforming_strings says; NUL cannot occur in a PostgreSQL text.
  if (v.includes('\0')) throw new TypeError('literal: NUL byte')
  const quoted = v.includes("'") ? v.replace(QUOTES, "''") : v
  return v.includes('\\') ? ` E'${quoted.replace(BACKSLASHES, '\\\\')}'` : `'${quoted}'`
}

/**
 * A compiled statement with its parameters written into the text as literals (pg's own value
 * conversion: arrays as array literals, objects as JSON, Dates as timestamps), for a statement
 * that travels with BEGIN or COMMIT. `$n` is replaced only in SQL proper: never inside quoted
 * strings or identifiers, dollar-quoted bodies or comments.
 */
export function inlineParameters (compiled: { sql: string, parameters: readonly unknown[] }): string {
  const text = compiled.sql
  if (compiled.parameters.length === 0) return text
  let out = ''
  let i = 0
  const copyUntil = (end: number): void => { out += text.slice(i, end); i = end }
  while (i < text.length) {
    const c = text[i] as string
    const next = text[i + 1] ?? ''
    if (c === "'" || c === '"') {
      // '' and "" inside are two adjacent quoted runs: the same result
      const close = text.indexOf(c, i + 1)
      copyUntil(close < 0 ? text.length : close + 1)
    } else if (c === '-' && next === '-') {
      const eol = text.indexOf('\n', i)
      copyUntil(eol < 0 ? text.length : eol)
    } else if (c === '/' && next === '*') {
      const close = text.indexOf('*/', i + 2)
      copyUntil(close < 0 ? text.length : close + 2)
    } else if (c === '$' && /[A-Za-z0-9_]/.test(text[i - 1] ?? '')) {
      copyUntil(i + 1) // part of an identifier (a$1): neither a placeholder nor a dollar quote
    } else if (c === '$' && /[0-9]/.test(next)) {
      let j = i + 1
      while (j < text.length && /[0-9]/.test(text[j] as string)) j++
      const value = prepareValue(compiled.parameters[Number(text.slice(i + 1, j)) - 1])
      out += value === null || value === undefined ? 'NULL' : literal(String(value))
      i = j
    } else if (c === '$') {
      const tag = /^\$[A-Za-z_][A-Za-z0-9_]*\$|^\$\$/.exec(text.slice(i, i + 64))?.[0]
      if (tag === undefined) copyUntil(i + 1)
      else {
        const close = text.indexOf(tag, i + tag.length)
        copyUntil(close < 0 ? text.length : close + tag.length)
      }
    } else copyUntil(i + 1)
  }
  return out
}

/**
 * Runs a write whose result the caller does not need with the transaction's COMMIT (one round
 * trip fewer); outside a transaction it simply runs.
 */
export async function writeWithCommit (db: Db, statement: RawBuilder<unknown>): Promise<void> {
  if (!db.isTransaction) {
    await statement.execute(db)
    return
  }
  await sql.raw(DEFERRED_TO_COMMIT + inlineParameters(statement.compile(db))).execute(db)
}

const inlinable = (v: unknown): boolean => !(v instanceof Uint8Array) && !ArrayBuffer.isView(v)

const noop = (): void => {}
const emptyResult = (): Promise<unknown> => Promise.resolve({ command: 'SELECT', rowCount: 0, rows: [], fields: [] })
const lastResult = (r: unknown): unknown => Array.isArray(r) ? r[r.length - 1] : r

/**
 * A pg Client that names parameterised statements by a hash of their text, so `pg` prepares them
 * once per connection (Kysely never names its queries). Statement-less texts (BEGIN, COMMIT…) and
 * connections that already hold many prepared statements fall back to unnamed queries. It also
 * saves two round trips per transaction: BEGIN travels with the first statement, and statements
 * marked DEFERRED_TO_COMMIT travel with the COMMIT.
 */
class NamingClient extends pg.Client {
  #named = 0
  #beginPending = false
  #deferred: string[] = []

  constructor (config?: string | pg.ClientConfig) {
    super(config)
    // pg-pool listens for 'error' only while a client is idle in the pool. A checked-out client
    // whose connection dies between two statements (a transaction waiting on the handler, a
    // FATAL 57P01 from pg_terminate_backend, PostgreSQL stopping) emits 'error' with no listener,
    // which Node turns into an uncaught exception that ends the process. The client is already
    // marked unusable by then (pg-pool discards it on release) and the next statement fails with
    // a connection error that maps to 503: nothing more is needed than not letting it throw.
    this.on('error', noop)
  }

  override query (...args: unknown[]): any {
    const [text, values] = args
    if (typeof text === 'string' && typeof args[2] !== 'function' && (values === undefined || Array.isArray(values))) {
      const params = (values ?? []) as unknown[]
      if (params.length === 0) {
        if (text === 'begin' && this.#deferred.length > 0) {
          // cannot happen with Kysely (a transaction ends with commit or rollback); never lose a write
          const tail = this.#deferred.join(';\n')
          this.#deferred = []
          return (super.query(tail) as Promise<unknown>).then(() => this.query(...args))
        }
        if (text === 'begin' && !this.#beginPending) {
          // sent with the transaction's first statement
          this.#beginPending = true
          return emptyResult()
        }
        if (text.startsWith(DEFERRED_TO_COMMIT)) {
          if (this.#beginPending) return this.#flushBegin().then(() => this.query(...args))
          this.#deferred.push(text.slice(DEFERRED_TO_COMMIT.length))
          return emptyResult()
        }
        if (text === 'commit' && this.#deferred.length > 0) {
          const tail = this.#deferred.join(';\n')
          this.#deferred = []
          return (super.query(`${tail};\ncommit`) as Promise<unknown>).then(lastResult)
        }
        if (text === 'rollback') {
          this.#deferred = []
          if (this.#beginPending) { this.#beginPending = false; return emptyResult() }
        }
      }
      if (this.#beginPending) {
        // BEGIN and the transaction's first statement in one round trip: the statement's
        // parameters written as literals (not for binary values), sent as one simple query.
        if (params.every(inlinable)) {
          this.#beginPending = false
          return (super.query(`begin;\n${inlineParameters({ sql: text, parameters: params })}`) as Promise<unknown>).then(lastResult)
        }
        return this.#flushBegin().then(() => this.query(...args))
      }
      if (this.#deferred.length > 0) {
        const tail = this.#deferred.join(';\n')
        this.#deferred = []
        return (super.query(tail) as Promise<unknown>).then(() => this.query(...args))
      }
      return this.#send(text, params)
    }
    return (super.query as (...a: unknown[]) => unknown)(...args)
  }

  #flushBegin (): Promise<unknown> {
    this.#beginPending = false
    return super.query('begin') as Promise<unknown>
  }

  #send (text: string, values: unknown[]): unknown {
    if (values.length > 0) {
      const name = statementName(text)
      const parsed = (this as unknown as { connection: { parsedStatements: Record<string, string> } }).connection.parsedStatements
      if (parsed[name] !== undefined || this.#named < MAX_NAMED_PER_CONNECTION) {
        if (parsed[name] === undefined) this.#named++
        // A Query built from the text (pg clones a config object property by property on every
        // call, ~2.5 % of a hot read's CPU), named before it is submitted.
        const query = new pg.Query(text, values) as unknown as { name: string, callback: (err: Error | null, res: unknown) => void }
        query.name = name
        return new Promise((resolve, reject) => {
          query.callback = (err, res) => { if (err !== null && err !== undefined) reject(err); else resolve(res) }
          super.query(query as never)
        })
      }
      return super.query(text, values)
    }
    return super.query(text)
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
