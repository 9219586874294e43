// Ceiling for checkout: the raw node:http + pg server answering POST /v1/stations/{id}/cart/checkout
// as the service does it — BEGIN with the Idempotency-Key claim, the cart's row lock, its lines with
// every price, ONE statement writing the caps, master order, POs, lines, status history, closed
// cart and outbox, then the audit event and the idempotency record (the response body) with the
// COMMIT (five round trips, prepared statements); prices, totals and line checks with the service's
// own pure functions. The same prepared carts (10 lines, 3 suppliers): each setup prepares a fresh
// cart for the same bench stations, so the ceiling and checkout check out the same carts' contents.
import type autocannon from 'autocannon'
import { prepareCheckoutCarts, type PreparedCart } from '../lib/fixtures.js'
import { bearer, json, runId } from '../lib/helpers.js'
import type { BenchContext, Scenario } from '../lib/types.js'

/** Carts to prepare for a run: more than any run checks out in its duration. */
export const checkoutCartCount = (ctx: BenchContext): number => Math.min(60_000, Math.max(2000, Math.ceil(ctx.duration * 900)))

/** One checkout per prepared cart, in order, each with its own Idempotency-Key `<prefix>-<n>`. */
export function checkoutRequests (carts: readonly PreparedCart[], token: string, prefix: string): { request: autocannon.Request, exhausted: () => boolean } {
  let i = 0
  const request = {
    method: 'POST',
    path: '/',
    headers: { ...json, ...bearer(token) },
    body: '{}',
    setupRequest: (r: autocannon.Request) => {
      const k = i++
      const cart = carts[k % carts.length] as PreparedCart
      return { ...r, path: `/v1/stations/${cart.stationId}/cart/checkout`, headers: { ...r.headers, 'idempotency-key': `${prefix}-${k}` } }
    }
  } as autocannon.Request
  return { request, exhausted: () => i >= carts.length }
}

export const scenario: Scenario = {
  name: 'ceiling-checkout',
  description: 'raw node:http + pg: POST /v1/stations/{id}/cart/checkout, 10 lines / 3 suppliers, the service\'s statements and round trips (the bound for checkout)',
  order: 39.5,
  async setup (ctx) {
    const token = await ctx.token('HANDLER')
    // an unknown station has no open cart: 409 proves the route answers without checking anything out
    const check = await ctx.api('POST', '/v1/stations/00000000-0000-4000-8000-000000000000/cart/checkout', { token, body: {}, headers: { 'idempotency-key': `probe-${runId()}` }, base: ctx.ceilingUrl })
    if (check.status !== 409) throw new Error(`the ceiling answered ${check.status} for a checkout without cart: ${JSON.stringify(check.body).slice(0, 300)}`)
    const carts = await prepareCheckoutCarts(ctx.pool, checkoutCartCount(ctx), ctx.users.HANDLER.id)
    const { request, exhausted } = checkoutRequests(carts, token, `ceil-${runId()}`)
    return {
      load: { url: ctx.ceilingUrl, process: ctx.ceiling, warmup: false, requests: [request], exhausted },
      notes: [`${carts.length} carts prepared (10 lines, 3 suppliers each)`]
    }
  },
  target: { informational: true }
}
