// Simple audited mutation: POST /v1/articles, a unique code per request. QUALITY.md: ≥ 0.90 × the
// ceiling write, p99 ≤ 40 ms.
import { runId, WRITTEN_ARTICLE_PREFIXES } from '../lib/helpers.js'
import { articleCreateRequest, dropCreatedArticles } from './ceiling-write.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'article-create',
  description: 'POST /v1/articles (insert + audit event in one transaction) as a MANAGER',
  order: 31,
  dependsOn: ['ceiling-write'],
  async setup (ctx) {
    const token = await ctx.token('MANAGER')
    const prefix = `${WRITTEN_ARTICLE_PREFIXES.service}-${runId()}`
    const probe = await ctx.requireEndpoint('POST', '/v1/articles', { token, body: { code: `${prefix}-PROBE`, name: 'Probe', category: 'TRAY', baseUnit: 'piece', vatRate: '20.00' } })
    if (probe.status !== 201) throw new Error(`POST /v1/articles answered ${probe.status}: ${JSON.stringify(probe.body).slice(0, 300)}`)
    return { load: { url: ctx.serviceUrl, warmup: false, requests: [articleCreateRequest(prefix, token)] }, teardown: async () => { await dropCreatedArticles(ctx, prefix) } }
  },
  target: { ceiling: 'ceiling-write', minRatio: 0.90, maxP99Ms: 40, maxRssMb: 200 }
}
