// Ceiling for list pages: the raw node:http + pg server answering GET /v1/purchase-orders?limit=50 —
// HS256 verify + the service's own list text (listText of orders.sql.ts, imported: a platform
// caller's first page, PostgreSQL writing the items as JSON text, one round trip) — for the same
// path and token as po-list-page1.
import type autocannon from 'autocannon'
import { bearer, rotatingGet } from '../lib/helpers.js'
import type { Scenario } from '../lib/types.js'

/** The first page as po-list-page1 requests it (and its ceiling, the same one). */
export const PO_LIST_PAGE1 = '/v1/purchase-orders?limit=50'

export function poListPage1Request (token: string): autocannon.Request {
  return rotatingGet([PO_LIST_PAGE1], bearer(token))
}

export const scenario: Scenario = {
  name: 'ceiling-po-list',
  description: 'raw node:http + pg: GET /v1/purchase-orders?limit=50 with JWT verification and the service\'s list SQL (the bound for po-list-page1)',
  order: 19.5,
  async setup (ctx) {
    const token = await ctx.token('MANAGER')
    const check = await ctx.api('GET', PO_LIST_PAGE1, { token, base: ctx.ceilingUrl })
    if (check.status !== 200 || (check.body.items as unknown[]).length === 0) throw new Error(`the ceiling answered ${check.status} for the purchase-order list`)
    return { load: { url: ctx.ceilingUrl, process: ctx.ceiling, requests: [poListPage1Request(token)] } }
  },
  target: { informational: true }
}
