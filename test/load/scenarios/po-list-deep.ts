// Page 2 000 of the purchase-order list (row 100 000; fewer on small datasets — the depth used is
// in the notes). The deep cursor comes from following nextCursor during setup (limit=200 pages to
// get there 4× faster; the cursor holds the last row's sort key, not the page size).
// QUALITY.md: p99 ≤ 25 ms and within 15 % of page 1.
import { bearer, rotatingGet } from '../lib/helpers.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'po-list-deep',
  description: 'GET /v1/purchase-orders?limit=50&cursor=<page 2000> as a MANAGER',
  order: 21,
  dependsOn: ['po-list-page1'],
  async setup (ctx) {
    const token = await ctx.token('MANAGER')
    await ctx.requireEndpoint('GET', '/v1/purchase-orders?limit=50', { token })
    const total = Number(((await ctx.pool.query('SELECT count(*)::int AS n FROM purchase_orders')).rows[0] as { n: number }).n)
    const wantRows = Math.min(100_000, Math.max(0, (Math.floor(total / 50) - 2) * 50))
    let cursor: string | null = null
    let rows = 0
    for (let guard = 0; rows < wantRows && guard < 1000; guard++) {
      const limit = Math.min(200, wantRows - rows)
      const r = await ctx.api('GET', `/v1/purchase-orders?limit=${limit}${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token })
      if (r.status !== 200) throw new Error(`following the list failed at row ${rows}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`)
      rows += (r.body.items as unknown[]).length
      cursor = r.body.nextCursor as string | null
      if (cursor === null) break
    }
    if (cursor === null) throw new Error('the list ended before the wanted depth')
    const path = `/v1/purchase-orders?limit=50&cursor=${encodeURIComponent(cursor)}`
    const check = await ctx.api('GET', path, { token })
    if (check.status !== 200 || (check.body.items as unknown[]).length !== 50) throw new Error(`deep page answered ${check.status}`)
    return {
      load: { url: ctx.serviceUrl, requests: [rotatingGet([path], bearer(token))] },
      notes: [`depth: rows ${rows + 1}–${rows + 50} = page ${rows / 50 + 1} of ${Math.ceil(total / 50)} (${total} purchase orders)`]
    }
  },
  target: { maxP99Ms: 25, sameAs: { scenario: 'po-list-page1', metric: 'rps', tolerance: 0.15 }, maxRssMb: 200 }
}
