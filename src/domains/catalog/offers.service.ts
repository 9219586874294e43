// Offers (article × supplier). Rows carry every price; the route's audience view drops what the
// caller may not see. Today's station price comes from price resolution (one call per page, never
// per row), so a station sees exactly what it would pay if it ordered today.
import { sql, type ExpressionBuilder, type Expression, type SqlBool } from 'kysely'
import type { Db } from '../../db/index.js'
import type { Database } from '../../db/schema.js'
import { decodeCursor, page } from '../../lib/cursor.js'
import type { Actor } from '../../lib/permissions.js'
import { isPlatformRole } from '../../lib/permissions.js'
import { notFound, problem } from '../../lib/problems.js'
import { businessDate, resolvePrices } from '../contracts/pricing.service.js'
import { priceKey } from '../contracts/pricing.types.js'
import { SUPPLIER_EDITABLE, type Offer, type OfferCreate, type OfferListInput, type OfferPatch } from './catalog.schemas.js'

type OfferEb = ExpressionBuilder<Database, 'offers' | 'articles' | 'suppliers'>

/** A station sees active offers of active articles; a supplier its own offers; staff everything. */
function scope (eb: OfferEb, actor: Actor): Expression<SqlBool> {
  if (actor.role === 'STATION') return eb.and([eb('offers.isActive', '=', true), eb('articles.isActive', '=', true)])
  if (actor.role === 'SUPPLIER') return eb('offers.supplierId', '=', actor.organizationId)
  return sql<boolean>`true`
}

function baseQuery (db: Db) {
  return db.selectFrom('offers')
    .innerJoin('articles', 'articles.id', 'offers.articleId')
    .innerJoin('suppliers', 'suppliers.id', 'offers.supplierId')
    .select([
      'offers.id', 'offers.articleId', 'articles.code as articleCode', 'articles.name as articleName', 'offers.supplierId', 'suppliers.name as supplierName',
      'offers.supplierRef', 'offers.packLabel', 'offers.unitsPerPack', 'offers.moqPacks', 'offers.packMultiple', 'offers.leadTimeDays', 'offers.isActive',
      'offers.version', 'offers.createdAt', 'offers.updatedAt', 'offers.catalogPackPrice',
      // microsecond-exact sort key for the cursor (a JS Date would lose the microseconds)
      sql<string>`offers.created_at::text`.as('sortKey')
    ])
}

type OfferRow = Awaited<ReturnType<ReturnType<typeof baseQuery>['execute']>>[number]

/** Adds today's resolved prices to a page of offers with a single resolution call. */
async function withPrices (db: Db, rows: OfferRow[]): Promise<Offer[]> {
  if (rows.length === 0) return []
  const prices = await resolvePrices(db, rows.map(r => ({ articleId: r.articleId, supplierId: r.supplierId })), businessDate())
  return rows.map(({ sortKey: _sortKey, ...r }) => {
    const p = prices.get(priceKey(r.articleId, r.supplierId))
    return {
      ...r,
      supplierPackPrice: p?.supplierPackPrice ?? null,
      feePct: p?.feePct ?? '0.00',
      stationPackPrice: p?.stationPackPrice ?? null,
      priceSource: p?.priceSource ?? null
    }
  })
}

export async function listOffers (db: Db, actor: Actor, input: OfferListInput): Promise<{ items: Offer[], nextCursor: string | null }> {
  const limit = input.limit ?? 50
  if (actor.role === 'STATION' && input.active === false) return { items: [], nextCursor: null }
  let query = baseQuery(db).where(eb => scope(eb, actor))
  if (input.articleId !== undefined) query = query.where('offers.articleId', '=', input.articleId)
  if (input.supplierId !== undefined) query = query.where('offers.supplierId', '=', input.supplierId)
  if (input.active !== undefined) query = query.where('offers.isActive', '=', input.active)
  if (input.cursor !== undefined) {
    const [ts, id] = decodeCursor(input.cursor, 2)
    if (typeof ts !== 'string' || typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id)) throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
    query = query.where(sql<boolean>`(offers.created_at, offers.id) > (${ts}::timestamptz, ${id}::uuid)`)
  }
  const rows = await query.orderBy('offers.createdAt').orderBy('offers.id').limit(limit + 1).execute()
  const { items, nextCursor } = page(rows, limit, r => [r.sortKey, r.id])
  return { items: await withPrices(db, items), nextCursor }
}

export async function getOffer (db: Db, actor: Actor, id: string): Promise<Offer> {
  const row = await baseQuery(db).where('offers.id', '=', id).where(eb => scope(eb, actor)).executeTakeFirst()
  if (row === undefined) throw notFound('Offer')
  const [offer] = await withPrices(db, [row])
  return offer as Offer
}

/**
 * Staff create offers for any supplier; a supplier only for itself (naming another supplier is a
 * 403: the route is allowed but not on another supplier's behalf, and suppliers' names are public
 * to everyone, so nothing is revealed by refusing).
 */
export async function createOffer (db: Db, actor: Actor, input: OfferCreate): Promise<Offer> {
  // PRODUCT.md §2.1: a supplier writes its own offers' price, reference, lead time and MOQ only.
  // Creating an offer fixes its pack (label, units per pack: what a reception adds to stock), so
  // it is platform staff's job.
  if (actor.role === 'SUPPLIER') throw problem('FORBIDDEN', 'Offers are created by platform staff; a supplier edits the price, reference, MOQ, multiple and lead time of its own offers')
  const supplierId = input.supplierId
  if (supplierId === undefined) {
    throw problem('VALIDATION_FAILED', 'supplierId is required', { errors: [{ pointer: '/supplierId', code: 'REQUIRED', detail: 'platform staff must name the supplier' }] })
  }
  const row = await db.insertInto('offers').values({
    articleId: input.articleId,
    supplierId,
    supplierRef: input.supplierRef,
    packLabel: input.packLabel,
    unitsPerPack: input.unitsPerPack,
    catalogPackPrice: input.catalogPackPrice,
    moqPacks: input.moqPacks ?? 1,
    packMultiple: input.packMultiple ?? 1,
    leadTimeDays: input.leadTimeDays ?? 0,
    isActive: input.isActive ?? true
  }).returning('id').executeTakeFirstOrThrow()
  return await getOffer(db, actor, row.id)
}

export async function updateOffer (db: Db, actor: Actor, id: string, input: OfferPatch, expectedVersion?: number): Promise<{ before: Record<string, unknown>, after: Offer }> {
  if (!isPlatformRole(actor.role)) {
    const allowed = new Set<string>(SUPPLIER_EDITABLE)
    const refused = Object.keys(input).filter(k => !allowed.has(k))
    if (refused.length > 0) {
      throw problem('VALIDATION_FAILED', `A supplier may change only ${SUPPLIER_EDITABLE.join(', ')}`, {
        errors: refused.map(k => ({ pointer: `/${k}`, code: 'FIELD_NOT_EDITABLE', detail: 'platform staff only' }))
      })
    }
  }
  let lock = db.selectFrom('offers').select(['id', 'version', 'supplierRef', 'catalogPackPrice', 'moqPacks', 'packMultiple', 'leadTimeDays', 'packLabel', 'unitsPerPack', 'isActive']).where('id', '=', id)
  if (actor.role === 'SUPPLIER') lock = lock.where('supplierId', '=', actor.organizationId)
  const locked = await lock.forUpdate().executeTakeFirst()
  if (locked === undefined) throw notFound('Offer')
  if (expectedVersion !== undefined && expectedVersion !== locked.version) throw problem('PRECONDITION_FAILED', `If-Match "${expectedVersion}" does not match the current ETag "${locked.version}"`)
  await db.updateTable('offers')
    .set(eb => ({ ...input, version: eb('version', '+', 1), updatedAt: new Date() }))
    .where('id', '=', id).execute()
  return { before: locked, after: await getOffer(db, actor, id) }
}
