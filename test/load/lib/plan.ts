// Plan checks for scenarios: EXPLAIN the very statement the service runs (built by the service's
// own exported query builder, compiled without a database) with real parameters, both as the
// custom plan a first execution gets and as the generic plan PostgreSQL may switch to once the
// service's named prepared statement has run a few times, and refuse a sequential scan of a big
// table (the statement would then slow down as the table grows, whatever the timings say today).
import pg from 'pg'
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type RawBuilder } from 'kysely'

const compiler = new Kysely<Record<string, never>>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: db => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler()
  }
})

/** A table is big from this many rows (pg_class.reltuples after ANALYZE). */
export const BIG_TABLE_ROWS = 20_000
/**
 * The catalog may be read whole: a statement that checks hundreds of article ids at once (the
 * forecast upsert's existence check) hashes the articles (≤ 25 000 rows at the large scale) rather
 * than probing the index per id when that is cheaper, and its cost does not grow with history.
 */
export const WHOLE_SCAN_ALLOWED = new Set(['articles'])

interface PlanNode { 'Node Type': string, 'Relation Name'?: string, 'Index Name'?: string, Plans?: PlanNode[] }

function scans (node: PlanNode, out: Array<{ type: string, relation: string, index?: string }>): void {
  if (node['Relation Name'] !== undefined) out.push({ type: node['Node Type'], relation: node['Relation Name'], ...(node['Index Name'] !== undefined ? { index: node['Index Name'] } : {}) })
  for (const child of node.Plans ?? []) scans(child, out)
}

/** A parameter as an SQL literal (arrays as array literals), for EXECUTE with literal arguments. */
export function literalOf (v: unknown): string {
  if (v === null || v === undefined) return 'NULL'
  if (typeof v === 'number') return String(v)
  if (Array.isArray(v)) return pg.Client.prototype.escapeLiteral(`{${v.map(x => x === null ? 'NULL' : `"${String(x).replace(/["\\]/g, m => `\\${m}`)}"`).join(',')}}`)
  return pg.Client.prototype.escapeLiteral(String(v))
}

export interface PlanReport {
  /** one line per plan: the scans it makes */
  notes: string[]
  /** sequential scans of big tables, "custom: forecasts (1 200 000 rows)" */
  violations: string[]
}

/** A statement built with Kysely's `sql` template, compiled to its text and parameters (no database needed). */
export function compiled (statement: RawBuilder<unknown>): { sql: string, parameters: readonly unknown[] } {
  const { sql, parameters } = statement.compile(compiler)
  return { sql, parameters }
}

/**
 * EXPLAINs `statement` (custom and generic plans) and lists sequential scans of big tables, but
 * those of `allowed` (a statement that reads most of a table, where the caller says why).
 */
export async function checkPlan (pool: pg.Pool, label: string, statement: { sql: string, parameters: readonly unknown[] }, allowed: ReadonlySet<string> = new Set()): Promise<PlanReport> {
  const { sql, parameters } = statement
  const client = await pool.connect()
  const notes: string[] = []
  const violations: string[] = []
  try {
    const sizes = new Map<string, number>()
    const size = async (relation: string): Promise<number> => {
      let n = sizes.get(relation)
      if (n === undefined) {
        n = Number(((await client.query("SELECT greatest(reltuples, 0)::bigint AS n FROM pg_class WHERE oid = to_regclass('public.' || quote_ident($1))", [relation])).rows[0] as { n: string } | undefined)?.n ?? 0)
        sizes.set(relation, n)
      }
      return n
    }
    const name = `plan_check_${label.replace(/\W/g, '_')}`
    await client.query('BEGIN') // an INSERT's EXPLAIN runs nothing, but never leave a trace
    await client.query(`PREPARE ${name} AS ${sql}`)
    const args = parameters.map(literalOf).join(', ')
    for (const mode of ['force_custom_plan', 'force_generic_plan'] as const) {
      await client.query(`SET LOCAL plan_cache_mode = ${mode}`)
      const r = await client.query(`EXPLAIN (FORMAT JSON) EXECUTE ${name}${parameters.length > 0 ? `(${args})` : ''}`)
      const plan = ((r.rows[0] as { 'QUERY PLAN': Array<{ Plan: PlanNode }> })['QUERY PLAN'][0] as { Plan: PlanNode }).Plan
      const found: Array<{ type: string, relation: string, index?: string }> = []
      scans(plan, found)
      const kind = mode === 'force_custom_plan' ? 'custom' : 'generic'
      notes.push(`${label} ${kind} plan: ${found.map(s => `${s.type} ${s.relation}${s.index !== undefined ? ` (${s.index})` : ''}`).join(', ')}`)
      for (const s of found) {
        if (s.type !== 'Seq Scan' || WHOLE_SCAN_ALLOWED.has(s.relation) || allowed.has(s.relation)) continue
        const n = await size(s.relation)
        if (n >= BIG_TABLE_ROWS) violations.push(`${kind}: sequential scan of ${s.relation} (${n} rows)`)
      }
    }
  } finally {
    await client.query('ROLLBACK').catch(() => {})
    // prepared statements outlive a rollback
    await client.query('DEALLOCATE ALL').catch(() => {})
    client.release()
  }
  return { notes, violations }
}
