// Ceiling for audited simple mutations: the raw server's POST /v1/articles — BEGIN; INSERT the
// article; INSERT its audit event; COMMIT (four round trips, prepared statements).
import type autocannon from 'autocannon'
import { bearer, json, runId, WRITTEN_ARTICLE_PREFIXES } from '../lib/helpers.js'
import type { BenchContext, Scenario } from '../lib/types.js'

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

/**
 * Deletes the articles a write run created (their audit events stay: the trail is append-only).
 * Left in the catalog they are not the standard dataset any more: tens of thousands per run sorting
 * after the generated ones (ART-…), which every later scenario reading the catalog in code order
 * would walk — the replenishment's last page walked 390 000 of them after a few runs.
 */
export async function dropCreatedArticles (ctx: BenchContext, prefix: string): Promise<void> {
  await ctx.pool.query("DELETE FROM articles WHERE code LIKE $1 || '-%'", [prefix])
}

export const scenario: Scenario = {
  name: 'ceiling-write',
  description: 'raw node:http + pg: POST /v1/articles = BEGIN, INSERT, INSERT audit, COMMIT (the bound for article-create)',
  order: 30,
  async setup (ctx) {
    const token = await ctx.token('MANAGER')
    const prefix = `${WRITTEN_ARTICLE_PREFIXES.ceiling}-${runId()}`
    return { load: { url: ctx.ceilingUrl, process: ctx.ceiling, warmup: false, requests: [articleCreateRequest(prefix, token)] }, teardown: async () => { await dropCreatedArticles(ctx, prefix) } }
  },
  target: { informational: true }
}
