// Every report over one year of the dataset as platform staff (a MANAGER): spend in each grouping
// and basis, supplier performance, contract utilization, the dashboard, in rotation. Setup
// (unmeasured) EXPLAINs every statement these reports run (custom and generic plans; a sequential
// scan of a big table fails the scenario) and requests each report once, cold — those timings are
// the notes: what a report costs when it is computed. The measured run then answers from the
// report cache, as long as nothing changes (no writes run beside it): the version check, the
// cached body, the 50 connections.
import { bearer, rotatingGet } from '../lib/helpers.js'
import type { Scenario } from '../lib/types.js'
import { checkReportPlans, coldTimings, reportPaths } from './reports-common.js'

export const scenario: Scenario = {
  name: 'reports-platform',
  description: 'GET /v1/reports/* (spend ×10, supplier performance, contract utilization, dashboard) over one year, platform staff, rotating',
  order: 48,
  async setup (ctx) {
    const token = await ctx.token('MANAGER')
    const paths = reportPaths()
    // a refused query (400) proves the route exists without computing, and caching, a report
    await ctx.requireEndpoint('GET', '/v1/reports/spend?groupBy=none', { token })
    const plans = await checkReportPlans(ctx, { audience: 'platform', stationId: null, supplierId: null })
    const cold = await coldTimings(ctx, token, paths)
    return {
      // as a browser asks: the reports' JSON is kept gzip-compressed with each cache entry
      load: { url: ctx.serviceUrl, requests: [rotatingGet(paths, { ...bearer(token), 'accept-encoding': 'gzip' })] },
      notes: [...plans, 'cold (computed, first request of each report):', ...cold]
    }
  },
  target: { maxP99Ms: 200, maxRssMb: 200 }
}
