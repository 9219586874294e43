// The client guards its own state: batching a statement with BEGIN or COMMIT never changes what
// it does. One test per defect the issue-10 probe found in the old inlining client (each failed
// there), plus the transaction-state rules the batching now relies on.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import { createDb, DEFERRED_TO_COMMIT, literal, parseInt8, writeWithCommit, type DbHandle } from '../../src/db/index.js'
import { testDatabaseUrl } from '../helpers/db.js'

let h: DbHandle
/** one connection, so a write left pending on it would surface in the next borrower's statement */
let single: DbHandle
beforeAll(async () => {
  const url = await testDatabaseUrl()
  h = createDb({ connectionString: url, poolSize: 2, statementTimeoutMs: 5000, connectTimeoutMs: 5000 })
  single = createDb({ connectionString: url, poolSize: 1, statementTimeoutMs: 5000, connectTimeoutMs: 5000 })
  await sql`CREATE TABLE IF NOT EXISTS batch_probe (id int PRIMARY KEY, note text, bytes bytea)`.execute(h.db)
})
afterAll(async () => {
  await sql`DROP TABLE IF EXISTS batch_probe`.execute(h.db)
  await single.destroy()
  await h.destroy()
})
beforeEach(async () => { await sql`TRUNCATE batch_probe`.execute(h.db) })

const rows = async (): Promise<Array<{ id: number, note: string | null, bytes: Buffer | null }>> =>
  (await sql<{ id: number, note: string | null, bytes: Buffer | null }>`SELECT id, note, bytes FROM batch_probe ORDER BY id`.execute(h.db)).rows

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> =>
  await p.then(() => undefined, (err: { code?: string }) => err.code ?? 'no code')

describe('deferred writes', () => {
  it('are refused outside a transaction, and nothing is left on the connection for its next borrower', async () => {
    await expect(sql.raw(`${DEFERRED_TO_COMMIT}INSERT INTO batch_probe (id, note) VALUES (1, 'stray')`).execute(single.db))
      .rejects.toThrow(/needs an open transaction/)
    await expect(sql`${sql.raw(DEFERRED_TO_COMMIT)}INSERT INTO batch_probe (id, note) VALUES (${2}, ${'stray'})`.execute(single.db))
      .rejects.toThrow(/needs an open transaction/)
    // the same (only) connection serves another request's statement and another transaction
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM batch_probe`.execute(single.db)).rows[0]?.n).toBe(0)
    await single.db.transaction().execute(async trx => { await sql`SELECT ${1}::int`.execute(trx) })
    expect(await rows()).toEqual([])
  })

  it('are refused after the transaction ended', async () => {
    const trx = await single.db.startTransaction().execute()
    await sql`SELECT ${1}::int`.execute(trx)
    await trx.commit().execute()
    const conn = single.db.connection()
    await conn.execute(async c => {
      await expect(sql.raw(`${DEFERRED_TO_COMMIT}INSERT INTO batch_probe (id) VALUES (3)`).execute(c)).rejects.toThrow(/needs an open transaction/)
    })
    expect(await rows()).toEqual([])
  })

  it('keep Buffers byte for byte (writeWithCommit sends real parameters)', async () => {
    const bytes = Buffer.from([0x41, 0xff, 0xfe, 0x42, 0x00, 0x5c])
    await h.db.transaction().execute(async trx => {
      await writeWithCommit(trx, sql`INSERT INTO batch_probe (id, bytes) VALUES (${1}, ${bytes})`)
    })
    await h.db.transaction().execute(async trx => {
      await sql`SELECT ${1}::int`.execute(trx)
      await writeWithCommit(trx, sql`INSERT INTO batch_probe (id, bytes) VALUES (${2}, ${new Uint8Array([0xff, 0xfe])})`)
    })
    expect((await rows()).map(r => r.bytes?.toString('hex'))).toEqual(['41fffe42005c', 'fffe'])
  })

  it('run in a transaction opened with an isolation level, and go out before a savepoint is rolled back to', async () => {
    await h.db.transaction().setIsolationLevel('serializable').execute(async trx => {
      await writeWithCommit(trx, sql`INSERT INTO batch_probe (id, note) VALUES (${1}, ${'serializable'})`)
    })
    const trx = await h.db.startTransaction().execute()
    await writeWithCommit(trx, sql`INSERT INTO batch_probe (id, note) VALUES (${2}, ${'before the savepoint'})`)
    const sp = await trx.savepoint('sp').execute()
    await writeWithCommit(sp, sql`INSERT INTO batch_probe (id, note) VALUES (${3}, ${'rolled back to the savepoint'})`)
    await sp.rollbackToSavepoint('sp').execute()
    await writeWithCommit(trx, sql`INSERT INTO batch_probe (id, note) VALUES (${4}, ${'after'})`)
    await trx.commit().execute()
    expect((await rows()).map(r => r.id)).toEqual([1, 2, 4])
  })
})

describe('a statement behaves the same first in a transaction, later in it, or deferred', () => {
  it('an untypable parameter fails in every position ("could not determine data type")', async () => {
    for (const text of [sql`SELECT ${'x'} IS NULL AS v`, sql`SELECT json_build_object('k', ${'x'}) AS v`]) {
      const alone = await codeOf(text.execute(h.db))
      const first = await codeOf(h.db.transaction().execute(async trx => await text.execute(trx)))
      const later = await codeOf(h.db.transaction().execute(async trx => { await sql`SELECT ${1}::int`.execute(trx); return await text.execute(trx) }))
      expect([alone, first, later]).toEqual(['42P18', '42P18', '42P18'])
    }
    const deferred = await codeOf(h.db.transaction().execute(async trx => {
      await writeWithCommit(trx, sql`INSERT INTO batch_probe (id, note) SELECT ${1}, CASE WHEN ${'x'} IS NULL THEN 'n' END`)
    }))
    expect(deferred).toBe('42P18')
    expect(await rows()).toEqual([])
  })

  it("knows E'…\\'…' strings: a placeholder after (or inside) one is the statement's own", async () => {
    const first = await h.db.transaction().execute(async trx =>
      (await sql<{ q: string, v: string }>`SELECT E'\\'$1' AS q, ${'param'}::text AS v`.execute(trx)).rows[0])
    expect(first).toEqual({ q: "'$1", v: 'param' })
    await h.db.transaction().execute(async trx => {
      await writeWithCommit(trx, sql`INSERT INTO batch_probe (id, note) VALUES (${1}, E'it\\'s ' || ${'kept'})`)
    })
    expect(await rows()).toEqual([{ id: 1, note: "it's kept", bytes: null }])
  })

  it('a parameter pg cannot serialise fails the statement in every position, and the connection stays usable', async () => {
    const circular: Record<string, unknown> = {}
    circular.self = circular
    const statement = sql`SELECT ${circular}::jsonb AS v`
    const name = async (p: Promise<unknown>): Promise<string | undefined> => await p.then(() => undefined, (err: Error) => err.name)
    expect(await name(statement.execute(single.db))).toBe('TypeError')
    expect(await name(single.db.transaction().execute(async trx => await statement.execute(trx)))).toBe('TypeError')
    expect(await name(single.db.transaction().execute(async trx => { await sql`SELECT ${1}::int`.execute(trx); return await statement.execute(trx) }))).toBe('TypeError')
    expect(await name(single.db.transaction().execute(async trx => {
      await writeWithCommit(trx, sql`INSERT INTO batch_probe (id, note) VALUES (${1}, ${circular}::jsonb::text)`)
    }))).toBe('TypeError')
    expect((await sql<{ v: number }>`SELECT ${2}::int AS v`.execute(single.db)).rows[0]?.v).toBe(2)
    expect(await rows()).toEqual([])
  })

  it('a first statement with a Buffer parameter is exact', async () => {
    const got = await h.db.transaction().execute(async trx =>
      (await sql<{ v: Buffer }>`SELECT ${Buffer.from([0x41, 0xff, 0xfe, 0x42])}::bytea AS v`.execute(trx)).rows[0]?.v)
    expect(got?.toString('hex')).toBe('41fffe42')
  })
})

describe('transaction state', () => {
  it('a COMMIT after a failed statement whose error was caught fails instead of reporting success', async () => {
    await expect(h.db.transaction().execute(async trx => {
      await sql`INSERT INTO batch_probe (id, note) VALUES (${1}, ${'lost'})`.execute(trx)
      await sql`SELECT 1 / ${0}::int`.execute(trx).catch(() => undefined)
    })).rejects.toMatchObject({ code: '25P02' })
    expect(await rows()).toEqual([])
  })

  it('a failed deferred write fails the COMMIT with its own error and keeps nothing; the connection is clean after', async () => {
    await expect(single.db.transaction().execute(async trx => {
      await sql`INSERT INTO batch_probe (id, note) VALUES (${1}, ${'a'})`.execute(trx)
      await writeWithCommit(trx, sql`INSERT INTO batch_probe (id, note) VALUES (${1}, ${'duplicate'})`)
      await sql.raw(`${DEFERRED_TO_COMMIT}INSERT INTO batch_probe (id, note) VALUES (2, 'never')`).execute(trx)
    })).rejects.toMatchObject({ code: '23505' })
    expect(await rows()).toEqual([])
    await single.db.transaction().execute(async trx => { await writeWithCommit(trx, sql`INSERT INTO batch_probe (id) VALUES (${5})`) })
    expect((await rows()).map(r => r.id)).toEqual([5])
  })

  it('a transaction whose only statements are deferred is one round trip and commits them', async () => {
    await h.db.transaction().execute(async trx => {
      await writeWithCommit(trx, sql`INSERT INTO batch_probe (id, note) VALUES (${1}, ${'only'})`)
    })
    expect(await rows()).toEqual([{ id: 1, note: 'only', bytes: null }])
  })
})

describe('values written into SQL text', () => {
  it('are exact or refused', async () => {
    expect(() => literal('half a pair \uD83D')).toThrow(/surrogate/)
    expect(() => literal(Number.POSITIVE_INFINITY)).toThrow()
    // a negative number after a minus is not a comment
    const r = await sql.raw<{ a: number, b: string }>(`SELECT 1-${literal(-1)} AS a, ${literal(-9007199254740993n)}::text AS b`).execute(h.db)
    expect(r.rows[0]).toEqual({ a: 2, b: '-9007199254740993' })
  })
})

describe('int8', () => {
  it('arrives as an exact number, or the read fails: never a neighbouring value', async () => {
    const safe = await sql<{ v: number }>`SELECT ${'9007199254740991'}::int8 AS v`.execute(h.db)
    expect(safe.rows[0]?.v).toBe(Number.MAX_SAFE_INTEGER)
    await expect(sql`SELECT ${'9007199254740993'}::int8 AS v`.execute(h.db)).rejects.toThrow(RangeError)
    await expect(sql`SELECT (-${'9007199254740993'}::int8) AS v`.execute(h.db)).rejects.toThrow(/beyond 2\^53/)
    // the text form is the way to read one
    expect((await sql<{ v: string }>`SELECT ${'9007199254740993'}::int8::text AS v`.execute(h.db)).rows[0]?.v).toBe('9007199254740993')
    expect(parseInt8('-42')).toBe(-42)
    // the pool keeps working after a refused read
    expect((await sql<{ v: number }>`SELECT 7::int8 AS v`.execute(h.db)).rows[0]?.v).toBe(7)
  })
})
