// Ceiling for audited simple mutations: the raw server's POST /v1/articles — BEGIN; INSERT the
// article; INSERT its audit event; COMMIT (four round trips, prepared statements).
import type autocannon from 'autocannon'
import { bearer, json, runId } from '../lib/helpers.js'
import type { Scenario } from '../lib/types.js'

export function articleCreateRequest (prefix: string, token: string): autocannon.Request {
  let n = 0
  return {
    method: 'POST',
    path: '/v1/articles',
    headers: { ...json, ...bearer(token) },
    setupRequest: (req: autocannon.Request) => ({
      ...req,
      body: JSON.stringify({ code: `${prefix}-${(n++).toString(36).toUpperCase()}`, name: 'Barquette bench 500 g', category: 'TRAY', baseUnit: 'piece', vatRate: '20.00' })
    })
  } as autocannon.Request
}

export const scenario: Scenario = {
  name: 'ceiling-write',
  description: 'raw node:http + pg: POST /v1/articles = BEGIN, INSERT, INSERT audit, COMMIT (the bound for article-create)',
  order: 30,
  async setup (ctx) {
    const token = await ctx.token('MANAGER')
    return { load: { url: ctx.ceilingUrl, process: ctx.ceiling, warmup: false, requests: [articleCreateRequest(`CEIL-${runId()}`, token)] } }
  },
  target: { informational: true }
}
