// Demo stock: an opening inventory count at every demo station over the articles it uses, then
// alert / critical thresholds so the stock list and GET /v1/stock/alerts show every state — fine,
// LOW, CRITICAL and OUT — and a week's consumption and a breakage so the ledger has more than
// counts. Everything goes through the stock services (counts, consumptions, adjustments,
// thresholds), so Σ movements = quantity holds and the thresholds that make a level low emit
// their stock.low events. Deterministic; stations or articles missing from ctx.ids are skipped.
// Runs after the orders step: the count sets the quantities whatever the receipts brought.
import type { SeedContext } from '../context.js'
import type { Db } from '../../../src/db/index.js'
import { PLATFORM_ORGANIZATION_ID, type Actor } from '../../../src/lib/permissions.js'
import { adjustStock, consumeStock, countStock, setThresholds } from '../../../src/domains/stock/stock.writes.js'

/** station code → [article code, counted, alert threshold, critical threshold][] (state after the count in the comment) */
const LEVELS: Record<string, Array<[string, number, number, number]>> = {
  'ST-ANJOU': [
    ['BARQ-250-PET', 42000, 15000, 6000],
    ['BARQ-500-PET', 2400, 6000, 3000], // critical
    ['PLAT-CART-30X40', 5200, 2500, 1000],
    ['CART-US-40X30', 180, 250, 100], // low
    ['FILM-ETIR-17', 0, 24, 12], // out
    ['ETIQ-THERM-100X150', 30, 12, 6]
  ],
  'ST-SAUMUR': [
    ['BARQ-125-PULPE', 9600, 4800, 2400],
    ['SAC-PE-5KG', 1500, 2000, 1000], // low
    ['PLAT-ALVEO-12', 400, 900, 450], // critical
    ['FILM-ETIR-17', 36, 12, 6]
  ],
  'ST-TOURS': [
    ['BARQ-1KG-CART', 3200, 1600, 800],
    ['SAC-KRAFT-1KG', 0, 2500, 1000], // out
    ['CART-EXPED-POMME', 650, 300, 150],
    ['ETIQ-ORIGINE-FR', 8, 10, 5] // low
  ],
  'ST-AVIGNON': [
    ['CAG-BOIS-30X40', 1500, 750, 300],
    ['CAG-BOIS-40X60', 200, 360, 180], // low
    ['CART-TELESC-60X40', 900, 400, 200],
    ['SAC-FILET-2KG', 2000, 3000, 1500], // low
    ['FILM-ETIR-23-MACH', 0, 40, 20] // out
  ],
  'ST-CAVAILLON': [
    ['CAG-BOIS-30X40', 100, 500, 250], // critical
    ['PLAT-CART-40X60', 1800, 600, 300],
    ['CAISSE-ISO-EPS-20L', 240, 90, 45],
    ['PLAQUE-EUTECT', 30, 48, 24], // low
    ['FEUILLARD-PP-12', 10, 4, 2]
  ]
}

/** After the count: station code → [article code, units consumed] (none crosses a threshold). */
const CONSUMED: Record<string, Array<[string, number]>> = {
  'ST-ANJOU': [['BARQ-250-PET', 6000], ['PLAT-CART-30X40', 1200]],
  'ST-AVIGNON': [['CAG-BOIS-30X40', 350]]
}

/** After the count: station code → [article code, signed delta] for the breakage adjustment. */
const BROKEN: Record<string, Array<[string, number]>> = {
  'ST-SAUMUR': [['PLAT-ALVEO-12', -50]]
}

export async function seedStock (db: Db, ctx: SeedContext): Promise<void> {
  const userId = ctx.ids['user:HANDLER'] ?? ctx.ids['user:ADMIN']
  if (userId === undefined) return
  const actor: Actor = { userId, role: ctx.ids['user:HANDLER'] !== undefined ? 'HANDLER' : 'ADMIN', organizationId: PLATFORM_ORGANIZATION_ID, organizationKind: 'PLATFORM' }
  const article = (code: string): string | undefined => ctx.ids[`article:${code}`]
  for (const [code, levels] of Object.entries(LEVELS)) {
    const stationId = ctx.ids[`station:${code}`]
    if (stationId === undefined) continue
    const known = levels.flatMap(([a, counted, alert, critical]) => {
      const articleId = article(a)
      return articleId === undefined ? [] : [{ articleId, counted, alert, critical }]
    })
    if (known.length === 0) continue
    await countStock(db, actor, stationId, { note: 'Inventaire d\'ouverture', lines: known.map(l => ({ articleId: l.articleId, counted: l.counted })) })
    for (const l of known) await setThresholds(db, actor, stationId, l.articleId, { alertThreshold: l.alert, criticalThreshold: l.critical }, undefined)
    const consumed = (CONSUMED[code] ?? []).flatMap(([a, units]) => { const articleId = article(a); return articleId === undefined ? [] : [{ articleId, units }] })
    if (consumed.length > 0) await consumeStock(db, actor, stationId, { note: 'Semaine en cours', lines: consumed })
    const broken = (BROKEN[code] ?? []).flatMap(([a, delta]) => { const articleId = article(a); return articleId === undefined ? [] : [{ articleId, delta }] })
    if (broken.length > 0) await adjustStock(db, actor, stationId, { reason: 'Casse au déchargement', note: null, lines: broken })
  }
}
