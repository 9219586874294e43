// Replenishment proposals (PRODUCT.md §7), every term shown:
//
//   leadTimeWeeks = ceil(lead time of the chosen offer in days / 7)
//   forecast      = Σ forecast units over the leadTimeWeeks + horizonWeeks ISO weeks starting with
//                   the current one (Europe/Paris business date)
//   rawNeed       = forecast − on hand − inbound POs − inbound transfers + safety stock (alert threshold)
//   packs         = rawNeed ≤ 0 ? 0 : roundUp(max(ceil(rawNeed / unitsPerPack), MOQ), order multiple)
//
// The offer: among the active offers of active suppliers for the (active) article that have a
// price today (§4.2, the same resolution the cart quote uses), a CONTRACT price first, then the
// lowest station price per base unit (pack price ÷ units per pack, compared exactly, so a box of
// 500 and a box of 1 000 compare fairly), then the shortest lead time, then the supplier's name.
//
// Set-based whatever the number of articles, a page of the station's articles (code order, keyset)
// at a time: the scope check, one statement for every term of the page's articles (stock,
// forecasts by week, inbound POs and transfers, candidate offers), and one price resolution
// statement for every candidate (article, supplier) pair of the page.
import type { Db } from '../../db/index.js'
import { rawRows } from '../../db/prepared.js'
import { decodeCursor, page } from '../../lib/cursor.js'
import { fromScaled, lineNet, toScaled } from '../../lib/money.js'
import type { Actor } from '../../lib/permissions.js'
import { problem, type ProblemItem } from '../../lib/problems.js'
import { addDays, assertStationInScope, upsertCartLines, type CartView } from '../carts/carts.service.js'
import { businessDate, resolvePrices } from '../contracts/pricing.service.js'
import { priceKey, type ResolvedPrice } from '../contracts/pricing.types.js'
import { addWeeks, isoWeekOf, mondayOf, weekKey, type IsoWeek } from './forecasts.service.js'
import type { ToCartInput } from './forecasts.schemas.js'

/** Lead times are at most 365 days (offers CHECK): 53 weeks. */
const MAX_LEAD_WEEKS = 53
export const DEFAULT_HORIZON_WEEKS = 4
const DEFAULT_PAGE = 50

export type ChoiceRule = 'ONLY_OFFER' | 'CONTRACT_PRICE' | 'LOWEST_UNIT_PRICE' | 'SHORTEST_LEAD_TIME' | 'TIE' | 'NO_OFFER'

export interface ChosenOffer {
  offerId: string
  supplierId: string
  supplierName: string
  supplierRef: string
  packLabel: string
  unitsPerPack: number
  moqPacks: number
  packMultiple: number
  leadTimeDays: number
  priceSource: 'CONTRACT' | 'CATALOG'
  contractNumber: string | null
  stationPackPrice: string
  stationUnitPrice: string
}

export interface ReplenishmentItem {
  articleId: string
  articleCode: string
  articleName: string
  baseUnit: string
  leadTimeDays: number
  leadTimeWeeks: number
  windowWeeks: number
  windowFrom: string
  windowTo: string
  forecastUnits: number
  onHandUnits: number
  inboundPoUnits: number
  inboundTransferUnits: number
  safetyStockUnits: number
  rawNeedUnits: number
  packsForNeed: number
  proposedPacks: number
  proposedUnits: number
  estimatedNet: string | null
  offer: ChosenOffer | null
  choice: { rule: ChoiceRule, candidates: number, explanation: string }
  working: string
}

export interface Replenishment {
  stationId: string
  asOf: string
  currentWeek: string
  horizonWeeks: number
  items: ReplenishmentItem[]
  nextCursor: string | null
}

export interface ReplenishmentOptions {
  horizonWeeks?: number
  onlyNeeded?: boolean
  /** restrict to these articles (to-cart, the articleId filter): all of them in one page */
  articleIds?: readonly string[]
  /** page size (default 50) and the opaque cursor of the previous page */
  limit?: number
  cursor?: string
  /** the business date; tests pin it */
  today?: string
}

export interface TermsRow {
  articleId: string
  articleCode: string
  articleName: string
  baseUnit: string
  hasLevel: boolean
  onHand: number
  safety: number
  inboundPo: number
  inboundTransfer: number
  /** forecast units by week offset from the current week (parallel arrays), null without any */
  fcOffsets: number[] | null
  fcUnits: number[] | null
  /** candidate offers: active offers of active suppliers, the article being active */
  offers: Array<{ supplierId: string, supplierName: string }> | null
}

/**
 * Every term of a page of the station's articles in one statement. The article set: a stock
 * level, a forecast in the weeks read, an open PO line or a transfer in transit; the page is
 * chosen from their ids first (index-only reads of the station's levels and of its window of
 * forecasts, the open orders from their partial index), then the per-article work — forecast
 * weeks, level, candidate offers — is done for the page's articles only, whatever the station's
 * size. Forecast weeks are read from the current week over horizon + the longest possible lead
 * time; each article then sums the weeks of its own window (JS, once the offer is chosen).
 * A constant text (one per variant) run without Kysely's plugins (rawRows): it aliases its own
 * camelCase keys, and the rows are not copied by the CamelCasePlugin.
 */
function termsText (filtered: boolean): string {
  const only = (column: string): string => filtered ? `AND ${column} = ANY($7::uuid[])` : ''
  const after = filtered ? 8 : 7
  // $1 station, $2 the current ISO week's Monday, $3–$6 the first and last (year, week) read
  const window = (f: string): string => `(${f}.iso_year, ${f}.iso_week) >= ($3::int, $4::int) AND (${f}.iso_year, ${f}.iso_week) <= ($5::int, $6::int)`
  return `
    WITH open_po AS MATERIALIZED (
      -- the station's open orders from their partial index, on their own: joined to the lines in
      -- one plan, PostgreSQL preferred a parallel sequential scan of every purchase order
      SELECT id FROM purchase_orders WHERE station_id = $1::uuid AND status IN ('PLACED', 'CONFIRMED', 'SHIPPED')
    ), po AS MATERIALIZED (
      SELECT l.article_id, sum(l.packs_ordered::int8 * l.units_per_pack)::int8 AS units
      FROM open_po p
      JOIN purchase_order_lines l ON l.purchase_order_id = p.id
      ${filtered ? 'WHERE l.article_id = ANY($7::uuid[])' : ''}
      GROUP BY l.article_id
    ), tr AS MATERIALIZED (
      SELECT tl.article_id, sum(coalesce(tl.units_shipped, 0))::int8 AS units
      FROM transfers t
      JOIN transfer_lines tl ON tl.transfer_id = t.id
      WHERE t.requesting_station_id = $1::uuid AND t.status = 'SHIPPED' ${only('tl.article_id')}
      GROUP BY tl.article_id
    ), page AS MATERIALIZED (
      SELECT a.id, a.code, a.name, a.base_unit, a.is_active
      FROM articles a
      WHERE a.id IN (
          SELECT article_id FROM stock_levels WHERE station_id = $1::uuid ${only('article_id')}
          UNION SELECT article_id FROM forecasts WHERE station_id = $1::uuid AND ${window('forecasts')} ${only('article_id')}
          UNION SELECT article_id FROM po
          UNION SELECT article_id FROM tr)
        AND ($${after}::text IS NULL OR a.code > $${after}::text)
      ORDER BY a.code
      LIMIT $${after + 1}::int
    )
    SELECT p.id AS "articleId", p.code AS "articleCode", p.name AS "articleName", p.base_unit AS "baseUnit",
      sl.article_id IS NOT NULL AS "hasLevel", coalesce(sl.quantity, 0) AS "onHand", coalesce(sl.alert_threshold, 0) AS safety,
      coalesce(po.units, 0)::int8 AS "inboundPo", coalesce(tr.units, 0)::int8 AS "inboundTransfer",
      fc.fc_offsets AS "fcOffsets", fc.fc_units AS "fcUnits",
      (SELECT json_agg(json_build_object('supplierId', o.supplier_id, 'supplierName', s.name))
         FROM offers o JOIN suppliers s ON s.id = o.supplier_id
        WHERE o.article_id = p.id AND o.is_active AND s.is_active AND p.is_active) AS offers
    FROM page p
    LEFT JOIN stock_levels sl ON sl.station_id = $1::uuid AND sl.article_id = p.id
    LEFT JOIN po ON po.article_id = p.id
    LEFT JOIN tr ON tr.article_id = p.id
    -- per article (LATERAL): a range of the primary key, whatever plan the prepared statement gets
    LEFT JOIN LATERAL (
      SELECT array_agg(((to_date(f.iso_year || '-' || f.iso_week || '-1', 'IYYY-IW-ID') - $2::date) / 7)::int ORDER BY f.iso_year, f.iso_week) AS fc_offsets,
             array_agg(f.units ORDER BY f.iso_year, f.iso_week) AS fc_units
      FROM forecasts f
      WHERE f.station_id = $1::uuid AND f.article_id = p.id AND ${window('f')}
    ) fc ON true
    ORDER BY p.code`
}
const TERMS_ALL = termsText(false)
const TERMS_SOME = termsText(true)

/**
 * The terms statement and its parameters (exported for the bench's plan check): the articles
 * after `afterCode` in code order, `limit` of them (the page; the caller asks one more to know
 * whether another page follows). The per-article work (offers, prices, the proposal) is done for
 * the page only.
 */
export function termsStatement (stationId: string, weeks: readonly IsoWeek[], articleIds: readonly string[] | undefined, page: { afterCode?: string, limit: number }): { sql: string, parameters: unknown[] } {
  const first = weeks[0] as IsoWeek
  const last = weeks[weeks.length - 1] as IsoWeek
  const parameters: unknown[] = [stationId, mondayOf(first), first.year, first.week, last.year, last.week]
  const tail = [page.afterCode ?? null, page.limit]
  return articleIds === undefined ? { sql: TERMS_ALL, parameters: [...parameters, ...tail] } : { sql: TERMS_SOME, parameters: [...parameters, articleIds, ...tail] }
}

/** The ISO weeks whose forecasts are read: from the current one over horizon + the longest lead time. */
export function forecastWeeks (today: string, horizonWeeks: number): IsoWeek[] {
  const weeks: IsoWeek[] = [isoWeekOf(today)]
  for (let i = 1; i < horizonWeeks + MAX_LEAD_WEEKS; i++) weeks.push(addWeeks(weeks[i - 1] as IsoWeek, 1))
  return weeks
}

// ---- the choice --------------------------------------------------------------------------------

interface Candidate { price: ResolvedPrice, supplierName: string, packScaled: bigint }

/** a's station price per base unit compared with b's, exactly (cross-multiplied). */
function compareUnitPrice (a: Candidate, b: Candidate): number {
  const x = a.packScaled * BigInt(b.price.unitsPerPack as number)
  const y = b.packScaled * BigInt(a.price.unitsPerPack as number)
  return x < y ? -1 : x > y ? 1 : 0
}

function compareCandidates (a: Candidate, b: Candidate): number {
  const contract = (a.price.priceSource === 'CONTRACT' ? 0 : 1) - (b.price.priceSource === 'CONTRACT' ? 0 : 1)
  if (contract !== 0) return contract
  const price = compareUnitPrice(a, b)
  if (price !== 0) return price
  const lead = (a.price.leadTimeDays as number) - (b.price.leadTimeDays as number)
  if (lead !== 0) return lead
  return a.supplierName < b.supplierName ? -1 : a.supplierName > b.supplierName ? 1 : a.price.supplierId < b.price.supplierId ? -1 : 1
}

/** Station price per base unit, 6 decimals, half-up. */
function unitPrice (packPrice: string, unitsPerPack: number): string {
  const num = toScaled(packPrice, 4) * 100n
  const d = BigInt(unitsPerPack)
  const q = num / d
  return fromScaled(2n * (num % d) >= d ? q + 1n : q, 6)
}

function choose (offers: TermsRow['offers'], prices: ReadonlyMap<string, ResolvedPrice>, articleId: string, baseUnit: string): { chosen: Candidate | null, rule: ChoiceRule, candidates: number, explanation: string } {
  const candidates: Candidate[] = []
  for (const o of offers ?? []) {
    const p = prices.get(priceKey(articleId, o.supplierId))
    if (p === undefined || p.offerId === null || !p.offerActive || !p.supplierActive || !p.articleActive) continue
    if (p.priceSource === null || p.stationPackPrice === null || p.unitsPerPack === null || p.leadTimeDays === null) continue
    candidates.push({ price: p, supplierName: o.supplierName, packScaled: toScaled(p.stationPackPrice, 4) })
  }
  if (candidates.length === 0) {
    const why = (offers ?? []).length === 0 ? 'No active offer of an active supplier for this (active) article' : 'No offer has a price today (no contract covers it and catalog prices are not allowed)'
    return { chosen: null, rule: 'NO_OFFER', candidates: 0, explanation: `${why}: nothing can be proposed` }
  }
  candidates.sort(compareCandidates)
  const best = candidates[0] as Candidate
  const bestUnit = unitPrice(best.price.stationPackPrice as string, best.price.unitsPerPack as number)
  if (candidates.length === 1) return { chosen: best, rule: 'ONLY_OFFER', candidates: 1, explanation: `Only orderable offer (${best.supplierName}, ${best.price.priceSource === 'CONTRACT' ? `contract ${best.price.contractNumber ?? ''}`.trim() : 'catalog'} price ${bestUnit} per ${baseUnit})` }
  const next = candidates[1] as Candidate
  const nextUnit = unitPrice(next.price.stationPackPrice as string, next.price.unitsPerPack as number)
  const others = `${candidates.length - 1} other offer${candidates.length > 2 ? 's' : ''}`
  if (best.price.priceSource === 'CONTRACT' && next.price.priceSource !== 'CONTRACT') {
    return { chosen: best, rule: 'CONTRACT_PRICE', candidates: candidates.length, explanation: `Contract price (${best.price.contractNumber ?? 'contract'}, ${bestUnit} per ${baseUnit}) preferred over ${others} at catalog prices (the best: ${next.supplierName}, ${nextUnit} per ${baseUnit})` }
  }
  const kind = best.price.priceSource === 'CONTRACT' ? 'contract' : 'catalog'
  if (compareUnitPrice(best, next) !== 0) {
    return { chosen: best, rule: 'LOWEST_UNIT_PRICE', candidates: candidates.length, explanation: `Lowest ${kind} station price per ${baseUnit}: ${bestUnit} against ${nextUnit} (${next.supplierName}), among ${candidates.length} offers` }
  }
  if (best.price.leadTimeDays !== next.price.leadTimeDays) {
    return { chosen: best, rule: 'SHORTEST_LEAD_TIME', candidates: candidates.length, explanation: `Same station price per ${baseUnit} (${bestUnit}) as ${next.supplierName}; shorter lead time: ${best.price.leadTimeDays ?? 0} days against ${next.price.leadTimeDays ?? 0}` }
  }
  return { chosen: best, rule: 'TIE', candidates: candidates.length, explanation: `Same price per ${baseUnit} (${bestUnit}) and lead time (${best.price.leadTimeDays ?? 0} days) as ${next.supplierName}; first by supplier name` }
}

// ---- the proposal ------------------------------------------------------------------------------

const ceilDiv = (a: number, b: number): number => Math.floor((a + b - 1) / b)

/** The packs to order for a raw need: ceil to packs, raised to the MOQ, rounded up to the multiple. */
export function packsFor (rawNeedUnits: number, unitsPerPack: number, moqPacks: number, packMultiple: number): { packsForNeed: number, proposedPacks: number } {
  if (rawNeedUnits <= 0) return { packsForNeed: 0, proposedPacks: 0 }
  const packsForNeed = ceilDiv(rawNeedUnits, unitsPerPack)
  return { packsForNeed, proposedPacks: ceilDiv(Math.max(packsForNeed, moqPacks), packMultiple) * packMultiple }
}

function itemOf (row: TermsRow, prices: ReadonlyMap<string, ResolvedPrice>, weekKeys: readonly string[], horizonWeeks: number): ReplenishmentItem | null {
  const { chosen, rule, candidates, explanation } = choose(row.offers, prices, row.articleId, row.baseUnit)
  const leadTimeDays = chosen?.price.leadTimeDays ?? 0
  const leadTimeWeeks = ceilDiv(leadTimeDays, 7)
  const windowWeeks = leadTimeWeeks + horizonWeeks
  let forecastUnits = 0
  let inWindow = false
  const offsets = row.fcOffsets ?? []
  offsets.forEach((off, i) => {
    if (off < windowWeeks) { forecastUnits += row.fcUnits?.[i] ?? 0; inWindow = true }
  })
  // an article only forecast beyond its own window, with no stock level and nothing inbound, is not the station's concern yet
  if (!row.hasLevel && !inWindow && row.inboundPo === 0 && row.inboundTransfer === 0) return null
  const rawNeedUnits = forecastUnits - row.onHand - row.inboundPo - row.inboundTransfer + row.safety
  const p = chosen?.price
  const { packsForNeed, proposedPacks } = p === undefined
    ? { packsForNeed: 0, proposedPacks: 0 }
    : packsFor(rawNeedUnits, p.unitsPerPack as number, p.moqPacks as number, p.packMultiple as number)
  const windowFrom = weekKeys[0] as string
  const windowTo = weekKeys[windowWeeks - 1] as string
  const offer: ChosenOffer | null = chosen === null || p === undefined
    ? null
    : {
        offerId: p.offerId as string,
        supplierId: p.supplierId,
        supplierName: chosen.supplierName,
        supplierRef: p.supplierRef as string,
        packLabel: p.packLabel as string,
        unitsPerPack: p.unitsPerPack as number,
        moqPacks: p.moqPacks as number,
        packMultiple: p.packMultiple as number,
        leadTimeDays,
        priceSource: p.priceSource as 'CONTRACT' | 'CATALOG',
        contractNumber: p.contractNumber,
        stationPackPrice: p.stationPackPrice as string,
        stationUnitPrice: unitPrice(p.stationPackPrice as string, p.unitsPerPack as number)
      }
  let working = `forecast ${forecastUnits} (${windowFrom}…${windowTo}: ${windowWeeks} weeks = lead ${leadTimeWeeks} + horizon ${horizonWeeks}) − on hand ${row.onHand} − inbound POs ${row.inboundPo} − inbound transfers ${row.inboundTransfer} + safety ${row.safety} = ${rawNeedUnits} ${row.baseUnit}`
  if (offer === null) working += ' → no orderable offer: 0 packs'
  else if (rawNeedUnits <= 0) working += ' → nothing needed: 0 packs'
  else {
    const atMoq = Math.max(packsForNeed, offer.moqPacks)
    working += ` → ceil(${rawNeedUnits} / ${offer.unitsPerPack}) = ${packsForNeed} packs → MOQ ${offer.moqPacks}: ${atMoq} → multiple of ${offer.packMultiple}: ${proposedPacks} packs (${proposedPacks * offer.unitsPerPack} ${row.baseUnit})`
  }
  return {
    articleId: row.articleId,
    articleCode: row.articleCode,
    articleName: row.articleName,
    baseUnit: row.baseUnit,
    leadTimeDays,
    leadTimeWeeks,
    windowWeeks,
    windowFrom,
    windowTo,
    forecastUnits,
    onHandUnits: row.onHand,
    inboundPoUnits: row.inboundPo,
    inboundTransferUnits: row.inboundTransfer,
    safetyStockUnits: row.safety,
    rawNeedUnits,
    packsForNeed,
    proposedPacks,
    proposedUnits: proposedPacks * (offer?.unitsPerPack ?? 0),
    estimatedNet: offer === null ? null : lineNet(offer.stationPackPrice, proposedPacks),
    offer,
    choice: { rule, candidates, explanation },
    working
  }
}

/** The station's replenishment proposals (see the file comment). */
export async function computeReplenishment (db: Db, actor: Actor, stationId: string, opts: ReplenishmentOptions = {}): Promise<Replenishment> {
  await assertStationInScope(db, actor, stationId)
  const horizonWeeks = opts.horizonWeeks ?? DEFAULT_HORIZON_WEEKS
  const today = opts.today ?? businessDate()
  const weeks = forecastWeeks(today, horizonWeeks)
  const current = weeks[0] as IsoWeek
  const weekKeys = weeks.map(weekKey)
  const limit = opts.articleIds !== undefined ? opts.articleIds.length : (opts.limit ?? DEFAULT_PAGE)
  const afterCode = opts.cursor !== undefined ? codeOf(opts.cursor) : undefined
  const terms = termsStatement(stationId, weeks, opts.articleIds, { ...(afterCode !== undefined ? { afterCode } : {}), limit: limit + 1 })
  const fetched = await rawRows<TermsRow>(db, terms.sql, terms.parameters)
  const { items: rows, nextCursor } = page(fetched, limit, r => [r.articleCode])
  const pairs = rows.flatMap(r => (r.offers ?? []).map(o => ({ articleId: r.articleId, supplierId: o.supplierId })))
  const prices = await resolvePrices(db, pairs, today)
  const items: ReplenishmentItem[] = []
  for (const row of rows) {
    const item = itemOf(row, prices, weekKeys, horizonWeeks)
    if (item !== null && (opts.onlyNeeded !== true || item.rawNeedUnits > 0)) items.push(item)
  }
  return { stationId, asOf: today, currentWeek: weekKey(current), horizonWeeks, items, nextCursor }
}

function codeOf (cursor: string): string {
  const [code] = decodeCursor(cursor, 1)
  if (typeof code !== 'string' || code.length === 0 || code.length > 200) throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
  return code
}

// ---- to the cart -------------------------------------------------------------------------------

const MAX_CART_PACKS = 1_000_000

/**
 * Recomputes the proposals of the requested articles (never trusting a client's figures) and puts
 * them into the station's open cart in one statement: the chosen offer's supplier, the proposed
 * packs (or the override), a delivery date of today + the offer's lead time unless one is given.
 * A pair already in the cart gets the new quantity (an upsert, not an addition). Every refused line
 * is reported at once (422) and nothing is added.
 */
export async function replenishmentToCart (db: Db, actor: Actor, stationId: string, input: ToCartInput, today: string = businessDate()): Promise<{ cart: CartView, added: Array<{ articleId: string, supplierId: string, packs: number }> }> {
  const ids = [...new Set(input.lines.map(l => l.articleId.toLowerCase()))]
  const proposal = await computeReplenishment(db, actor, stationId, { horizonWeeks: input.horizonWeeks ?? DEFAULT_HORIZON_WEEKS, articleIds: ids, today })
  const byArticle = new Map(proposal.items.map(i => [i.articleId, i]))
  const errors: ProblemItem[] = []
  const seen = new Map<string, number>()
  const lines: Array<{ articleId: string, supplierId: string, packs: number, desiredDeliveryDate: string, note: string | null }> = []
  input.lines.forEach((l, i) => {
    const id = l.articleId.toLowerCase()
    const dup = seen.get(id)
    if (dup !== undefined) { errors.push({ pointer: `/lines/${i}/articleId`, code: 'DUPLICATE_LINE', detail: `Same article as /lines/${dup}` }); return }
    seen.set(id, i)
    const item = byArticle.get(id)
    if (item === undefined) { errors.push({ pointer: `/lines/${i}/articleId`, code: 'NO_PROPOSAL', detail: 'Not one of the station\'s articles (no stock level, forecast in the window or inbound quantity)' }); return }
    if (item.offer === null) { errors.push({ pointer: `/lines/${i}/articleId`, code: 'NO_ORDERABLE_OFFER', detail: item.choice.explanation }); return }
    const packs = l.packs ?? item.proposedPacks
    if (packs <= 0) { errors.push({ pointer: `/lines/${i}/packs`, code: 'NOTHING_TO_ORDER', detail: `The raw need is ${item.rawNeedUnits} ${item.baseUnit}: nothing to order (give packs to order anyway)` }); return }
    if (packs > MAX_CART_PACKS) { errors.push({ pointer: `/lines/${i}/packs`, code: 'PACKS_TOO_LARGE', detail: `${packs} packs exceed the cart's ${MAX_CART_PACKS} per line` }); return }
    lines.push({
      articleId: item.articleId,
      supplierId: item.offer.supplierId,
      packs,
      desiredDeliveryDate: input.desiredDeliveryDate ?? addDays(today, item.offer.leadTimeDays),
      note: null
    })
  })
  if (errors.length > 0) throw problem('BUSINESS_RULE_VIOLATED', `${errors.length} line${errors.length === 1 ? '' : 's'} cannot be added; nothing was added to the cart`, { errors })
  const cart = await upsertCartLines(db, actor, stationId, lines)
  return { cart, added: lines.map(l => ({ articleId: l.articleId, supplierId: l.supplierId, packs: l.packs })) }
}
