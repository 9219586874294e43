import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type DbHandle } from '../../src/db/index.js'
import { isoMs, rawRows } from '../../src/db/prepared.js'
import { testDatabaseUrl } from '../helpers/db.js'
import { createArticle } from '../helpers/factories.js'

let h: DbHandle
beforeAll(async () => { h = createDb({ connectionString: await testDatabaseUrl(), poolSize: 2, statementTimeoutMs: 5000, connectTimeoutMs: 5000 }) })
afterAll(async () => { await h.destroy() })

const BY_ID = `SELECT id, code, vat_rate AS "vatRate", ${isoMs('created_at')} AS "createdAt", created_at AS "raw" FROM articles WHERE id = $1::uuid AND is_active`

describe('raw prepared reads', () => {
  it('substitute parameters, keep the SQL aliases (no plugin), in and out of transactions', async () => {
    const a = await createArticle(h.db, { vatRate: '5.50' })
    const b = await createArticle(h.db)
    const [row] = await rawRows<{ id: string, code: string, vatRate: string, createdAt: string, raw: Date }>(h.db, BY_ID, [a.id])
    expect(row).toMatchObject({ id: a.id, code: a.code, vatRate: '5.50' })
    // the timestamp text has the shape JSON.stringify writes for a Date, at the same instant (pg's
    // own Date parsing can land 1 ms lower through floating point; the text is truncated exactly)
    expect(row?.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    expect(Math.abs(Date.parse(row?.createdAt ?? '') - (row?.raw.getTime() ?? 0))).toBeLessThanOrEqual(1)
    expect((await rawRows<{ code: string }>(h.db, BY_ID, [b.id]))[0]?.code).toBe(b.code)
    await h.db.transaction().execute(async trx => {
      expect((await rawRows<{ id: string }>(trx, BY_ID, [a.id]))[0]?.id).toBe(a.id)
    })
    expect(await rawRows(h.db, BY_ID, ['00000000-0000-4000-8000-000000000000'])).toEqual([])
  })
})
