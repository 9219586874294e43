// article-create's load against a fresh service process straight to PostgreSQL: the reference of
// pooling-pgbouncer-create (lib/pooling.ts). Opt-in: `npm run bench -- --scenario pooling --runtime
// dist --rounds 3`.
import { runId } from '../lib/helpers.js'
import { startFreshService } from '../lib/pooling.js'
import { articleCreateRequest } from './ceiling-write.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'pooling-direct-create',
  description: 'POST /v1/articles as article-create, a fresh service process straight to PostgreSQL',
  order: 33,
  optIn: true,
  dependsOn: [],
  async setup (ctx) {
    const token = await ctx.token('MANAGER')
    const fresh = await startFreshService(ctx, 'direct')
    return {
      load: { url: fresh.service.url, process: fresh.service, warmup: false, requests: [articleCreateRequest(`BENCH-${runId()}`, token)] },
      notes: fresh.notes,
      teardown: fresh.stop
    }
  },
  target: { informational: true, maxRssMb: 200 }
}
