// Demo catalog: ~25 French packaging articles in every category, offers from the four demo
// suppliers (some articles with two competing offers), one ACTIVE contract per main supplier for
// the current year (some lines capped), one DRAFT renewal for next year and one EXPIRED contract
// from last year. Ids go to ctx.ids: `article:<CODE>`, `offer:<CODE>:<supplierKey>`,
// `contract:<number>`, plus `contract:active:<supplierKey>` for the ordering seed.
import { sql } from 'kysely'
import type { SeedContext } from '../context.js'
import type { Db } from '../../../src/db/index.js'
import type { ArticleCategory } from '../../../src/db/schema.js'
import { stationPackPrice } from '../../../src/lib/money.js'

type SupplierKey = 'cartonnerie-du-val' | 'plastiques-de-l-ouest' | 'emballages-provence' | 'films-and-co'

interface DemoArticle {
  code: string
  name: string
  category: ArticleCategory
  material?: string
  dimensions?: string
  baseUnit?: string
  description?: string
  /** supplier → [pack label, units per pack, catalog pack price, moq packs, lead time days] */
  offers: Partial<Record<SupplierKey, [string, number, string, number, number]>>
}

const ARTICLES: DemoArticle[] = [
  { code: 'BARQ-250-PET', name: 'Barquette PET 250 g', category: 'TRAY', material: 'PET recyclé', dimensions: '137x98x45 mm', description: 'Barquette transparente pour fraises et tomates cerises', offers: { 'plastiques-de-l-ouest': ['carton de 1000', 1000, '48.0000', 5, 7], 'emballages-provence': ['carton de 1000', 1000, '51.5000', 2, 10] } },
  { code: 'BARQ-500-PET', name: 'Barquette PET 500 g', category: 'TRAY', material: 'PET recyclé', dimensions: '187x137x55 mm', offers: { 'plastiques-de-l-ouest': ['carton de 600', 600, '54.0000', 5, 7] } },
  { code: 'BARQ-1KG-CART', name: 'Barquette carton 1 kg', category: 'TRAY', material: 'Carton compact', dimensions: '240x160x70 mm', offers: { 'cartonnerie-du-val': ['paquet de 400', 400, '62.4000', 3, 5] } },
  { code: 'BARQ-125-PULPE', name: 'Barquette pulpe 125 g', category: 'TRAY', material: 'Pulpe de cellulose', description: 'Barquette compostable pour framboises', offers: { 'cartonnerie-du-val': ['carton de 1200', 1200, '71.0000', 2, 10] } },
  { code: 'CAG-BOIS-30X40', name: 'Cagette bois 30x40', category: 'CRATE', material: 'Peuplier', dimensions: '300x400x150 mm', offers: { 'emballages-provence': ['palette de 250', 250, '187.5000', 1, 14] } },
  { code: 'CAG-BOIS-40X60', name: 'Cagette bois 40x60', category: 'CRATE', material: 'Peuplier', dimensions: '400x600x180 mm', offers: { 'emballages-provence': ['palette de 180', 180, '171.0000', 1, 14] } },
  { code: 'CAG-PP-PLIABLE', name: 'Caisse plastique pliable 60x40', category: 'CRATE', material: 'Polypropylène', dimensions: '600x400x240 mm', offers: { 'plastiques-de-l-ouest': ['lot de 20', 20, '96.0000', 1, 21] } },
  { code: 'PLAT-CART-30X40', name: 'Plateau carton 30x40', category: 'PLATTER', material: 'Carton ondulé', dimensions: '300x400x90 mm', offers: { 'cartonnerie-du-val': ['paquet de 200', 200, '58.0000', 5, 5], 'emballages-provence': ['paquet de 200', 200, '60.2000', 2, 7] } },
  { code: 'PLAT-CART-40X60', name: 'Plateau carton 40x60', category: 'PLATTER', material: 'Carton ondulé', dimensions: '400x600x110 mm', offers: { 'cartonnerie-du-val': ['paquet de 150', 150, '67.5000', 5, 5] } },
  { code: 'PLAT-ALVEO-12', name: 'Plateau alvéolé 12 fruits', category: 'PLATTER', material: 'Pulpe moulée', offers: { 'cartonnerie-du-val': ['carton de 500', 500, '44.0000', 2, 10] } },
  { code: 'FILM-ETIR-17', name: 'Film étirable manuel 17 µm', category: 'FILM', material: 'LLDPE', dimensions: '450 mm x 300 m', baseUnit: 'roll', offers: { 'films-and-co': ['colis de 6 bobines', 6, '39.9000', 4, 3], 'plastiques-de-l-ouest': ['colis de 6 bobines', 6, '42.0000', 2, 7] } },
  { code: 'FILM-ETIR-23-MACH', name: 'Film étirable machine 23 µm', category: 'FILM', material: 'LLDPE', dimensions: '500 mm x 1500 m', baseUnit: 'roll', offers: { 'films-and-co': ['palette de 40 bobines', 40, '812.0000', 1, 5] } },
  { code: 'FILM-MICROPERF', name: 'Film micro-perforé fraîcheur', category: 'FILM', material: 'OPP', dimensions: '300 mm x 1000 m', baseUnit: 'roll', offers: { 'films-and-co': ['colis de 4 bobines', 4, '126.0000', 1, 5] } },
  { code: 'CART-US-40X30', name: 'Carton américain 40x30x30', category: 'CARDBOARD_BOX', material: 'Cannelure double', dimensions: '400x300x300 mm', offers: { 'cartonnerie-du-val': ['paquet de 25', 25, '21.2500', 10, 5] } },
  { code: 'CART-TELESC-60X40', name: 'Carton télescopique 60x40', category: 'CARDBOARD_BOX', material: 'Carton ondulé', dimensions: '600x400x160 mm', offers: { 'cartonnerie-du-val': ['paquet de 50', 50, '48.7500', 5, 7], 'emballages-provence': ['paquet de 50', 50, '47.9000', 10, 10] } },
  { code: 'CART-EXPED-POMME', name: 'Carton expédition pommes 18 kg', category: 'CARDBOARD_BOX', material: 'Carton ondulé', offers: { 'cartonnerie-du-val': ['paquet de 100', 100, '112.0000', 2, 7] } },
  { code: 'SAC-PE-5KG', name: 'Sac polyéthylène 5 kg', category: 'PLASTIC_BAG', material: 'PEBD', dimensions: '350x550 mm', offers: { 'plastiques-de-l-ouest': ['carton de 1000', 1000, '38.0000', 3, 7] } },
  { code: 'SAC-FILET-2KG', name: 'Sac filet 2 kg', category: 'PLASTIC_BAG', material: 'PEHD tressé', offers: { 'plastiques-de-l-ouest': ['balle de 2000', 2000, '64.0000', 1, 10], 'films-and-co': ['balle de 2000', 2000, '66.5000', 1, 5] } },
  { code: 'SAC-KRAFT-1KG', name: 'Sac kraft 1 kg', category: 'PAPER_BAG', material: 'Kraft brun 70 g', dimensions: '180x110x350 mm', offers: { 'cartonnerie-du-val': ['paquet de 500', 500, '29.9000', 4, 5] } },
  { code: 'SAC-KRAFT-FENETRE', name: 'Sac kraft à fenêtre 500 g', category: 'PAPER_BAG', material: 'Kraft blanc, fenêtre PLA', offers: { 'cartonnerie-du-val': ['paquet de 1000', 1000, '47.3000', 2, 7] } },
  { code: 'CAISSE-ISO-EPS-20L', name: 'Caisse isotherme EPS 20 L', category: 'INSULATED', material: 'Polystyrène expansé', dimensions: '400x300x250 mm', offers: { 'plastiques-de-l-ouest': ['lot de 30', 30, '84.0000', 1, 10] } },
  { code: 'PLAQUE-EUTECT', name: 'Plaque eutectique -3 °C', category: 'INSULATED', material: 'PEHD, gel', offers: { 'plastiques-de-l-ouest': ['carton de 24', 24, '57.6000', 1, 10] } },
  { code: 'ETIQ-THERM-100X150', name: 'Étiquette thermique 100x150', category: 'LABEL', dimensions: '100x150 mm', baseUnit: 'roll', description: 'Rouleau de 500 étiquettes pour traçabilité palette', offers: { 'films-and-co': ['carton de 12 rouleaux', 12, '58.8000', 2, 3] } },
  { code: 'ETIQ-ORIGINE-FR', name: 'Étiquette « Origine France »', category: 'LABEL', dimensions: 'Ø 30 mm', baseUnit: 'roll', offers: { 'films-and-co': ['carton de 10 rouleaux', 10, '33.0000', 1, 5] } },
  { code: 'COIN-PALETTE', name: 'Cornière de palette carton', category: 'OTHER', material: 'Carton compact', dimensions: '35x35x1000 mm', offers: { 'cartonnerie-du-val': ['botte de 100', 100, '46.0000', 2, 5] } },
  { code: 'FEUILLARD-PP-12', name: 'Feuillard polypropylène 12 mm', category: 'OTHER', material: 'PP', baseUnit: 'roll', offers: { 'films-and-co': ['carton de 2 rouleaux', 2, '37.4000', 1, 3] } }
]

/** ACTIVE contracts for the current year: supplier → [article code, pack price, committed packs | null, allowance %][] */
const ACTIVE: Partial<Record<SupplierKey, Array<[string, string, number | null, string]>>> = {
  'cartonnerie-du-val': [['PLAT-CART-30X40', '55.5000', 400, '5.00'], ['CART-US-40X30', '20.1000', null, '0'], ['SAC-KRAFT-1KG', '28.4000', 250, '10.00'], ['BARQ-1KG-CART', '59.9000', null, '0']],
  'plastiques-de-l-ouest': [['BARQ-250-PET', '45.6000', 600, '5.00'], ['BARQ-500-PET', '51.3000', 500, '0'], ['SAC-PE-5KG', '36.1000', null, '0']],
  'films-and-co': [['FILM-ETIR-17', '37.9000', 300, '10.00'], ['ETIQ-THERM-100X150', '55.8000', null, '0']]
}

export async function seedCatalog (db: Db, ctx: SeedContext): Promise<void> {
  const supplierIds = new Map<SupplierKey, string>()
  for (const key of ['cartonnerie-du-val', 'plastiques-de-l-ouest', 'emballages-provence', 'films-and-co'] as const) {
    const id = ctx.ids[`supplier:${key}`]
    if (id !== undefined) supplierIds.set(key, id)
  }

  for (const a of ARTICLES) {
    const row = await db.insertInto('articles').values({
      code: a.code, name: a.name, description: a.description ?? null, category: a.category, baseUnit: a.baseUnit ?? 'piece', material: a.material ?? null, dimensions: a.dimensions ?? null, vatRate: '20.00'
    }).returning('id').executeTakeFirstOrThrow()
    ctx.ids[`article:${a.code}`] = row.id
    for (const [key, offer] of Object.entries(a.offers) as Array<[SupplierKey, [string, number, string, number, number]]>) {
      const supplierId = supplierIds.get(key)
      if (supplierId === undefined) continue
      const [packLabel, unitsPerPack, catalogPackPrice, moqPacks, leadTimeDays] = offer
      const o = await db.insertInto('offers').values({
        articleId: row.id, supplierId, supplierRef: `${key.slice(0, 3).toUpperCase()}-${a.code}`.slice(0, 64), packLabel, unitsPerPack, catalogPackPrice, moqPacks, packMultiple: 1, leadTimeDays
      }).returning('id').executeTakeFirstOrThrow()
      ctx.ids[`offer:${a.code}:${key}`] = o.id
    }
  }

  const creator = ctx.ids['user:MANAGER']
  const approver = ctx.ids['user:ADMIN']
  if (creator === undefined || approver === undefined) return
  const year = new Date().getUTCFullYear()

  const insertContract = async (key: SupplierKey, supplierId: string, status: 'ACTIVE' | 'DRAFT' | 'EXPIRED', y: number, lines: Array<[string, string, number | null, string]>, renewedFromId: string | null = null): Promise<string> => {
    const seq = await sql<{ n: string }>`SELECT nextval('contract_number_seq')::text AS n`.execute(db)
    const number = `CT-${year}-${(seq.rows[0]?.n ?? '0').padStart(4, '0')}`
    const c = await db.insertInto('contracts').values({
      number,
      supplierId,
      name: `Accord cadre ${y} — ${key}`,
      kind: 'ANNUAL',
      status,
      validFrom: `${y}-01-01`,
      validUntil: `${y}-12-31`,
      feePct: '8.00',
      paymentTerms: '45 jours fin de mois',
      deliverySlaDays: 7,
      notes: null,
      createdBy: creator,
      approvedBy: status === 'DRAFT' ? null : approver,
      approvedAt: status === 'DRAFT' ? null : new Date(`${y}-01-01T08:00:00Z`),
      renewedFromId,
      statusReason: status === 'EXPIRED' ? `validity ended on ${y}-12-31` : null
    }).returning('id').executeTakeFirstOrThrow()
    const rows = lines.flatMap(([code, packPrice, committedPacks, allowancePct]) => {
      const articleId = ctx.ids[`article:${code}`]
      return articleId === undefined ? [] : [{ contractId: c.id, articleId, supplierId, packPrice, committedPacks, allowancePct }]
    })
    if (rows.length > 0) await db.insertInto('contractLines').values(rows).execute()
    ctx.ids[`contract:${number}`] = c.id
    return c.id
  }

  for (const [key, lines] of Object.entries(ACTIVE) as Array<[SupplierKey, Array<[string, string, number | null, string]>]>) {
    const supplierId = supplierIds.get(key)
    if (supplierId === undefined) continue
    const active = await insertContract(key, supplierId, 'ACTIVE', year, lines)
    ctx.ids[`contract:active:${key}`] = active
    if (key === 'cartonnerie-du-val') {
      // next year's renewal, waiting for approval (prices up 3 %, exact decimal arithmetic)
      const draft = await insertContract(key, supplierId, 'DRAFT', year + 1, lines.map(([c, p, q, a]) => [c, stationPackPrice(p, '3.00'), q, a]), active)
      ctx.ids[`contract:draft:${key}`] = draft
    }
  }
  const provence = supplierIds.get('emballages-provence')
  if (provence !== undefined) {
    ctx.ids['contract:expired:emballages-provence'] = await insertContract('emballages-provence', provence, 'EXPIRED', year - 1, [['CAG-BOIS-30X40', '179.0000', 200, '0'], ['CAG-BOIS-40X60', '165.0000', null, '0']])
  }
}
