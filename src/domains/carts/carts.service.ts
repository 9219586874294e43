// The station's open cart and its live quote (PRODUCT.md §5.1). One OPEN cart per station (a
// unique partial index), created on first use. Every line change bumps the cart's version under
// its row lock, which gives the cart an ETag and makes line changes queue behind a running checkout
// (which locks the same row): a line added while the cart is being checked out lands in the next
// cart, never in the one being closed. Pricing always comes from the contracts domain.
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import type { Actor } from '../../lib/permissions.js'
import { lineNet, splitTotals } from '../../lib/money.js'
import { notFound, problem } from '../../lib/problems.js'
import { businessDate, cartLinesWithPrices, type CartLineRow } from '../contracts/pricing.service.js'
import { priceKey, type ResolvedPrice } from '../contracts/pricing.types.js'
import type { TotalsView } from '../orders/orders.views.js'
import { MAX_CART_LINES, type AddLineInput, type UpdateLineInput } from './carts.schemas.js'

export type { CartLineRow }

export interface CartProblem { code: string, detail: string, pointer: string }

export interface QuotedLine extends CartLineRow {
  articleCode: string | null
  articleName: string | null
  packLabel: string | null
  unitsPerPack: number | null
  vatRate: string | null
  priceSource: 'CONTRACT' | 'CATALOG' | null
  stationPackPrice: string | null
  lineNet: string | null
  supplierPackPrice: string | null
  supplierLineNet: string | null
  feePct: string | null
  problems: CartProblem[]
}

export interface CartView {
  id: string
  stationId: string
  status: 'OPEN'
  version: number
  createdAt: Date
  updatedAt: Date
  lines: QuotedLine[]
  totals: TotalsView
  supplierTotals: TotalsView
}

interface CartRow { id: string, version: number, createdAt: Date, updatedAt: Date }

export function addDays (date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00.000Z`) + days * 86_400_000).toISOString().slice(0, 10)
}

/** A station user acts on its own station only; staff on any existing station. Others: 404. */
export async function assertStationInScope (db: Db, actor: Actor, stationId: string): Promise<void> {
  if (actor.role === 'STATION') {
    if (actor.organizationId !== stationId) throw notFound('Station')
    return
  }
  if (actor.role === 'SUPPLIER') throw notFound('Station')
  const row = await db.selectFrom('stations').select('id').where('id', '=', stationId).executeTakeFirst()
  if (row === undefined) throw notFound('Station')
}

const CART_COLUMNS = ['id', 'version', 'createdAt', 'updatedAt'] as const

/** The open cart, created when missing (race-safe: the unique partial index arbitrates). */
async function findOrCreateOpenCart (db: Db, actor: Actor, stationId: string): Promise<CartRow> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const open = await db.selectFrom('carts').select(CART_COLUMNS).where('stationId', '=', stationId).where('status', '=', 'OPEN').executeTakeFirst()
    if (open !== undefined) return open
    const created = await db.insertInto('carts').values({ stationId, createdBy: actor.userId, masterOrderId: null, checkedOutAt: null })
      // the partial index's predicate must be a literal: a bound parameter cannot prove it, so inference fails once the statement is prepared
      .onConflict(oc => oc.column('stationId').where(sql<boolean>`status = 'OPEN'`).doNothing())
      .returning(CART_COLUMNS).executeTakeFirst()
    if (created !== undefined) return created
  }
  throw problem('CONCURRENT_UPDATE', 'The cart changed concurrently; retry the request')
}

/**
 * Locks the open cart for a line change by bumping its version (creating the cart when asked).
 * Honours If-Match against the version before the bump.
 */
async function bumpOpenCart (db: Db, actor: Actor, stationId: string, create: boolean, expectedVersion: number | undefined): Promise<CartRow> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const bumped = await db.updateTable('carts').set({ version: sql`version + 1`, updatedAt: sql`now()` })
      .where('stationId', '=', stationId).where('status', '=', 'OPEN')
      .returning(CART_COLUMNS).executeTakeFirst()
    if (bumped !== undefined) {
      if (expectedVersion !== undefined && expectedVersion !== bumped.version - 1) {
        throw problem('PRECONDITION_FAILED', `If-Match "${expectedVersion}" does not match the current ETag "${bumped.version - 1}"`)
      }
      return bumped
    }
    if (!create) throw notFound('Cart line')
    if (expectedVersion !== undefined) throw problem('PRECONDITION_FAILED', 'The station has no open cart matching If-Match')
    const created = await db.insertInto('carts').values({ stationId, createdBy: actor.userId, masterOrderId: null, checkedOutAt: null })
      // the partial index's predicate must be a literal: a bound parameter cannot prove it, so inference fails once the statement is prepared
      .onConflict(oc => oc.column('stationId').where(sql<boolean>`status = 'OPEN'`).doNothing())
      .returning(CART_COLUMNS).executeTakeFirst()
    if (created !== undefined) return created
  }
  throw problem('CONCURRENT_UPDATE', 'The cart changed concurrently; retry the request')
}

// ---- the quote -------------------------------------------------------------------------------

/**
 * Every check of §5.1 on every line, given the resolved prices. Pure: the cart view and the
 * checkout share it, so the quote shows exactly what checkout would refuse. Pointers are relative
 * to the line (`/packs`); checkout prefixes them with `/lines/<index>`.
 */
export function lineProblems (lines: readonly CartLineRow[], prices: ReadonlyMap<string, ResolvedPrice>, today: string): CartProblem[][] {
  // Cap use sums the cart's packs per contract line (one cart may hit a line through one pair only
  // today, but the rule is about the line's total).
  const capUse = new Map<string, number>()
  for (const l of lines) {
    const p = prices.get(priceKey(l.articleId, l.supplierId))
    if (p?.contractLineId != null) capUse.set(p.contractLineId, (capUse.get(p.contractLineId) ?? 0) + l.packs)
  }
  return lines.map(l => {
    const out: CartProblem[] = []
    const p = prices.get(priceKey(l.articleId, l.supplierId))
    if (p === undefined) return [{ code: 'ARTICLE_INACTIVE', detail: 'The article no longer exists', pointer: '/articleId' }]
    if (!p.articleActive) out.push({ code: 'ARTICLE_INACTIVE', detail: `Article ${p.articleCode} is inactive`, pointer: '/articleId' })
    if (!p.supplierActive) out.push({ code: 'SUPPLIER_INACTIVE', detail: 'The supplier is inactive', pointer: '/supplierId' })
    if (p.offerId === null || !p.offerActive) out.push({ code: 'OFFER_INACTIVE', detail: p.offerId === null ? 'The supplier no longer offers this article' : 'The supplier\'s offer for this article is inactive', pointer: '/supplierId' })
    if (p.moqPacks !== null && l.packs < p.moqPacks) out.push({ code: 'BELOW_MOQ', detail: `${l.packs} packs ordered, the minimum order is ${p.moqPacks}`, pointer: '/packs' })
    if (p.packMultiple !== null && l.packs % p.packMultiple !== 0) out.push({ code: 'NOT_A_MULTIPLE', detail: `${l.packs} packs is not a multiple of ${p.packMultiple}`, pointer: '/packs' })
    if (p.leadTimeDays !== null) {
      const earliest = addDays(today, p.leadTimeDays)
      if (l.desiredDeliveryDate < earliest) out.push({ code: 'DELIVERY_DATE_TOO_EARLY', detail: `The earliest delivery date is ${earliest} (lead time ${p.leadTimeDays} days)`, pointer: '/desiredDeliveryDate' })
    }
    if (p.priceSource === null) out.push({ code: 'NO_CONTRACT_PRICE', detail: 'No contract covers this article today and catalog prices are not allowed', pointer: '/articleId' })
    if (p.contractLineId !== null && p.remainingPacks !== null) {
      const used = capUse.get(p.contractLineId) ?? 0
      if (used > p.remainingPacks) out.push({ code: 'CONTRACT_CAP_EXCEEDED', detail: `${used} packs requested, ${Math.max(0, p.remainingPacks)} remaining on contract ${p.contractNumber ?? ''}`.trim(), pointer: '/packs' })
    }
    return out
  })
}

export function quoteLines (lines: readonly CartLineRow[], prices: ReadonlyMap<string, ResolvedPrice>, today: string): { lines: QuotedLine[], totals: TotalsView, supplierTotals: TotalsView } {
  const problems = lineProblems(lines, prices, today)
  const quoted = lines.map((l, i): QuotedLine => {
    const p = prices.get(priceKey(l.articleId, l.supplierId))
    const priced = p?.stationPackPrice != null && p.supplierPackPrice !== null
    return {
      ...l,
      articleCode: p?.articleCode ?? null,
      articleName: p?.articleName ?? null,
      packLabel: p?.packLabel ?? null,
      unitsPerPack: p?.unitsPerPack ?? null,
      vatRate: p?.vatRate ?? null,
      priceSource: p?.priceSource ?? null,
      stationPackPrice: priced ? p.stationPackPrice : null,
      lineNet: priced ? lineNet(p.stationPackPrice as string, l.packs) : null,
      supplierPackPrice: priced ? p.supplierPackPrice : null,
      supplierLineNet: priced ? lineNet(p.supplierPackPrice as string, l.packs) : null,
      feePct: priced ? p.feePct : null,
      problems: problems[i] ?? []
    }
  })
  // The quote previews the master order: one purchase order per supplier, each rounded as its own
  // document, summed (money.ts splitTotals) — exactly what checkout writes.
  const priced = quoted.filter(q => q.lineNet !== null && q.vatRate !== null)
  const station = splitTotals(priced.map(q => ({ supplierId: q.supplierId, net: q.lineNet as string, vatRate: q.vatRate as string }))).total
  const supplier = splitTotals(priced.map(q => ({ supplierId: q.supplierId, net: q.supplierLineNet as string, vatRate: q.vatRate as string }))).total
  return { lines: quoted, totals: { ...station, currency: 'EUR' }, supplierTotals: { ...supplier, currency: 'EUR' } }
}

async function cartView (db: Db, stationId: string, cart: CartRow): Promise<CartView> {
  const today = businessDate()
  const { lines, prices } = await cartLinesWithPrices(db, cart.id, today)
  const q = quoteLines(lines, prices, today)
  return { id: cart.id, stationId, status: 'OPEN', version: cart.version, createdAt: cart.createdAt, updatedAt: cart.updatedAt, ...q }
}

// ---- endpoints -------------------------------------------------------------------------------

export async function getCart (db: Db, actor: Actor, stationId: string): Promise<CartView> {
  await assertStationInScope(db, actor, stationId)
  return await cartView(db, stationId, await findOrCreateOpenCart(db, actor, stationId))
}

/**
 * A cart holds at most MAX_CART_LINES lines (each becomes a purchase-order line; confirm and
 * receive list every line). Counted after an insert, under the cart row's lock (bumpOpenCart), so
 * concurrent additions cannot overshoot; the failed request's transaction inserts nothing.
 */
async function assertCartSize (db: Db, cartId: string): Promise<void> {
  const row = await db.selectFrom('cartLines').select(eb => eb.fn.countAll<string>().as('n')).where('cartId', '=', cartId).executeTakeFirstOrThrow()
  if (Number(row.n) > MAX_CART_LINES) throw problem('BUSINESS_RULE_VIOLATED', `A cart holds at most ${MAX_CART_LINES} lines; check out or remove lines first`)
}

export async function addCartLine (db: Db, actor: Actor, stationId: string, input: AddLineInput, expectedVersion?: number): Promise<CartView> {
  await assertStationInScope(db, actor, stationId)
  // The pair must be orderable now: an existing, active offer of an active supplier for an active
  // article. Quantities, dates and prices are left to the quote (the client may still be typing).
  const offer = await db.selectFrom('offers as o')
    .innerJoin('articles as a', 'a.id', 'o.articleId')
    .innerJoin('suppliers as s', 's.id', 'o.supplierId')
    .select(['o.isActive as offerActive', 'a.isActive as articleActive', 's.isActive as supplierActive'])
    .where('o.articleId', '=', input.articleId).where('o.supplierId', '=', input.supplierId)
    .executeTakeFirst()
  if (offer === undefined) {
    throw problem('REFERENCE_NOT_FOUND', 'This supplier has no offer for this article', { errors: [{ pointer: '/supplierId', code: 'REFERENCE_NOT_FOUND', detail: 'no offer from this supplier for this article' }] })
  }
  if (!offer.articleActive) throw problem('ARTICLE_INACTIVE', 'The article is inactive', { errors: [{ pointer: '/articleId', code: 'ARTICLE_INACTIVE', detail: 'inactive article' }] })
  if (!offer.supplierActive) throw problem('SUPPLIER_INACTIVE', 'The supplier is inactive', { errors: [{ pointer: '/supplierId', code: 'SUPPLIER_INACTIVE', detail: 'inactive supplier' }] })
  if (!offer.offerActive) throw problem('OFFER_INACTIVE', 'The supplier\'s offer for this article is inactive', { errors: [{ pointer: '/supplierId', code: 'OFFER_INACTIVE', detail: 'inactive offer' }] })

  const cart = await bumpOpenCart(db, actor, stationId, true, expectedVersion)
  const inserted = await db.insertInto('cartLines').values({
    cartId: cart.id, stationId, articleId: input.articleId, supplierId: input.supplierId, packs: input.packs, desiredDeliveryDate: input.desiredDeliveryDate, note: input.note ?? null
  }).onConflict(oc => oc.columns(['cartId', 'articleId', 'supplierId']).doNothing()).returning('id').executeTakeFirst()
  if (inserted === undefined) {
    throw problem('CART_LINE_DUPLICATE', 'The cart already has a line for this article and supplier; PATCH it to change the quantity', { errors: [{ pointer: '/articleId', code: 'CART_LINE_DUPLICATE', detail: 'duplicate article × supplier' }] })
  }
  await assertCartSize(db, cart.id)
  return await cartView(db, stationId, cart)
}

export async function updateCartLine (db: Db, actor: Actor, stationId: string, lineId: string, input: UpdateLineInput, expectedVersion?: number): Promise<CartView> {
  await assertStationInScope(db, actor, stationId)
  const cart = await bumpOpenCart(db, actor, stationId, false, expectedVersion)
  const set: Record<string, unknown> = { updatedAt: sql`now()` }
  if (input.packs !== undefined) set.packs = input.packs
  if (input.desiredDeliveryDate !== undefined) set.desiredDeliveryDate = input.desiredDeliveryDate
  if (input.note !== undefined) set.note = input.note
  const r = await db.updateTable('cartLines').set(set).where('id', '=', lineId).where('cartId', '=', cart.id).returning('id').executeTakeFirst()
  if (r === undefined) throw notFound('Cart line')
  return await cartView(db, stationId, cart)
}

export async function deleteCartLine (db: Db, actor: Actor, stationId: string, lineId: string, expectedVersion?: number): Promise<CartView> {
  await assertStationInScope(db, actor, stationId)
  const cart = await bumpOpenCart(db, actor, stationId, false, expectedVersion)
  const r = await db.deleteFrom('cartLines').where('id', '=', lineId).where('cartId', '=', cart.id).returning('id').executeTakeFirst()
  if (r === undefined) throw notFound('Cart line')
  return await cartView(db, stationId, cart)
}

export async function clearCart (db: Db, actor: Actor, stationId: string, expectedVersion?: number): Promise<CartView> {
  await assertStationInScope(db, actor, stationId)
  const cart = await bumpOpenCart(db, actor, stationId, true, expectedVersion)
  await db.deleteFrom('cartLines').where('cartId', '=', cart.id).execute()
  return await cartView(db, stationId, cart)
}

/**
 * Puts several lines into the open cart in one statement (creating the cart if needed): a pair
 * already in the cart gets the new packs, date and note (an upsert, so repeating the call does not
 * double the quantities). The caller has checked that every pair is orderable; the quote reports
 * whatever is not. Used by replenishment → cart.
 */
export async function upsertCartLines (db: Db, actor: Actor, stationId: string, lines: readonly AddLineInput[], expectedVersion?: number): Promise<CartView> {
  await assertStationInScope(db, actor, stationId)
  const cart = await bumpOpenCart(db, actor, stationId, true, expectedVersion)
  if (lines.length > 0) {
    await sql`
      INSERT INTO cart_lines AS c (cart_id, station_id, article_id, supplier_id, packs, desired_delivery_date, note)
      SELECT ${cart.id}::uuid, ${stationId}::uuid, x.a, x.s, x.p, x.d, x.n
      FROM unnest(${lines.map(l => l.articleId)}::uuid[], ${lines.map(l => l.supplierId)}::uuid[], ${lines.map(l => l.packs)}::int[],
                  ${lines.map(l => l.desiredDeliveryDate)}::date[], ${lines.map(l => l.note ?? null)}::text[]) AS x(a, s, p, d, n)
      ON CONFLICT (cart_id, article_id, supplier_id) DO UPDATE
        SET packs = EXCLUDED.packs, desired_delivery_date = EXCLUDED.desired_delivery_date, note = EXCLUDED.note, updated_at = now()`.execute(db)
    await assertCartSize(db, cart.id)
  }
  return await cartView(db, stationId, cart)
}
