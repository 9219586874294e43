// Migration 0016: a forecast's ISO week exists — week 53 only in the ISO years that have one
// (those whose 28 December falls in week 53: 2020, 2026, 2032 …) — enforced by the database
// (forecasts_iso_week_exists) as well as by the upsert (422 ISO_WEEK_OUT_OF_RANGE before any
// statement, test/domains/forecasts/forecasts.test.ts). No row should violate it: every forecast
// went through that check. On a database where one does (written by hand, an import) the migration
// changes no row: the constraint stays NOT VALID (every new write is still checked) with a
// process warning.
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { sql } from 'kysely'
import { createDb, type DbHandle } from '../../src/db/index.js'
import { isoWeeksInYear } from '../../src/domains/forecasts/forecasts.service.js'
import { down, up } from '../../db/migrations/0016-forecast-iso-week.js'
import { createDatabaseFromTemplate } from '../helpers/db.js'
import { createArticle, createStation } from '../helpers/factories.js'

let h: DbHandle
let station: string
let article: string
beforeAll(async () => {
  const url = await createDatabaseFromTemplate(`${inject('dbPrefix')}_forecast_week`)
  h = createDb({ connectionString: url, poolSize: 2, statementTimeoutMs: 30_000, connectTimeoutMs: 10_000 })
  station = (await createStation(h.db)).id
  article = (await createArticle(h.db)).id
})
afterAll(async () => { await h.destroy() })

const insert = async (year: number, week: number, units = 5): Promise<unknown> => await sql`
  INSERT INTO forecasts (station_id, article_id, iso_year, iso_week, units) VALUES (${station}::uuid, ${article}::uuid, ${year}, ${week}, ${units})
  ON CONFLICT (station_id, article_id, iso_year, iso_week) DO UPDATE SET units = EXCLUDED.units`.execute(h.db)

async function valid (): Promise<boolean[]> {
  const { rows } = await sql<{ valid: boolean }>`SELECT convalidated AS valid FROM pg_constraint WHERE conname = 'forecasts_iso_week_exists'`.execute(h.db)
  return rows.map(r => r.valid)
}

describe('migration 0016 (a forecast\'s ISO week exists)', () => {
  it('the database agrees with the service on every year of the column\'s range: week 53 where the year has one, never elsewhere', async () => {
    const { rows } = await sql<{ year: number, weeks: number }>`
      SELECT y AS year, CASE WHEN extract(week FROM make_date(y, 12, 28)) = 53 THEN 53 ELSE 52 END AS weeks FROM generate_series(2000, 2999) AS y`.execute(h.db)
    expect(rows.filter(r => r.weeks !== isoWeeksInYear(r.year))).toEqual([])
    await insert(2026, 53)
    await insert(2020, 53)
    await insert(2025, 52)
    await insert(2025, 1)
    await expect(insert(2025, 53)).rejects.toThrow(/forecasts_iso_week_exists/)
    await expect(insert(2027, 53)).rejects.toThrow(/forecasts_iso_week_exists/)
    await expect(sql`UPDATE forecasts SET iso_year = 2025 WHERE station_id = ${station}::uuid AND iso_year = 2026 AND iso_week = 53`.execute(h.db)).rejects.toThrow(/forecasts_iso_week_exists/)
    const { rows: kept } = await sql<{ y: number, w: number }>`SELECT iso_year AS y, iso_week AS w FROM forecasts WHERE station_id = ${station}::uuid ORDER BY 1, 2`.execute(h.db)
    expect(kept).toEqual([{ y: 2020, w: 53 }, { y: 2025, w: 1 }, { y: 2025, w: 52 }, { y: 2026, w: 53 }])
    expect(await valid()).toEqual([true])
  })

  it('over a row that violates it: changes no row, stays NOT VALID yet enforced on new writes, with a warning; VALIDATE completes it once cleaned', async () => {
    await down(h.db)
    expect(await valid()).toEqual([])
    await insert(2021, 53, 9)
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    await up(h.db)
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^forecasts_iso_week_exists stays NOT VALID/), { code: 'FORECAST_ISO_WEEK_NOT_VALID' })
    warn.mockRestore()
    expect(await valid()).toEqual([false])
    const { rows } = await sql<{ units: number }>`SELECT units FROM forecasts WHERE station_id = ${station}::uuid AND iso_year = 2021 AND iso_week = 53`.execute(h.db)
    expect(rows).toEqual([{ units: 9 }])
    await expect(insert(2022, 53)).rejects.toThrow(/forecasts_iso_week_exists/)
    await sql`DELETE FROM forecasts WHERE station_id = ${station}::uuid AND iso_year = 2021 AND iso_week = 53`.execute(h.db)
    await sql`ALTER TABLE forecasts VALIDATE CONSTRAINT forecasts_iso_week_exists`.execute(h.db)
    expect(await valid()).toEqual([true])
  })

  it('on a database without such rows it warns about nothing', async () => {
    await down(h.db)
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    await up(h.db)
    expect(warn).not.toHaveBeenCalled()
    warn.mockRestore()
    expect(await valid()).toEqual([true])
  })
})
