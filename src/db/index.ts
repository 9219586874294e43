// Kysely over a pg Pool configured explicitly: bounded size and waits, server-side timeouts so a
// stuck statement or an abandoned transaction cannot hold a connection forever, type parsers so
// int8 arrives as an exact number (or the read fails) and numeric/date arrive as exact strings,
// and statement naming so PostgreSQL plans each distinct query once per connection instead of on
// every call — or, behind a transaction pooler (PgBouncer pool_mode=transaction), unnamed
// statements and no session settings (`preparedStatements: false`).
import { createHash } from 'node:crypto'
import pg from 'pg'
import { CamelCasePlugin, Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely'
import type { Database } from './schema.js'

export type Db = Kysely<Database>

const PG_INT8 = 20
const PG_NUMERIC = 1700
const PG_DATE = 1082

/**
 * int8 as a JavaScript number when it is one exactly. The int8 columns are identities and
 * sequence numbers (audit events and seals, outbox, PO events, stock movements) and counts, typed
 * `number`: none reaches 2^53 (9·10^15 rows), and if one ever did the read fails here instead of
 * handing out a neighbouring id. A value that can legitimately exceed 2^53 is selected as text.
 */
export function parseInt8 (v: string): number {
  const n = Number(v)
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${v} is beyond 2^53 and cannot be a number exactly: select it as text`)
  return n
}

const parsers = new Map<number, (v: string) => unknown>([
  [PG_INT8, parseInt8],
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
 * Marks a write whose result nobody reads, so that it may travel with the transaction's COMMIT
 * instead of on its own round trip: `sql.raw(DEFERRED_TO_COMMIT + text)` (a text written with
 * `literal` values only, one or more statements) or `writeWithCommit` (a parameterised statement,
 * sent with its real parameters). Inside a transaction the client answers at once with no rows and
 * sends the write, pipelined, just before the next statement or the COMMIT; if it fails, the
 * transaction fails with its error. Outside a transaction the client refuses it: there is no
 * COMMIT to wait for, and a write left pending on a pooled connection would run with whatever the
 * next borrower sends.
 */
export const DEFERRED_TO_COMMIT = '/*deferred-to-commit*/'

const QUOTES = /'/g
const BACKSLASHES = /\\/g
// in a /u pattern a surrogate pair is one code point, so only unpaired halves match
const LONE_SURROGATE = /\p{Cs}/u

/**
 * A SQL literal for a value written into a statement's text (a DEFERRED_TO_COMMIT text): the
 * value pg would send for it as a parameter, or an error — never an altered value. Prefer
 * writeWithCommit, which sends real parameters.
 */
export function literal (v: string | number | bigint | boolean | null | undefined): string {
  if (v === null || v === undefined) return 'NULL'
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new TypeError('literal: not a finite number')
    // parenthesised when negative: `1-${literal(-1)}` must not become the comment `1--1`
    return v < 0 ? `(${String(v)})` : String(v)
  }
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE'
  if (typeof v !== 'string') throw new TypeError(`literal: cannot inline a ${typeof v}`)
  // NUL cannot occur in a PostgreSQL text; a lone surrogate would be sent as U+FFFD.
  if (v.includes('\0')) throw new TypeError('literal: NUL byte')
  if (LONE_SURROGATE.test(v)) throw new TypeError('literal: lone UTF-16 surrogate')
  // Quotes doubled and, when there are backslashes, those doubled in an E'' string (as pg's
  // escapeLiteral) — correct whatever standard_conforming_strings says.
  const quoted = v.includes("'") ? v.replace(QUOTES, "''") : v
  return v.includes('\\') ? ` E'${quoted.replace(BACKSLASHES, '\\\\')}'` : `'${quoted}'`
}

/**
 * Runs a write whose result the caller does not need with the transaction's COMMIT (one round
 * trip fewer), with its real parameters; outside a transaction it simply runs. Either way the
 * server sees the same statement and the same parameters.
 */
export async function writeWithCommit (db: Db, statement: RawBuilder<unknown>): Promise<void> {
  if (!db.isTransaction) {
    await statement.execute(db)
    return
  }
  await sql`${sql.raw(DEFERRED_TO_COMMIT)}${statement}`.execute(db)
}

interface Statement { text: string, values: unknown[] }

// pg internals this module relies on that @types/pg does not declare (pg 8.x lib/connection.js,
// lib/query.js, lib/client.js): each is read through one downcast to the interface below.
interface PgConnection extends pg.Connection {
  /** statement name → text of the statements already prepared on this connection */
  parsedStatements: Record<string, string>
}
/** A Query named and given its callback after construction: pg reads both when it submits it. */
interface NamedQuery extends pg.Query {
  name: string
  callback: (err: Error | null, res: unknown) => void
}
/** What the pool's release handler reads and writes on a pooled client. */
interface PooledClientInternals {
  /** false once pg knows the connection is unusable: pg-pool discards a released client that is not */
  _queryable: boolean
  connection?: { stream?: { destroyed?: boolean } }
}

const noop = (): void => {}
const emptyResult = (command: string): Promise<unknown> => Promise.resolve({ command, rowCount: 0, rows: [], fields: [] })
const BEGIN: Statement = { text: 'begin', values: [] }
/** Texts that open or end a transaction without the client deferring anything (savepoints excluded). */
const OPENS = /^\s*(?:begin|start\s+transaction)\b/i
const ENDS = /^\s*(?:commit|end|rollback|abort)(?:\s+(?:work|transaction))?\s*;?\s*$/i

/**
 * A pg Client that names parameterised statements by a hash of their text, so `pg` prepares them
 * once per connection (Kysely never names its queries); statement-less texts and connections that
 * already hold many prepared statements fall back to unnamed queries.
 *
 * It also saves two round trips per transaction without changing what any statement means: the
 * BEGIN is held back and pipelined with the transaction's first statement, and DEFERRED_TO_COMMIT
 * writes are pipelined with the COMMIT (or with the next statement, so order is kept). Pipelined
 * means written together and answered together (pg's pipeline mode: each message keeps its own
 * Sync, its own parameters and its own prepared statement), so a statement is parsed, typed and
 * executed exactly as it would be on its own. The client tracks whether a transaction is open and
 * refuses a deferred write outside one.
 */
class NamingClient extends pg.Client {
  /** false behind a transaction pooler: every statement unnamed (the next one may run on another server connection) */
  readonly #prepare: boolean
  #named = 0
  /** none: no transaction; pending: BEGIN held back; open: BEGIN sent */
  #tx: 'none' | 'pending' | 'open' = 'none'
  #deferred: Statement[] = []

  constructor (config?: string | (pg.ClientConfig & { preparedStatements?: boolean })) {
    super(typeof config === 'string' ? { connectionString: config, pipeline: true } : { ...config, pipeline: true })
    // pg-pool constructs its clients with the pool's own options (createPool puts the switch there)
    this.#prepare = typeof config === 'string' || config?.preparedStatements !== false
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
    if (typeof text !== 'string' || typeof args[2] === 'function' || !(values === undefined || Array.isArray(values))) {
      return (super.query as (...a: unknown[]) => unknown)(...args)
    }
    const statement: Statement = { text, values: (values ?? []) as unknown[] }
    if (text.startsWith(DEFERRED_TO_COMMIT)) {
      if (this.#tx === 'none') {
        return Promise.reject(new Error('A DEFERRED_TO_COMMIT write needs an open transaction: outside one it would wait on the connection for a COMMIT that never comes'))
      }
      this.#deferred.push({ text: text.slice(DEFERRED_TO_COMMIT.length), values: statement.values })
      return emptyResult('SELECT')
    }
    if (statement.values.length === 0) {
      if (text === 'begin' && this.#tx === 'none') {
        this.#tx = 'pending'
        return emptyResult('BEGIN')
      }
      if (ENDS.test(text)) return this.#end(statement, /^\s*(?:commit|end)/i.test(text))
      if (OPENS.test(text) && this.#tx === 'none') this.#tx = 'open'
    }
    return this.#sendWithPending(statement)
  }

  /** COMMIT or ROLLBACK: the deferred writes go with a COMMIT and are dropped by a ROLLBACK. */
  #end (statement: Statement, commit: boolean): Promise<unknown> {
    const wasPending = this.#tx === 'pending'
    const deferred = this.#deferred
    this.#tx = 'none'
    this.#deferred = []
    // nothing reached the server: there is nothing to commit or roll back
    if (wasPending && (!commit || deferred.length === 0)) return emptyResult(commit ? 'COMMIT' : 'ROLLBACK')
    if (!commit) return this.#batch([statement])
    return this.#batch([...(wasPending ? [BEGIN] : []), ...deferred, statement]).then(result => {
      // PostgreSQL answers COMMIT in a failed transaction with ROLLBACK and no error: a caller
      // that caught a statement's error and carried on must not believe its writes were kept.
      if ((result as { command?: string }).command === 'ROLLBACK') {
        throw Object.assign(new Error('The transaction had failed: COMMIT rolled it back'), { code: '25P02' })
      }
      return result
    })
  }

  /** A statement, preceded by the held-back BEGIN and the deferred writes, in one round trip. */
  #sendWithPending (statement: Statement): Promise<unknown> {
    if (this.#tx !== 'pending' && this.#deferred.length === 0) return this.#send(statement)
    const batch = [...(this.#tx === 'pending' ? [BEGIN] : []), ...this.#deferred, statement]
    if (this.#tx === 'pending') this.#tx = 'open'
    this.#deferred = []
    return this.#batch(batch)
  }

  /**
   * Writes the statements together (pipeline mode: one round trip) and answers with the last
   * one's result, or with the first error in order: a later statement of a failed transaction
   * only reports 25P02, the first error says why.
   */
  #batch (statements: Statement[]): Promise<unknown> {
    if (statements.length === 1) return this.#send(statements[0] as Statement)
    const stream = this.connection.stream
    stream.cork?.()
    let sent: Array<Promise<unknown>>
    try {
      sent = statements.map(s => this.#send(s))
    } finally {
      stream.uncork?.()
    }
    return Promise.allSettled(sent).then(settled => {
      for (const s of settled) if (s.status === 'rejected') throw s.reason
      return (settled[settled.length - 1] as PromiseFulfilledResult<unknown>).value
    })
  }

  #send ({ text, values }: Statement): Promise<unknown> {
    if (values.length > 0 && this.#prepare) {
      const name = statementName(text)
      const parsed = (this.connection as PgConnection).parsedStatements
      if (parsed[name] !== undefined || this.#named < MAX_NAMED_PER_CONNECTION) {
        if (parsed[name] === undefined) this.#named++
        // A Query built from the text (pg clones a config object property by property on every
        // call, ~2.5 % of a hot read's CPU), named before it is submitted.
        const query = new pg.Query(text, values) as NamedQuery
        query.name = name
        return new Promise((resolve, reject) => {
          query.callback = (err, res) => { if (err !== null && err !== undefined) reject(err); else resolve(res) }
          super.query(query)
        })
      }
      return super.query(text, values) as Promise<unknown>
    }
    // unnamed: parsed, planned and executed within its own Sync, on whichever server connection
    return (values.length > 0 ? super.query(text, values) : super.query(text)) as Promise<unknown>
  }
}

export interface DbOptions {
  connectionString: string
  poolSize: number
  statementTimeoutMs: number
  connectTimeoutMs: number
  applicationName?: string
  /**
   * false when connectionString goes through a transaction pooler (PgBouncer pool_mode=transaction,
   * which hands each transaction whichever server connection is free): no named statements (a
   * statement prepared on one server connection is unknown on the next) and no session settings at
   * connect (PgBouncer refuses unknown startup parameters; statement_timeout and
   * idle_in_transaction_session_timeout then come from its connect_query or from the role). What
   * never goes through it: LISTEN and session-level advisory locks (DATABASE_DIRECT_URL). Default true.
   */
  preparedStatements?: boolean
  onPoolError?: (err: Error) => void
}

export interface DbHandle {
  db: Db
  pool: pg.Pool
  destroy: () => Promise<void>
}

export function createPool (opts: DbOptions): pg.Pool {
  const session = opts.preparedStatements !== false
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.poolSize,
    connectionTimeoutMillis: opts.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    preparedStatements: session,
    ...(session
      ? { statement_timeout: opts.statementTimeoutMs, idle_in_transaction_session_timeout: Math.max(opts.statementTimeoutMs * 2, 10_000) }
      : {}),
    // statement_timeout is the server's: a server the network no longer reaches (a partition, a
    // dead host, dropped packets) never sees the statement and never answers. The client's own
    // bound fires later than the server's, so a slow statement still ends as 57014: the statement
    // timeout plus a connect timeout's worth of network; it fails the statement with 'Query read
    // timeout' (503) and destroys the connection (pipeline mode: nothing else can use it).
    query_timeout: opts.statementTimeoutMs + opts.connectTimeoutMs,
    // a connection that died silently while idle is found by the kernel, not by the next borrower
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: opts.applicationName ?? 'gestion-emballages-api',
    types,
    Client: NamingClient
  } as pg.PoolConfig)
  // Without a listener, an idle client losing its connection (PostgreSQL restart) kills the process.
  pool.on('error', err => { opts.onPoolError?.(err) })
  // A client whose socket is already destroyed (a read timeout destroys it at once; pg marks the
  // client unusable only when the socket's close event comes, a loop turn later) must not go back
  // to the pool, where the next borrower would get it: pg-pool discards a client that is not
  // queryable, and it decides just after this event.
  pool.on('release', (_err: Error | undefined, client: pg.PoolClient) => {
    const c = client as pg.PoolClient & PooledClientInternals
    if (c.connection?.stream?.destroyed === true) c._queryable = false
  })
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
