// Login flood: article reads measured alone, then again while 8 connections hammer
// POST /v1/auth/login (argon2id verification of the bench users' password). QUALITY.md: the flood
// must not degrade other endpoints' p99 by more than 2×.
import { bearer, json, popularArticleIds, rotatingGet } from '../lib/helpers.js'
import { BENCH_PASSWORD } from '../dataset/generate.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'login-flood',
  description: 'p99 of GET /v1/articles/{id} with and without a parallel POST /v1/auth/login flood (8 connections)',
  order: 50,
  async setup (ctx) {
    const body = { email: ctx.users.STATION.email, password: BENCH_PASSWORD }
    const probe = await ctx.requireEndpoint('POST', '/v1/auth/login', { body })
    if (probe.status !== 200) throw new Error(`login answered ${probe.status}: ${JSON.stringify(probe.body).slice(0, 200)}`)
    const ids = await popularArticleIds(ctx)
    const token = await ctx.token('MANAGER')
    const reads = { url: ctx.serviceUrl, requests: [rotatingGet(ids.map(id => `/v1/articles/${id}`), bearer(token))] }
    const emails = [ctx.users.STATION.email, ctx.users.SUPPLIER.email, ctx.users.HANDLER.email]
    let i = 0
    return {
      baseline: { ...reads, label: 'reads alone' },
      load: { ...reads, label: 'reads during the login flood', warmup: false },
      background: {
        label: 'login flood',
        url: ctx.serviceUrl,
        connections: 8,
        warmup: false,
        requests: [{
          method: 'POST',
          path: '/v1/auth/login',
          headers: json,
          setupRequest: (r) => ({ ...r, body: JSON.stringify({ email: emails[i++ % emails.length], password: BENCH_PASSWORD }) })
        }]
      }
    }
  },
  target: { maxP99Degradation: 2, maxRssMb: 200 }
}
