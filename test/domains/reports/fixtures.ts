// A reporting dataset written straight to PostgreSQL (orders of every status spread over 18
// months, with their timestamps, confirmed dates, short and over deliveries, contract-priced
// lines, stock levels and transfers), kept in JavaScript as well, so each test can compute every
// figure of a report independently of the SQL under test. Each test file gets a database of its
// own (cloned from the template), so platform-wide figures are exactly those of this dataset.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { inject } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { documentTotals, fromScaled, lineNet, stationPackPrice, toScaled } from '../../../src/lib/money.js'
import { createDatabaseFromTemplate } from '../../helpers/db.js'
import { bearer, createTestApp, tokenFor, type ConfigOverrides } from '../../helpers/app.js'
import { createArticle, createContract, createStation, createSupplier, createUser } from '../../helpers/factories.js'

export const DAY = 86_400_000
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10)
const PARIS = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' })
export const parisDay = (d: Date): string => PARIS.format(d)

/** A database of this test file's own, cloned from the migrated template. */
export async function ownDatabase (name: string): Promise<string> {
  return await createDatabaseFromTemplate(`${inject('dbPrefix')}_rep_${name}_w${process.env.VITEST_POOL_ID ?? '0'}`)
}

export async function reportsApp (name: string, overrides: ConfigOverrides = {}): Promise<{ app: App, url: string }> {
  const url = await ownDatabase(name)
  return { app: await createTestApp(overrides, url), url }
}

function mulberry32 (seed: number): () => number {
  let a = seed
  return () => {
    a |= 0; a = (a + 0x6D2B79F5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const STATUSES = ['PLACED', 'CONFIRMED', 'SHIPPED', 'RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED', 'CANCELLED', 'DECLINED'] as const
export type Status = typeof STATUSES[number]
const RANK: Record<Status, number> = { PLACED: 0, CONFIRMED: 1, SHIPPED: 2, RECEIVED: 3, CLOSED: 4, INVOICED: 5, ARCHIVED: 6, CANCELLED: -1, DECLINED: -1 }
export const isReceived = (s: Status): boolean => RANK[s] >= 3

export interface FxLine {
  id: string
  articleId: string
  contractLineId: string | null
  supplierPackPrice: string
  stationPackPrice: string
  packsOrdered: number
  packsReceived: number | null
  supplierLineNet: string
  stationLineNet: string
  confirmedDeliveryDate: string | null
}
export interface FxOrder {
  id: string
  stationId: string
  supplierId: string
  status: Status
  createdAt: Date
  confirmedAt: Date | null
  receivedAt: Date | null
  supplierNet: string
  stationNet: string
  lines: FxLine[]
}
export interface FxArticle { id: string, code: string, name: string, category: string }
export interface FxParty { id: string, code: string, name: string, token: string }

export interface Dataset {
  app: App
  admin: string
  stations: FxParty[]
  suppliers: FxParty[]
  articles: FxArticle[]
  orders: FxOrder[]
  contract: { id: string, number: string, validFrom: string, validUntil: string, lineIds: string[], committed: Array<number | null>, allowance: string[], counters: number[], articleIds: string[] }
  levels: Array<{ stationId: string, articleId: string, quantity: number, alert: number, critical: number }>
  transfers: Array<{ requesting: string, source: string, status: string }>
}

const CATEGORIES = ['TRAY', 'FILM', 'TRAY', 'LABEL', 'FILM'] as const
const VAT = ['20.00', '5.50', '20.00', '20.00', '5.50'] as const

/** A price with 4 decimals in [0.0050, 99.9999], often ending in 5 so rounding to the cent matters. */
function price (r: () => number): string {
  const n = 50 + Math.floor(r() * 999_950)
  return fromScaled(BigInt(r() < 0.5 ? n - (n % 10) + 5 : n), 4)
}

export async function seedDataset (app: App, seed = 20261202): Promise<Dataset> {
  const r = mulberry32(seed)
  const db = app.db
  const stations: FxParty[] = []
  for (const name of ['Anjou', 'Bretagne', 'Cévennes']) {
    const s = await createStation(db, { name: `Station ${name}` })
    stations.push({ id: s.id, code: s.code, name: s.name, token: tokenFor(app, { role: 'STATION', organizationId: s.id }) })
  }
  const suppliers: FxParty[] = []
  for (const name of ['Cartonnerie du Val', '=Plastiques, "Ouest"', 'Bois & Films']) {
    const s = await createSupplier(db, { name })
    suppliers.push({ id: s.id, code: '', name: s.name, token: tokenFor(app, { role: 'SUPPLIER', organizationId: s.id }) })
  }
  const articles: FxArticle[] = []
  for (let i = 0; i < 5; i++) {
    const category = CATEGORIES[i % CATEGORIES.length] ?? 'OTHER'
    const a = await createArticle(db, { category, vatRate: VAT[i % VAT.length], ...(i === 3 ? { name: '@Étiquette -SUM(A1)' } : {}) })
    articles.push({ id: a.id, code: a.code, name: a.name, category })
  }
  const admin = tokenFor(app, { role: 'ADMIN' })
  const creator = (await createUser(db, 'STATION', (stations[0] as FxParty).id)).userId

  // a contract of the first supplier, valid from 100 days ago to 265 days ahead (France's dates)
  const today = parisDay(new Date())
  const validFrom = utcDay(Date.parse(today) - 100 * DAY)
  const validUntil = utcDay(Date.parse(today) + 265 * DAY)
  const p0 = suppliers[0] as FxParty
  const a0 = articles[0] as FxArticle
  const a1 = articles[1] as FxArticle
  const committed = [400, null]
  const allowance = ['12.50', '0.00']
  const c = await createContract(db, p0.id, [
    { articleId: a0.id, packPrice: '10.0000', committedPacks: 400, allowancePct: '12.50' },
    { articleId: a1.id, packPrice: '3.3333' }
  ], { validFrom, validUntil, feePct: '8.00' })

  const orders: FxOrder[] = []
  const now = Date.now()
  for (let i = 0; i < 90; i++) {
    const station = stations[i % 3] as FxParty
    const supplier = suppliers[Math.floor(i / 3) % 3] as FxParty
    const status = STATUSES[(i * 5 + Math.floor(i / 9)) % STATUSES.length] as Status
    // spread over ~18 months; the first ones recent, so the contract window holds some
    const ageDays = i < 12 ? 1 + i * 7 : 5 + Math.floor(r() * 540)
    const createdAt = new Date(now - ageDays * DAY - Math.floor(r() * 20) * 3_600_000 - 60_000)
    const confirmed = RANK[status] >= 1 || (status === 'CANCELLED' && r() < 0.5)
    const confirmedAt = confirmed ? new Date(createdAt.getTime() + (1 + Math.floor(r() * 70)) * 3_600_000 + Math.floor(r() * 3600) * 1000) : null
    const receivedAt = isReceived(status) ? new Date(createdAt.getTime() + (2 + Math.floor(r() * 10)) * DAY + Math.floor(r() * 86_400) * 1000) : null
    const n = 1 + Math.floor(r() * 3)
    const first = Math.floor(r() * 5)
    const lines: FxLine[] = []
    for (let k = 0; k < n; k++) {
      const ai = (first + k) % 5
      const article = articles[ai] as FxArticle
      const underContract = supplier.id === p0.id && ai < 2 && createdAt.getTime() >= Date.parse(validFrom)
      const supplierPackPrice = underContract ? (ai === 0 ? '10.0000' : '3.3333') : price(r)
      const fee = r() < 0.5 ? '8.00' : '12.50'
      const stationPrice = stationPackPrice(supplierPackPrice, fee)
      const packs = 1 + Math.floor(r() * 37)
      const packsReceived = isReceived(status) ? Math.max(0, packs + (r() < 0.15 ? -1 - Math.floor(r() * 3) : r() < 0.1 ? 1 : 0)) : null
      const promised = confirmed ? utcDay(createdAt.getTime() + (1 + Math.floor(r() * 9)) * DAY) : null
      lines.push({
        id: randomUUID(),
        articleId: article.id,
        contractLineId: underContract ? (c.lineIds[ai] ?? null) : null,
        supplierPackPrice,
        stationPackPrice: stationPrice,
        packsOrdered: packs,
        packsReceived,
        supplierLineNet: lineNet(supplierPackPrice, packs),
        stationLineNet: lineNet(stationPrice, packs),
        confirmedDeliveryDate: promised
      })
    }
    const sup = documentTotals(lines.map((l, k) => ({ net: l.supplierLineNet, vatRate: VAT[(first + k) % 5] as string })))
    const sta = documentTotals(lines.map((l, k) => ({ net: l.stationLineNet, vatRate: VAT[(first + k) % 5] as string })))
    orders.push({ id: randomUUID(), stationId: station.id, supplierId: supplier.id, status, createdAt, confirmedAt, receivedAt, supplierNet: sup.net, stationNet: sta.net, lines })
    await insertOrder(app, orders[orders.length - 1] as FxOrder, creator, sup, sta, (first: number) => VAT[first % 5] as string, first)
  }

  // the contract counters: what the service would hold (non-cancelled packs, shortfalls given back on close)
  const counters = c.lineIds.map(id => orders.filter(o => o.status !== 'CANCELLED' && o.status !== 'DECLINED').flatMap(o => o.lines.map(l => ({ l, o })))
    .filter(({ l }) => l.contractLineId === id)
    .reduce((n, { l, o }) => n + (RANK[o.status] >= 4 ? (l.packsReceived ?? 0) : l.packsOrdered), 0))
  for (const [k, id] of c.lineIds.entries()) await sql`UPDATE contract_lines SET ordered_packs = ${counters[k]}::int WHERE id = ${id}::uuid`.execute(db)

  // stock: the first station has low, critical and out levels; the second one low level
  const levels = [
    { stationId: stations[0]?.id as string, articleId: a0.id, quantity: 0, alert: 10, critical: 5 },
    { stationId: stations[0]?.id as string, articleId: a1.id, quantity: 4, alert: 10, critical: 5 },
    { stationId: stations[0]?.id as string, articleId: (articles[2] as FxArticle).id, quantity: 9, alert: 10, critical: 5 },
    { stationId: stations[0]?.id as string, articleId: (articles[3] as FxArticle).id, quantity: 50, alert: 10, critical: 5 },
    { stationId: stations[1]?.id as string, articleId: a0.id, quantity: 7, alert: 8, critical: 2 },
    { stationId: stations[2]?.id as string, articleId: a0.id, quantity: 100, alert: 8, critical: 2 }
  ]
  for (const l of levels) {
    await sql`INSERT INTO stock_levels (station_id, article_id, quantity, alert_threshold, critical_threshold)
      VALUES (${l.stationId}::uuid, ${l.articleId}::uuid, ${l.quantity}::int, ${l.alert}::int, ${l.critical}::int)`.execute(db)
  }
  const transfers = [
    { requesting: stations[0]?.id as string, source: stations[1]?.id as string, status: 'REQUESTED' },
    { requesting: stations[1]?.id as string, source: stations[0]?.id as string, status: 'SHIPPED' },
    { requesting: stations[1]?.id as string, source: stations[2]?.id as string, status: 'CONFIRMED' },
    { requesting: stations[2]?.id as string, source: stations[0]?.id as string, status: 'ARCHIVED' },
    { requesting: stations[0]?.id as string, source: stations[2]?.id as string, status: 'CANCELLED' },
    { requesting: stations[2]?.id as string, source: stations[1]?.id as string, status: 'SETTLED' }
  ]
  for (const t of transfers) {
    await sql`INSERT INTO transfers (id, number, requesting_station_id, source_station_id, status)
      VALUES (${randomUUID()}::uuid, ${`TR-T-${randomUUID().slice(0, 8)}`}, ${t.requesting}::uuid, ${t.source}::uuid, ${t.status})`.execute(db)
  }
  return {
    app,
    admin,
    stations,
    suppliers,
    articles,
    orders,
    contract: { id: c.id, number: c.number, validFrom, validUntil, lineIds: c.lineIds, committed, allowance, counters, articleIds: [a0.id, a1.id] },
    levels,
    transfers
  }
}

async function insertOrder (app: App, o: FxOrder, creator: string, sup: { net: string, vat: string, gross: string }, sta: { net: string, vat: string, gross: string }, vatOf: (i: number) => string, first: number): Promise<void> {
  const db = app.db
  const cartId = randomUUID()
  const moId = randomUUID()
  const n = randomUUID().slice(0, 8).toUpperCase()
  await sql`INSERT INTO carts (id, station_id, status, created_by, created_at) VALUES (${cartId}::uuid, ${o.stationId}::uuid, 'CHECKED_OUT', ${creator}::uuid, ${o.createdAt})`.execute(db)
  await sql`INSERT INTO master_orders (id, number, station_id, cart_id, status, supplier_count, supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross, created_at)
    VALUES (${moId}::uuid, ${`MO-T-${n}`}, ${o.stationId}::uuid, ${cartId}::uuid, ${o.status === 'DECLINED' ? 'CANCELLED' : o.status}, 1,
      ${sup.net}::numeric, ${sup.vat}::numeric, ${sup.gross}::numeric, ${sta.net}::numeric, ${sta.vat}::numeric, ${sta.gross}::numeric, ${o.createdAt})`.execute(db)
  await sql`INSERT INTO purchase_orders (id, number, master_order_id, station_id, supplier_id, status, supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross,
      confirmed_at, received_at, created_at, updated_at)
    VALUES (${o.id}::uuid, ${`PO-T-${n}`}, ${moId}::uuid, ${o.stationId}::uuid, ${o.supplierId}::uuid, ${o.status},
      ${sup.net}::numeric, ${sup.vat}::numeric, ${sup.gross}::numeric, ${sta.net}::numeric, ${sta.vat}::numeric, ${sta.gross}::numeric,
      ${o.confirmedAt}, ${o.receivedAt}, ${o.createdAt}, ${o.createdAt})`.execute(db)
  for (const [k, l] of o.lines.entries()) {
    await sql`INSERT INTO purchase_order_lines (id, purchase_order_id, line_no, station_id, supplier_id, article_id, contract_line_id, article_code, article_name, supplier_ref, pack_label,
        units_per_pack, supplier_pack_price, fee_pct, station_pack_price, vat_rate, price_source, packs_ordered, supplier_line_net, station_line_net, desired_delivery_date,
        confirmed_delivery_date, packs_received)
      VALUES (${l.id}::uuid, ${o.id}::uuid, ${k + 1}::int, ${o.stationId}::uuid, ${o.supplierId}::uuid, ${l.articleId}::uuid, ${l.contractLineId}::uuid, 'FROZEN', 'Frozen name', 'REF', 'box',
        10, ${l.supplierPackPrice}::numeric, '8.00', ${l.stationPackPrice}::numeric, ${vatOf(first + k)}::numeric, ${l.contractLineId === null ? 'CATALOG' : 'CONTRACT'},
        ${l.packsOrdered}::int, ${l.supplierLineNet}::numeric, ${l.stationLineNet}::numeric, ${utcDay(o.createdAt.getTime() + 20 * DAY)}::date,
        ${l.confirmedDeliveryDate}::date, ${l.packsReceived}::int)`.execute(db)
  }
}

// ---- independent computations ---------------------------------------------------------------

export const cents = (v: string): bigint => toScaled(v, 2)
export const amount = (c: bigint): string => fromScaled(c, 2)

/** Orders of a scope created in [from, to] (UTC days). */
export function ordersIn (ds: Dataset, from: string, to: string, f: { stationId?: string, supplierId?: string } = {}): FxOrder[] {
  const start = Date.parse(`${from}T00:00:00Z`)
  const end = Date.parse(`${to}T00:00:00Z`) + DAY
  return ds.orders.filter(o => o.createdAt.getTime() >= start && o.createdAt.getTime() < end &&
    (f.stationId === undefined || o.stationId === f.stationId) && (f.supplierId === undefined || o.supplierId === f.supplierId))
}

export async function getJson (app: App, token: string, url: string, headers: Record<string, string> = {}): Promise<{ status: number, body: any, headers: Record<string, unknown>, raw: string }> {
  const res = await app.inject({ method: 'GET', url, headers: { ...bearer(token), ...headers } })
  return { status: res.statusCode, body: res.headers['content-type']?.toString().includes('json') === true ? res.json() : undefined, headers: res.headers, raw: res.body }
}
