// Replenishment proposals for the bench station (the biggest: a stock level for at least 2 000
// articles — every article (500) on small, ≈ 4 850 of 5 000 on standard), as the station itself:
// GET /v1/stations/{id}/replenishment?horizonWeeks=4&limit=200, the requests rotating over every
// page of the list (cursors collected in setup), so the requests read the whole list in turn,
// every term of every article. Setup (unmeasured) publishes 12 weeks of forecasts from the
// current ISO week for all of its articles through the API (the dataset's forecasts start at its
// fixed anchor date), then EXPLAINs the service's own terms statement (custom and generic plans;
// both ways of finding the page — walking the catalog, collecting the station's articles — are in
// it, one of them cut off at run time): a sequential scan of a big table fails the scenario. A
// heavy, occasional request (a buyer's screen), measured at 4 connections: p99 ≤ 100 ms per page.
import type pg from 'pg'
import { bearer, json, rotatingGet } from '../lib/helpers.js'
import { checkPlan, literalOf } from '../lib/plan.js'
import type { Scenario } from '../lib/types.js'
import { businessDate } from '../../../src/domains/contracts/pricing.service.js'
import { forecastWeeks, termsStatement } from '../../../src/domains/forecasts/replenishment.service.js'

const HORIZON = 4
const WEEKS = 12
const CHUNK = 5000
const PAGE = 200

/** Buffers and rows (Σ over the plan's nodes) of one execution as the generic plan: meaningful even on a loaded machine. */
async function pageWork (pool: pg.Pool, statement: { sql: string, parameters: readonly unknown[] }): Promise<{ buffers: number, rows: number }> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query('SET LOCAL plan_cache_mode = force_generic_plan')
    await client.query(`PREPARE replenishment_work AS ${statement.sql}`)
    const args = statement.parameters.map(literalOf).join(', ')
    const r = await client.query(`EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) EXECUTE replenishment_work(${args})`)
    await client.query('DEALLOCATE replenishment_work')
    await client.query('ROLLBACK')
    interface Node { 'Actual Rows': number, 'Actual Loops': number, 'Shared Hit Blocks': number, 'Shared Read Blocks': number, Plans?: Node[] }
    const plan = ((r.rows[0] as { 'QUERY PLAN': Array<{ Plan: Node }> })['QUERY PLAN'][0] as { Plan: Node }).Plan
    const rows = (n: Node): number => n['Actual Rows'] * n['Actual Loops'] + (n.Plans ?? []).reduce((a, c) => a + rows(c), 0)
    return { buffers: plan['Shared Hit Blocks'] + plan['Shared Read Blocks'], rows: rows(plan) }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    await client.query('DEALLOCATE replenishment_work').catch(() => {}) // prepared statements outlive a rollback
    throw err
  } finally {
    client.release()
  }
}

export const scenario: Scenario = {
  name: 'replenishment',
  description: `GET /v1/stations/{id}/replenishment?horizonWeeks=${HORIZON}&limit=${PAGE}, every page of the biggest station's list in turn, as the station, 4 connections`,
  order: 45,
  async setup (ctx) {
    const token = await ctx.token('STATION')
    const stationId = ctx.users.STATION.organizationId
    const base = `/v1/stations/${stationId}/replenishment?horizonWeeks=${HORIZON}&limit=${PAGE}`
    await ctx.requireEndpoint('GET', base, { token })
    const articles = (await ctx.pool.query('SELECT article_id FROM stock_levels WHERE station_id = $1 ORDER BY article_id', [stationId])).rows.map(r => (r as { article_id: string }).article_id)
    const today = businessDate()
    const weeks = forecastWeeks(today, HORIZON).slice(0, WEEKS)
    const lines = articles.flatMap((articleId, i) => weeks.map((w, k) => ({ articleId, isoYear: w.year, isoWeek: w.week, units: 10 + ((i * 37 + k * 11) % 400) })))
    for (let i = 0; i < lines.length; i += CHUNK) {
      const r = await ctx.api('PUT', `/v1/stations/${stationId}/forecasts`, { token, body: { lines: lines.slice(i, i + CHUNK) }, headers: json })
      if (r.status !== 200) throw new Error(`publishing the forecasts answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`)
    }
    const plan = await checkPlan(ctx.pool, 'replenishment terms', termsStatement(stationId, { today, horizonWeeks: HORIZON, limit: PAGE + 1 }))
    if (plan.violations.length > 0) throw new Error(`replenishment terms statement: ${plan.violations.join('; ')}`)
    const work = await pageWork(ctx.pool, termsStatement(stationId, { today, horizonWeeks: HORIZON, limit: PAGE + 1 }))
    // every page's path, following nextCursor
    const paths: string[] = []
    let items = 0
    let proposals = 0
    let bytes = 0
    let cursor: string | null = null
    for (let guard = 0; guard < 1000; guard++) {
      const path: string = `${base}${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
      const r = await ctx.api('GET', path, { token })
      if (r.status !== 200) throw new Error(`replenishment answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`)
      paths.push(path)
      const page = r.body.items as Array<{ proposedPacks: number }>
      items += page.length
      proposals += page.filter(i => i.proposedPacks > 0).length
      bytes += JSON.stringify(r.body).length
      cursor = r.body.nextCursor as string | null
      if (cursor === null) break
    }
    return {
      load: { url: ctx.serviceUrl, connections: 4, requests: [rotatingGet(paths, bearer(token))] },
      notes: [
        `${articles.length} articles stocked, ${lines.length} forecast lines published (${weeks.length} weeks from ${today})`,
        `the list: ${items} items in ${paths.length} pages of ≤ ${PAGE} (${proposals} with a proposal), ${Math.round(bytes / 1024 / paths.length)} KiB per page`,
        ...plan.notes,
        `the first page's terms statement, generic plan, EXPLAIN ANALYZE: ${work.buffers} buffers, ${work.rows} rows over its nodes (what it reads grows with the page, not with the station: the whole forecast window is never read)`
      ]
    }
  },
  target: { maxP99Ms: 100, maxRssMb: 200 }
}
