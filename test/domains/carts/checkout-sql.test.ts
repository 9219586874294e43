// The SQL a checkout sends, in order, kept as .sql files so that a change shows up in review as a
// SQL diff, and the number of statements: checkout is a measured hot path (lock the cart, read the
// lines with their prices, write the whole order in one statement). Two shapes: catalog prices
// only (no contract cap to reserve) and a contract line with a cap (the capsCte reservation).
// Regenerate after an intended change: npx vitest run test/domains/carts/checkout-sql.test.ts -u
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CamelCasePlugin, Kysely, PostgresDialect } from 'kysely'
import type { Database } from '../../../src/db/schema.js'
import { createPool } from '../../../src/db/index.js'
import { checkoutCart } from '../../../src/domains/carts/checkout.service.js'
import type { Actor } from '../../../src/lib/permissions.js'
import type { App } from '../../../src/lib/route.js'
import { createTestApp } from '../../helpers/app.js'
import { testDatabaseUrl } from '../../helpers/db.js'
import { createContract } from '../../helpers/factories.js'
import { addLine, offeredArticle, station, supplier, type Party } from '../orders/fixtures.js'

let app: App
let db: Kysely<Database>
let sent: string[] = []
beforeAll(async () => {
  app = await createTestApp()
  const pool = createPool({ connectionString: await testDatabaseUrl(), poolSize: 2, statementTimeoutMs: 10_000, connectTimeoutMs: 5_000 })
  db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new CamelCasePlugin()], log: e => { if (e.level === 'query') sent.push(e.query.sql) } })
})
afterAll(async () => {
  await db?.destroy()
  await app?.close()
})

const stationActor = (st: Party): Actor => ({ userId: st.userId, role: 'STATION', organizationId: st.id, organizationKind: 'STATION' })

/** Checks the station's cart out in a transaction and returns the statements sent (without BEGIN/COMMIT). */
async function statementsOf (st: Party): Promise<string[]> {
  sent = []
  const mo = await db.transaction().execute(async trx => await checkoutCart(trx, stationActor(st), st.id))
  expect(mo.status).toBe('PLACED')
  return sent.filter(s => !/^\s*(begin|commit|rollback)\b/i.test(s))
}

const asFile = (statements: string[]): string => statements.map((s, i) => `-- statement ${i + 1}\n${s.trim()};\n`).join('\n')

describe('checkout statements', () => {
  it('catalog prices from two suppliers: three statements', async () => {
    const st = await station(app)
    for (const sup of [await supplier(app), await supplier(app)]) {
      const { articleId } = await offeredArticle(app, sup.id)
      expect((await addLine(app, st.token, st.id, { articleId, supplierId: sup.id, packs: 2 })).statusCode).toBe(201)
    }
    const statements = await statementsOf(st)
    expect(statements).toHaveLength(3)
    await expect(asFile(statements)).toMatchFileSnapshot('./__snapshots__/checkout-catalog.sql')
  })

  it('a capped contract line and a catalog line: still three statements, the cap reserved in the last', async () => {
    const st = await station(app)
    const sup = await supplier(app)
    const capped = await offeredArticle(app, sup.id)
    const free = await offeredArticle(app, sup.id)
    await createContract(app.db, sup.id, [{ articleId: capped.articleId, packPrice: '2.0000', committedPacks: 10 }])
    for (const articleId of [capped.articleId, free.articleId]) {
      expect((await addLine(app, st.token, st.id, { articleId, supplierId: sup.id, packs: 3 })).statusCode).toBe(201)
    }
    const statements = await statementsOf(st)
    expect(statements).toHaveLength(3)
    expect(statements[2]).toContain('caps_req')
    await expect(asFile(statements)).toMatchFileSnapshot('./__snapshots__/checkout-contract.sql')
  })
})
