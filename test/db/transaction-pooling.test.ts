// DATABASE_PREPARED_STATEMENTS=false (createDb's preparedStatements: false), for a transaction
// pooler (PgBouncer pool_mode=transaction): nothing the next transaction could miss on another
// server connection is left on this one — no named statement, no session setting sent at connect —
// while transactions, the held-back BEGIN and the writes deferred to COMMIT behave as before. The
// same statements through PgBouncer itself: test/cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import { createDb, writeWithCommit, type DbHandle } from '../../src/db/index.js'
import { testDatabaseUrl } from '../helpers/db.js'

const opts = { poolSize: 1, statementTimeoutMs: 4321, connectTimeoutMs: 2000 }
let named: DbHandle
let unnamed: DbHandle
beforeAll(async () => {
  const url = await testDatabaseUrl()
  named = createDb({ ...opts, connectionString: url })
  unnamed = createDb({ ...opts, connectionString: url, preparedStatements: false })
  await sql`CREATE TABLE IF NOT EXISTS pooling_probe (id serial PRIMARY KEY, v int NOT NULL)`.execute(named.db)
})
afterAll(async () => {
  await sql`DROP TABLE IF EXISTS pooling_probe`.execute(named.db)
  await named.destroy()
  await unnamed.destroy()
})

/** statements prepared on the pool's one connection, and its statement_timeout */
async function session (h: DbHandle): Promise<{ prepared: number, timeout: string }> {
  const r = await sql<{ prepared: number, timeout: string }>`SELECT (SELECT count(*)::int FROM pg_prepared_statements) AS prepared, current_setting('statement_timeout') AS timeout`.execute(h.db)
  return r.rows[0] as { prepared: number, timeout: string }
}

async function work (h: DbHandle, v: number): Promise<number> {
  await h.db.transaction().execute(async trx => {
    const r = await sql<{ n: number }>`SELECT ${v}::int + 1 AS n`.execute(trx)
    await writeWithCommit(trx, sql`INSERT INTO pooling_probe (v) VALUES (${r.rows[0]?.n ?? 0})`)
  })
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pooling_probe WHERE v = ${v + 1}`.execute(h.db)
  return r.rows[0]?.n ?? 0
}

describe('preparedStatements', () => {
  it('default: statements are prepared once per connection and the timeouts are session settings', async () => {
    expect(await work(named, 1000)).toBe(1)
    const s = await session(named)
    expect(s.prepared).toBeGreaterThanOrEqual(2)
    expect(s.timeout).toBe('4321ms')
  })

  it('false: the same work leaves no prepared statement and sends no session setting', async () => {
    expect(await work(unnamed, 2000)).toBe(1)
    expect(await work(unnamed, 2000)).toBe(2)
    const s = await session(unnamed)
    expect(s.prepared).toBe(0)
    expect(s.timeout).not.toBe('4321ms')
  })

  it('false: a failed deferred write still fails its transaction, which leaves nothing', async () => {
    await expect(unnamed.db.transaction().execute(async trx => {
      await sql`INSERT INTO pooling_probe (v) VALUES (${3000})`.execute(trx)
      await writeWithCommit(trx, sql`INSERT INTO pooling_probe (v) VALUES (${null})`)
    })).rejects.toThrow(/null value/)
    const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pooling_probe WHERE v = 3000`.execute(unnamed.db)
    expect(r.rows[0]?.n).toBe(0)
  })
})
