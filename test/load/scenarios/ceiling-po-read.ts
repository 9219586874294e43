// Ceiling for the purchase-order read: the raw node:http + pg server answering
// GET /v1/purchase-orders/{id} (HS256 verify + the service's own SQL for a platform caller, which
// writes the PO with its lines as JSON text, sent as is) for the same ids and token as po-get.
import { bearer, rotatingGet } from '../lib/helpers.js'
import type { Scenario } from '../lib/types.js'
import { poGetIds } from './po-get.js'

export const scenario: Scenario = {
  name: 'ceiling-po-read',
  description: 'raw node:http + pg: GET /v1/purchase-orders/{id} with JWT verification and the service\'s SQL (the bound for po-get)',
  order: 11.5,
  async setup (ctx) {
    const ids = await poGetIds(ctx)
    const token = await ctx.token('MANAGER')
    const check = await ctx.api('GET', `/v1/purchase-orders/${ids[0] ?? ''}`, { token, base: ctx.ceilingUrl })
    if (check.status !== 200) throw new Error(`the ceiling answered ${check.status} for a purchase order`)
    return { load: { url: ctx.ceilingUrl, process: ctx.ceiling, requests: [rotatingGet(ids.map(id => `/v1/purchase-orders/${id}`), bearer(token))] } }
  },
  target: { informational: true }
}
