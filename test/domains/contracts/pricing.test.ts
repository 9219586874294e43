// Price resolution (PRODUCT.md §4.2) and contract-cap reservation (§14 invariant 5).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db, type DbHandle } from '../../../src/db/index.js'
import { releaseContractPacks, reserveContractPacks, reserveContractPacksBatch, resolvePrices } from '../../../src/domains/contracts/pricing.service.js'
import { priceKey } from '../../../src/domains/contracts/pricing.types.js'
import { testDatabaseUrl } from '../../helpers/db.js'
import { createArticle, createContract, createOffer, createSupplier } from '../../helpers/factories.js'

let handle: DbHandle
let db: Db

beforeAll(async () => {
  handle = createDb({ connectionString: await testDatabaseUrl(), poolSize: 12, statementTimeoutMs: 30_000, connectTimeoutMs: 10_000 })
  db = handle.db
})
afterAll(async () => { await handle.destroy() })

async function withSettings<T> (values: { allowCatalogFallback?: boolean, defaultFeePct?: string }, fn: () => Promise<T>): Promise<T> {
  const before = await db.selectFrom('settings').select(['allowCatalogFallback', 'defaultFeePct']).executeTakeFirstOrThrow()
  await db.updateTable('settings').set(values).execute()
  try { return await fn() } finally { await db.updateTable('settings').set(before).execute() }
}

/** Counts the statements a Kysely instance sends (raw `sql` templates included). */
function counting (base: Db): { db: Db, count: () => number } {
  let n = 0
  const db = base.withPlugin({
    transformQuery: args => { n++; return args.node },
    transformResult: async args => args.result
  })
  return { db, count: () => n }
}

describe('resolvePrices', () => {
  it('uses the ACTIVE covering contract line: CONTRACT source, contract fee, station price and remaining packs', async () => {
    const sup = await createSupplier(db)
    const art = await createArticle(db, { vatRate: '5.50' })
    const offer = await createOffer(db, art.id, sup.id, { catalogPackPrice: '12.0000', moqPacks: 5, packMultiple: 5, leadTimeDays: 3 })
    const c = await createContract(db, sup.id, [{ articleId: art.id, packPrice: '10.3333', committedPacks: 100, allowancePct: '10.50' }], { feePct: '7.50', validFrom: '2026-01-01', validUntil: '2026-12-31' })
    await db.updateTable('contractLines').set({ orderedPacks: 40 }).where('id', '=', c.lineIds[0] ?? '').execute()
    const map = await resolvePrices(db, [{ articleId: art.id, supplierId: sup.id }], '2026-06-15')
    const p = map.get(priceKey(art.id, sup.id))
    expect(p).toMatchObject({
      articleId: art.id,
      supplierId: sup.id,
      offerId: offer.id,
      articleActive: true,
      offerActive: true,
      supplierActive: true,
      articleCode: art.code,
      vatRate: '5.50',
      packLabel: 'box of 100',
      unitsPerPack: 100,
      moqPacks: 5,
      packMultiple: 5,
      leadTimeDays: 3,
      priceSource: 'CONTRACT',
      contractId: c.id,
      contractNumber: c.number,
      contractLineId: c.lineIds[0],
      supplierPackPrice: '10.3333',
      feePct: '7.50',
      // 10.3333 × 1.075 = 11.1082975 → 11.1083
      stationPackPrice: '11.1083',
      // floor(100 × 1.105) − 40 = 110 − 40
      remainingPacks: 70
    })
  })

  it('covers validFrom and validUntil inclusively, and not the day after', async () => {
    const sup = await createSupplier(db)
    const art = await createArticle(db)
    await createOffer(db, art.id, sup.id, { catalogPackPrice: '12.0000' })
    await createContract(db, sup.id, [{ articleId: art.id, packPrice: '9.0000' }], { validFrom: '2026-01-01', validUntil: '2026-03-31' })
    const req = [{ articleId: art.id, supplierId: sup.id }]
    for (const [d, source] of [['2025-12-31', 'CATALOG'], ['2026-01-01', 'CONTRACT'], ['2026-03-31', 'CONTRACT'], ['2026-04-01', 'CATALOG']] as const) {
      const p = (await resolvePrices(db, req, d)).get(priceKey(art.id, sup.id))
      expect(p?.priceSource, d).toBe(source)
    }
  })

  it('ignores DRAFT, SUSPENDED, TERMINATED, EXPIRED contracts and other suppliers\' contracts', async () => {
    const sup = await createSupplier(db)
    const other = await createSupplier(db)
    const art = await createArticle(db)
    await createOffer(db, art.id, sup.id, { catalogPackPrice: '12.0000' })
    await createOffer(db, art.id, other.id, { catalogPackPrice: '11.0000' })
    for (const status of ['DRAFT', 'SUSPENDED', 'TERMINATED', 'EXPIRED'] as const) {
      await createContract(db, sup.id, [{ articleId: art.id, packPrice: '1.0000' }], { status })
    }
    await createContract(db, other.id, [{ articleId: art.id, packPrice: '2.0000' }])
    await withSettings({ defaultFeePct: '8.00' }, async () => {
      const p = (await resolvePrices(db, [{ articleId: art.id, supplierId: sup.id }], '2026-06-01')).get(priceKey(art.id, sup.id))
      expect(p).toMatchObject({ priceSource: 'CATALOG', supplierPackPrice: '12.0000', feePct: '8.00', stationPackPrice: '12.9600', contractLineId: null, contractId: null, remainingPacks: null })
    })
  })

  it('falls back to the catalog price with the default fee, or reports no price when fallback is off', async () => {
    const sup = await createSupplier(db)
    const art = await createArticle(db)
    await createOffer(db, art.id, sup.id, { catalogPackPrice: '0.3333' })
    const req = [{ articleId: art.id, supplierId: sup.id }]
    await withSettings({ allowCatalogFallback: true, defaultFeePct: '8.00' }, async () => {
      const p = (await resolvePrices(db, req, '2026-06-01')).get(priceKey(art.id, sup.id))
      expect(p).toMatchObject({ priceSource: 'CATALOG', supplierPackPrice: '0.3333', feePct: '8.00', stationPackPrice: '0.3600' })
    })
    await withSettings({ allowCatalogFallback: false, defaultFeePct: '9.25' }, async () => {
      const p = (await resolvePrices(db, req, '2026-06-01')).get(priceKey(art.id, sup.id))
      expect(p).toMatchObject({ priceSource: null, supplierPackPrice: null, stationPackPrice: null, feePct: '9.25', contractLineId: null })
    })
  })

  it('still prices by contract when fallback is off, and reports an uncapped line as remainingPacks null', async () => {
    const sup = await createSupplier(db)
    const art = await createArticle(db)
    await createOffer(db, art.id, sup.id)
    const c = await createContract(db, sup.id, [{ articleId: art.id, packPrice: '4.0000' }], { feePct: '0.00' })
    await withSettings({ allowCatalogFallback: false }, async () => {
      const p = (await resolvePrices(db, [{ articleId: art.id, supplierId: sup.id }], '2026-06-01')).get(priceKey(art.id, sup.id))
      expect(p).toMatchObject({ priceSource: 'CONTRACT', contractLineId: c.lineIds[0], stationPackPrice: '4.0000', feePct: '0.00', remainingPacks: null })
    })
  })

  it('flags inactive articles, offers and suppliers, reports a missing offer, and omits unknown articles', async () => {
    const sup = await createSupplier(db)
    const noOffer = await createSupplier(db)
    const art = await createArticle(db, { isActive: false })
    await createOffer(db, art.id, sup.id, { isActive: false })
    await db.updateTable('suppliers').set({ isActive: false }).where('id', '=', sup.id).execute()
    const missing = '00000000-0000-4000-8000-000000000000'
    const map = await resolvePrices(db, [
      { articleId: art.id, supplierId: sup.id },
      { articleId: art.id, supplierId: noOffer.id },
      { articleId: missing, supplierId: sup.id },
      { articleId: 'not-a-uuid', supplierId: sup.id }
    ], '2026-06-01')
    expect(map.size).toBe(2)
    expect(map.get(priceKey(art.id, sup.id))).toMatchObject({ articleActive: false, offerActive: false, supplierActive: false })
    expect(map.get(priceKey(art.id, noOffer.id))).toMatchObject({ offerId: null, offerActive: false, supplierActive: true, priceSource: null, supplierRef: null, unitsPerPack: null })
    expect(await resolvePrices(db, [], '2026-06-01')).toEqual(new Map())
  })

  it('sends the same number of statements for 1 item and for 50 items (no N+1)', async () => {
    const sup = await createSupplier(db)
    const items: Array<{ articleId: string, supplierId: string }> = []
    for (let i = 0; i < 50; i++) {
      const art = await createArticle(db)
      await createOffer(db, art.id, sup.id)
      items.push({ articleId: art.id, supplierId: sup.id })
    }
    await createContract(db, sup.id, items.slice(0, 25).map(i => ({ articleId: i.articleId, packPrice: '3.0000', committedPacks: 10 })))
    const one = counting(db)
    await resolvePrices(one.db, items.slice(0, 1), '2026-06-01')
    const fifty = counting(db)
    const map = await resolvePrices(fifty.db, items, '2026-06-01')
    expect(map.size).toBe(50)
    expect([...map.values()].filter(p => p.priceSource === 'CONTRACT')).toHaveLength(25)
    expect(one.count()).toBe(1)
    expect(fifty.count()).toBe(one.count())
  })
})

describe('reserveContractPacks / releaseContractPacks', () => {
  it('50 parallel reservations of 3 packs against a cap of 100 leave exactly 99 ordered (33 succeed)', async () => {
    const sup = await createSupplier(db)
    const art = await createArticle(db)
    await createOffer(db, art.id, sup.id)
    const c = await createContract(db, sup.id, [{ articleId: art.id, packPrice: '1.0000', committedPacks: 100 }])
    const lineId = c.lineIds[0] ?? ''
    const results = await Promise.all(Array.from({ length: 50 }, async () => await reserveContractPacks(db, lineId, 3)))
    expect(results.filter(Boolean)).toHaveLength(33)
    const row = await db.selectFrom('contractLines').select('orderedPacks').where('id', '=', lineId).executeTakeFirstOrThrow()
    expect(row.orderedPacks).toBe(99)
  })

  it('batch reservations hold every cap under parallel transactions sharing lines, without deadlocks', async () => {
    const sup = await createSupplier(db)
    const arts = [await createArticle(db), await createArticle(db), await createArticle(db)]
    for (const a of arts) await createOffer(db, a.id, sup.id)
    const c = await createContract(db, sup.id, [
      { articleId: arts[0]?.id ?? '', packPrice: '1.0000', committedPacks: 50 },
      { articleId: arts[1]?.id ?? '', packPrice: '1.0000', committedPacks: 40 },
      { articleId: arts[2]?.id ?? '', packPrice: '1.0000', committedPacks: null }
    ])
    const [l1 = '', l2 = '', l3 = ''] = c.lineIds
    // each transaction reserves the three lines in a different order and commits only if none is refused
    const attempt = async (i: number): Promise<boolean> => await db.transaction().execute(async trx => {
      const items: Array<[string, number]> = i % 2 === 0 ? [[l1, 3], [l2, 2], [l3, 1]] : [[l3, 1], [l2, 2], [l1, 3]]
      const refused = await reserveContractPacksBatch(trx, items)
      if (refused.length > 0) throw new Error(`refused ${refused.join(',')}`)
      return true
    }).catch((err: Error) => { expect(err.message).toMatch(/^refused/); return false })
    const results = await Promise.all(Array.from({ length: 40 }, async (_, i) => await attempt(i)))
    const ok = results.filter(Boolean).length
    expect(ok).toBe(16) // line 1 caps it: floor(50 / 3) = 16 full carts
    const rows = await db.selectFrom('contractLines').select(['id', 'orderedPacks']).where('contractId', '=', c.id).execute()
    const byId = new Map(rows.map(r => [r.id, r.orderedPacks]))
    expect(byId.get(l1)).toBe(48)
    expect(byId.get(l2)).toBe(32)
    expect(byId.get(l3)).toBe(16)
    expect(await reserveContractPacksBatch(db, [[l3, 0]])).toEqual([])
    expect(await reserveContractPacksBatch(db, [[l2, 9], [l3, 1]])).toEqual([l2])
  })

  it('honours the allowance (floor of committed × (1 + allowance%)) and leaves uncapped lines unbounded', async () => {
    const sup = await createSupplier(db)
    const a1 = await createArticle(db)
    const a2 = await createArticle(db)
    await createOffer(db, a1.id, sup.id)
    await createOffer(db, a2.id, sup.id)
    const c = await createContract(db, sup.id, [
      { articleId: a1.id, packPrice: '1.0000', committedPacks: 10, allowancePct: '15.00' },
      { articleId: a2.id, packPrice: '1.0000', committedPacks: null }
    ])
    const [capped = '', free = ''] = c.lineIds
    // cap = floor(10 × 1.15) = 11
    expect(await reserveContractPacks(db, capped, 11)).toBe(true)
    expect(await reserveContractPacks(db, capped, 1)).toBe(false)
    expect(await reserveContractPacks(db, free, 1_000_000)).toBe(true)
    expect(await reserveContractPacks(db, capped, 0)).toBe(true)
    await releaseContractPacks(db, capped, 4)
    expect(await reserveContractPacks(db, capped, 5)).toBe(false)
    expect(await reserveContractPacks(db, capped, 4)).toBe(true)
    // a release never drives the total negative
    await releaseContractPacks(db, capped, 500)
    await releaseContractPacks(db, capped, 0)
    const row = await db.selectFrom('contractLines').select('orderedPacks').where('id', '=', capped).executeTakeFirstOrThrow()
    expect(row.orderedPacks).toBe(0)
    expect(await reserveContractPacks(db, '00000000-0000-4000-8000-000000000000', 1)).toBe(false)
    await expect(reserveContractPacks(db, capped, -1)).rejects.toThrow(TypeError)
    await expect(releaseContractPacks(db, capped, 1.5)).rejects.toThrow(TypeError)
  })

  it('remainingPacks follows reservations', async () => {
    const sup = await createSupplier(db)
    const art = await createArticle(db)
    await createOffer(db, art.id, sup.id)
    const c = await createContract(db, sup.id, [{ articleId: art.id, packPrice: '1.0000', committedPacks: 20 }])
    await reserveContractPacks(db, c.lineIds[0] ?? '', 7)
    const p = (await resolvePrices(db, [{ articleId: art.id, supplierId: sup.id }], '2026-06-01')).get(priceKey(art.id, sup.id))
    expect(p?.remainingPacks).toBe(13)
  })
})
