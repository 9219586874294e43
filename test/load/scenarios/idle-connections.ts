// 10 000 concurrent keep-alive connections at a light overall rate (500 req/s of article GETs):
// every connection is opened and kept while autocannon measures. Needs `ulimit -n` above ~10 100 in
// the harness (checked) and the service (raised by the spawn wrapper).
import { execFileSync } from 'node:child_process'
import { bearer, popularArticleIds, rotatingGet } from '../lib/helpers.js'
import { SkipScenario, type Scenario } from '../lib/types.js'

const CONNECTIONS = 10_000

export const scenario: Scenario = {
  name: 'idle-connections',
  description: '10 000 keep-alive connections, 500 req/s overall of GET /v1/articles/{id}',
  order: 70,
  async setup (ctx) {
    const limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim())
    if (Number.isFinite(limit) && limit < CONNECTIONS + 200) throw new SkipScenario(`ulimit -n is ${limit}; run the bench from a shell after \`ulimit -n 65535\``)
    const ids = await popularArticleIds(ctx)
    const token = await ctx.token('MANAGER')
    await ctx.requireEndpoint('GET', `/v1/articles/${ids[0] ?? ''}`, { token })
    return {
      load: { url: ctx.serviceUrl, connections: CONNECTIONS, overallRate: 500, duration: Math.max(ctx.duration, 10), warmup: false, timeoutS: 30, requests: [rotatingGet(ids.map(id => `/v1/articles/${id}`), bearer(token))] }
    }
  },
  target: { maxP99Ms: 200, maxErrors: 0, maxRssMb: 200 }
}
