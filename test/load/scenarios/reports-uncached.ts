// The reports' cost without the cache (opt-in: --scenario reports-uncached): every request names
// a one-year period ending on a different day, so each one is a cache miss and computes its report
// (platform staff; spend by month and by article, ordered and received, and supplier performance,
// in rotation), at 4 connections. Informational: it shows what the database does per report under
// concurrency, which the cached scenarios hide.
import { bearer } from '../lib/helpers.js'
import type { Scenario } from '../lib/types.js'
import type autocannon from 'autocannon'
import { YEAR } from './reports-common.js'

const DAY = 86_400_000
const KINDS = ['spend?groupBy=month&basis=ordered&', 'spend?groupBy=month&basis=received&', 'spend?groupBy=article&basis=ordered&', 'spend?groupBy=article&basis=received&', 'supplier-performance?']

export const scenario: Scenario = {
  name: 'reports-uncached',
  description: 'GET /v1/reports/spend|supplier-performance, one year ending on a different day each time (every request a cache miss), platform staff, 4 connections',
  order: 50,
  optIn: true,
  async setup (ctx) {
    const token = await ctx.token('MANAGER')
    // a refused query (400) proves the route exists without computing, and caching, a report
    await ctx.requireEndpoint('GET', '/v1/reports/spend?groupBy=none', { token })
    let n = 0
    const end = Date.parse(`${YEAR.to}T00:00:00Z`)
    const request: autocannon.Request = {
      method: 'GET',
      path: '/v1/reports/dashboard',
      headers: bearer(token),
      setupRequest: (req: autocannon.Request) => {
        // each kind for a year ending one day earlier than its last one: never asked before, always
        // computed, and inside the dataset (1 825 distinct requests before any repeats)
        const i = n++
        const to = new Date(end - (Math.floor(i / KINDS.length) % 365) * DAY)
        const from = new Date(to.getTime() - 364 * DAY)
        return { ...req, path: `/v1/reports/${KINDS[i % KINDS.length] ?? ''}from=${from.toISOString().slice(0, 10)}&to=${to.toISOString().slice(0, 10)}` }
      }
    } as autocannon.Request
    // lazy (autocannon: 4 connections at a few requests per second leave it idle): the wrk driver
    // would build thousands of requests ahead per run, moving the periods years before the data
    return { load: { url: ctx.serviceUrl, connections: 4, requests: [request], lazy: true }, notes: ['every request is a cache miss (a period never asked before)'] }
  },
  target: { informational: true, maxRssMb: 200 }
}
