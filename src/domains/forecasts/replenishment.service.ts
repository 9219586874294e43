// Replenishment proposals (PRODUCT.md §7), every term shown:
//
//   leadTimeWeeks = ceil(lead time of the chosen offer in days / 7)
//   forecast      = Σ forecast units over the leadTimeWeeks + horizonWeeks ISO weeks starting with
//                   the current one (Europe/Paris business date)
//   rawNeed       = forecast − on hand − inbound POs − inbound transfers + safety stock (alert threshold)
//   packs         = rawNeed ≤ 0 ? 0 : roundUp(max(ceil(rawNeed / unitsPerPack), MOQ), order multiple)
//
// The offer: among the active offers of active suppliers for the (active) article that have a
// price today (§4.2, the cart quote's rule: the covering ACTIVE contract's price and fee, else the
// catalog price with the default fee when settings allow it), a CONTRACT price first, then the
// lowest station price per base unit (pack price ÷ units per pack, compared exactly, so a box of
// 500 and a box of 1 000 compare fairly), then the shortest lead time, then the supplier's name.
//
// Set-based whatever the number of articles, a page of the station's articles (code order, keyset)
// at a time, in two statements: the scope check, and one statement for every term of the page's
// articles (stock, forecast weeks, inbound POs and transfers, the candidate offers with their price
// inputs). The page is found by walking the catalog in code order from the cursor and stopping
// after `limit` articles of the station (a dense station: a few more index probes than the page
// holds), or, for a station holding few of the catalog's articles, by collecting its articles
// first (see termsText). SQL selects the price inputs and the forecast weeks; the window sums
// (termsRows) and the money arithmetic (station price = supplier price × (1 + fee), rounded once,
// src/lib/money.ts) are JavaScript's.
import type { Db } from '../../db/index.js'
import { rawRows } from '../../db/prepared.js'
import { decodeCursor, page } from '../../lib/cursor.js'
import { fromScaled, lineNet, stationPackPrice, toScaled } from '../../lib/money.js'
import type { Actor } from '../../lib/permissions.js'
import { problem, type ProblemItem } from '../../lib/problems.js'
import { addDays, assertStationInScope, upsertCartLines, type CartView } from '../carts/carts.service.js'
import { businessDate } from '../contracts/pricing.service.js'
import { addWeeks, isoWeekOf, weekKey, type IsoWeek } from './forecasts.service.js'
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

/**
 * How the page's articles are found: `walk` the catalog in code order probing each article,
 * `collect` the station's articles then sort them, or `auto` (the default): walk when the station
 * holds enough of the catalog (see termsText). Same answer either way; tests and the bench compare.
 */
export type PageStrategy = 'auto' | 'walk' | 'collect'

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
  pageStrategy?: PageStrategy
}

/**
 * A candidate offer of a page article: an active offer of an active supplier for the active
 * article that has a price today, with the price inputs the cart's resolution would use (the
 * covering contract's pack price and fee, else the catalog price and the default fee) and the
 * forecast over the window its own lead time gives.
 */
export interface OfferRow {
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
  supplierPackPrice: string
  feePct: string
  /** Σ forecast units over ceil(lead time / 7) + horizon weeks, and how many forecast weeks that window holds */
  forecastUnits: number
  forecastRows: number
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
  /** Σ forecast units over the horizon alone (the window of an article without an offer) and the weeks it holds */
  horizonUnits: number
  horizonRows: number
  /** active offers of active suppliers (the article being active), priced today or not */
  offerCount: number
  /** those with a price today; null without any */
  offers: OfferRow[] | null
}

/** An offer as the terms statement sends it: OfferRow's fields in declaration order, up to feePct. */
type OfferTuple = [string, string, string, string, string, number, number, number, number, 'CONTRACT' | 'CATALOG', string | null, string, string]

interface RawTermsRow extends Omit<TermsRow, 'offers' | 'horizonUnits' | 'horizonRows'> {
  /** the forecast weeks read for the article: offsets from the current week and units (null: none) */
  weekOffsets: number[] | null
  weekUnits: number[] | null
  offers: OfferTuple[] | null
}

/** Σ units and how many forecast weeks fall in the first `weeks` weeks. */
function windowSum (row: RawTermsRow, weeks: number): { units: number, n: number } {
  let units = 0
  let n = 0
  const offs = row.weekOffsets ?? []
  const us = row.weekUnits ?? []
  for (let i = 0; i < offs.length; i++) {
    if ((offs[i] as number) < weeks) { units += us[i] as number; n++ }
  }
  return { units, n }
}

/**
 * Runs a terms statement (termsStatement), names the candidates' fields and sums each window: the
 * horizon alone, and per candidate ceil(lead time / 7) + horizon weeks.
 */
export async function termsRows (db: Db, statement: { sql: string, parameters: unknown[] }, horizonWeeks: number): Promise<TermsRow[]> {
  const raw = await rawRows<RawTermsRow>(db, statement.sql, statement.parameters)
  const rows: TermsRow[] = []
  for (const r of raw) {
    const horizon = windowSum(r, horizonWeeks)
    rows.push({
      articleId: r.articleId,
      articleCode: r.articleCode,
      articleName: r.articleName,
      baseUnit: r.baseUnit,
      hasLevel: r.hasLevel,
      onHand: r.onHand,
      safety: r.safety,
      inboundPo: r.inboundPo,
      inboundTransfer: r.inboundTransfer,
      horizonUnits: horizon.units,
      horizonRows: horizon.n,
      offerCount: r.offerCount,
      offers: r.offers === null
        ? null
        : r.offers.map(t => {
          const w = windowSum(r, ceilDiv(t[8], 7) + horizonWeeks)
          return {
            offerId: t[0],
            supplierId: t[1],
            supplierName: t[2],
            supplierRef: t[3],
            packLabel: t[4],
            unitsPerPack: t[5],
            moqPacks: t[6],
            packMultiple: t[7],
            leadTimeDays: t[8],
            priceSource: t[9],
            contractNumber: t[10],
            supplierPackPrice: t[11],
            feePct: t[12],
            forecastUnits: w.units,
            forecastRows: w.n
          }
        })
    })
  }
  return rows
}

/**
 * Every term of a page of the station's articles in one statement. The station's articles: a
 * stock level, a forecast in the weeks read, an open PO line or a transfer in transit. Parameters:
 * $1 station, $2 the weeks read in order (year × 100 + week: an article's week offsets are
 * positions in it, no date arithmetic per forecast row), $3–$6 the first and last (year, week) read (the
 * current week over horizon + the longest possible lead time), $7 today, $8 the
 * cursor's article code (null: from the start), $9 how many articles, $10 the page strategy (all)
 * or the article ids (filtered).
 *
 * The page (keyset on the article code):
 * - walk: the articles index from the cursor in code order, each article probed for a stock level
 *   (the join that reads its level anyway), else a forecast week in the window (a primary-key
 *   probe), else an open PO line or a transfer in transit (hashed: both are computed first, from
 *   the station's open orders only); PostgreSQL stops after `limit` articles. Cost ∝ the catalog
 *   span the page covers: ≈ the page for a station stocking most of the catalog.
 * - collect: the union of the station's article ids from each source, joined to the articles and
 *   sorted: cost ∝ the station's articles × forecast weeks, small for a station holding few.
 * - auto walks when the station has at least n = 0.75·√(limit × catalog size) stock levels (counted
 *   with a LIMIT n, so deciding costs at most n index entries): the walk then reads at most
 *   ≈ limit × catalog / n articles, fewer than collecting would read rows (≈ 13 n).
 * Then, for the page's articles only, set-based: forecast weeks (a LATERAL primary-key range per
 * article, the same plan whatever the prepared statement's plan) as offsets and units, whose
 * window sums termsRows takes; the candidate offers in one join, with their covering contract line
 * (the cart's rule: ACTIVE, valid today, latest valid_from first) in one DISTINCT ON.
 *
 * A constant text (one per variant) run through rawRows by termsRows (no Kysely plugins: it aliases
 * its own camelCase keys; the candidates come as one JSON column of tuples).
 */
function termsText (filtered: boolean): string {
  const window = (f: string): string => `(${f}.iso_year, ${f}.iso_week) >= ($3::int, $4::int) AND (${f}.iso_year, ${f}.iso_week) <= ($5::int, $6::int)`
  // an article's stock level: a LATERAL primary-key probe (never a hash join reading every level of
  // the station, which would turn the walk into a sort of the whole catalog)
  const level = `LEFT JOIN LATERAL (
         SELECT true AS has, s.quantity, s.alert_threshold FROM stock_levels s WHERE s.station_id = $1::uuid AND s.article_id = a.id LIMIT 1
       ) sl ON true`
  // the walk's probes: the level, then the (hashed) open POs and transfers, then one forecast week in
  // the window — a LATERAL primary-key probe run only when the level is missing (an EXISTS there was
  // planned as a hashed subplan reading the station's whole window)
  const probes = `${level}
       LEFT JOIN LATERAL (
         SELECT true AS yes FROM forecasts f
         WHERE sl.has IS NULL AND f.station_id = $1::uuid AND f.article_id = a.id AND ${window('f')}
         LIMIT 1
       ) fx ON true`
  const stationArticle = '(sl.has OR a.id IN (SELECT article_id FROM po) OR a.id IN (SELECT article_id FROM tr) OR fx.yes)'
  const columns = 'a.id, a.code, a.name, a.base_unit, a.is_active, sl.has IS NOT NULL AS has_level, sl.quantity, sl.alert_threshold'
  const after = 'a.code > coalesce($8::text, \'\')' // codes are never empty (CHECK): one index condition, custom or generic plan
  const page = filtered
    ? `page AS MATERIALIZED (
      SELECT ${columns}
      FROM articles a
      ${probes}
      WHERE a.id = ANY($10::uuid[]) AND ${after} AND ${stationArticle}
      ORDER BY a.code
      LIMIT $9::int
    )`
    : `threshold AS MATERIALIZED (
      SELECT ceil(0.75 * sqrt($9::int * greatest(c.reltuples, 1)))::int AS n FROM pg_class c WHERE c.oid = 'articles'::regclass
    ), gate AS MATERIALIZED (
      SELECT CASE $10::text WHEN 'walk' THEN true WHEN 'collect' THEN false
        ELSE (SELECT count(*) FROM (SELECT FROM stock_levels WHERE station_id = $1::uuid LIMIT (SELECT n FROM threshold)) s) >= (SELECT n FROM threshold)
      END AS walk
    ), page AS MATERIALIZED (
      -- one of the two branches runs (the other's one-time filter is false); the outer LIMIT keeps
      -- the estimate at one page
      SELECT * FROM (
      (SELECT ${columns}
       FROM articles a
       ${probes}
       WHERE (SELECT walk FROM gate) AND ${after} AND ${stationArticle}
       ORDER BY a.code
       LIMIT $9::int)
      UNION ALL
      (SELECT ${columns}
       FROM (
         SELECT a.id, a.code, a.name, a.base_unit, a.is_active
         FROM articles a
         WHERE NOT (SELECT walk FROM gate) AND ${after}
           AND a.id IN (
             SELECT article_id FROM stock_levels WHERE station_id = $1::uuid
             UNION SELECT article_id FROM forecasts WHERE station_id = $1::uuid AND ${window('forecasts')}
             UNION SELECT article_id FROM po
             UNION SELECT article_id FROM tr)
         ORDER BY a.code
         LIMIT $9::int) a
       ${level})
      ) u LIMIT $9::int
    )`
  return `
    WITH open_po AS MATERIALIZED (
      -- the station's open orders from their partial index, on their own: joined to the lines in
      -- one plan, PostgreSQL preferred a parallel sequential scan of every purchase order
      SELECT id FROM purchase_orders WHERE station_id = $1::uuid AND status IN ('PLACED', 'CONFIRMED', 'SHIPPED')
    ), po AS MATERIALIZED (
      SELECT l.article_id, sum(l.packs_ordered::int8 * l.units_per_pack)::int8 AS units
      FROM open_po p
      ${filtered
        // a few articles (to-cart): their lines from the article index, hashed against the open
        // orders — what the probe per open order below would cost is priced from the station-wide
        // estimate of open orders, high enough to pass jit_above_cost on a server with JIT
        ? 'JOIN purchase_order_lines l ON l.purchase_order_id = p.id WHERE l.article_id = ANY($10::uuid[])'
        // the page: each open order's lines from the (purchase_order_id, line_no) index,
        // index-only (0017), a LATERAL kept apart (OFFSET 0) so the plan is a probe per open order
        // whatever PostgreSQL estimates — joined, a station-wide estimate (the bench station holds
        // a fifth of all orders, and checkouts elsewhere made a third of them open) turned it into
        // a sequential scan of every order line (1.3 M)
        : `CROSS JOIN LATERAL (
        SELECT l.article_id, l.packs_ordered, l.units_per_pack FROM purchase_order_lines l WHERE l.purchase_order_id = p.id OFFSET 0
      ) l`}
      GROUP BY l.article_id
    ), tr AS MATERIALIZED (
      SELECT tl.article_id, sum(coalesce(tl.units_shipped, 0))::int8 AS units
      FROM transfers t
      JOIN transfer_lines tl ON tl.transfer_id = t.id
      WHERE t.requesting_station_id = $1::uuid AND t.status = 'SHIPPED' ${filtered ? 'AND tl.article_id = ANY($10::uuid[])' : ''}
      GROUP BY tl.article_id
    ), covering AS MATERIALIZED (
      SELECT c.id, c.number, c.fee_pct, c.valid_from FROM contracts c
      WHERE c.status = 'ACTIVE' AND c.valid_from <= $7::date AND c.valid_until >= $7::date
    ), ${page},
    -- the page's forecast weeks, per article a range of the primary key (whatever plan the prepared
    -- statement gets), as week offsets from the current week (positions in $2) and units, in JSON
    -- (JSON.parse: an int[] column goes through pg's much slower array parser); the window sums
    -- are taken in JavaScript (termsRows), per candidate
    fc AS MATERIALIZED (
      SELECT p.id AS article_id, f.offs, f.units
      FROM page p
      CROSS JOIN LATERAL (
        SELECT json_agg(array_position($2::int[], f.iso_year * 100 + f.iso_week) - 1) AS offs, json_agg(f.units) AS units
        FROM forecasts f
        WHERE f.station_id = $1::uuid AND f.article_id = p.id AND ${window('f')}
      ) f
    ), cand AS MATERIALIZED (
      -- the candidates: active offers of active suppliers for the page's active articles, one join
      -- for the page (per-article LATERALs hashed the suppliers and the covering contracts again for
      -- every article: 40 % of the statement)
      SELECT o.article_id, o.id, o.supplier_id, s.name AS supplier_name, o.supplier_ref, o.pack_label, o.units_per_pack,
        o.moq_packs, o.pack_multiple, o.lead_time_days, o.catalog_pack_price
      FROM page p
      JOIN offers o ON o.article_id = p.id AND o.is_active
      JOIN suppliers s ON s.id = o.supplier_id AND s.is_active
      WHERE p.is_active
    ), priced AS MATERIALIZED (
      -- each candidate's covering contract line, as the cart's price resolution finds it
      -- (pricing.service.ts: ACTIVE, valid today, latest valid_from first; an offer is unique per
      -- article and supplier)
      SELECT DISTINCT ON (l.article_id, l.supplier_id) l.article_id, l.supplier_id, c.number, l.pack_price, c.fee_pct
      FROM cand o
      JOIN contract_lines l ON l.article_id = o.article_id AND l.supplier_id = o.supplier_id
      JOIN covering c ON c.id = l.contract_id
      ORDER BY l.article_id, l.supplier_id, c.valid_from DESC, c.id
    ), oc AS MATERIALIZED (
      SELECT o.article_id, count(*)::int AS n,
        -- positional (OfferTuple): half the bytes of keyed objects, and cheaper to build and to parse
        json_agg(json_build_array(
          o.id, o.supplier_id, o.supplier_name, o.supplier_ref, o.pack_label,
          o.units_per_pack, o.moq_packs, o.pack_multiple, o.lead_time_days,
          CASE WHEN cl.number IS NULL THEN 'CATALOG' ELSE 'CONTRACT' END, cl.number,
          coalesce(cl.pack_price, o.catalog_pack_price)::text, coalesce(cl.fee_pct, st.default_fee_pct)::text
        )) FILTER (WHERE cl.number IS NOT NULL OR st.allow_catalog_fallback) AS offers
      FROM cand o
      -- the one settings row (LIMIT 1: estimated as one row even before the table is analyzed)
      CROSS JOIN (SELECT default_fee_pct, allow_catalog_fallback FROM settings LIMIT 1) st
      LEFT JOIN priced cl ON cl.article_id = o.article_id AND cl.supplier_id = o.supplier_id
      GROUP BY o.article_id
    )
    SELECT p.id AS "articleId", p.code AS "articleCode", p.name AS "articleName", p.base_unit AS "baseUnit",
      p.has_level AS "hasLevel", coalesce(p.quantity, 0) AS "onHand", coalesce(p.alert_threshold, 0) AS safety,
      coalesce(po.units, 0)::int8 AS "inboundPo", coalesce(tr.units, 0)::int8 AS "inboundTransfer",
      fc.offs AS "weekOffsets", fc.units AS "weekUnits", coalesce(oc.n, 0) AS "offerCount", oc.offers
    FROM page p
    LEFT JOIN fc ON fc.article_id = p.id
    LEFT JOIN oc ON oc.article_id = p.id
    LEFT JOIN po ON po.article_id = p.id
    LEFT JOIN tr ON tr.article_id = p.id
    ORDER BY p.code`
}
const TERMS_ALL = termsText(false)
const TERMS_SOME = termsText(true)

export interface TermsQuery {
  today: string
  horizonWeeks: number
  /** only these articles (to-cart, the articleId filter) */
  articleIds?: readonly string[] | undefined
  /** the page: articles after this code, `limit` of them (the caller asks one more to know whether another page follows) */
  afterCode?: string | undefined
  limit: number
  strategy?: PageStrategy | undefined
}

/** The terms statement and its parameters (exported for the bench's plan check). */
export function termsStatement (stationId: string, q: TermsQuery): { sql: string, parameters: unknown[] } {
  const { weeks, numbers } = weeksOf(q.today, q.horizonWeeks)
  const first = weeks[0] as IsoWeek
  const last = weeks[weeks.length - 1] as IsoWeek
  const parameters: unknown[] = [stationId, numbers, first.year, first.week, last.year, last.week, q.today, q.afterCode ?? null, q.limit]
  return q.articleIds === undefined
    ? { sql: TERMS_ALL, parameters: [...parameters, q.strategy ?? 'auto'] }
    : { sql: TERMS_SOME, parameters: [...parameters, q.articleIds] }
}

/** The ISO weeks whose forecasts are read: from the current one over horizon + the longest lead time. */
export function forecastWeeks (today: string, horizonWeeks: number): IsoWeek[] {
  const weeks: IsoWeek[] = [isoWeekOf(today)]
  for (let i = 1; i < horizonWeeks + MAX_LEAD_WEEKS; i++) weeks.push(addWeeks(weeks[i - 1] as IsoWeek, 1))
  return weeks
}

/** forecastWeeks, their keys and numbers (year × 100 + week), kept for the last (today, horizon) asked: every page of a day asks the same. */
let lastWeeks: { today: string, horizonWeeks: number, weeks: IsoWeek[], keys: string[], numbers: number[] } | undefined
function weeksOf (today: string, horizonWeeks: number): { weeks: IsoWeek[], keys: string[], numbers: number[] } {
  if (lastWeeks?.today !== today || lastWeeks.horizonWeeks !== horizonWeeks) {
    const weeks = forecastWeeks(today, horizonWeeks)
    lastWeeks = { today, horizonWeeks, weeks, keys: weeks.map(weekKey), numbers: weeks.map(w => w.year * 100 + w.week) }
  }
  return lastWeeks
}

// ---- the choice --------------------------------------------------------------------------------

interface Candidate { offer: OfferRow, stationPackPrice: string, packScaled: bigint }

/** a's station price per base unit compared with b's, exactly (cross-multiplied). */
function compareUnitPrice (a: Candidate, b: Candidate): number {
  const x = a.packScaled * BigInt(b.offer.unitsPerPack)
  const y = b.packScaled * BigInt(a.offer.unitsPerPack)
  return x < y ? -1 : x > y ? 1 : 0
}

function compareCandidates (a: Candidate, b: Candidate): number {
  const contract = (a.offer.priceSource === 'CONTRACT' ? 0 : 1) - (b.offer.priceSource === 'CONTRACT' ? 0 : 1)
  if (contract !== 0) return contract
  const price = compareUnitPrice(a, b)
  if (price !== 0) return price
  const lead = a.offer.leadTimeDays - b.offer.leadTimeDays
  if (lead !== 0) return lead
  const an = a.offer.supplierName
  const bn = b.offer.supplierName
  return an < bn ? -1 : an > bn ? 1 : a.offer.supplierId < b.offer.supplierId ? -1 : 1
}

/** Station price per base unit, 6 decimals, half-up. */
function unitPrice (packScaled: bigint, unitsPerPack: number): string {
  const num = packScaled * 100n
  const d = BigInt(unitsPerPack)
  const q = num / d
  return fromScaled(2n * (num % d) >= d ? q + 1n : q, 6)
}

/** The row's candidates, each with its station pack price (money.ts, as the cart quote computes it). */
export function candidatesOf (row: Pick<TermsRow, 'offers'>): Candidate[] {
  const out: Candidate[] = []
  for (const offer of row.offers ?? []) {
    const price = stationPackPrice(offer.supplierPackPrice, offer.feePct)
    out.push({ offer, stationPackPrice: price, packScaled: toScaled(price, 4) })
  }
  return out
}

interface Choice { chosen: Candidate | null, chosenUnit: string, rule: ChoiceRule, candidates: number, explanation: string }

function choose (row: TermsRow): Choice {
  const candidates = candidatesOf(row)
  const baseUnit = row.baseUnit
  if (candidates.length === 0) {
    const why = row.offerCount === 0 ? 'No active offer of an active supplier for this (active) article' : 'No offer has a price today (no contract covers it and catalog prices are not allowed)'
    return { chosen: null, chosenUnit: '', rule: 'NO_OFFER', candidates: 0, explanation: `${why}: nothing can be proposed` }
  }
  // the best and the runner-up (the explanation compares them), in one pass
  let best = candidates[0] as Candidate
  let next: Candidate | undefined
  for (let i = 1; i < candidates.length; i++) {
    const c = candidates[i] as Candidate
    if (compareCandidates(c, best) < 0) { next = best; best = c } else if (next === undefined || compareCandidates(c, next) < 0) next = c
  }
  const bestUnit = unitPrice(best.packScaled, best.offer.unitsPerPack)
  if (next === undefined) return { chosen: best, chosenUnit: bestUnit, rule: 'ONLY_OFFER', candidates: 1, explanation: `Only orderable offer (${best.offer.supplierName}, ${best.offer.priceSource === 'CONTRACT' ? `contract ${best.offer.contractNumber ?? ''}`.trim() : 'catalog'} price ${bestUnit} per ${baseUnit})` }
  const nextUnit = unitPrice(next.packScaled, next.offer.unitsPerPack)
  const others = `${candidates.length - 1} other offer${candidates.length > 2 ? 's' : ''}`
  if (best.offer.priceSource === 'CONTRACT' && next.offer.priceSource !== 'CONTRACT') {
    return { chosen: best, chosenUnit: bestUnit, rule: 'CONTRACT_PRICE', candidates: candidates.length, explanation: `Contract price (${best.offer.contractNumber ?? 'contract'}, ${bestUnit} per ${baseUnit}) preferred over ${others} at catalog prices (the best: ${next.offer.supplierName}, ${nextUnit} per ${baseUnit})` }
  }
  const kind = best.offer.priceSource === 'CONTRACT' ? 'contract' : 'catalog'
  if (compareUnitPrice(best, next) !== 0) {
    return { chosen: best, chosenUnit: bestUnit, rule: 'LOWEST_UNIT_PRICE', candidates: candidates.length, explanation: `Lowest ${kind} station price per ${baseUnit}: ${bestUnit} against ${nextUnit} (${next.offer.supplierName}), among ${candidates.length} offers` }
  }
  if (best.offer.leadTimeDays !== next.offer.leadTimeDays) {
    return { chosen: best, chosenUnit: bestUnit, rule: 'SHORTEST_LEAD_TIME', candidates: candidates.length, explanation: `Same station price per ${baseUnit} (${bestUnit}) as ${next.offer.supplierName}; shorter lead time: ${best.offer.leadTimeDays} days against ${next.offer.leadTimeDays}` }
  }
  return { chosen: best, chosenUnit: bestUnit, rule: 'TIE', candidates: candidates.length, explanation: `Same price per ${baseUnit} (${bestUnit}) and lead time (${best.offer.leadTimeDays} days) as ${next.offer.supplierName}; first by supplier name` }
}

// ---- the proposal ------------------------------------------------------------------------------

const ceilDiv = (a: number, b: number): number => Math.floor((a + b - 1) / b)

/** The packs to order for a raw need: ceil to packs, raised to the MOQ, rounded up to the multiple. */
export function packsFor (rawNeedUnits: number, unitsPerPack: number, moqPacks: number, packMultiple: number): { packsForNeed: number, proposedPacks: number } {
  if (rawNeedUnits <= 0) return { packsForNeed: 0, proposedPacks: 0 }
  const packsForNeed = ceilDiv(rawNeedUnits, unitsPerPack)
  return { packsForNeed, proposedPacks: ceilDiv(Math.max(packsForNeed, moqPacks), packMultiple) * packMultiple }
}

function itemOf (row: TermsRow, weekKeys: readonly string[], horizonWeeks: number): ReplenishmentItem | null {
  const { chosen, chosenUnit, rule, candidates, explanation } = choose(row)
  const o = chosen?.offer
  const leadTimeDays = o?.leadTimeDays ?? 0
  const leadTimeWeeks = ceilDiv(leadTimeDays, 7)
  const windowWeeks = leadTimeWeeks + horizonWeeks
  // the forecast over the chosen offer's window (the horizon alone without an offer), summed by the statement
  const forecastUnits = o === undefined ? row.horizonUnits : o.forecastUnits
  const inWindow = (o === undefined ? row.horizonRows : o.forecastRows) > 0
  // an article only forecast beyond its own window, with no stock level and nothing inbound, is not the station's concern yet
  if (!row.hasLevel && !inWindow && row.inboundPo === 0 && row.inboundTransfer === 0) return null
  const rawNeedUnits = forecastUnits - row.onHand - row.inboundPo - row.inboundTransfer + row.safety
  const { packsForNeed, proposedPacks } = o === undefined
    ? { packsForNeed: 0, proposedPacks: 0 }
    : packsFor(rawNeedUnits, o.unitsPerPack, o.moqPacks, o.packMultiple)
  const windowFrom = weekKeys[0] as string
  const windowTo = weekKeys[windowWeeks - 1] as string
  const offer: ChosenOffer | null = chosen === null || o === undefined
    ? null
    : {
        offerId: o.offerId,
        supplierId: o.supplierId,
        supplierName: o.supplierName,
        supplierRef: o.supplierRef,
        packLabel: o.packLabel,
        unitsPerPack: o.unitsPerPack,
        moqPacks: o.moqPacks,
        packMultiple: o.packMultiple,
        leadTimeDays,
        priceSource: o.priceSource,
        contractNumber: o.priceSource === 'CONTRACT' ? o.contractNumber : null,
        stationPackPrice: chosen.stationPackPrice,
        stationUnitPrice: chosenUnit
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
  const { keys } = weeksOf(today, horizonWeeks)
  const limit = opts.articleIds !== undefined ? opts.articleIds.length : (opts.limit ?? DEFAULT_PAGE)
  const afterCode = opts.cursor !== undefined ? codeOf(opts.cursor) : undefined
  const terms = termsStatement(stationId, { today, horizonWeeks, articleIds: opts.articleIds, afterCode, limit: limit + 1, strategy: opts.pageStrategy })
  const fetched = await termsRows(db, terms, horizonWeeks)
  const { items: rows, nextCursor } = page(fetched, limit, r => [r.articleCode])
  const items: ReplenishmentItem[] = []
  for (const row of rows) {
    const item = itemOf(row, keys, horizonWeeks)
    if (item !== null && (opts.onlyNeeded !== true || item.rawNeedUnits > 0)) items.push(item)
  }
  return { stationId, asOf: today, currentWeek: keys[0] as string, horizonWeeks, items, nextCursor }
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
