// The client's two round-trip savings: BEGIN travels with a transaction's first statement, and
// statements marked DEFERRED_TO_COMMIT travel with COMMIT — with the transaction's semantics intact.
// Each statement keeps its own text and parameters: they are pipelined, not merged.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import pg from 'pg'
import { sql } from 'kysely'
import { createDb, DEFERRED_TO_COMMIT, literal, writeWithCommit, type DbHandle } from '../../src/db/index.js'
import { testDatabaseUrl } from '../helpers/db.js'

let h: DbHandle
beforeAll(async () => {
  h = createDb({ connectionString: await testDatabaseUrl(), poolSize: 2, statementTimeoutMs: 5000, connectTimeoutMs: 5000 })
  await sql`CREATE TABLE IF NOT EXISTS rt_probe (id int PRIMARY KEY, note text)`.execute(h.db)
})
afterAll(async () => {
  await sql`DROP TABLE IF EXISTS rt_probe`.execute(h.db)
  await h.destroy()
})
afterEach(() => { vi.restoreAllMocks() })

/**
 * The texts the client puts on the wire, grouped by round trip: the statements written in one
 * synchronous run, before any answer can arrive, share a round trip.
 */
function wire (): string[][] {
  const trips: string[][] = []
  let open: string[] | undefined
  const original = pg.Client.prototype.query
  vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    const first = args[0]
    if (open === undefined) {
      const trip: string[] = []
      open = trip
      trips.push(trip)
      queueMicrotask(() => { open = undefined })
    }
    open.push(typeof first === 'string' ? first : (first as { text: string }).text)
    return (original as (...a: unknown[]) => unknown).apply(this, args) as never
  })
  return trips
}

const notes = async (): Promise<Array<{ id: number, note: string }>> =>
  (await sql<{ id: number, note: string }>`SELECT id, note FROM rt_probe ORDER BY id`.execute(h.db)).rows

describe('round trips', () => {
  it('sends BEGIN with the first statement and deferred statements with COMMIT: 3 round trips for 5 statements', async () => {
    await sql`TRUNCATE rt_probe`.execute(h.db)
    const sent = wire()
    const got = await h.db.transaction().execute(async trx => {
      const first = await sql<{ n: number }>`SELECT ${41}::int + 1 AS n`.execute(trx)
      await sql`INSERT INTO rt_probe (id, note) VALUES (${1}, ${'parameterised'})`.execute(trx)
      const deferred = await sql.raw(`${DEFERRED_TO_COMMIT}INSERT INTO rt_probe (id, note) VALUES (2, ${literal("it's \\ deferred")})`).execute(trx)
      expect(deferred.rows).toEqual([])
      return first.rows[0]?.n
    })
    expect(got).toBe(42)
    expect(sent).toHaveLength(3)
    // the first statement keeps its parameter: pipelined behind BEGIN, not inlined into it
    expect(sent[0]).toEqual(['begin', 'SELECT $1::int + 1 AS n'])
    expect(sent[1]).toEqual(['INSERT INTO rt_probe (id, note) VALUES ($1, $2)'])
    expect(sent[2]).toHaveLength(2)
    expect(sent[2]?.[0]).toMatch(/^INSERT INTO rt_probe .* VALUES \(2, .*\)$/s)
    expect(sent[2]?.[1]).toBe('commit')
    expect(await notes()).toEqual([{ id: 1, note: 'parameterised' }, { id: 2, note: "it's \\ deferred" }])
  })

  it('rolls a deferred statement back with the transaction', async () => {
    await sql`TRUNCATE rt_probe`.execute(h.db)
    await expect(h.db.transaction().execute(async trx => {
      await sql`INSERT INTO rt_probe (id, note) VALUES (${1}, ${'a'})`.execute(trx)
      await sql.raw(`${DEFERRED_TO_COMMIT}INSERT INTO rt_probe (id, note) VALUES (2, 'b')`).execute(trx)
      throw new Error('handler failed')
    })).rejects.toThrow('handler failed')
    expect(await notes()).toEqual([])
    // the connection is clean afterwards: nothing deferred leaks into the next transaction
    await h.db.transaction().execute(async trx => { await sql`INSERT INTO rt_probe (id, note) VALUES (${3}, ${'c'})`.execute(trx) })
    expect(await notes()).toEqual([{ id: 3, note: 'c' }])
  })

  it('fails the commit and keeps nothing when a deferred statement fails', async () => {
    await sql`TRUNCATE rt_probe`.execute(h.db)
    await expect(h.db.transaction().execute(async trx => {
      await sql`INSERT INTO rt_probe (id, note) VALUES (${1}, ${'a'})`.execute(trx)
      await sql.raw(`${DEFERRED_TO_COMMIT}INSERT INTO rt_probe (id, note) VALUES (1, 'duplicate')`).execute(trx)
    })).rejects.toMatchObject({ code: '23505' })
    expect(await notes()).toEqual([])
  })

  it('runs a deferred statement before any later statement of the transaction', async () => {
    await sql`TRUNCATE rt_probe`.execute(h.db)
    const seen = await h.db.transaction().execute(async trx => {
      await sql.raw(`${DEFERRED_TO_COMMIT}INSERT INTO rt_probe (id, note) VALUES (7, 'early')`).execute(trx)
      return (await sql<{ n: number }>`SELECT count(*)::int AS n FROM rt_probe WHERE id = ${7}`.execute(trx)).rows[0]?.n
    })
    expect(seen).toBe(1)
    expect(await notes()).toEqual([{ id: 7, note: 'early' }])
  })

  it('writes literals that read back exactly', async () => {
    const tricky = ["'", "''", '\\', "\\'", 'E\'x\'', '$$', '--', '/* */', 'ünïcødé 🚚', '\n\t']
    for (const v of tricky) {
      const r = await sql.raw<{ v: string }>(`SELECT ${literal(v)}::text AS v`).execute(h.db)
      expect(r.rows[0]?.v).toBe(v)
    }
    expect(literal(null)).toBe('NULL')
    expect(literal(undefined)).toBe('NULL')
    expect(literal(201)).toBe('201')
    expect(literal(true)).toBe('TRUE')
    expect(() => literal(Number.NaN)).toThrow()
    expect(() => literal('a\0b')).toThrow()
  })

  it('writes a parameterised statement with the commit, with its real parameters', async () => {
    await sql`TRUNCATE rt_probe`.execute(h.db)
    const sent = wire()
    const notesIn = ["o'clock", 'back\\slash', '$1 stays']
    await h.db.transaction().execute(async trx => {
      await sql`INSERT INTO rt_probe (id, note) VALUES (${1}, ${'first'})`.execute(trx)
      await writeWithCommit(trx, sql`INSERT INTO rt_probe (id, note) SELECT * FROM unnest(${[2, 3, 4]}::int[], ${notesIn}::text[])`)
    })
    // BEGIN travels with the first statement, the deferred one with COMMIT, each with its parameters
    expect(sent).toEqual([
      ['begin', 'INSERT INTO rt_probe (id, note) VALUES ($1, $2)'],
      ['INSERT INTO rt_probe (id, note) SELECT * FROM unnest($1::int[], $2::text[])', 'commit']
    ])
    expect(await notes()).toEqual([{ id: 1, note: 'first' }, ...notesIn.map((note, i) => ({ id: i + 2, note }))])
    // outside a transaction it simply runs
    await writeWithCommit(h.db, sql`INSERT INTO rt_probe (id, note) VALUES (${9}, ${'alone'})`)
    expect((await notes()).at(-1)).toEqual({ id: 9, note: 'alone' })
  })
})
