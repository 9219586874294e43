// Property: the live quote of a cart is, to the cent, what checkout then writes (PRODUCT.md §4.4:
// one rounding rule everywhere). Random carts over several suppliers — quantities, catalog and
// contract prices, platform fees, VAT rates — are quoted (GET cart, both price sides as platform
// staff see them), checked out, and compared with the rows in PostgreSQL: every line net, each
// purchase order's totals, and the master order's. It used to fail by a cent: the quote rounded
// the VAT of the whole cart as one document, checkout per purchase order.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { bearer, createTestApp } from '../../helpers/app.js'
import { createArticle, createContract, createOffer, createStation, createSupplier } from '../../helpers/factories.js'
import { checkout, FAR_DATE, staff, type Party } from '../orders/fixtures.js'

let app: App
let handler: Party
beforeAll(async () => {
  app = await createTestApp()
  handler = await staff(app, 'HANDLER')
})
afterAll(async () => { await app.close() })

const VAT_RATES = ['0.00', '2.10', '5.50', '10.00', '20.00', '8.50', '19.60']
const price4 = (tenThousandths: number): string => `${Math.floor(tenThousandths / 10_000)}.${String(tenThousandths % 10_000).padStart(4, '0')}`
const pct2 = (hundredths: number): string => `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`

interface LineSpec { supplier: number, packs: number, price: number, vatRate: string, contract: boolean }
interface CartSpec { contractFees: Array<number | null>, lines: LineSpec[] }

const lineArb = fc.record({
  supplier: fc.nat({ max: 3 }),
  packs: fc.integer({ min: 1, max: 999 }),
  // mostly cheap packs (where a half cent is common), some expensive ones
  price: fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 9_999_999 })),
  vatRate: fc.constantFrom(...VAT_RATES),
  contract: fc.boolean()
})
const cartArb: fc.Arbitrary<CartSpec> = fc.record({
  // per supplier: the fee of its contract (hundredths of a percent), or none (catalog prices only)
  contractFees: fc.array(fc.option(fc.integer({ min: 0, max: 3_000 }), { nil: null }), { minLength: 4, maxLength: 4 }),
  lines: fc.array(lineArb, { minLength: 1, maxLength: 8 })
})

interface Totals { net: string, vat: string, gross: string }
const plain = (t: Totals): Totals => ({ net: t.net, vat: t.vat, gross: t.gross })
const fixed2 = (v: unknown): string => String(v)

async function quoteAndCheckout (spec: CartSpec): Promise<void> {
  const st = await createStation(app.db)
  const suppliers = await Promise.all(spec.contractFees.map(async () => await createSupplier(app.db)))
  const contractLines = new Map<number, Array<{ articleId: string, packPrice: string }>>()
  const articleIds: string[] = []
  for (const l of spec.lines) {
    const sup = suppliers[l.supplier] as { id: string }
    const a = await createArticle(app.db, { vatRate: l.vatRate })
    articleIds.push(a.id)
    // the catalog price differs from the contract price, so the wrong source would show
    await createOffer(app.db, a.id, sup.id, { catalogPackPrice: price4(l.price + 7) })
    if (l.contract && spec.contractFees[l.supplier] !== null) {
      const list = contractLines.get(l.supplier) ?? []
      list.push({ articleId: a.id, packPrice: price4(l.price) })
      contractLines.set(l.supplier, list)
    }
  }
  for (const [i, lines] of contractLines) {
    await createContract(app.db, (suppliers[i] as { id: string }).id, lines, { feePct: pct2(spec.contractFees[i] as number) })
  }

  const quoteRes = await app.inject({ method: 'GET', url: `/v1/stations/${st.id}/cart`, headers: bearer(handler.token) })
  expect(quoteRes.statusCode, quoteRes.body).toBe(200)
  const cartId = (quoteRes.json() as { id: string }).id
  await app.db.insertInto('cartLines').values(spec.lines.map((l, i) => ({
    cartId, stationId: st.id, articleId: articleIds[i] as string, supplierId: (suppliers[l.supplier] as { id: string }).id, packs: l.packs, desiredDeliveryDate: FAR_DATE, note: null
  }))).execute()

  const quote = (await app.inject({ method: 'GET', url: `/v1/stations/${st.id}/cart`, headers: bearer(handler.token) })).json() as {
    totals: Totals, supplierTotals: Totals, lines: Array<{ articleId: string, supplierId: string, lineNet: string, supplierLineNet: string, problems: unknown[] }>
  }
  expect(quote.lines.flatMap(l => l.problems)).toEqual([])

  const res = await checkout(app, handler.token, st.id)
  expect(res.statusCode, res.body).toBe(201)
  const moId = (res.json() as { id: string }).id

  // What checkout wrote, read back from the database
  const mo = await app.db.selectFrom('masterOrders').selectAll().where('id', '=', moId).executeTakeFirstOrThrow()
  expect({ net: fixed2(mo.stationNet), vat: fixed2(mo.stationVat), gross: fixed2(mo.stationGross) }).toEqual(plain(quote.totals))
  expect({ net: fixed2(mo.supplierNet), vat: fixed2(mo.supplierVat), gross: fixed2(mo.supplierGross) }).toEqual(plain(quote.supplierTotals))

  const lines = await app.db.selectFrom('purchaseOrderLines').select(['articleId', 'supplierId', 'stationLineNet', 'supplierLineNet']).where('stationId', '=', st.id).execute()
  const written = new Map(lines.map(l => [l.articleId, { lineNet: fixed2(l.stationLineNet), supplierLineNet: fixed2(l.supplierLineNet) }]))
  for (const q of quote.lines) expect(written.get(q.articleId)).toEqual({ lineNet: q.lineNet, supplierLineNet: q.supplierLineNet })

  // and the master order is the sum of its purchase orders, each its own document
  const pos = await app.db.selectFrom('purchaseOrders').selectAll().where('masterOrderId', '=', moId).execute()
  const cents = (v: unknown): number => Math.round(Number(v) * 100)
  for (const side of ['stationNet', 'stationVat', 'stationGross', 'supplierNet', 'supplierVat', 'supplierGross'] as const) {
    expect(pos.reduce((s, p) => s + cents(p[side]), 0), side).toBe(cents(mo[side]))
  }
}

describe('cart quote vs checkout', () => {
  it('the quote always equals what checkout writes (random carts, several suppliers)', async () => {
    await fc.assert(fc.asyncProperty(cartArb, quoteAndCheckout), {
      numRuns: 30,
      // Two suppliers whose VAT rounds up on each purchase order but not on the sum: 2 × 0.01 vs 0.01
      examples: [[{ contractFees: [0, 0, null, null], lines: [{ supplier: 0, packs: 1, price: 500, vatRate: '10.00', contract: true }, { supplier: 1, packs: 1, price: 500, vatRate: '10.00', contract: true }] }]]
    })
  }, 120_000)
})
