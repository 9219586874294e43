// Every report over one year as the bench station (the biggest: about 30 % of the orders), in
// rotation: spend in each grouping and basis, supplier performance, its share of the contract
// lines, its dashboard. As reports-platform: plans checked and cold timings taken in setup, the
// measured run served from the report cache.
import { bearer, rotatingGet } from '../lib/helpers.js'
import type { Scenario } from '../lib/types.js'
import { checkReportPlans, coldTimings, reportPaths } from './reports-common.js'

export const scenario: Scenario = {
  name: 'reports-station',
  description: 'GET /v1/reports/* (spend ×10, supplier performance, contract utilization, dashboard) over one year, the biggest station, rotating',
  order: 49,
  async setup (ctx) {
    const token = await ctx.token('STATION')
    const paths = reportPaths()
    // a refused query (400) proves the route exists without computing, and caching, a report
    await ctx.requireEndpoint('GET', '/v1/reports/spend?groupBy=none', { token })
    const plans = await checkReportPlans(ctx, { audience: 'station', stationId: ctx.users.STATION.organizationId, supplierId: null })
    const cold = await coldTimings(ctx, token, paths)
    return {
      // as a browser asks: the reports' JSON is kept gzip-compressed with each cache entry
      load: { url: ctx.serviceUrl, requests: [rotatingGet(paths, { ...bearer(token), 'accept-encoding': 'gzip' })] },
      notes: [...plans, 'cold (computed, first request of each report):', ...cold]
    }
  },
  target: { maxP99Ms: 200, maxRssMb: 200 }
}
