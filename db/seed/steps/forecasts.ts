// Demo forecasts: 12 ISO weeks from the current one for every demo station, over the articles
// each kind of station uses (trays and punnets in the Loire valley's soft fruit, crates and boxes
// in Provence), so GET …/replenishment and a supplier's GET …/demand show real figures. Units
// follow a gentle seasonal swell, deterministic (no randomness: the demo reads the same every
// time). Written through the forecasts service: one statement per station. Stations or articles
// missing from ctx.ids are skipped.
import type { SeedContext } from '../context.js'
import type { Db } from '../../../src/db/index.js'
import { PLATFORM_ORGANIZATION_ID, type Actor } from '../../../src/lib/permissions.js'
import { businessDate } from '../../../src/domains/contracts/pricing.service.js'
import { addWeeks, isoWeekOf, upsertForecasts } from '../../../src/domains/forecasts/forecasts.service.js'

export const FORECAST_WEEKS = 12

/** station code → [article code, base weekly units][] */
const PLANS: Record<string, Array<[string, number]>> = {
  'ST-ANJOU': [['BARQ-250-PET', 6000], ['BARQ-500-PET', 3000], ['PLAT-CART-30X40', 1200], ['CART-US-40X30', 250], ['FILM-ETIR-17', 24], ['ETIQ-THERM-100X150', 12]],
  'ST-SAUMUR': [['BARQ-125-PULPE', 4800], ['SAC-PE-5KG', 2000], ['PLAT-ALVEO-12', 900], ['FILM-ETIR-17', 12]],
  'ST-TOURS': [['BARQ-1KG-CART', 1600], ['SAC-KRAFT-1KG', 2500], ['CART-EXPED-POMME', 300], ['ETIQ-ORIGINE-FR', 10]],
  'ST-AVIGNON': [['CAG-BOIS-30X40', 750], ['CAG-BOIS-40X60', 360], ['CART-TELESC-60X40', 400], ['SAC-FILET-2KG', 3000], ['FILM-ETIR-23-MACH', 40]],
  'ST-CAVAILLON': [['CAG-BOIS-30X40', 500], ['PLAT-CART-40X60', 600], ['CAISSE-ISO-EPS-20L', 90], ['PLAQUE-EUTECT', 48], ['FEUILLARD-PP-12', 4]]
}

/** A swell over the 12 weeks (peaks mid-way), rounded to whole units. */
const SHAPE = [0.8, 0.85, 0.9, 1, 1.1, 1.2, 1.25, 1.2, 1.1, 1, 0.9, 0.85]

export async function seedForecasts (db: Db, ctx: SeedContext): Promise<void> {
  const userId = ctx.ids['user:HANDLER'] ?? ctx.ids['user:ADMIN']
  if (userId === undefined) return
  const actor: Actor = { userId, role: ctx.ids['user:HANDLER'] !== undefined ? 'HANDLER' : 'ADMIN', organizationId: PLATFORM_ORGANIZATION_ID, organizationKind: 'PLATFORM' }
  const first = isoWeekOf(businessDate())
  const weeks = Array.from({ length: FORECAST_WEEKS }, (_, i) => addWeeks(first, i))
  for (const [code, plan] of Object.entries(PLANS)) {
    const stationId = ctx.ids[`station:${code}`]
    if (stationId === undefined) continue
    const lines = plan.flatMap(([article, base]) => {
      const articleId = ctx.ids[`article:${article}`]
      if (articleId === undefined) return []
      return weeks.map((w, i) => ({ articleId, isoYear: w.year, isoWeek: w.week, units: Math.round(base * (SHAPE[i] ?? 1)) }))
    })
    if (lines.length > 0) await upsertForecasts(db, actor, stationId, lines)
  }
}
