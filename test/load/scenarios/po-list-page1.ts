// First page (50 items) of the purchase-order list, platform view (all stations and suppliers); same
// path and token as its ceiling (ceiling-po-list). QUALITY.md: ≥ 0.85 × ceiling, p99 ≤ 25 ms.
import { PO_LIST_PAGE1, poListPage1Request } from './ceiling-po-list.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'po-list-page1',
  description: 'GET /v1/purchase-orders?limit=50 (page 1) as a MANAGER',
  order: 20,
  dependsOn: ['ceiling-po-list'],
  async setup (ctx) {
    const token = await ctx.token('MANAGER')
    await ctx.requireEndpoint('GET', PO_LIST_PAGE1, { token })
    return { load: { url: ctx.serviceUrl, requests: [poListPage1Request(token)] } }
  },
  target: { ceiling: 'ceiling-po-list', minRatio: 0.85, maxP99Ms: 25, maxRssMb: 200 }
}
