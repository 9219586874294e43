// Authenticated single-resource GET of a purchase order with its lines (5 on average, up to 9), same
// ids and token as its ceiling. QUALITY.md: ≥ 0.90 × ceiling (ceiling-po-read), p99 ≤ 15 ms.
import { bearer, rotatingGet, sampleIds, shuffled } from '../lib/helpers.js'
import type { BenchContext, Scenario } from '../lib/types.js'

const idsOf = new WeakMap<BenchContext, Promise<string[]>>()

/** The PO ids po-get reads (and its ceiling, the same ones): a repeatable sample across two years. */
export async function poGetIds (ctx: BenchContext): Promise<string[]> {
  let ids = idsOf.get(ctx)
  if (ids === undefined) {
    ids = (async () => {
      const sample = await sampleIds(ctx.pool, 'SELECT id FROM purchase_orders TABLESAMPLE SYSTEM (5) REPEATABLE ($1) LIMIT 2000', [ctx.seed])
      if (sample.length === 0) sample.push(...await sampleIds(ctx.pool, 'SELECT id FROM purchase_orders LIMIT 2000'))
      return shuffled(ctx, 'po-get', sample)
    })()
    idsOf.set(ctx, ids)
  }
  return await ids
}

export const scenario: Scenario = {
  name: 'po-get',
  description: 'GET /v1/purchase-orders/{id} (with lines) as a MANAGER, ids across two years',
  order: 12,
  dependsOn: ['ceiling-po-read'],
  async setup (ctx) {
    const ids = await poGetIds(ctx)
    const token = await ctx.token('MANAGER')
    await ctx.requireEndpoint('GET', `/v1/purchase-orders/${ids[0] ?? ''}`, { token })
    return { load: { url: ctx.serviceUrl, requests: [rotatingGet(ids.map(id => `/v1/purchase-orders/${id}`), bearer(token))] } }
  },
  target: { ceiling: 'ceiling-po-read', minRatio: 0.90, maxCpuRatio: 1.3, maxP99Ms: 15, maxRssMb: 200 }
}
