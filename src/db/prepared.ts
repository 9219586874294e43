// Hot queries built and compiled once. Kysely rebuilds and recompiles a query tree on every call;
// on a primary-key read that costs more than the database round trip. `prepare` builds the query
// once with placeholder arguments, keeps the compiled SQL (which the naming client then prepares
// once per connection), and at call time only substitutes the parameters. Results still pass
// through the plugins (CamelCasePlugin), because execution goes through Kysely's executor.
import { CompiledQuery, type Compilable } from 'kysely'
import type { Db } from './index.js'

const MARK = '\u0001arg:'

export type Prepared<A extends readonly unknown[], O> = (db: Db, ...args: A) => Promise<O[]>

/**
 * `build` receives placeholder values for each argument and must use them only as query values
 * (where clauses, limits, inserted values), never to choose the query's shape.
 */
export function prepare<A extends readonly unknown[], O> (db: Db, arity: A['length'], build: (db: Db, ...args: A) => Compilable<O>): Prepared<A, O> {
  const placeholders = Array.from({ length: arity }, (_, i) => `${MARK}${i}`) as unknown as A
  const compiled = build(db, ...placeholders).compile()
  const slots = compiled.parameters.map(p => (typeof p === 'string' && p.startsWith(MARK) ? Number(p.slice(MARK.length)) : -1))
  if (slots.filter(s => s >= 0).length === 0 && arity > 0) throw new Error('prepare: the query uses none of its arguments as parameters')
  return async (executor: Db, ...args: A): Promise<O[]> => {
    const parameters = compiled.parameters.map((p, i) => {
      const slot = slots[i] as number
      return slot >= 0 ? args[slot] : p
    })
    const query = CompiledQuery.raw(compiled.sql, parameters)
    const result = await executor.executeQuery<O>({ ...query, query: compiled.query, queryId: compiled.queryId })
    return result.rows
  }
}
