// Replenishment proposals for the bench station (the biggest: a stock level for 2 000 articles on
// the standard and large datasets, every article on small), every term of every article, as the
// station itself: GET /v1/stations/{id}/replenishment?horizonWeeks=4. Setup (unmeasured) publishes
// 12 weeks of forecasts from the current ISO week for all of its articles through the API (the
// dataset's forecasts start at its fixed anchor date), then EXPLAINs the service's own terms
// statement (custom and generic plans): a sequential scan of a big table fails the scenario.
// A heavy, occasional request (a buyer's screen), measured at 4 connections: p99 ≤ 100 ms.
import { bearer, json, rotatingGet } from '../lib/helpers.js'
import { checkPlan } from '../lib/plan.js'
import type { Scenario } from '../lib/types.js'
import { businessDate } from '../../../src/domains/contracts/pricing.service.js'
import { forecastWeeks, termsStatement } from '../../../src/domains/forecasts/replenishment.service.js'

const HORIZON = 4
const WEEKS = 12
const CHUNK = 5000

export const scenario: Scenario = {
  name: 'replenishment',
  description: `GET /v1/stations/{id}/replenishment?horizonWeeks=${HORIZON} for the biggest station (every article it stocks), as the station, 4 connections`,
  order: 45,
  async setup (ctx) {
    const token = await ctx.token('STATION')
    const stationId = ctx.users.STATION.organizationId
    const path = `/v1/stations/${stationId}/replenishment?horizonWeeks=${HORIZON}`
    await ctx.requireEndpoint('GET', path, { token })
    const articles = (await ctx.pool.query('SELECT article_id FROM stock_levels WHERE station_id = $1 ORDER BY article_id', [stationId])).rows.map(r => (r as { article_id: string }).article_id)
    const today = businessDate()
    const weeks = forecastWeeks(today, HORIZON).slice(0, WEEKS)
    const lines = articles.flatMap((articleId, i) => weeks.map((w, k) => ({ articleId, isoYear: w.year, isoWeek: w.week, units: 10 + ((i * 37 + k * 11) % 400) })))
    for (let i = 0; i < lines.length; i += CHUNK) {
      const r = await ctx.api('PUT', `/v1/stations/${stationId}/forecasts`, { token, body: { lines: lines.slice(i, i + CHUNK) }, headers: json })
      if (r.status !== 200) throw new Error(`publishing the forecasts answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`)
    }
    const plan = await checkPlan(ctx.pool, 'replenishment terms', termsStatement(stationId, forecastWeeks(today, HORIZON), undefined))
    if (plan.violations.length > 0) throw new Error(`replenishment terms statement: ${plan.violations.join('; ')}`)
    const probe = await ctx.api('GET', path, { token })
    if (probe.status !== 200) throw new Error(`replenishment answered ${probe.status}`)
    const items = probe.body.items as Array<{ proposedPacks: number, forecastUnits: number, inboundPoUnits: number }>
    const bytes = JSON.stringify(probe.body).length
    return {
      load: { url: ctx.serviceUrl, connections: 4, requests: [rotatingGet([path], bearer(token))] },
      notes: [
        `${articles.length} articles stocked, ${lines.length} forecast lines published (${weeks.length} weeks from ${today})`,
        `answer: ${items.length} items (${items.filter(i => i.proposedPacks > 0).length} with a proposal, ${items.filter(i => i.inboundPoUnits > 0).length} with inbound POs), ${Math.round(bytes / 1024)} KiB`,
        ...plan.notes
      ]
    }
  },
  target: { maxP99Ms: 100, maxRssMb: 200 }
}
