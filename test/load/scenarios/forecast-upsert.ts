// Bulk forecast publication: PUT /v1/stations/{id}/forecasts with 1 000 lines (250 articles × 4
// ISO weeks) per request, as platform staff for the dataset's stations in turn. Consecutive
// requests write disjoint line sets (station × article block × week block), so concurrent
// requests do not queue on each other's rows, and every cycle flips the units so each line is a
// real update (an unchanged line is not written at all). Setup EXPLAINs the service's own upsert
// statement (custom and generic plans): a sequential scan of a big table fails the scenario.
// Measured at 8 connections.
import type autocannon from 'autocannon'
import { bearer, json } from '../lib/helpers.js'
import { checkPlan, compiled } from '../lib/plan.js'
import type { Scenario } from '../lib/types.js'
import { addWeeks, upsertStatement, type IsoWeek } from '../../../src/domains/forecasts/forecasts.service.js'

const ARTICLES_PER_REQUEST = 250
const WEEKS_PER_REQUEST = 4
const WEEK_BLOCKS = 13
/** forecasts for 2027 onwards: the replenishment scenario reads from the current week */
const FIRST_WEEK: IsoWeek = { year: 2027, week: 1 }

export const scenario: Scenario = {
  name: 'forecast-upsert',
  description: `PUT /v1/stations/{id}/forecasts, ${ARTICLES_PER_REQUEST * WEEKS_PER_REQUEST} lines per request (${ARTICLES_PER_REQUEST} articles × ${WEEKS_PER_REQUEST} weeks), as a HANDLER, 8 connections`,
  order: 46,
  async setup (ctx) {
    const token = await ctx.token('HANDLER')
    const stations = (await ctx.pool.query("SELECT id FROM stations WHERE code LIKE 'ST-%' AND id <> $1 ORDER BY code LIMIT 20", [ctx.users.STATION.organizationId])).rows.map(r => (r as { id: string }).id)
    const articles = (await ctx.pool.query("SELECT id FROM articles WHERE code LIKE 'ART-%' ORDER BY code LIMIT $1", [ARTICLES_PER_REQUEST * 4])).rows.map(r => (r as { id: string }).id)
    const blocks = Math.floor(articles.length / ARTICLES_PER_REQUEST)
    if (stations.length === 0 || blocks === 0) throw new Error('forecast-upsert: not enough stations or articles in the dataset')
    const weeks = Array.from({ length: WEEKS_PER_REQUEST * WEEK_BLOCKS }, (_, i) => addWeeks(FIRST_WEEK, i))
    // line set s = (station, article block, week block); two bodies per set (units u and u + 1)
    const sets = stations.length * blocks * WEEK_BLOCKS
    const bodies: Array<[string, string, string]> = []
    for (let s = 0; s < sets; s++) {
      const station = stations[s % stations.length] as string
      const block = Math.floor(s / stations.length) % blocks
      const wb = Math.floor(s / (stations.length * blocks)) % WEEK_BLOCKS
      const body = (flip: number): string => JSON.stringify({
        lines: articles.slice(block * ARTICLES_PER_REQUEST, (block + 1) * ARTICLES_PER_REQUEST).flatMap((articleId, a) =>
          weeks.slice(wb * WEEKS_PER_REQUEST, (wb + 1) * WEEKS_PER_REQUEST).map((w, k) => ({ articleId, isoYear: w.year, isoWeek: w.week, units: 100 + ((a * 7 + k * 3) % 500) + flip })))
      })
      bodies.push([`/v1/stations/${station}/forecasts`, body(0), body(1)])
    }
    const first = bodies[0] as [string, string, string]
    await ctx.requireEndpoint('PUT', first[0], { token, body: JSON.parse(first[1]) as unknown, headers: json })
    const plan = await checkPlan(ctx.pool, 'forecast upsert', compiled(upsertStatement(stations[0] as string, ctx.users.HANDLER.id, (JSON.parse(first[1]) as { lines: Array<{ articleId: string, isoYear: number, isoWeek: number, units: number }> }).lines)))
    if (plan.violations.length > 0) throw new Error(`forecast upsert statement: ${plan.violations.join('; ')}`)
    let i = 0
    const req = {
      method: 'PUT',
      path: first[0],
      headers: { ...json, ...bearer(token) },
      setupRequest: (r: autocannon.Request) => {
        const k = i++
        const [path, a, b] = bodies[k % bodies.length] as [string, string, string]
        // the first pass flips to b (a was written by the probe for set 0), then alternates
        return { ...r, path, body: Math.floor(k / bodies.length) % 2 === 0 ? b : a }
      }
    } as autocannon.Request
    return {
      load: { url: ctx.serviceUrl, connections: 8, warmup: false, requests: [req] },
      notes: [`${sets} disjoint line sets of ${ARTICLES_PER_REQUEST * WEEKS_PER_REQUEST} lines over ${stations.length} stations`, ...plan.notes]
    }
  },
  target: { maxP99Ms: 250, maxRssMb: 200 }
}
