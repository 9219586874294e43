// Checkout of a 10-line cart over 3 suppliers (a master order + 3 POs + audit + outbox). Each
// request checks out a different bench station's cart, prepared in SQL during setup, with its own
// Idempotency-Key; the run stops early if the prepared carts run out. QUALITY.md: ≥ 400/s, p99 ≤ 100 ms.
import type autocannon from 'autocannon'
import { bearer, json, runId } from '../lib/helpers.js'
import { prepareCheckoutCarts } from '../lib/fixtures.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'checkout',
  description: 'POST /v1/stations/{id}/cart/checkout, 10 lines / 3 suppliers, one prepared cart per request, as a HANDLER',
  order: 40,
  async setup (ctx) {
    const token = await ctx.token('HANDLER')
    // an unknown station: a 404 NOT_FOUND proves the route exists without checking anything out
    await ctx.requireEndpoint('POST', '/v1/stations/00000000-0000-4000-8000-000000000000/cart/checkout', { token, body: {}, headers: { 'idempotency-key': `probe-${runId()}` } })
    const n = Math.min(60_000, Math.max(2000, Math.ceil(ctx.duration * 900)))
    const carts = await prepareCheckoutCarts(ctx.pool, n, ctx.users.HANDLER.id)
    const run = runId()
    let i = 0
    const req = {
      method: 'POST',
      path: '/',
      headers: { ...json, ...bearer(token) },
      body: '{}',
      setupRequest: (r: autocannon.Request) => {
        const k = i++
        const cart = carts[k % carts.length]
        return { ...r, path: `/v1/stations/${cart?.stationId ?? ''}/cart/checkout`, headers: { ...r.headers, 'idempotency-key': `bench-${run}-${k}` } }
      }
    } as autocannon.Request
    return {
      load: { url: ctx.serviceUrl, warmup: false, requests: [req], exhausted: () => i >= carts.length },
      notes: [`${carts.length} carts prepared (10 lines, 3 suppliers each)`]
    }
  },
  target: { minRps: 400, maxP99Ms: 100, maxRssMb: 200 }
}
