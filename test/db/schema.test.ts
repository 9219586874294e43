// Constraints that hold the invariants in the database itself, independent of any service code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import { createDb, type DbHandle } from '../../src/db/index.js'
import { testDatabaseUrl } from '../helpers/db.js'
import { createArticle, createContract, createStation, createSupplier, createUser, createOffer } from '../helpers/factories.js'

let h: DbHandle
beforeAll(async () => { h = createDb({ connectionString: await testDatabaseUrl(), poolSize: 4, statementTimeoutMs: 10_000, connectTimeoutMs: 5000 }) })
afterAll(async () => { await h.destroy() })

describe('schema constraints', () => {
  it('a user role must match its organization kind', async () => {
    const station = await createStation(h.db)
    await expect(createUser(h.db, 'SUPPLIER', station.id)).rejects.toThrow()
    await expect(sql`INSERT INTO users (organization_id, organization_kind, email, full_name, role, password_hash) VALUES (${station.id}, 'PLATFORM', 'x@y.example', 'X', 'ADMIN', 'h')`.execute(h.db)).rejects.toThrow()
    const ok = await createUser(h.db, 'STATION', station.id)
    expect(ok.userId).toBeTruthy()
  })

  it('emails are unique case-insensitively', async () => {
    await createUser(h.db, 'HANDLER', undefined, { email: 'Case@Test.example' })
    await expect(createUser(h.db, 'HANDLER', undefined, { email: 'case@test.EXAMPLE' })).rejects.toThrow(/unique/)
  })

  it('there is exactly one PLATFORM organization', async () => {
    await expect(sql`INSERT INTO organizations (kind, name) VALUES ('PLATFORM', 'Another')`.execute(h.db)).rejects.toThrow(/unique/)
  })

  it('a contract line never exceeds its cap, and contracts cannot be approved by their creator', async () => {
    const supplier = await createSupplier(h.db)
    const article = await createArticle(h.db)
    await createOffer(h.db, article.id, supplier.id)
    const c = await createContract(h.db, supplier.id, [{ articleId: article.id, packPrice: '5.0000', committedPacks: 100, allowancePct: '5.00' }])
    const lineId = c.lineIds[0] as string
    await sql`UPDATE contract_lines SET ordered_packs = 105 WHERE id = ${lineId}`.execute(h.db)
    await expect(sql`UPDATE contract_lines SET ordered_packs = 106 WHERE id = ${lineId}`.execute(h.db)).rejects.toThrow(/contract_lines_cap/)
    await expect(sql`UPDATE contracts SET approved_by = created_by WHERE id = ${c.id}`.execute(h.db)).rejects.toThrow(/check/)
  })

  it('deactivating a supplier deactivates its offers and syncs its organization', async () => {
    const supplier = await createSupplier(h.db)
    const article = await createArticle(h.db)
    const offer = await createOffer(h.db, article.id, supplier.id)
    await h.db.updateTable('suppliers').set({ isActive: false }).where('id', '=', supplier.id).execute()
    const o = await h.db.selectFrom('offers').select('isActive').where('id', '=', offer.id).executeTakeFirstOrThrow()
    expect(o.isActive).toBe(false)
    const org = await h.db.selectFrom('organizations').select('isActive').where('id', '=', supplier.id).executeTakeFirstOrThrow()
    expect(org.isActive).toBe(false)
  })

  it('stock never goes negative and ledgers are append-only', async () => {
    const station = await createStation(h.db)
    const article = await createArticle(h.db)
    await expect(sql`INSERT INTO stock_levels (station_id, article_id, quantity) VALUES (${station.id}, ${article.id}, -1)`.execute(h.db)).rejects.toThrow(/check/)
    await sql`INSERT INTO stock_movements (station_id, article_id, delta, reason) VALUES (${station.id}, ${article.id}, 5, 'ADJUSTMENT')`.execute(h.db)
    await expect(sql`UPDATE stock_movements SET delta = 6`.execute(h.db)).rejects.toThrow(/append-only/)
  })
})

describe('token revocation trigger', () => {
  it('notifies on reactivation of a user whose tokens were never revoked', async () => {
    const u = await createUser(h.db, 'HANDLER')
    await h.db.updateTable('users').set({ isActive: false }).where('id', '=', u.userId).execute()
    await h.db.updateTable('users').set({ isActive: true }).where('id', '=', u.userId).execute()
    const row = await h.db.selectFrom('users').select('isActive').where('id', '=', u.userId).executeTakeFirstOrThrow()
    expect(row.isActive).toBe(true)
  })
})
