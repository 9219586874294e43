// The demo seed's forecasts: 12 ISO weeks from the current one for every demo station, so the
// demo's replenishment and supplier demand show figures; the proposals computed on them hold
// together (every term present, packs respecting MOQ and multiple).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { sql } from 'kysely'
import { createDb, type DbHandle } from '../../../src/db/index.js'
import { seedDemo } from '../../../db/seed/demo.js'
import { FORECAST_WEEKS } from '../../../db/seed/steps/forecasts.js'
import { businessDate } from '../../../src/domains/contracts/pricing.service.js'
import { isoWeekOf, listDemand, weekKey } from '../../../src/domains/forecasts/forecasts.service.js'
import { computeReplenishment } from '../../../src/domains/forecasts/replenishment.service.js'
import { PLATFORM_ORGANIZATION_ID, type Actor } from '../../../src/lib/permissions.js'
import { createDatabaseFromTemplate } from '../../helpers/db.js'

let handle: DbHandle
beforeAll(async () => {
  const url = await createDatabaseFromTemplate(`${inject('dbPrefix')}_forecasts_seed`)
  handle = createDb({ connectionString: url, poolSize: 2, statementTimeoutMs: 60_000, connectTimeoutMs: 10_000 })
  await seedDemo(handle.db)
})
afterAll(async () => { await handle.destroy() })

const staff: Actor = { userId: '00000000-0000-7000-8000-0000000000ff', role: 'HANDLER', organizationId: PLATFORM_ORGANIZATION_ID, organizationKind: 'PLATFORM' }

describe('demo forecasts', () => {
  it('cover 12 weeks from the current one for every demo station', async () => {
    const db = handle.db
    const { rows } = await sql<{ code: string, articles: number, weeks: number, first: string }>`
      SELECT s.code, count(DISTINCT f.article_id)::int AS articles, count(DISTINCT (f.iso_year, f.iso_week))::int AS weeks,
             min(f.iso_year * 100 + f.iso_week)::text AS first
      FROM stations s JOIN forecasts f ON f.station_id = s.id GROUP BY s.code ORDER BY s.code`.execute(db)
    expect(rows.map(r => r.code)).toEqual(['ST-ANJOU', 'ST-AVIGNON', 'ST-CAVAILLON', 'ST-SAUMUR', 'ST-TOURS'])
    const now = isoWeekOf(businessDate())
    for (const r of rows) {
      expect(r.weeks).toBe(FORECAST_WEEKS)
      expect(r.articles).toBeGreaterThanOrEqual(4)
      expect(r.first).toBe(String(now.year * 100 + now.week))
    }
  })

  it('give every station proposals that show their working, and suppliers an aggregated demand', async () => {
    const db = handle.db
    const anjou = await db.selectFrom('stations').select('id').where('code', '=', 'ST-ANJOU').executeTakeFirstOrThrow()
    const r = await computeReplenishment(db, staff, anjou.id)
    expect(r.currentWeek).toBe(weekKey(isoWeekOf(businessDate())))
    const needed = r.items.filter(i => i.proposedPacks > 0)
    expect(needed.length).toBeGreaterThan(0)
    for (const i of needed) {
      expect(i.offer).not.toBeNull()
      expect(i.proposedPacks).toBeGreaterThanOrEqual(i.offer?.moqPacks ?? 1)
      expect(i.proposedPacks % (i.offer?.packMultiple ?? 1)).toBe(0)
      expect(i.proposedUnits).toBeGreaterThanOrEqual(i.rawNeedUnits)
      expect(i.rawNeedUnits).toBe(i.forecastUnits - i.onHandUnits - i.inboundPoUnits - i.inboundTransferUnits + i.safetyStockUnits)
    }
    const sup = await db.selectFrom('suppliers').select('id').where('name', 'ilike', '%plastiques%').executeTakeFirstOrThrow()
    const demand = await listDemand(db, staff, sup.id, { limit: 200 })
    expect(demand.items.length).toBeGreaterThan(0)
  })
})
