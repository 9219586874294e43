// Property: a statement behaves the same wherever the client sends it — alone, first in a
// transaction (pipelined behind the held-back BEGIN), later in a transaction (prepared on its
// own), or deferred to the COMMIT (writeWithCommit) — for any value: the same rows or the same
// error. And a value written into SQL text by `literal` is the value a parameter would carry, or
// it is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { sql, type RawBuilder } from 'kysely'
import { createDb, literal, writeWithCommit, type DbHandle } from '../../src/db/index.js'
import { testDatabaseUrl } from '../helpers/db.js'

let h: DbHandle
beforeAll(async () => {
  h = createDb({ connectionString: await testDatabaseUrl(), poolSize: 2, statementTimeoutMs: 5000, connectTimeoutMs: 5000 })
  await sql`CREATE TABLE IF NOT EXISTS position_sink (id int PRIMARY KEY, v text)`.execute(h.db)
})
afterAll(async () => {
  await sql`DROP TABLE IF EXISTS position_sink`.execute(h.db)
  await h.destroy()
})

const tricky = fc.constantFrom("'", "''", '\\', "\\'", "E'\\''", '$1', '$$', '$a$', '--', '/*', '*/', ';', '\0', 'a\0b', '\uD800', '🚚', 'ünï', '\n\t', 'NULL', '{}', '[]', '{"k":1}', '\\x41ff')
const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), tricky)
const scalar = fc.oneof(text, fc.integer(), fc.double(), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), fc.boolean(), fc.constant(null))
const value = fc.oneof(
  scalar,
  fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }),
  fc.array(fc.oneof(text, fc.integer(), fc.constant(null)), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  fc.uint8Array({ maxLength: 12 }).map(a => Buffer.from(a)),
  fc.uint8Array({ maxLength: 12 })
)

/** Statement shapes: typed and untyped parameters, contexts where a type cannot be determined. */
const shapes: Array<(v: unknown) => RawBuilder<unknown>> = [
  v => sql`SELECT ${v} AS v`,
  v => sql`SELECT ${v}::text AS v`,
  v => sql`SELECT ${v}::jsonb AS v`,
  v => sql`SELECT ${v}::bytea AS v`,
  v => sql`SELECT ${v}::numeric AS v`,
  v => sql`SELECT ${v}::int8 AS v`,
  v => sql`SELECT ${v}::float8 AS v`,
  v => sql`SELECT ${v}::boolean AS v`,
  v => sql`SELECT ${v}::timestamptz AS v`,
  v => sql`SELECT ${v}::text[] AS v`,
  v => sql`SELECT ${v} IS NULL AS v`,
  v => sql`SELECT json_build_object('k', ${v}) AS v`,
  v => sql`SELECT length(${v}) AS v`,
  v => sql`SELECT E'\\'$1' AS q, ${v}::text AS v, '$1' AS r -- $1 '`
]

type Outcome = { rows: unknown[] } | { error: string, message: string }

async function outcome (run: () => Promise<{ rows: unknown[] }>): Promise<Outcome> {
  try {
    return { rows: (await run()).rows }
  } catch (err) {
    const e = err as { code?: string, name?: string, message?: string }
    return { error: e.code ?? e.name ?? 'unknown', message: e.message ?? '' }
  }
}

describe('a statement behaves the same in every position', () => {
  it('alone, first in a transaction, later in a transaction', async () => {
    await fc.assert(fc.asyncProperty(value, fc.nat(shapes.length - 1), async (v, s) => {
      const statement = (shapes[s] as (v: unknown) => RawBuilder<unknown>)(v)
      const alone = await outcome(async () => await statement.execute(h.db))
      const first = await outcome(async () => await h.db.transaction().execute(async trx => await statement.execute(trx)))
      const later = await outcome(async () => await h.db.transaction().execute(async trx => {
        await sql`SELECT ${1}::int`.execute(trx)
        return await statement.execute(trx)
      }))
      expect(first).toEqual(alone)
      expect(later).toEqual(alone)
    }), { numRuns: 200 })
  }, 120_000)

  it('deferred to the COMMIT (writeWithCommit) or run directly: the same row or the same error', async () => {
    const casts = ['', '::text', '::jsonb', '::bytea', '::numeric', '::int8', '::timestamptz', '::text[]', '::boolean']
    let id = 0
    await fc.assert(fc.asyncProperty(value, fc.nat(casts.length - 1), fc.boolean(), async (v, c, withFirst) => {
      const cast = casts[c] as string
      const insert = (k: number): RawBuilder<unknown> => sql`INSERT INTO position_sink (id, v) SELECT ${k}, (${v}${sql.raw(cast)})::text`
      const stored = async (k: number): Promise<unknown> =>
        (await sql<{ v: string | null }>`SELECT v FROM position_sink WHERE id = ${k}`.execute(h.db)).rows
      const direct = ++id
      const deferred = ++id
      const directOutcome = await outcome(async () => { await insert(direct).execute(h.db); return { rows: [] } })
      const deferredOutcome = await outcome(async () => {
        await h.db.transaction().execute(async trx => {
          if (withFirst) await sql`SELECT ${1}::int`.execute(trx)
          await writeWithCommit(trx, insert(deferred))
        })
        return { rows: [] }
      })
      expect(deferredOutcome).toEqual(directOutcome)
      expect(await stored(deferred)).toEqual(await stored(direct))
    }), { numRuns: 150 })
  }, 120_000)
})

describe('literal', () => {
  const casts = { string: '::text', number: '::float8', bigint: '::numeric', boolean: '::boolean', object: '::text' } as const
  it('writes the value a parameter carries, or refuses it', async () => {
    await fc.assert(fc.asyncProperty(scalar, async v => {
      let inlined: string
      try {
        inlined = literal(v)
      } catch {
        return // refused: nothing written
      }
      const cast = casts[typeof v as keyof typeof casts]
      const asLiteral = await outcome(async () => await sql.raw(`SELECT ${inlined}${cast} AS v`).execute(h.db))
      const asParameter = await outcome(async () => await sql`SELECT ${v}${sql.raw(cast)} AS v`.execute(h.db))
      expect(asLiteral).toEqual(asParameter)
    }), { numRuns: 300 })
  }, 120_000)
})
