// Authenticated single-resource GET of a purchase order with its lines (5 on average, up to 9).
import { bearer, rotatingGet, sampleIds, shuffled } from '../lib/helpers.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'po-get',
  description: 'GET /v1/purchase-orders/{id} (with lines) as a MANAGER, ids across two years',
  order: 12,
  async setup (ctx) {
    const ids = shuffled(ctx, 'po-get', await sampleIds(ctx.pool, 'SELECT id FROM purchase_orders TABLESAMPLE SYSTEM (5) LIMIT 2000'))
    if (ids.length === 0) ids.push(...await sampleIds(ctx.pool, 'SELECT id FROM purchase_orders LIMIT 2000'))
    const token = await ctx.token('MANAGER')
    await ctx.requireEndpoint('GET', `/v1/purchase-orders/${ids[0] ?? ''}`, { token })
    return { load: { url: ctx.serviceUrl, requests: [rotatingGet(ids.map(id => `/v1/purchase-orders/${id}`), bearer(token))] } }
  },
  target: { maxP99Ms: 15, maxRssMb: 200 }
}
