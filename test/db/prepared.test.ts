import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type DbHandle } from '../../src/db/index.js'
import { prepare } from '../../src/db/prepared.js'
import { testDatabaseUrl } from '../helpers/db.js'
import { createArticle } from '../helpers/factories.js'

let h: DbHandle
beforeAll(async () => { h = createDb({ connectionString: await testDatabaseUrl(), poolSize: 2, statementTimeoutMs: 5000, connectTimeoutMs: 5000 }) })
afterAll(async () => { await h.destroy() })

describe('prepared queries', () => {
  it('compile once and substitute parameters, with camelCase results, in and out of transactions', async () => {
    const a = await createArticle(h.db, { vatRate: '5.50' })
    const b = await createArticle(h.db)
    const byId = prepare<[string], { id: string, code: string, vatRate: string }>(h.db, 1, (db, id) =>
      db.selectFrom('articles').select(['id', 'code', 'vatRate']).where('id', '=', id).where('isActive', '=', true))
    expect(await byId(h.db, a.id)).toEqual([{ id: a.id, code: a.code, vatRate: '5.50' }])
    expect((await byId(h.db, b.id))[0]?.code).toBe(b.code)
    await h.db.transaction().execute(async trx => {
      expect((await byId(trx, a.id))[0]?.id).toBe(a.id)
    })
    const limited = prepare<[string, number], { code: string }>(h.db, 2, (db, prefix, limit) =>
      db.selectFrom('articles').select('code').where('code', 'like', prefix).orderBy('code').limit(limit))
    expect(await limited(h.db, 'ART-%', 1)).toHaveLength(1)
    expect(() => prepare<[string], { n: number }>(h.db, 1, (db) => db.selectFrom('articles').select(eb => eb.lit(1).as('n')))).toThrow(/none of its arguments/)
  })
})
