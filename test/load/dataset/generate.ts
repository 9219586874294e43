// The benchmark dataset, written straight into the real schema (after the real migrations).
//
// Reproducible from a seed: dimension rows (stations, suppliers, articles, offers, contracts,
// users, master orders and purchase-order headers) are drawn in TypeScript with mulberry32 and sent
// as arrays through `unnest`; the big fact rows (order lines, status events, stock movements) are
// derived in SQL from deterministic hashes (hashint8extended(index, seed)), so the same seed gives
// the same rows whatever the order PostgreSQL evaluates them in. Ids are deterministic too
// (md5(seed:kind:index) shaped as a v4 UUID), so scenarios can find rows without scanning.
//
// Fast: set-based INSERT … SELECT over generate_series in chunks, secondary indexes of the big
// tables dropped during the load and rebuilt afterwards, and `session_replication_role = replica`
// while loading (skips FK triggers — the generator only references rows it created — and lets the
// carts ↔ master_orders reference cycle be written in one pass). CHECK constraints still apply.
//
// Consistency kept on purpose: role ↔ organization kind; every PO's totals are the sums of its
// lines (VAT per rate bucket, as src/lib/money.ts documentTotals); master-order totals are the sums
// of their POs; contract lines' ordered_packs = Σ packs of non-cancelled/declined lines priced on
// them, under a cap with headroom; stock level = Σ stock movements, never negative on the way;
// at most one OPEN cart per station; status histories follow the workflow.
import { createHash } from 'node:crypto'
import type pg from 'pg'
import { cumulative, mulberry32, streamSeed, weightedIndex, type Rng } from '../lib/prng.js'
import { createProgress } from '../lib/progress.js'

export type Scale = 'small' | 'standard' | 'large'

export interface ScaleSizes {
  stations: number
  suppliers: number
  articles: number
  offers: number
  contracts: number
  purchaseOrders: number
  linesPerPo: number
  stockMovements: number
}

export const SCALES: Record<Scale, ScaleSizes> = {
  small: { stations: 20, suppliers: 10, articles: 500, offers: 1200, contracts: 20, purchaseOrders: 10_000, linesPerPo: 5, stockMovements: 100_000 },
  standard: { stations: 100, suppliers: 40, articles: 5000, offers: 12_000, contracts: 150, purchaseOrders: 200_000, linesPerPo: 5, stockMovements: 2_000_000 },
  large: { stations: 500, suppliers: 200, articles: 25_000, offers: 60_000, contracts: 750, purchaseOrders: 1_000_000, linesPerPo: 5, stockMovements: 10_000_000 }
}

/** Bump when the generated shape changes: `--reuse` regenerates a dataset of another version. */
export const GENERATOR_VERSION = 2
/** Orders are spread over the two years before this instant (fixed so a seed gives the same rows). */
export const ANCHOR = '2026-11-15T00:00:00Z'
export const BENCH_PASSWORD = 'Bench-load-password-2026!'
export const PLATFORM_ORG_ID = '00000000-0000-7000-8000-000000000001'
/** The bench station (the biggest) holds a stock level for at least this many articles (all of them on small data; its own order history already covers more on the standard one). */
export const BENCH_STATION_ARTICLES = 2000
/** Weeks of forecasts generated from the anchor's ISO week. */
export const FORECAST_WEEKS = 12

export type BenchRole = 'ADMIN' | 'MANAGER' | 'HANDLER' | 'STATION' | 'SUPPLIER'
export interface BenchUser { id: string, email: string, role: BenchRole, organizationId: string, organizationKind: 'PLATFORM' | 'STATION' | 'SUPPLIER' }

export interface DatasetInfo {
  scale: Scale
  seed: number
  version: number
  anchor: string
  generatedAt: string
  seconds: number
  counts: Record<string, number>
  users: Record<BenchRole, BenchUser>
}

const DAY = 86_400_000
const CATEGORIES = ['TRAY', 'CRATE', 'PLATTER', 'FILM', 'CARDBOARD_BOX', 'PLASTIC_BAG', 'PAPER_BAG', 'INSULATED', 'LABEL', 'OTHER'] as const
const CITIES = ['Angers', 'Nantes', 'Rennes', 'Tours', 'Lyon', 'Avignon', 'Perpignan', 'Agen', 'Montauban', 'Valence', 'Cavaillon', 'Carpentras', 'Saumur', 'Cholet', 'Brest', 'Quimper', 'Lorient', 'Vannes', 'Bordeaux', 'Toulouse']
const MATERIALS = ['PET', 'rPET', 'PP', 'carton', 'kraft', 'bois', 'PLA', 'PSE', 'papier']
const SUPPLIER_WORDS = ['Cartonnerie', 'Plastiques', 'Emballages', 'Papeterie', 'Bois', 'Films', 'Étiquettes', 'Isothermes']
const PO_PATH = ['PLACED', 'CONFIRMED', 'SHIPPED', 'RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED'] as const
/** Days after creation at which each workflow step happens (same index as PO_PATH). */
const STEP_DAYS = [0, 1, 3, 6, 8, 20, 200]

/** Deterministic v4-shaped UUID; pg_temp.uid() in SQL computes the same value. */
export function benchUid (seed: number, kind: string, index: number): string {
  const h = createHash('md5').update(`${seed}:${kind}:${index}`).digest('hex')
  const s = h.slice(0, 12) + '4' + h.slice(13, 16) + '8' + h.slice(17)
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`
}

export function benchUsers (seed: number): Record<BenchRole, BenchUser> {
  const st = benchUid(seed, 'station', 0)
  const sp = benchUid(seed, 'supplier', 0)
  const u = (role: BenchRole, i: number, org: string, kind: BenchUser['organizationKind']): BenchUser =>
    ({ id: benchUid(seed, 'bench-user', i), email: `bench-${role.toLowerCase()}@bench.example`, role, organizationId: org, organizationKind: kind })
  return {
    ADMIN: u('ADMIN', 0, PLATFORM_ORG_ID, 'PLATFORM'),
    MANAGER: u('MANAGER', 1, PLATFORM_ORG_ID, 'PLATFORM'),
    HANDLER: u('HANDLER', 2, PLATFORM_ORG_ID, 'PLATFORM'),
    STATION: u('STATION', 3, st, 'STATION'),
    SUPPLIER: u('SUPPLIER', 4, sp, 'SUPPLIER')
  }
}

const money4 = (x: number): string => (Math.round(x * 10_000) / 10_000).toFixed(4)

/** Picks k distinct indices by weight (k ≤ weights.length). */
function pickDistinct (rng: Rng, cum: Float64Array, k: number): number[] {
  const out = new Set<number>()
  for (let guard = 0; out.size < k && guard < k * 50; guard++) out.add(weightedIndex(cum, rng.next()))
  for (let i = 0; out.size < k && i < cum.length; i++) out.add(i)
  return [...out]
}

export interface GenerateOptions {
  scale: Scale
  seed: number
  passwordHash: string
  log?: (msg: string) => void
}

/** Fills an empty, migrated database. The client must be allowed to SET session_replication_role. */
export async function generateDataset (client: pg.Client, opts: GenerateOptions): Promise<DatasetInfo> {
  const started = Date.now()
  const { seed } = opts
  const size = SCALES[opts.scale]
  const anchorMs = Date.parse(ANCHOR)
  const q = async (text: string, values?: unknown[]): Promise<pg.QueryResult> => await client.query(text, values)
  const progress = createProgress([
    ['prepare', 1], ['organizations & users', 2], ['articles & offers', 2], ['contracts', 1], ['orders (headers)', 4],
    ['order lines', 30], ['order totals', 8], ['order events', 12], ['stock movements', 25], ['stock levels & caps', 4], ['thresholds & forecasts', 6], ['audit events', 3], ['indexes', 20], ['analyze', 4]
  ], `dataset ${opts.scale}`)

  progress.step('prepare')
  try {
    await q('SET session_replication_role = replica')
  } catch (err) {
    throw new Error(`The generator needs a role that may SET session_replication_role (a superuser; the embedded database is one): ${(err as Error).message}`)
  }
  await q('SET statement_timeout = 0')
  await q("SET work_mem = '128MB'")
  await q("SET maintenance_work_mem = '256MB'")
  await q('SET synchronous_commit = off')
  await q(`CREATE OR REPLACE FUNCTION pg_temp.uid(k text, i bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS
    $$ SELECT overlay(overlay(md5('${seed}:' || k || ':' || i) placing '4' from 13) placing '8' from 17)::uuid $$`)
  await q(`CREATE OR REPLACE FUNCTION pg_temp.r(stream int, i bigint) RETURNS float8 LANGUAGE sql IMMUTABLE AS
    $$ SELECT (hashint8extended(i, ${seed}::bigint * 1000 + stream) & 2147483647)::float8 / 2147483648.0 $$`)

  // Secondary indexes of the big tables are rebuilt after the load (sorting once beats 1M inserts).
  const bigTables = ['master_orders', 'carts', 'purchase_orders', 'purchase_order_lines', 'purchase_order_events', 'stock_movements', 'stock_levels', 'forecasts', 'audit_events', 'users']
  const idx = await q(`SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
    FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
    WHERE t.relname = ANY($1) AND t.relnamespace = 'public'::regnamespace AND NOT i.indisprimary
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`, [bigTables])
  const indexDefs = idx.rows as Array<{ name: string, def: string }>
  for (const d of indexDefs) await q(`DROP INDEX ${d.name}`)

  const rng = (label: string): Rng => mulberry32(streamSeed(seed, label))
  const uid = (kind: string, i: number): string => benchUid(seed, kind, i)

  // ---- organizations, stations, suppliers, sites, users ----
  progress.step('organizations & users')
  const r0 = rng('orgs')
  const groups = Array.from({ length: Math.max(2, Math.round(size.stations / 10)) }, (_, i) => ({ id: uid('group', i), name: `Groupement ${CITIES[i % CITIES.length] ?? ''} ${i + 1}` }))
  await q('INSERT INTO station_groups (id, name, description) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])',
    [groups.map(g => g.id), groups.map(g => g.name), groups.map(() => 'Groupement de producteurs')])
  // Station and supplier "size" weights: Pareto-like, sorted so index 0 is the biggest.
  const stationWeights = Array.from({ length: size.stations }, () => r0.pareto(1.16)).sort((a, b) => b - a)
  const supplierWeights = Array.from({ length: size.suppliers }, () => r0.pareto(1.16)).sort((a, b) => b - a)
  const stations = stationWeights.map((_, i) => {
    const city = CITIES[(i * 7) % CITIES.length] ?? 'Angers'
    return { id: uid('station', i), code: `ST-${String(i + 1).padStart(4, '0')}`, name: `Station ${city} ${i + 1}`, group: groups[i % groups.length]?.id ?? null, city }
  })
  const suppliers = supplierWeights.map((_, i) => ({
    id: uid('supplier', i),
    name: `${SUPPLIER_WORDS[i % SUPPLIER_WORDS.length] ?? 'Emballages'} ${CITIES[(i * 3) % CITIES.length] ?? ''} ${i + 1}`,
    siret: String(10_000_000_000_000 + i * 7919).padStart(14, '0'),
    city: CITIES[(i * 3) % CITIES.length] ?? 'Nantes'
  }))
  await q(`INSERT INTO organizations (id, kind, name) SELECT id, 'STATION', name FROM unnest($1::uuid[], $2::text[]) AS t(id, name)
           UNION ALL SELECT id, 'SUPPLIER', name FROM unnest($3::uuid[], $4::text[]) AS s(id, name)`,
  [stations.map(s => s.id), stations.map(s => s.name), suppliers.map(s => s.id), suppliers.map(s => s.name)])
  await q(`INSERT INTO stations (id, code, name, group_id, address_line1, postal_code, city, email)
           SELECT id, code, name, grp, (n % 90 + 1) || ' route des Vergers', lpad(((n * 937) % 90000 + 10000)::text, 5, '0'), city, lower(code) || '@stations.example'
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[]) WITH ORDINALITY AS t(id, code, name, grp, city, n)`,
  [stations.map(s => s.id), stations.map(s => s.code), stations.map(s => s.name), stations.map(s => s.group), stations.map(s => s.city)])
  await q(`INSERT INTO suppliers (id, name, siret, email, city)
           SELECT id, name, siret, 'orders-' || n || '@suppliers.example', city FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS t(id, name, siret, city, n)`,
  [suppliers.map(s => s.id), suppliers.map(s => s.name), suppliers.map(s => s.siret), suppliers.map(s => s.city)])
  await q(`INSERT INTO supplier_sites (id, supplier_id, name, city, is_primary)
           SELECT pg_temp.uid('site', (n * 2)::bigint), id, 'Usine principale', city, true FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS t(id, city, n)
           UNION ALL
           SELECT pg_temp.uid('site', (n * 2 + 1)::bigint), id, 'Dépôt', city, false FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS t(id, city, n) WHERE n % 3 = 0`,
  [suppliers.map(s => s.id), suppliers.map(s => s.city)])

  const users = benchUsers(seed)
  type URow = { id: string, email: string, name: string, role: BenchRole, org: string, kind: string }
  const userRows: URow[] = Object.values(users).map(u => ({ id: u.id, email: u.email, name: `Bench ${u.role}`, role: u.role, org: u.organizationId, kind: u.organizationKind }))
  let ui = 100
  for (const role of ['ADMIN', 'MANAGER', 'MANAGER', 'HANDLER', 'HANDLER', 'HANDLER'] as const) {
    userRows.push({ id: uid('user', ui), email: `staff${ui}@bluewhale.example`, name: `Staff ${ui}`, role, org: PLATFORM_ORG_ID, kind: 'PLATFORM' }); ui++
  }
  stations.forEach((s, i) => {
    const n = 1 + (i < size.stations / 10 ? 2 : r0.int(0, 1))
    for (let k = 0; k < n; k++) { userRows.push({ id: uid('user', ui), email: `user${ui}@${s.code.toLowerCase()}.example`, name: `Station user ${ui}`, role: 'STATION', org: s.id, kind: 'STATION' }); ui++ }
  })
  suppliers.forEach((s, i) => {
    const n = 1 + r0.int(0, 1)
    for (let k = 0; k < n; k++) { userRows.push({ id: uid('user', ui), email: `user${ui}@supplier${i + 1}.example`, name: `Supplier user ${ui}`, role: 'SUPPLIER', org: s.id, kind: 'SUPPLIER' }); ui++ }
  })
  await q(`INSERT INTO users (id, organization_id, organization_kind, email, full_name, role, password_hash)
           SELECT id, org, kind, email, name, role, $7 FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(id, org, kind, email, name, role)`,
  [userRows.map(u => u.id), userRows.map(u => u.org), userRows.map(u => u.kind), userRows.map(u => u.email), userRows.map(u => u.name), userRows.map(u => u.role), opts.passwordHash])
  await q(`CREATE TEMP TABLE t_actor AS SELECT DISTINCT ON (organization_id) organization_id AS org, id AS user_id FROM users
           WHERE role IN ('STATION', 'SUPPLIER') ORDER BY organization_id, email`)
  await q('ALTER TABLE t_actor ADD PRIMARY KEY (org)')
  const managerIds = userRows.filter(u => u.role === 'MANAGER').map(u => u.id)
  const adminIds = userRows.filter(u => u.role === 'ADMIN').map(u => u.id)

  // ---- articles (index = popularity rank) and offers ----
  progress.step('articles & offers')
  const r1 = rng('catalog')
  const articles = Array.from({ length: size.articles }, (_, i) => {
    const cat = CATEGORIES[Math.floor(r1.next() ** 1.5 * CATEGORIES.length)] ?? 'OTHER'
    const mat = r1.pick(MATERIALS)
    return { id: uid('article', i), code: `ART-${String(i + 1).padStart(6, '0')}`, name: `${cat.toLowerCase().replace('_', ' ')} ${mat} ${100 + (i % 900)}`, cat, mat, vat: r1.next() < 0.1 ? '5.50' : '20.00', active: r1.next() > 0.03 }
  })
  await q(`INSERT INTO articles (id, code, name, description, category, material, dimensions, vat_rate, is_active, created_at)
           SELECT id, code, initcap(name), 'Emballage ' || name, cat, mat, (100 + n % 300) || 'x' || (80 + n % 200) || ' mm', vat::numeric, active, $8::timestamptz - make_interval(days => (900 - (n % 900))::int)
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[]) WITH ORDINALITY AS t(id, code, name, cat, mat, vat, active, n)`,
  [articles.map(a => a.id), articles.map(a => a.code), articles.map(a => a.name), articles.map(a => a.cat), articles.map(a => a.mat), articles.map(a => a.vat), articles.map(a => a.active), ANCHOR])
  const supCum = cumulative(supplierWeights)
  interface Offer { idx: number, article: number, supplier: number, price: number, units: number, moq: number, multiple: number, lead: number }
  const offers: Offer[] = []
  const perArticle = size.offers / size.articles
  for (let a = 0; a < size.articles && offers.length < size.offers; a++) {
    // Round-robin first so every supplier has a catalogue, then weighted by supplier size.
    const k = Math.max(1, Math.min(size.suppliers, Math.round(perArticle + (r1.next() - 0.5) * 2.4)))
    const chosen = a < size.suppliers * 8 ? [...new Set([a % size.suppliers, ...pickDistinct(r1, supCum, k - 1)])].slice(0, k) : pickDistinct(r1, supCum, k)
    const base = 5 + r1.pareto(1.8) * 20
    for (const s of chosen) {
      if (offers.length >= size.offers) break
      offers.push({ idx: offers.length, article: a, supplier: s, price: base * (0.9 + r1.next() * 0.25), units: r1.pick([50, 100, 200, 250, 500, 600, 1000]), moq: r1.pick([1, 1, 1, 2, 5, 10]), multiple: r1.pick([1, 1, 1, 1, 2, 5]), lead: r1.int(1, 14) })
    }
  }
  await q(`INSERT INTO offers (id, article_id, supplier_id, supplier_ref, pack_label, units_per_pack, catalog_pack_price, moq_packs, pack_multiple, lead_time_days, is_active)
           SELECT pg_temp.uid('offer', i), pg_temp.uid('article', a), pg_temp.uid('supplier', s), 'REF-' || s || '-' || a, 'carton de ' || u, u, p::numeric, m, x, l, pg_temp.r(1, i) > 0.02
           FROM unnest($1::int[], $2::int[], $3::int[], $4::text[], $5::int[], $6::int[], $7::int[], $8::int[]) AS t(i, a, s, p, u, m, x, l)`,
  [offers.map(o => o.idx), offers.map(o => o.article), offers.map(o => o.supplier), offers.map(o => money4(o.price)), offers.map(o => o.units), offers.map(o => o.moq), offers.map(o => o.multiple), offers.map(o => o.lead)])

  // ---- contracts: each offer covered by at most one contract of its supplier ----
  progress.step('contracts')
  const r2 = rng('contracts')
  interface Contract { idx: number, supplier: number, status: string, kind: string, from: string, until: string, fee: string, number: string }
  const contracts: Contract[] = []
  const contractsBySupplier = new Map<number, number[]>()
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10)
  for (let c = 0; c < size.contracts; c++) {
    const s = c < size.suppliers ? c : weightedIndex(supCum, r2.next())
    // the first contract of each supplier is ACTIVE and broad; the others vary
    const u = r2.next()
    const status = c < size.suppliers ? 'ACTIVE' : u < 0.45 ? 'ACTIVE' : u < 0.6 ? 'DRAFT' : u < 0.8 ? 'EXPIRED' : u < 0.92 ? 'TERMINATED' : 'SUSPENDED'
    const from = status === 'EXPIRED' ? anchorMs - 1100 * DAY : anchorMs - 760 * DAY
    const until = status === 'EXPIRED' ? anchorMs - 400 * DAY : anchorMs + 400 * DAY
    contracts.push({ idx: c, supplier: s, status, kind: r2.pick(['ANNUAL', 'MULTI_YEAR', 'SEASONAL', 'SPOT']), from: day(from), until: day(until), fee: (5 + r2.int(0, 10) * 0.5).toFixed(2), number: `CT-${new Date(from).getUTCFullYear()}-${String(c + 1).padStart(4, '0')}` })
    contractsBySupplier.set(s, [...(contractsBySupplier.get(s) ?? []), c])
  }
  await q(`INSERT INTO contracts (id, number, supplier_id, name, kind, status, valid_from, valid_until, fee_pct, payment_terms, delivery_sla_days, created_by, approved_by, approved_at)
           SELECT pg_temp.uid('contract', i), num, pg_temp.uid('supplier', s), 'Accord ' || num, kind, st, vf::date, vu::date, fee::numeric, '45 jours fin de mois', 7, cb,
             CASE WHEN st = 'DRAFT' THEN NULL ELSE ab END, CASE WHEN st = 'DRAFT' THEN NULL ELSE vf::timestamptz - interval '10 days' END
           FROM unnest($1::int[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::uuid[], $10::uuid[]) AS t(i, num, s, kind, st, vf, vu, fee, cb, ab)`,
  [contracts.map(c => c.idx), contracts.map(c => c.number), contracts.map(c => c.supplier), contracts.map(c => c.kind), contracts.map(c => c.status), contracts.map(c => c.from), contracts.map(c => c.until), contracts.map(c => c.fee),
    contracts.map((_, i) => managerIds[i % managerIds.length]), contracts.map((_, i) => adminIds[i % adminIds.length])])
  const lineOffer: number[] = []
  const lineContract: number[] = []
  const linePrice: string[] = []
  const lineCapped: boolean[] = []
  for (const o of offers) {
    const cs = contractsBySupplier.get(o.supplier)
    if (cs === undefined || r2.next() > 0.7) continue
    lineOffer.push(o.idx)
    lineContract.push(cs[Math.floor(r2.next() * cs.length)] ?? cs[0] ?? 0)
    linePrice.push(money4(o.price * (0.85 + r2.next() * 0.12)))
    lineCapped.push(r2.next() < 0.7)
  }
  await q(`INSERT INTO contract_lines (id, contract_id, article_id, supplier_id, pack_price, committed_packs, allowance_pct)
           SELECT pg_temp.uid('cline', o), pg_temp.uid('contract', c), off.article_id, off.supplier_id, p::numeric, CASE WHEN capped THEN 20000 END, CASE WHEN capped THEN 5 ELSE 0 END
           FROM unnest($1::int[], $2::int[], $3::text[], $4::boolean[]) AS t(o, c, p, capped) JOIN offers off ON off.id = pg_temp.uid('offer', o)`,
  [lineOffer, lineContract, linePrice, lineCapped])

  // Offer table for line generation: per supplier, offers ranked by article popularity.
  await q(`CREATE TEMP TABLE t_offer AS
    SELECT s.n - 1 AS supplier_idx, (row_number() OVER (PARTITION BY o.supplier_id ORDER BY a.code) - 1)::int AS rank,
      o.article_id, o.supplier_id, a.code AS article_code, a.name AS article_name, o.supplier_ref, o.pack_label, o.units_per_pack,
      o.moq_packs, o.pack_multiple, o.lead_time_days, a.vat_rate,
      cl.id AS contract_line_id, coalesce(cl.pack_price, o.catalog_pack_price) AS supplier_price, coalesce(c.fee_pct, 8.00) AS fee_pct,
      CASE WHEN cl.id IS NULL THEN 'CATALOG' ELSE 'CONTRACT' END AS price_source
    FROM offers o
    JOIN articles a ON a.id = o.article_id
    JOIN unnest($1::uuid[]) WITH ORDINALITY AS s(id, n) ON s.id = o.supplier_id
    LEFT JOIN contract_lines cl ON cl.article_id = o.article_id AND cl.supplier_id = o.supplier_id
      AND EXISTS (SELECT 1 FROM contracts c2 WHERE c2.id = cl.contract_id AND c2.status = 'ACTIVE')
    LEFT JOIN contracts c ON c.id = cl.contract_id
    WHERE o.is_active AND a.is_active`, [suppliers.map(s => s.id)])
  await q('ALTER TABLE t_offer ADD PRIMARY KEY (supplier_idx, rank)')
  await q('ANALYZE t_offer')
  const offerCounts = new Map<number, number>()
  for (const r of (await q('SELECT supplier_idx, count(*)::int AS n FROM t_offer GROUP BY 1')).rows as Array<{ supplier_idx: number, n: number }>) offerCounts.set(r.supplier_idx, r.n)

  // ---- master orders and purchase-order headers (TypeScript), lines and totals (SQL) ----
  progress.step('orders (headers)')
  const r3 = rng('orders')
  const stCum = cumulative(stationWeights)
  const orderingSuppliers = [...offerCounts.keys()].sort((a, b) => a - b)
  const ordSupCum = cumulative(orderingSuppliers.map(s => supplierWeights[s] ?? 1))
  const moStation: number[] = []
  const moAt: number[] = []
  const poMo: number[] = []
  const poStation: number[] = []
  const poSupplier: number[] = []
  const poAt: number[] = []
  const poStatus: string[] = []
  const poLines: number[] = []
  const spanMs = 730 * DAY
  for (let m = 0; poMo.length < size.purchaseOrders && m < size.purchaseOrders; m++) {
    const station = weightedIndex(stCum, r3.next())
    // volume grows 40 % over the two years (density ∝ 1 + 0.4x, inverse CDF); weekends are quiet
    const x = (-1 + Math.sqrt(1 + 0.96 * r3.next())) / 0.4
    let at = Math.min(anchorMs - 60_000, anchorMs - spanMs + x * spanMs)
    const wd = new Date(at).getUTCDay()
    if ((wd === 0 || wd === 6) && r3.next() < 0.8) at -= DAY * (wd === 0 ? 2 : 1)
    at = Math.max(anchorMs - spanMs, at - (at % 60_000) + 8 * 3_600_000 * r3.next())
    const u = r3.next()
    const k = Math.min(orderingSuppliers.length, u < 0.45 ? 1 : u < 0.75 ? 2 : u < 0.9 ? 3 : 4)
    moStation.push(station)
    moAt.push(at)
    const ageDays = (anchorMs - at) / DAY
    for (const si of pickDistinct(r3, ordSupCum, k)) {
      if (poMo.length >= size.purchaseOrders) break
      const supplier = orderingSuppliers[si] ?? 0
      poMo.push(m)
      poStation.push(station)
      poSupplier.push(supplier)
      poAt.push(at)
      const v = r3.next()
      let status: string
      if (ageDays >= 1 && v < 0.02) status = 'DECLINED'
      else if (ageDays >= 1 && v < 0.04) status = 'CANCELLED'
      else {
        const w = r3.next()
        status = ageDays < 1
          ? 'PLACED'
          : ageDays < 3
            ? (w < 0.4 ? 'PLACED' : 'CONFIRMED')
            : ageDays < 6
              ? (w < 0.4 ? 'CONFIRMED' : 'SHIPPED')
              : ageDays < 8
                ? (w < 0.3 ? 'SHIPPED' : 'RECEIVED')
                : ageDays < 20
                  ? (w < 0.3 ? 'RECEIVED' : 'CLOSED')
                  : ageDays < 200
                    ? (w < 0.15 ? 'CLOSED' : 'INVOICED')
                    : (w < 0.3 ? 'INVOICED' : 'ARCHIVED')
      }
      poStatus.push(status)
      const avail = offerCounts.get(supplier) ?? 1
      poLines.push(Math.max(1, Math.min(avail, 2 * size.linesPerPo - 1, 1 + Math.floor(r3.next() * (2 * size.linesPerPo - 1)))))
    }
  }
  const moCount = moStation.length
  const poCount = poMo.length
  await q('CREATE TEMP TABLE t_po (idx int PRIMARY KEY, mo int, station int, supplier int, at timestamptz, status text, n int, n_offers int)')
  const CH = 50_000
  for (let i = 0; i < poCount; i += CH) {
    const end = Math.min(poCount, i + CH)
    const ids = Array.from({ length: end - i }, (_, k) => i + k)
    await q('INSERT INTO t_po SELECT idx, mo, st, sp, to_timestamp(at), status, n, 0 FROM unnest($1::int[], $2::int[], $3::int[], $4::int[], $5::float8[], $6::text[], $7::int[]) AS t(idx, mo, st, sp, at, status, n)',
      [ids, poMo.slice(i, end), poStation.slice(i, end), poSupplier.slice(i, end), poAt.slice(i, end).map(x => x / 1000), poStatus.slice(i, end), poLines.slice(i, end)])
    progress.advance(end / poCount / 2)
  }
  await q('UPDATE t_po p SET n_offers = c.n FROM (SELECT supplier_idx, count(*)::int AS n FROM t_offer GROUP BY 1) c WHERE c.supplier_idx = p.supplier')
  await q('CREATE TEMP TABLE t_mo (idx int PRIMARY KEY, station int, at timestamptz)')
  for (let i = 0; i < moCount; i += CH) {
    const end = Math.min(moCount, i + CH)
    await q('INSERT INTO t_mo SELECT idx - 1 + $3, st, to_timestamp(at) FROM unnest($1::int[], $2::float8[]) WITH ORDINALITY AS t(st, at, idx)',
      [moStation.slice(i, end), moAt.slice(i, end).map(x => x / 1000), i])
    progress.advance(0.5 + end / moCount / 2)
  }
  await q('ANALYZE t_po'); await q('ANALYZE t_mo')

  // Lines: consecutive offers from a popularity-skewed start rank (distinct articles in a PO).
  progress.step('order lines')
  const LCH = 20_000
  for (let i = 0; i < poCount; i += LCH) {
    await q(`INSERT INTO purchase_order_lines (id, purchase_order_id, line_no, station_id, supplier_id, article_id, contract_line_id, article_code, article_name, supplier_ref, pack_label,
               units_per_pack, supplier_pack_price, fee_pct, station_pack_price, vat_rate, price_source, packs_ordered, supplier_line_net, station_line_net,
               desired_delivery_date, confirmed_delivery_date, packs_received, discrepancy)
      SELECT pg_temp.uid('pol', p.idx::bigint * 16 + g.k), pg_temp.uid('po', p.idx), g.k, pg_temp.uid('station', p.station), o.supplier_id, o.article_id, o.contract_line_id,
        o.article_code, o.article_name, o.supplier_ref, o.pack_label, o.units_per_pack, o.supplier_price, o.fee_pct, x.station_price, o.vat_rate, o.price_source, x.packs,
        round(o.supplier_price * x.packs, 2), round(x.station_price * x.packs, 2),
        (p.at + make_interval(days => o.lead_time_days + 2))::date,
        CASE WHEN p.status IN ('PLACED', 'DECLINED') OR (p.status = 'CANCELLED') THEN NULL ELSE (p.at + make_interval(days => o.lead_time_days + 2))::date END,
        CASE WHEN p.status IN ('RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED') THEN CASE WHEN pg_temp.r(5, p.idx::bigint * 16 + g.k) < 0.03 THEN x.packs - 1 ELSE x.packs END END,
        CASE WHEN p.status IN ('RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED') AND pg_temp.r(5, p.idx::bigint * 16 + g.k) < 0.03 THEN 'Un carton manquant' END
      FROM t_po p
      CROSS JOIN LATERAL generate_series(1, p.n) AS g(k)
      JOIN t_offer o ON o.supplier_idx = p.supplier AND o.rank = (floor(p.n_offers * pg_temp.r(2, p.idx) ^ 2.5)::int + g.k - 1) % p.n_offers
      CROSS JOIN LATERAL (SELECT round(o.supplier_price * (100 + o.fee_pct) / 100, 4) AS station_price,
        o.moq_packs + o.pack_multiple * floor(24 * pg_temp.r(3, p.idx::bigint * 16 + g.k) ^ 2)::int AS packs) x
      WHERE p.idx >= $1 AND p.idx < $2`, [i, i + LCH])
    progress.advance(Math.min(1, (i + LCH) / poCount))
  }

  progress.step('order totals')
  await q(`CREATE TEMP TABLE t_po_tot AS
    SELECT po, sum(sn) AS sn, sum(sv) AS sv, sum(tn) AS tn, sum(tv) AS tv FROM (
      SELECT purchase_order_id AS po, vat_rate, sum(supplier_line_net) AS sn, round(sum(supplier_line_net) * vat_rate / 100, 2) AS sv,
        sum(station_line_net) AS tn, round(sum(station_line_net) * vat_rate / 100, 2) AS tv
      FROM purchase_order_lines GROUP BY purchase_order_id, vat_rate) b GROUP BY po`)
  progress.advance(0.4)
  await q(`INSERT INTO purchase_orders (id, number, master_order_id, station_id, supplier_id, status, supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross,
             carrier, tracking_no, invoice_number, invoice_date, confirmed_at, shipped_at, received_at, closed_at, invoiced_at, archived_at, cancelled_at, status_reason, created_by, version, created_at, updated_at)
    SELECT pg_temp.uid('po', p.idx), 'PO-' || extract(year FROM p.at)::int || '-' || lpad((p.idx + 1)::text, 6, '0'), pg_temp.uid('mo', p.mo), pg_temp.uid('station', p.station), pg_temp.uid('supplier', p.supplier),
      p.status, t.sn, t.sv, t.sn + t.sv, t.tn, t.tv, t.tn + t.tv,
      CASE WHEN s.lvl >= 3 THEN 'Transports Martin' END, CASE WHEN s.lvl >= 3 THEN 'TRK' || p.idx END,
      CASE WHEN s.lvl >= 6 THEN 'INV-' || p.idx END, CASE WHEN s.lvl >= 6 THEN (p.at + interval '20 days')::date END,
      CASE WHEN s.lvl >= 2 THEN p.at + interval '1 day' END, CASE WHEN s.lvl >= 3 THEN p.at + interval '3 days' END, CASE WHEN s.lvl >= 4 THEN p.at + interval '6 days' END,
      CASE WHEN s.lvl >= 5 THEN p.at + interval '8 days' END, CASE WHEN s.lvl >= 6 THEN p.at + interval '20 days' END, CASE WHEN s.lvl >= 7 THEN p.at + interval '200 days' END,
      CASE WHEN p.status = 'CANCELLED' THEN p.at + interval '1 day' END, CASE WHEN p.status IN ('CANCELLED', 'DECLINED') THEN 'Rupture fournisseur' END,
      sa.user_id, s.events, p.at, p.at + make_interval(days => CASE WHEN p.status IN ('DECLINED', 'CANCELLED') THEN 1 ELSE ($2::int[])[s.lvl] END)
    FROM t_po p JOIN t_po_tot t ON t.po = pg_temp.uid('po', p.idx)
    LEFT JOIN t_actor sa ON sa.org = pg_temp.uid('station', p.station)
    CROSS JOIN LATERAL (SELECT CASE WHEN p.status IN ('DECLINED', 'CANCELLED') THEN 1 ELSE array_position($1::text[], p.status) END AS lvl,
                               CASE WHEN p.status IN ('DECLINED', 'CANCELLED') THEN 2 ELSE array_position($1::text[], p.status) END AS events) s`, [PO_PATH, STEP_DAYS])
  progress.advance(0.7)
  await q(`INSERT INTO master_orders (id, number, station_id, cart_id, status, supplier_count, supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross, created_by, created_at, updated_at)
    SELECT pg_temp.uid('mo', m.idx), 'MO-' || extract(year FROM m.at)::int || '-' || lpad((m.idx + 1)::text, 6, '0'), pg_temp.uid('station', m.station), pg_temp.uid('cart', m.idx), 'PLACED', t.n,
      t.sn, t.sv, t.sg, t.tn, t.tv, t.tg, sa.user_id, m.at, m.at
    FROM t_mo m LEFT JOIN t_actor sa ON sa.org = pg_temp.uid('station', m.station) JOIN (SELECT master_order_id, count(*)::int AS n, sum(supplier_net) AS sn, sum(supplier_vat) AS sv, sum(supplier_gross) AS sg, sum(station_net) AS tn, sum(station_vat) AS tv, sum(station_gross) AS tg
                      FROM purchase_orders GROUP BY 1) t ON t.master_order_id = pg_temp.uid('mo', m.idx)`)
  await q(`INSERT INTO carts (id, station_id, status, master_order_id, created_by, checked_out_at, version, created_at, updated_at)
    SELECT pg_temp.uid('cart', m.idx), pg_temp.uid('station', m.station), 'CHECKED_OUT', pg_temp.uid('mo', m.idx), mo.created_by, m.at, 2, m.at - interval '2 hours', m.at
    FROM t_mo m JOIN master_orders mo ON mo.id = pg_temp.uid('mo', m.idx)`)
  // One OPEN cart for a third of the stations, with a few lines.
  await q(`INSERT INTO carts (id, station_id, status, created_at, updated_at)
    SELECT pg_temp.uid('open-cart', n), id, 'OPEN', $2::timestamptz - interval '1 day', $2::timestamptz - interval '1 day' FROM unnest($1::uuid[]) WITH ORDINALITY AS s(id, n) WHERE n % 3 = 1`, [stations.map(s => s.id), ANCHOR])
  await q(`INSERT INTO cart_lines (cart_id, station_id, article_id, supplier_id, packs, desired_delivery_date)
    SELECT c.id, c.station_id, o.article_id, o.supplier_id, o.moq_packs, ($1::date + 30) FROM carts c
    CROSS JOIN LATERAL (SELECT * FROM t_offer ORDER BY supplier_idx, rank LIMIT 3 OFFSET (abs(hashtext(c.id::text)) % 50)) o WHERE c.status = 'OPEN'`, [ANCHOR.slice(0, 10)])
  progress.advance(1)

  progress.step('order events')
  for (let i = 0; i < poCount; i += LCH * 2) {
    await q(`INSERT INTO purchase_order_events (purchase_order_id, from_status, to_status, actor_user_id, actor_role, at, note)
      SELECT pg_temp.uid('po', p.idx), CASE WHEN e.k = 1 THEN NULL WHEN e.to_status IN ('DECLINED', 'CANCELLED') THEN 'PLACED' ELSE ($1::text[])[e.k - 1] END, e.to_status,
        CASE e.role WHEN 'STATION' THEN sa.user_id WHEN 'SUPPLIER' THEN pa.user_id ELSE $5::uuid END, e.role,
        p.at + make_interval(days => CASE WHEN e.k = 1 THEN 0 WHEN p.status IN ('DECLINED', 'CANCELLED') THEN 1 ELSE ($2::int[])[e.k] END), NULL
      FROM t_po p
      LEFT JOIN t_actor sa ON sa.org = pg_temp.uid('station', p.station)
      LEFT JOIN t_actor pa ON pa.org = pg_temp.uid('supplier', p.supplier)
      CROSS JOIN LATERAL (
        SELECT k, s.to_status, CASE WHEN k = 1 THEN 'STATION' WHEN s.to_status IN ('CONFIRMED', 'SHIPPED', 'DECLINED') THEN 'SUPPLIER' WHEN s.to_status IN ('INVOICED', 'ARCHIVED') THEN 'HANDLER' ELSE 'STATION' END AS role
        FROM generate_series(1, CASE WHEN p.status IN ('DECLINED', 'CANCELLED') THEN 2 ELSE array_position($1::text[], p.status) END) AS k
        CROSS JOIN LATERAL (SELECT CASE WHEN p.status IN ('DECLINED', 'CANCELLED') AND k = 2 THEN p.status ELSE ($1::text[])[k] END AS to_status) s) e
      WHERE p.idx >= $3 AND p.idx < $4
      ORDER BY p.idx, e.k`, [PO_PATH, STEP_DAYS, i, i + LCH * 2, users.HANDLER.id])
    progress.advance(Math.min(1, (i + LCH * 2) / poCount))
  }

  // ---- stock: movements per (station, article) pair; receipts then partial consumptions ----
  progress.step('stock movements')
  await q(`CREATE TEMP TABLE t_pair AS
    SELECT (row_number() OVER (ORDER BY station_id, article_id) - 1)::int AS j, station_id, article_id FROM (
      SELECT DISTINCT l.station_id, l.article_id FROM purchase_order_lines l) d`)
  await q('ALTER TABLE t_pair ADD PRIMARY KEY (j)')
  const pairs = Number(((await q('SELECT count(*)::int AS n FROM t_pair')).rows[0] as { n: number }).n)
  const perPair = Math.max(2, Math.floor(size.stockMovements / Math.max(1, pairs)) & ~1)
  const totalMov = Math.min(size.stockMovements, pairs * perPair)
  const MCH = 200_000
  for (let i = 0; i < totalMov; i += MCH) {
    // movement i → pair (i % pairs), step k = i / pairs; even k receive A, odd k consume ≤ A
    await q(`INSERT INTO stock_movements (station_id, article_id, delta, reason, ref_type, actor_user_id, at)
      SELECT t.station_id, t.article_id,
        CASE WHEN k % 2 = 0 THEN a ELSE -greatest(1, floor(a * (0.5 + 0.5 * pg_temp.r(8, i)))::int) END,
        CASE WHEN k % 2 = 0 THEN (CASE WHEN pg_temp.r(9, i) < 0.9 THEN 'PO_RECEIPT' WHEN pg_temp.r(9, i) < 0.95 THEN 'TRANSFER_IN' ELSE 'COUNT' END)
             ELSE (CASE WHEN pg_temp.r(9, i) < 0.9 THEN 'CONSUMPTION' WHEN pg_temp.r(9, i) < 0.95 THEN 'TRANSFER_OUT' ELSE 'ADJUSTMENT' END) END,
        CASE WHEN k % 2 = 0 THEN 'purchase_order' END, NULL,
        $4::timestamptz - make_interval(secs => (730 * 86400.0 * (1 - (k + pg_temp.r(10, i) * 0.9) / $3::float8))::float8)
      FROM generate_series($1::bigint, $2::bigint) AS i
      CROSS JOIN LATERAL (SELECT (i % $5)::int AS j, (i / $5)::int AS k, (10 + floor(500 * pg_temp.r(7, (i % $5) * 100000 + (i / $5) / 2) ^ 3))::int AS a) x
      JOIN t_pair t ON t.j = x.j
      ORDER BY i`, [i, Math.min(totalMov, i + MCH) - 1, perPair, ANCHOR, pairs])
    progress.advance(Math.min(1, (i + MCH) / totalMov))
  }

  progress.step('stock levels & caps')
  await q(`INSERT INTO stock_levels (station_id, article_id, quantity, alert_threshold, critical_threshold, version, updated_at)
    SELECT station_id, article_id, sum(delta)::int, 0, 0, count(*)::int, max(at) FROM stock_movements GROUP BY station_id, article_id`)
  await q(`UPDATE stock_levels SET alert_threshold = greatest(1, (quantity * 0.3)::int), critical_threshold = greatest(0, (quantity * 0.1)::int)
    WHERE hashtext(station_id::text || article_id::text) % 3 = 0`)
  progress.advance(0.4)
  // caps with headroom (the checkout scenario reserves packs on them): committed ≈ 1.3 × ordered + 20 000
  await q(`UPDATE contract_lines cl SET ordered_packs = t.packs, committed_packs = CASE WHEN cl.committed_packs IS NULL THEN NULL ELSE ceil(t.packs * 1.3)::int + 20000 END FROM (
      SELECT l.contract_line_id, sum(l.packs_ordered)::int AS packs FROM purchase_order_lines l JOIN purchase_orders p ON p.id = l.purchase_order_id
      WHERE l.contract_line_id IS NOT NULL AND p.status NOT IN ('CANCELLED', 'DECLINED') GROUP BY 1) t
    WHERE cl.id = t.contract_line_id`)
  progress.advance(1)

  // ---- replenishment: the bench station's articles and thresholds, weekly forecasts ----
  progress.step('thresholds & forecasts')
  // The bench station (the biggest, index 0) stocks up to BENCH_STATION_ARTICLES articles: empty
  // levels (Σ movements = 0 still holds) for the most popular orderable articles it lacks. Every
  // level of it gets an alert threshold (the safety stock of the replenishment) and a critical one.
  const benchStation = uid('station', 0)
  await q(`INSERT INTO stock_levels (station_id, article_id, quantity, alert_threshold, critical_threshold)
    SELECT $1::uuid, a.id, 0, 0, 0 FROM (
      SELECT a.id FROM articles a WHERE a.is_active AND EXISTS (SELECT 1 FROM offers o WHERE o.article_id = a.id AND o.is_active) ORDER BY a.code LIMIT $2) a
    ON CONFLICT (station_id, article_id) DO NOTHING`, [benchStation, Math.min(BENCH_STATION_ARTICLES, size.articles)])
  await q(`UPDATE stock_levels SET alert_threshold = 20 + abs(hashtext(article_id::text)) % 480, critical_threshold = (20 + abs(hashtext(article_id::text)) % 480) / 3
    WHERE station_id = $1::uuid`, [benchStation])
  progress.advance(0.3)
  // FORECAST_WEEKS ISO weeks from the anchor's: every level of the bench station, one level in
  // four elsewhere (the suppliers' demand sums over stations); units from a hash of the key.
  await q(`INSERT INTO forecasts (station_id, article_id, iso_year, iso_week, units, updated_at)
    SELECT sl.station_id, sl.article_id, extract(isoyear FROM w.d)::int, extract(week FROM w.d)::int,
      10 + abs(hashtext(sl.station_id::text || sl.article_id::text || w.k)) % (50 + abs(hashtext(sl.article_id::text)) % 950), $2::timestamptz
    FROM stock_levels sl
    CROSS JOIN LATERAL (SELECT k, ($2::timestamptz)::date + 7 * k AS d FROM generate_series(0, $3::int - 1) AS k) w
    WHERE sl.station_id = $1::uuid OR abs(hashtext(sl.station_id::text || sl.article_id::text)) % 4 = 0
    ORDER BY sl.station_id, sl.article_id, w.k`, [benchStation, ANCHOR, FORECAST_WEEKS])
  progress.advance(1)

  progress.step('audit events')
  // Normal replication role: the enqueue trigger must queue these for the service's sealer.
  await q('SET session_replication_role = origin')
  await q(`INSERT INTO audit_events (occurred_at, actor_user_id, actor_role, actor_org_id, action, entity_type, entity_id, request_id, ip, user_agent, changes)
    SELECT c.created_at, c.created_by, 'MANAGER', $1::uuid, 'contract.create', 'contract', c.id::text, 'seed-' || c.number, '127.0.0.1', 'bench-generator', jsonb_build_object('name', c.name)
    FROM contracts c
    UNION ALL
    SELECT m.created_at, m.created_by, 'STATION', m.station_id, 'cart.checkout', 'master_order', m.id::text, 'seed-' || m.number, '127.0.0.1', 'bench-generator', jsonb_build_object('supplierCount', m.supplier_count)
    FROM master_orders m
    ORDER BY 1`, [PLATFORM_ORG_ID])
  await q('SET session_replication_role = replica')

  progress.step('indexes')
  for (let i = 0; i < indexDefs.length; i++) {
    await q(indexDefs[i]?.def ?? 'SELECT 1')
    progress.advance((i + 1) / indexDefs.length)
  }
  await q('SELECT setval(\'master_order_number_seq\', $1), setval(\'purchase_order_number_seq\', $2), setval(\'contract_number_seq\', $3)', [moCount + 1, poCount + 1, size.contracts + 1])
  await q('SET session_replication_role = origin')

  // VACUUM as well as ANALYZE: a production database's autovacuum keeps the visibility map set, so
  // the planner prices index-only scans of the covering indexes as such; freshly inserted rows have
  // none, and every plan check then saw sequential scans no running database would choose
  progress.step('vacuum & analyze')
  await q('VACUUM (ANALYZE)')
  const counts: Record<string, number> = {}
  for (const t of ['stations', 'suppliers', 'users', 'articles', 'offers', 'contracts', 'contract_lines', 'master_orders', 'purchase_orders', 'purchase_order_lines', 'purchase_order_events', 'stock_levels', 'stock_movements', 'forecasts', 'audit_events', 'carts']) {
    counts[t] = Number(((await q(`SELECT count(*)::bigint AS n FROM ${t}`)).rows[0] as { n: string }).n)
  }
  progress.done()
  const info: DatasetInfo = { scale: opts.scale, seed, version: GENERATOR_VERSION, anchor: ANCHOR, generatedAt: new Date().toISOString(), seconds: (Date.now() - started) / 1000, counts, users }
  await q('CREATE TABLE IF NOT EXISTS bench_dataset (id boolean PRIMARY KEY DEFAULT true CHECK (id), info jsonb NOT NULL)')
  await q('INSERT INTO bench_dataset (info) VALUES ($1) ON CONFLICT (id) DO UPDATE SET info = EXCLUDED.info', [JSON.stringify(info)])
  opts.log?.(`dataset ${opts.scale} (seed ${seed}) generated in ${info.seconds.toFixed(1)} s: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  return info
}

/** The marker written by the last complete generation, if any. */
export async function readDatasetInfo (client: pg.Client | pg.Pool): Promise<DatasetInfo | undefined> {
  const exists = await client.query("SELECT to_regclass('public.bench_dataset') IS NOT NULL AS ok")
  if ((exists.rows[0] as { ok: boolean }).ok !== true) return undefined
  const r = await client.query('SELECT info FROM bench_dataset')
  return (r.rows[0] as { info: DatasetInfo } | undefined)?.info
}

/**
 * Cheap integrity checks run after generation (the load skipped FK triggers): every reference the
 * generator wrote resolves, and the derived numbers add up. Returns the failed checks.
 */
export async function verifyDataset (client: pg.Client | pg.Pool): Promise<string[]> {
  const checks: Array<[string, string]> = [
    ['order lines without a purchase order', 'SELECT count(*) FROM purchase_order_lines l WHERE NOT EXISTS (SELECT 1 FROM purchase_orders p WHERE p.id = l.purchase_order_id)'],
    ['order lines with an unknown article/contract line', 'SELECT count(*) FROM purchase_order_lines l WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = l.article_id) OR (l.contract_line_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM contract_lines c WHERE c.id = l.contract_line_id))'],
    ['purchase orders without a master order', 'SELECT count(*) FROM purchase_orders p WHERE NOT EXISTS (SELECT 1 FROM master_orders m WHERE m.id = p.master_order_id)'],
    ['purchase orders with an unknown creator', 'SELECT count(*) FROM purchase_orders p WHERE p.created_by IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = p.created_by)'],
    ['master orders without their cart', 'SELECT count(*) FROM master_orders m WHERE NOT EXISTS (SELECT 1 FROM carts c WHERE c.id = m.cart_id AND c.master_order_id = m.id)'],
    ['order events without a purchase order', 'SELECT count(*) FROM purchase_order_events e WHERE NOT EXISTS (SELECT 1 FROM purchase_orders p WHERE p.id = e.purchase_order_id)'],
    ['PO totals ≠ Σ lines', `SELECT count(*) FROM purchase_orders p JOIN (SELECT purchase_order_id, sum(supplier_line_net) AS sn, sum(station_line_net) AS tn FROM purchase_order_lines GROUP BY 1) l
      ON l.purchase_order_id = p.id WHERE l.sn <> p.supplier_net OR l.tn <> p.station_net OR p.station_gross <> p.station_net + p.station_vat`],
    ['MO totals ≠ Σ POs', `SELECT count(*) FROM master_orders m JOIN (SELECT master_order_id, sum(station_gross) AS g, count(*) AS n FROM purchase_orders GROUP BY 1) p
      ON p.master_order_id = m.id WHERE p.g <> m.station_gross OR p.n <> m.supplier_count`],
    ['stock level ≠ Σ movements', `SELECT count(*) FROM stock_levels s JOIN (SELECT station_id, article_id, sum(delta) AS q FROM stock_movements GROUP BY 1, 2) m
      USING (station_id, article_id) WHERE m.q <> s.quantity`],
    ['contract ordered packs ≠ Σ lines', `SELECT count(*) FROM contract_lines cl LEFT JOIN (SELECT l.contract_line_id, sum(l.packs_ordered) AS n FROM purchase_order_lines l
      JOIN purchase_orders p ON p.id = l.purchase_order_id WHERE p.status NOT IN ('CANCELLED', 'DECLINED') GROUP BY 1) t ON t.contract_line_id = cl.id WHERE coalesce(t.n, 0) <> cl.ordered_packs`],
    ['users in an unknown organization', 'SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = u.organization_id AND o.kind = u.organization_kind)'],
    ['stations with several open carts', "SELECT count(*) FROM (SELECT station_id FROM carts WHERE status = 'OPEN' GROUP BY 1 HAVING count(*) > 1) x"],
    ['forecasts of an unknown station or article', 'SELECT count(*) FROM forecasts f WHERE NOT EXISTS (SELECT 1 FROM stations s WHERE s.id = f.station_id) OR NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = f.article_id)']
  ]
  const failed: string[] = []
  for (const [name, sql] of checks) {
    const n = Number(((await client.query(sql)).rows[0] as { count: string }).count)
    if (n > 0) failed.push(`${name}: ${n}`)
  }
  return failed
}
