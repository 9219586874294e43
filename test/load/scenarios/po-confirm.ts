// PO workflow step: confirmation of PLACED purchase orders (all lines get a confirmed delivery date),
// each request a different PO, as platform staff on the supplier's behalf. Runs after `checkout`,
// which leaves thousands of PLACED POs; its ceiling (ceiling-po-confirm, run just before) takes the
// other half of them, so both get the same number; stops early when they run out.
// QUALITY.md: ≥ 0.85 × ceiling, p99 ≤ 40 ms.
import { confirmBody, confirmDate, confirmRequests, serviceShare } from './ceiling-po-confirm.js'
import type { PlacedPo } from '../lib/fixtures.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'po-confirm',
  description: 'POST /v1/purchase-orders/{id}/confirm on PLACED POs as a HANDLER',
  order: 41,
  dependsOn: ['ceiling-po-confirm'],
  async setup (ctx) {
    const token = await ctx.token('HANDLER')
    const pos = await serviceShare(ctx)
    if (pos.length < 50) throw new Error(`only ${pos.length} PLACED purchase orders: run the checkout scenario first`)
    const first = pos.pop() as PlacedPo
    const probe = await ctx.requireEndpoint('POST', `/v1/purchase-orders/${first.id}/confirm`, { token, body: confirmBody(first, confirmDate()) })
    if (probe.status !== 200) throw new Error(`confirm answered ${probe.status}: ${JSON.stringify(probe.body).slice(0, 300)}`)
    const { request, exhausted } = confirmRequests(pos, token)
    return { load: { url: ctx.serviceUrl, warmup: false, requests: [request], exhausted }, notes: [`${pos.length} PLACED purchase orders available (the other half is ceiling-po-confirm's)`] }
  },
  target: { ceiling: 'ceiling-po-confirm', minRatio: 0.85, maxP99Ms: 40, maxRssMb: 200 }
}
