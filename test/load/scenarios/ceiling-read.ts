// Ceiling for authenticated single-row reads: the raw node:http + pg server answering
// GET /v1/articles/{id} (HS256 verify + one prepared SELECT) for the same ids and token.
import { bearer, popularArticleIds, rotatingGet } from '../lib/helpers.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'ceiling-read',
  description: 'raw node:http + pg: GET /v1/articles/{id} with JWT verification (the bound for article-get)',
  order: 10,
  async setup (ctx) {
    const ids = await popularArticleIds(ctx)
    const token = await ctx.token('MANAGER')
    return { load: { url: ctx.ceilingUrl, process: ctx.ceiling, requests: [rotatingGet(ids.map(id => `/v1/articles/${id}`), bearer(token))] } }
  },
  target: { informational: true }
}
