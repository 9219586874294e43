// article-get's load against a fresh service process straight to PostgreSQL: the reference of
// pooling-pgbouncer-get (lib/pooling.ts). Opt-in: `npm run bench -- --scenario pooling --runtime
// dist --rounds 3`.
import { bearer, popularArticleIds, rotatingGet } from '../lib/helpers.js'
import { startFreshService } from '../lib/pooling.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'pooling-direct-get',
  description: 'GET /v1/articles/{id} as article-get, a fresh service process straight to PostgreSQL',
  order: 13,
  optIn: true,
  dependsOn: [],
  async setup (ctx) {
    const ids = await popularArticleIds(ctx)
    const token = await ctx.token('MANAGER')
    const fresh = await startFreshService(ctx, 'direct')
    return {
      load: { url: fresh.service.url, process: fresh.service, requests: [rotatingGet(ids.map(id => `/v1/articles/${id}`), bearer(token))] },
      notes: fresh.notes,
      teardown: fresh.stop
    }
  },
  target: { informational: true, maxRssMb: 200 }
}
