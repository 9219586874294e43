// article-get's load against a fresh service process behind PgBouncer (transaction mode, unnamed
// statements); ratio to pooling-direct-get, same run (lib/pooling.ts). Opt-in: `npm run bench --
// --scenario pooling --runtime dist --rounds 3`.
import { bearer, popularArticleIds, rotatingGet } from '../lib/helpers.js'
import { startFreshService } from '../lib/pooling.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'pooling-pgbouncer-get',
  description: 'GET /v1/articles/{id} as article-get, a fresh service process behind PgBouncer (transaction pooling)',
  order: 14,
  optIn: true,
  dependsOn: ['pooling-direct-get'],
  async setup (ctx) {
    const ids = await popularArticleIds(ctx)
    const token = await ctx.token('MANAGER')
    const fresh = await startFreshService(ctx, 'pgbouncer')
    return {
      load: { url: fresh.service.url, process: fresh.service, requests: [rotatingGet(ids.map(id => `/v1/articles/${id}`), bearer(token))] },
      notes: fresh.notes,
      teardown: fresh.stop
    }
  },
  target: { ceiling: 'pooling-direct-get', minRatio: 0.5, informational: true, maxRssMb: 200 }
}
