// article-create's load against a fresh service process behind PgBouncer (transaction mode, unnamed
// statements); ratio to pooling-direct-create, same run (lib/pooling.ts). Opt-in: `npm run bench --
// --scenario pooling --runtime dist --rounds 3`.
import { runId } from '../lib/helpers.js'
import { startFreshService } from '../lib/pooling.js'
import { articleCreateRequest } from './ceiling-write.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'pooling-pgbouncer-create',
  description: 'POST /v1/articles as article-create, a fresh service process behind PgBouncer (transaction pooling)',
  order: 34,
  optIn: true,
  dependsOn: ['pooling-direct-create'],
  async setup (ctx) {
    const token = await ctx.token('MANAGER')
    const fresh = await startFreshService(ctx, 'pgbouncer')
    return {
      load: { url: fresh.service.url, process: fresh.service, warmup: false, requests: [articleCreateRequest(`BENCH-${runId()}`, token)] },
      notes: fresh.notes,
      teardown: fresh.stop
    }
  },
  target: { ceiling: 'pooling-direct-create', minRatio: 0.5, informational: true, maxRssMb: 200 }
}
