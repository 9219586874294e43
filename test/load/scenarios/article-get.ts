// Authenticated single-resource GET: the service's GET /v1/articles/{id}, same ids and token as the
// ceiling. QUALITY.md: ≥ 0.90 × ceiling read, p99 ≤ 15 ms.
import { bearer, popularArticleIds, rotatingGet } from '../lib/helpers.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'article-get',
  description: 'GET /v1/articles/{id} as a MANAGER, Pareto-popular ids',
  order: 11,
  dependsOn: ['ceiling-read'],
  async setup (ctx) {
    const ids = await popularArticleIds(ctx)
    const token = await ctx.token('MANAGER')
    await ctx.requireEndpoint('GET', `/v1/articles/${ids[0] ?? ''}`, { token })
    return { load: { url: ctx.serviceUrl, requests: [rotatingGet(ids.map(id => `/v1/articles/${id}`), bearer(token))] } }
  },
  target: { ceiling: 'ceiling-read', minRatio: 0.90, maxCpuRatio: 1.3, maxP99Ms: 15, maxRssMb: 200 }
}
