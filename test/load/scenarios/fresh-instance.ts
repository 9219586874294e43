// A new instance under load at once: a second service process is started, and as soon as its
// /health/ready answers 200 it gets the article GETs of article-get for 10 s, with no warm-up.
// QUALITY.md: ready only once warm; p99 over the first 10 s after ready ≤ 2 × the steady p99
// (article-get's, the same round: a warmed instance under the same load).
import { bearer, popularArticleIds, rotatingGet } from '../lib/helpers.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'fresh-instance',
  description: 'GET /v1/articles/{id} for 10 s on a new service process from the moment it reports ready (no warm-up), against article-get\'s steady p99',
  order: 12,
  dependsOn: ['article-get'],
  async setup (ctx) {
    const ids = await popularArticleIds(ctx)
    const token = await ctx.token('MANAGER')
    const fresh = await ctx.startService({ workers: 1, name: 'fresh instance' })
    return {
      load: { url: fresh.url, process: fresh, duration: 10, warmup: false, requests: [rotatingGet(ids.map(id => `/v1/articles/${id}`), bearer(token))] },
      notes: [`spawn → listening ${fresh.listeningMs ?? '?'} ms, → ready ${fresh.startupMs} ms`],
      teardown: async () => { await fresh.stop() }
    }
  },
  // the reference is the steady instance: ratio = req/s ÷ article-get's (informational), p99 ÷ its p99 ≤ 2
  target: { ceiling: 'article-get', maxP99VsCeiling: 2, maxRssMb: 200 }
}
