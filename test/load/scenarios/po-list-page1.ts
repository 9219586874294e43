// First page (50 items) of the purchase-order list, platform view (all stations and suppliers).
import { bearer, rotatingGet } from '../lib/helpers.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'po-list-page1',
  description: 'GET /v1/purchase-orders?limit=50 (page 1) as a MANAGER',
  order: 20,
  async setup (ctx) {
    const token = await ctx.token('MANAGER')
    await ctx.requireEndpoint('GET', '/v1/purchase-orders?limit=50', { token })
    return { load: { url: ctx.serviceUrl, requests: [rotatingGet(['/v1/purchase-orders?limit=50'], bearer(token))] } }
  },
  target: { maxP99Ms: 25, maxRssMb: 200 }
}
