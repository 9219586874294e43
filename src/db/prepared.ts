// Hot reads as constant SQL texts. Kysely rebuilds and recompiles a query tree on every call and
// its CamelCasePlugin copies every result row; on a primary-key read that costs more than the
// database round trip. `rawRows` runs a fixed text (prepared once per connection by the naming
// client) through Kysely's executor — so transactions still apply — without the plugins: the SQL
// aliases its own camelCase keys and formats its own timestamps (`isoMs`).
import { createQueryId, RawNode, type QueryId } from 'kysely'
import type { Db } from './index.js'

interface RawQuery { sql: string, query: RawNode, queryId: QueryId }
const rawQueries = new Map<string, RawQuery>()
const plainDbs = new WeakMap<Db, Db>()

/**
 * Runs a constant SQL text through `db`'s executor (so a transaction applies) without Kysely's
 * plugins: for hot reads whose SQL aliases its own camelCase keys and formats its own timestamps,
 * no query tree is built or compiled and no row is copied by the CamelCasePlugin. The text must be
 * constant (values only as $n parameters) — it is also the naming client's prepared-statement key.
 */
export async function rawRows<R> (db: Db, text: string, parameters: readonly unknown[]): Promise<R[]> {
  let plain = plainDbs.get(db)
  if (plain === undefined) {
    plain = db.withoutPlugins()
    plainDbs.set(db, plain)
  }
  let q = rawQueries.get(text)
  if (q === undefined) {
    q = { sql: text, query: RawNode.createWithSql(text), queryId: createQueryId() }
    rawQueries.set(text, q)
  }
  const result = await plain.executeQuery<R>({ sql: q.sql, query: q.query, queryId: q.queryId, parameters })
  return result.rows
}

/** RFC 3339 UTC text with milliseconds (truncated), exactly as JSON.stringify writes a Date. */
export const isoMs = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
