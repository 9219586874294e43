// PO workflow step: a supplier-side confirmation of PLACED purchase orders (all lines get a
// confirmed delivery date), each request a different PO. Runs after `checkout`, which leaves
// thousands of PLACED POs; stops early when they run out.
import type autocannon from 'autocannon'
import { bearer, json } from '../lib/helpers.js'
import { placedPurchaseOrders } from '../lib/fixtures.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'po-confirm',
  description: 'POST /v1/purchase-orders/{id}/confirm on PLACED POs as a HANDLER',
  order: 41,
  async setup (ctx) {
    const token = await ctx.token('HANDLER')
    const pos = await placedPurchaseOrders(ctx.pool, 60_000)
    if (pos.length < 50) throw new Error(`only ${pos.length} PLACED purchase orders: run the checkout scenario first`)
    const date = new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10)
    const first = pos.pop()
    const probe = await ctx.requireEndpoint('POST', `/v1/purchase-orders/${first?.id ?? ''}/confirm`, { token, body: { lines: (first?.lineIds ?? []).map(lineId => ({ lineId, confirmedDeliveryDate: date })) } })
    if (probe.status !== 200) throw new Error(`confirm answered ${probe.status}: ${JSON.stringify(probe.body).slice(0, 300)}`)
    let i = 0
    const req = {
      method: 'POST',
      path: '/',
      headers: { ...json, ...bearer(token) },
      setupRequest: (r: autocannon.Request) => {
        const po = pos[i++ % pos.length]
        return { ...r, path: `/v1/purchase-orders/${po?.id ?? ''}/confirm`, body: JSON.stringify({ lines: (po?.lineIds ?? []).map(lineId => ({ lineId, confirmedDeliveryDate: date })) }) }
      }
    } as autocannon.Request
    return { load: { url: ctx.serviceUrl, warmup: false, requests: [req], exhausted: () => i >= pos.length }, notes: [`${pos.length} PLACED purchase orders available`] }
  },
  target: { maxP99Ms: 40, maxRssMb: 200 }
}
