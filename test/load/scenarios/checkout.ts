// Checkout of a 10-line cart over 3 suppliers (a master order + 3 POs + audit + outbox). Each
// request checks out a different bench station's cart, prepared in SQL during setup, with its own
// Idempotency-Key; the run stops early if the prepared carts run out. Same requests as its ceiling
// (ceiling-checkout, run just before on the same stations' fresh carts).
// QUALITY.md: ≥ 0.85 × ceiling, ≥ 400/s, p99 ≤ 100 ms.
import { runId } from '../lib/helpers.js'
import { prepareCheckoutCarts } from '../lib/fixtures.js'
import { checkoutCartCount, checkoutRequests } from './ceiling-checkout.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'checkout',
  description: 'POST /v1/stations/{id}/cart/checkout, 10 lines / 3 suppliers, one prepared cart per request, as a HANDLER',
  order: 40,
  dependsOn: ['ceiling-checkout'],
  async setup (ctx) {
    const token = await ctx.token('HANDLER')
    // an unknown station: a 404 NOT_FOUND proves the route exists without checking anything out
    await ctx.requireEndpoint('POST', '/v1/stations/00000000-0000-4000-8000-000000000000/cart/checkout', { token, body: {}, headers: { 'idempotency-key': `probe-${runId()}` } })
    const carts = await prepareCheckoutCarts(ctx.pool, checkoutCartCount(ctx), ctx.users.HANDLER.id)
    const { request, exhausted } = checkoutRequests(carts, token, `bench-${runId()}`)
    return {
      load: { url: ctx.serviceUrl, warmup: false, requests: [request], exhausted },
      notes: [`${carts.length} carts prepared (10 lines, 3 suppliers each)`]
    }
  },
  target: { ceiling: 'ceiling-checkout', minRatio: 0.85, minRps: 400, maxP99Ms: 100, maxRssMb: 200 }
}
