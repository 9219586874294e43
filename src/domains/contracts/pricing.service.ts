// Price resolution and contract-cap consumption (PRODUCT.md §4.2). The cart quote, checkout and
// the offer views call these; prices are never taken from the client.
import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../../db/index.js'
import { stationPackPrice } from '../../lib/money.js'
import { priceKey, type PriceRequest, type ResolvedPrice } from './pricing.types.js'

const PARIS_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' })

/**
 * Today's business date (YYYY-MM-DD) in France, where the stations and the contracts live: a
 * contract valid until 31 December still prices an order placed at 00:30 Paris time on that day
 * even though UTC is still the 30th, and stops at midnight Paris time.
 */
export function businessDate (now: Date = new Date()): string {
  return PARIS_DATE.format(now)
}

interface PriceRow {
  articleId: string
  supplierId: string
  articleCode: string
  articleName: string
  vatRate: string
  articleActive: boolean
  supplierActive: boolean | null
  offerId: string | null
  offerActive: boolean | null
  supplierRef: string | null
  packLabel: string | null
  unitsPerPack: number | null
  moqPacks: number | null
  packMultiple: number | null
  leadTimeDays: number | null
  catalogPackPrice: string | null
  contractLineId: string | null
  contractId: string | null
  contractNumber: string | null
  contractPackPrice: string | null
  contractFeePct: string | null
  remainingPacks: number | null
  defaultFeePct: string
  allowCatalogFallback: boolean
}

/**
 * The price rows of the (article, supplier) pairs of `req` on `onDate`, one statement whatever the
 * number of pairs: joined to articles, offers and suppliers, the covering contract line from a
 * LATERAL subquery, the settings row cross-joined. An ACTIVE contract whose validUntil has passed
 * does not cover `onDate`, so a contract the expiry sweep has not reached yet never prices
 * anything (lazy expiry). `req` must be a relation with columns (article_id, supplier_id).
 */
function priceRows (req: RawBuilder<unknown>, onDate: string): RawBuilder<PriceRow> {
  return sql<PriceRow>`
    SELECT
      a.id AS article_id, req.supplier_id, a.code AS article_code, a.name AS article_name, a.vat_rate,
      a.is_active AS article_active, sup.is_active AS supplier_active,
      o.id AS offer_id, o.is_active AS offer_active, o.supplier_ref, o.pack_label, o.units_per_pack,
      o.moq_packs, o.pack_multiple, o.lead_time_days, o.catalog_pack_price,
      cl.id AS contract_line_id, cl.contract_id, cl.number AS contract_number,
      cl.pack_price AS contract_pack_price, cl.fee_pct AS contract_fee_pct, cl.remaining_packs,
      s.default_fee_pct, s.allow_catalog_fallback
    FROM ${req} AS req
    JOIN articles a ON a.id = req.article_id
    CROSS JOIN settings s
    LEFT JOIN suppliers sup ON sup.id = req.supplier_id
    LEFT JOIN offers o ON o.article_id = req.article_id AND o.supplier_id = req.supplier_id
    LEFT JOIN LATERAL (
      SELECT l.id, l.contract_id, c.number, l.pack_price, c.fee_pct,
        CASE WHEN l.committed_packs IS NULL THEN NULL
             ELSE (floor(l.committed_packs * (1 + l.allowance_pct / 100)) - l.ordered_packs)::int END AS remaining_packs
      FROM contract_lines l
      JOIN contracts c ON c.id = l.contract_id
      WHERE l.article_id = req.article_id AND l.supplier_id = req.supplier_id
        AND c.status = 'ACTIVE' AND c.valid_from <= ${onDate}::date AND c.valid_until >= ${onDate}::date
      -- approval forbids overlaps, so at most one row qualifies; the order only makes it deterministic
      ORDER BY c.valid_from DESC, c.id
      LIMIT 1
    ) cl ON true`
}

/**
 * Resolves the price of every (article, supplier) pair on `onDate` (YYYY-MM-DD) in one statement.
 * Pairs whose article does not exist are absent from the map.
 */
export async function resolvePrices (db: Db, items: readonly PriceRequest[], onDate: string): Promise<Map<string, ResolvedPrice>> {
  if (items.length === 0) return new Map()
  const articleIds = items.map(i => i.articleId)
  const supplierIds = items.map(i => i.supplierId)
  // Malformed ids would make the uuid[] cast fail the whole batch: such pairs cannot exist anyway.
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
  const keep = articleIds.map((a, i) => UUID.test(a) && UUID.test(supplierIds[i] ?? ''))
  const aIds = articleIds.filter((_, i) => keep[i])
  const sIds = supplierIds.filter((_, i) => keep[i])
  if (aIds.length === 0) return new Map()
  const req = sql`(SELECT DISTINCT r.article_id, r.supplier_id FROM unnest(${aIds}::uuid[], ${sIds}::uuid[]) AS r (article_id, supplier_id))`
  const { rows } = await priceRows(req, onDate).execute(db)
  return toResolvedPrices(rows)
}

/** A cart line as the quote and the checkout read it. */
export interface CartLineRow {
  id: string
  articleId: string
  supplierId: string
  packs: number
  desiredDeliveryDate: string
  note: string | null
}

/**
 * A cart's lines (in cart order) and their prices on `onDate` in one statement — the cart quote's
 * and the checkout's read, one round trip instead of two. The lines come as one JSON column on
 * every row (and on a single row of NULL prices when no line's article exists).
 */
export async function cartLinesWithPrices (db: Db, cartId: string, onDate: string): Promise<{ lines: CartLineRow[], prices: Map<string, ResolvedPrice> }> {
  const req = sql`(SELECT DISTINCT article_id, supplier_id FROM cart_lines WHERE cart_id = ${cartId}::uuid)`
  const { rows } = await sql<PriceRow & { cartLines: CartLineRow[] | null }>`
    SELECT lj.cart_lines, p.*
    FROM (SELECT json_agg(json_build_object('id', id, 'articleId', article_id, 'supplierId', supplier_id, 'packs', packs,
            'desiredDeliveryDate', desired_delivery_date, 'note', note) ORDER BY created_at, id) AS cart_lines
          FROM cart_lines WHERE cart_id = ${cartId}::uuid) lj
    LEFT JOIN (${priceRows(req, onDate)}) p ON true`.execute(db)
  const lines = rows[0]?.cartLines ?? []
  return { lines, prices: toResolvedPrices(rows.filter(r => r.articleId !== null)) }
}

function toResolvedPrices (rows: readonly PriceRow[]): Map<string, ResolvedPrice> {
  const out = new Map<string, ResolvedPrice>()
  for (const r of rows) {
    let priceSource: ResolvedPrice['priceSource'] = null
    let supplierPackPrice: string | null = null
    let feePct = r.defaultFeePct
    if (r.contractLineId !== null && r.contractPackPrice !== null && r.contractFeePct !== null) {
      priceSource = 'CONTRACT'
      supplierPackPrice = r.contractPackPrice
      feePct = r.contractFeePct
    } else if (r.allowCatalogFallback && r.catalogPackPrice !== null) {
      priceSource = 'CATALOG'
      supplierPackPrice = r.catalogPackPrice
    }
    out.set(priceKey(r.articleId, r.supplierId), {
      articleId: r.articleId,
      supplierId: r.supplierId,
      offerId: r.offerId,
      articleActive: r.articleActive,
      offerActive: r.offerActive === true,
      supplierActive: r.supplierActive === true,
      articleCode: r.articleCode,
      articleName: r.articleName,
      vatRate: r.vatRate,
      supplierRef: r.supplierRef,
      packLabel: r.packLabel,
      unitsPerPack: r.unitsPerPack,
      moqPacks: r.moqPacks,
      packMultiple: r.packMultiple,
      leadTimeDays: r.leadTimeDays,
      priceSource,
      contractId: priceSource === 'CONTRACT' ? r.contractId : null,
      contractNumber: priceSource === 'CONTRACT' ? r.contractNumber : null,
      contractLineId: priceSource === 'CONTRACT' ? r.contractLineId : null,
      supplierPackPrice,
      feePct,
      stationPackPrice: supplierPackPrice === null ? null : stationPackPrice(supplierPackPrice, feePct),
      remainingPacks: priceSource === 'CONTRACT' ? r.remainingPacks : null
    })
  }
  return out
}

function assertPacks (packs: number): void {
  if (!Number.isSafeInteger(packs) || packs < 0) throw new TypeError(`packs must be a non-negative integer, got ${packs}`)
}

/**
 * Atomically adds `packs` to a contract line's ordered packs when the cap allows it (one guarded
 * UPDATE … WHERE ordered_packs + n <= cap RETURNING). Returns false when the cap would be exceeded.
 *
 * Concurrent reservations serialise on the row lock; each re-evaluates the guard against the
 * committed value, so the sum never exceeds the cap (the CHECK constraint is the last line of
 * defence). Returns false too when the line does not exist.
 */
export async function reserveContractPacks (db: Db, contractLineId: string, packs: number): Promise<boolean> {
  assertPacks(packs)
  if (packs === 0) return true
  const { rows } = await sql<{ id: string }>`
    UPDATE contract_lines SET ordered_packs = ordered_packs + ${packs}::int
    WHERE id = ${contractLineId}::uuid
      AND (committed_packs IS NULL OR ordered_packs + ${packs}::int <= floor(committed_packs * (1 + allowance_pct / 100)))
    RETURNING id
  `.execute(db)
  return rows.length === 1
}

/**
 * The CTEs `caps_req, caps_locked, caps` that consume packs on several contract lines at once, for
 * a statement of the caller's (`WITH ${capsCte(...)} …`): rows locked in id order (two statements
 * sharing lines cannot deadlock), each line guarded by its cap; `caps` returns the ids reserved.
 * A line missing from `caps` was refused: the caller must then roll the transaction back.
 */
export function capsCte (items: ReadonlyArray<readonly [contractLineId: string, packs: number]>): RawBuilder<unknown> {
  const wanted = items.filter(([, packs]) => { assertPacks(packs); return packs > 0 })
  if (wanted.length === 0) return sql`caps AS (SELECT NULL::uuid AS id WHERE false)`
  const ids = wanted.map(([id]) => id)
  return sql`caps_req AS (SELECT * FROM unnest(${ids}::uuid[], ${wanted.map(([, packs]) => packs)}::int[]) AS r(id, n)),
    caps_locked AS (SELECT id FROM contract_lines WHERE id = ANY(${ids}::uuid[]) ORDER BY id FOR NO KEY UPDATE),
    caps AS (
      UPDATE contract_lines cl SET ordered_packs = cl.ordered_packs + caps_req.n
      FROM caps_req
      WHERE cl.id = caps_req.id AND cl.id IN (SELECT id FROM caps_locked)
        AND (cl.committed_packs IS NULL OR cl.ordered_packs + caps_req.n <= floor(cl.committed_packs * (1 + cl.allowance_pct / 100)))
      RETURNING cl.id)`
}

/** The contract lines of `items` whose packs were refused (all reserved when empty). */
export function refusedCaps (items: ReadonlyArray<readonly [contractLineId: string, packs: number]>, reserved: readonly string[]): string[] {
  const ok = new Set(reserved)
  return items.filter(([id, packs]) => packs > 0 && !ok.has(id)).map(([id]) => id)
}

/**
 * Consumes packs on several contract lines in one guarded statement (see capsCte). Returns the
 * refused contract line ids (empty when everything was reserved).
 */
export async function reserveContractPacksBatch (db: Db, items: ReadonlyArray<readonly [contractLineId: string, packs: number]>): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`WITH ${capsCte(items)} SELECT id FROM caps`.execute(db)
  return refusedCaps(items, rows.map(r => r.id))
}

/**
 * Gives packs back to a contract line (cancelled or declined PO, shortfall at close). Floors at 0
 * so a double release never blocks a cancellation (the total can only be wrong downwards, which
 * never lets an order exceed the cap).
 */
export async function releaseContractPacks (db: Db, contractLineId: string, packs: number): Promise<void> {
  assertPacks(packs)
  if (packs === 0) return
  await sql`
    UPDATE contract_lines SET ordered_packs = greatest(ordered_packs - ${packs}::int, 0)
    WHERE id = ${contractLineId}::uuid
  `.execute(db)
}
