// The purchase-order reads run hand-written SQL (camelCase aliases, timestamps formatted by
// PostgreSQL, lines aggregated as JSON): their JSON must be exactly what Date serialization and the
// camel-cased rows gave — RFC 3339 with milliseconds truncated, numbers as numbers, decimals as
// strings — and the keyset cursor must keep microsecond precision.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import type { App } from '../../../src/lib/route.js'
import { margin } from '../../../src/domains/orders/orders.views.js'
import { createTestApp } from '../../helpers/app.js'
import { advance, get, placeOrder, staff, type Party, type PlacedOrder } from './fixtures.js'

let app: App
let h: Party
let a: PlacedOrder, b: PlacedOrder
beforeAll(async () => {
  app = await createTestApp()
  h = await staff(app)
  a = await placeOrder(app, [3, 5, 7])
  b = await placeOrder(app, [2], { st: a.st, sup: a.sup })
  await advance(app, h.token, a, ['confirm'])
  // same millisecond, one microsecond apart: only the cursor's microseconds tell them apart
  await sql`UPDATE purchase_orders SET created_at = '2026-11-21 09:30:00.123999+00', confirmed_at = '2026-11-21 10:00:00.000999+00' WHERE id = ${a.poId}::uuid`.execute(app.db)
  await sql`UPDATE purchase_orders SET created_at = '2026-11-21 09:30:00.123998+00' WHERE id = ${b.poId}::uuid`.execute(app.db)
})
afterAll(async () => { await app.close() })

describe('purchase-order reads', () => {
  it('write timestamps as RFC 3339 UTC with truncated milliseconds and keep value types', async () => {
    const r = await get(app, a.st.token, `/v1/purchase-orders/${a.poId}`)
    expect(r.statusCode).toBe(200)
    const po = r.json()
    expect(po.createdAt).toBe('2026-11-21T09:30:00.123Z')
    expect(po.confirmedAt).toBe('2026-11-21T10:00:00.000Z')
    expect(po.shippedAt).toBeNull()
    expect(po.updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    expect(po.version).toBe(2)
    expect(po.lines.map((l: { lineNo: number }) => l.lineNo)).toEqual([1, 2, 3])
    const line = po.lines[1]
    expect(line).toMatchObject({ packs: 5, unitsPerPack: 10, packsReceived: null, discrepancy: null, confirmedDeliveryDate: '2099-06-01' })
    expect(typeof line.lineNet).toBe('string')
    expect(line.vatRate).toMatch(/^\d+\.\d{2}$/)
    expect(line.stationPackPrice).toMatch(/^\d+\.\d{4}$/)
    expect(line.desiredDeliveryDate).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(po.totals.net).toMatch(/^\d+\.\d{2}$/)
  })

  it('give the platform the margin and the same PO in the detail, the master order and the list', async () => {
    const po = (await get(app, h.token, `/v1/purchase-orders/${a.poId}`)).json()
    expect(po.marginNet).toBe(margin(po.totals.net, po.supplierTotals.net))
    const mo = (await get(app, h.token, `/v1/master-orders/${a.moId}`)).json()
    expect(mo.purchaseOrders[0]).toEqual(po)
    const listed = (await get(app, h.token, `/v1/purchase-orders?stationId=${a.st.id}&include=lines`)).json()
    expect(listed.items.find((i: { id: string }) => i.id === a.poId)).toEqual(po)
    const bare = (await get(app, h.token, `/v1/purchase-orders?stationId=${a.st.id}`)).json()
    const { lines, ...header } = po
    expect(lines).toHaveLength(3)
    expect(bare.items.find((i: { id: string }) => i.id === a.poId)).toEqual(header)
  })

  it('page through POs created in the same millisecond without skipping or repeating one', async () => {
    for (const party of [a.st, a.sup]) {
      const first = (await get(app, party.token, '/v1/purchase-orders?limit=1')).json()
      expect(first.items.map((i: { id: string }) => i.id)).toEqual([a.poId])
      const second = (await get(app, party.token, `/v1/purchase-orders?limit=1&cursor=${first.nextCursor as string}`)).json()
      expect(second.items.map((i: { id: string }) => i.id)).toEqual([b.poId])
      expect(second.nextCursor).toBeNull()
    }
  })

  it('hide another party\'s PO (404) and answer the scoped lists empty', async () => {
    const other = await placeOrder(app)
    expect((await get(app, other.st.token, `/v1/purchase-orders/${a.poId}`)).statusCode).toBe(404)
    expect((await get(app, other.sup.token, `/v1/purchase-orders/${a.poId}`)).statusCode).toBe(404)
    const list = (await get(app, other.st.token, `/v1/purchase-orders?supplierId=${a.sup.id}`)).json()
    expect(list).toEqual({ items: [], nextCursor: null })
  })
})
