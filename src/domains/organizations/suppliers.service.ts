// Suppliers and their sites (PRODUCT.md §2, §2.1). Platform staff and the supplier's own users see
// a supplier in full, with its sites; station users see active suppliers as `{ id, name }`; a
// supplier user never sees another supplier (404). A supplier keeps exactly one primary site: the
// database holds one primary per supplier, and every change to a supplier's sites locks the
// supplier row first, so "make this one primary" demotes the previous one and promotes the new
// one atomically even under parallel requests. Deactivation cascades run in the caller's
// transaction (the audit plugin's), in one statement.
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import { page } from '../../lib/cursor.js'
import type { Actor } from '../../lib/permissions.js'
import { notFound, problem } from '../../lib/problems.js'
import {
  MAX_SITES, type CreateSupplierInput, type SiteInputT, type SupplierBriefT, type SupplierListQueryT, type SupplierSiteT, type SupplierT, type UpdateSiteInput, type UpdateSupplierInput
} from './suppliers.schemas.js'
import type { ListQueryT } from './shared.schemas.js'
import {
  ADMIN_MANAGER, addressOf, addressPatch, addressValues, bump, checkVersion, contains, lockRow, nameCursor, pick, requireRole,
  type AddressRow, type Brief, type Cascade, type PageOf, type Viewed
} from './shared.service.js'

const SUPPLIER_COLS = ['id', 'name', 'siret', 'email', 'phone', 'website', 'addressLine1', 'addressLine2', 'postalCode', 'city', 'country', 'isActive', 'version', 'createdAt', 'updatedAt'] as const
const SITE_COLS = ['id', 'supplierId', 'name', 'addressLine1', 'addressLine2', 'postalCode', 'city', 'country', 'isPrimary', 'version', 'createdAt', 'updatedAt'] as const

interface SupplierRow extends AddressRow {
  id: string
  name: string
  siret: string | null
  email: string | null
  phone: string | null
  website: string | null
  isActive: boolean
  version: number
  createdAt: Date
  updatedAt: Date
}
interface SiteRow extends AddressRow { id: string, supplierId: string, name: string, isPrimary: boolean, version: number, createdAt: Date, updatedAt: Date }

function toSite (r: SiteRow): SupplierSiteT {
  return { id: r.id, supplierId: r.supplierId, name: r.name, address: addressOf(r), isPrimary: r.isPrimary, version: r.version, createdAt: r.createdAt, updatedAt: r.updatedAt }
}

function toSupplier (r: SupplierRow, sites: SupplierSiteT[]): SupplierT {
  return { id: r.id, name: r.name, siret: r.siret, email: r.email, phone: r.phone, website: r.website, address: addressOf(r), isActive: r.isActive, version: r.version, createdAt: r.createdAt, updatedAt: r.updatedAt, sites }
}

/** The sites of many suppliers in one query (primary first), grouped by supplier. */
async function sitesOf (db: Db, supplierIds: string[]): Promise<Map<string, SupplierSiteT[]>> {
  const bySupplier = new Map<string, SupplierSiteT[]>(supplierIds.map(id => [id, []]))
  if (supplierIds.length === 0) return bySupplier
  const rows = await db.selectFrom('supplierSites').select(SITE_COLS).where('supplierId', 'in', supplierIds)
    .orderBy('supplierId').orderBy('isPrimary', 'desc').orderBy('name').orderBy('id').execute()
  for (const r of rows) bySupplier.get(r.supplierId)?.push(toSite(r))
  return bySupplier
}

async function withSites (db: Db, rows: SupplierRow[]): Promise<SupplierT[]> {
  const sites = await sitesOf(db, rows.map(r => r.id))
  return rows.map(r => toSupplier(r, sites.get(r.id) ?? []))
}

// ---- supplier reads --------------------------------------------------------------------------

export async function listSuppliers (db: Db, actor: Actor, query: SupplierListQueryT): Promise<PageOf<SupplierT> | PageOf<SupplierBriefT>> {
  const limit = query.limit ?? 50
  let q = db.selectFrom('suppliers')
  if (actor.role === 'SUPPLIER') q = q.where('id', '=', actor.organizationId)
  else if (actor.role === 'STATION') q = q.where('isActive', '=', true)
  if (query.active !== undefined) q = q.where('isActive', '=', query.active)
  if (query.q !== undefined) q = q.where('name', 'ilike', contains(query.q))
  if (query.cursor !== undefined) {
    const [name, id] = nameCursor(query.cursor)
    q = q.where(eb => eb(eb.refTuple('name', 'id'), '>', eb.tuple(name, id)))
  }
  q = q.orderBy('name').orderBy('id').limit(limit + 1)
  if (actor.role === 'STATION') return page(await q.select(['id', 'name']).execute(), limit, r => [r.name, r.id])
  const p = page(await q.select(SUPPLIER_COLS).execute(), limit, r => [r.name, r.id])
  return { items: await withSites(db, p.items), nextCursor: p.nextCursor }
}

export async function getSupplier (db: Db, actor: Actor, id: string): Promise<Viewed<SupplierT, SupplierBriefT & { version: number }>> {
  if (actor.role === 'STATION') {
    const row = await db.selectFrom('suppliers').select(['id', 'name', 'version']).where('id', '=', id).where('isActive', '=', true).executeTakeFirst()
    if (row === undefined) throw notFound('Supplier')
    return { full: false, value: row }
  }
  if (actor.role === 'SUPPLIER' && actor.organizationId !== id) throw notFound('Supplier')
  return { full: true, value: await supplierById(db, id) }
}

async function supplierById (db: Db, id: string): Promise<SupplierT> {
  const row = await db.selectFrom('suppliers').select(SUPPLIER_COLS).where('id', '=', id).executeTakeFirst()
  if (row === undefined) throw notFound('Supplier')
  return (await withSites(db, [row]))[0] as SupplierT
}

// ---- supplier writes -------------------------------------------------------------------------

export async function createSupplier (db: Db, actor: Actor, input: CreateSupplierInput): Promise<SupplierT> {
  requireRole(actor, ADMIN_MANAGER, 'create suppliers')
  primaryCheck(input.sites)
  const row = await insertSupplier(db, input)
  const sites = await insertSites(db, row.id, input.sites)
  return toSupplier(row, sites)
}

function primaryCheck (sites: SiteInputT[]): void {
  const flagged = sites.filter(s => s.isPrimary === true).length
  if (flagged > 1 || (flagged === 0 && sites.length > 1)) {
    throw problem('BUSINESS_RULE_VIOLATED', 'A supplier has exactly one primary site', { errors: [{ pointer: '/sites', code: 'ONE_PRIMARY_SITE', detail: `${flagged} sites marked primary; mark exactly one` }] })
  }
}

/** The organizations row and the supplier row share their id: one statement, one round trip. */
async function insertSupplier (db: Db, input: CreateSupplierInput): Promise<SupplierRow> {
  const a = addressValues(input.address)
  const r = await sql<SupplierRow>`
    WITH org AS (INSERT INTO organizations (kind, name) VALUES ('SUPPLIER', ${input.name}) RETURNING id)
    INSERT INTO suppliers (id, name, siret, email, phone, website, address_line1, address_line2, postal_code, city, country)
    SELECT org.id, ${input.name}::text, ${input.siret ?? null}::text, ${input.email ?? null}::text, ${input.phone ?? null}::text, ${input.website ?? null}::text,
      ${a.addressLine1}::text, ${a.addressLine2}::text, ${a.postalCode}::text, ${a.city}::text, ${a.country}::text
    FROM org
    RETURNING id, name, siret, email, phone, website, address_line1, address_line2, postal_code, city, country, is_active, version, created_at, updated_at`.execute(db)
  return r.rows[0] as SupplierRow
}

/** The sites of a new supplier in one statement, the primary one first. */
async function insertSites (db: Db, supplierId: string, input: SiteInputT[]): Promise<SupplierSiteT[]> {
  // a single site is the primary one whether or not the client said so
  const single = input.length === 1
  const sites = await db.insertInto('supplierSites')
    .values(input.map(s => ({ supplierId, name: s.name, isPrimary: single || s.isPrimary === true, ...addressValues(s.address) })))
    .returning(SITE_COLS).execute()
  sites.sort((x, y) => Number(y.isPrimary) - Number(x.isPrimary))
  return sites.map(toSite)
}

/** Suppliers edit their own contact details; their legal identity (name, SIRET) is the platform's call. */
const SUPPLIER_SELF_FIELDS = ['email', 'phone', 'website', 'address'] as const

export async function updateSupplier (db: Db, actor: Actor, id: string, input: UpdateSupplierInput, expected?: number): Promise<SupplierT> {
  mayUpdateSupplier(actor, id, input)
  checkVersion((await lockRow(db, 'suppliers', id, 'Supplier')).version, expected)
  await db.updateTable('suppliers')
    .set({ ...pick(input, ['name', 'siret', 'email', 'phone', 'website']), ...addressPatch(input.address), ...bump })
    .where('id', '=', id).executeTakeFirstOrThrow()
  return await supplierById(db, id)
}

/** Stations may not; a supplier only its own row (404 otherwise) and only its self-service fields (403). */
function mayUpdateSupplier (actor: Actor, id: string, input: UpdateSupplierInput): void {
  if (actor.role === 'STATION') throw problem('FORBIDDEN', 'Role STATION may not update suppliers')
  if (actor.role === 'SUPPLIER') {
    // scope first: another supplier's row is a 404 whatever the body says
    if (actor.organizationId !== id) throw notFound('Supplier')
    const denied = Object.keys(input).filter(k => !(SUPPLIER_SELF_FIELDS as readonly string[]).includes(k))
    if (denied.length > 0) throw problem('FORBIDDEN', `A supplier may not change its ${denied.join(', ')}; ask the platform`)
  }
}

/**
 * Deactivates the supplier and its users in one statement; the 0003 trigger deactivates its offers
 * at the end of that statement (the count is read from the statement's snapshot, before it runs).
 */
export async function deactivateSupplier (db: Db, actor: Actor, id: string, expected?: number): Promise<Cascade<SupplierT>> {
  requireRole(actor, ADMIN_MANAGER, 'deactivate suppliers')
  const cur = await lockRow(db, 'suppliers', id, 'Supplier')
  checkVersion(cur.version, expected)
  if (!cur.isActive) return { value: await supplierById(db, id), changes: { isActive: false, unchanged: true } }
  const counts = await deactivateSupplierCascade(db, id)
  return { value: await supplierById(db, id), changes: { isActive: false, ...counts } }
}

interface SupplierCascadeCounts { usersDeactivated: number, offersDeactivated: number }

/** The cascade of a deactivation, one statement: the supplier and its active users (offers by trigger). */
async function deactivateSupplierCascade (db: Db, id: string): Promise<SupplierCascadeCounts> {
  const r = await sql<SupplierCascadeCounts>`
    WITH s AS (
      UPDATE suppliers SET is_active = false, version = version + 1, updated_at = now() WHERE id = ${id} RETURNING id),
    u AS (
      UPDATE users SET is_active = false, version = version + 1, updated_at = now()
      WHERE organization_id IN (SELECT id FROM s) AND is_active RETURNING id)
    SELECT (SELECT count(*) FROM u)::int AS users_deactivated,
      (SELECT count(*) FROM offers WHERE supplier_id IN (SELECT id FROM s) AND is_active)::int AS offers_deactivated`.execute(db)
  return r.rows[0] as SupplierCascadeCounts
}

/** Activates the supplier only: its users and offers stay inactive until reactivated one by one. */
export async function activateSupplier (db: Db, actor: Actor, id: string, expected?: number): Promise<Cascade<SupplierT>> {
  requireRole(actor, ADMIN_MANAGER, 'activate suppliers')
  const cur = await lockRow(db, 'suppliers', id, 'Supplier')
  checkVersion(cur.version, expected)
  if (cur.isActive) return { value: await supplierById(db, id), changes: { isActive: true, unchanged: true } }
  await db.updateTable('suppliers').set({ isActive: true, ...bump }).where('id', '=', id).execute()
  return { value: await supplierById(db, id), changes: { isActive: true } }
}

// ---- sites -----------------------------------------------------------------------------------

/**
 * Scope of a supplier's sites for a write, and the lock that serializes every change to them:
 * with the supplier row held, "demote the primary, promote this one" cannot interleave.
 */
async function lockSupplierForSites (db: Db, actor: Actor, supplierId: string): Promise<void> {
  if (actor.role === 'STATION') throw problem('FORBIDDEN', 'Role STATION may not change supplier sites')
  if (actor.role === 'SUPPLIER' && actor.organizationId !== supplierId) throw notFound('Supplier')
  const s = await db.selectFrom('suppliers').select('id').where('id', '=', supplierId).forNoKeyUpdate().executeTakeFirst()
  if (s === undefined) throw notFound('Supplier')
}

async function demotePrimarySite (db: Db, supplierId: string): Promise<void> {
  await db.updateTable('supplierSites').set({ isPrimary: false, ...bump }).where('supplierId', '=', supplierId).where('isPrimary', '=', true).execute()
}

export async function listSites (db: Db, actor: Actor, supplierId: string, query: ListQueryT): Promise<PageOf<SupplierSiteT> | PageOf<Brief>> {
  let owner = db.selectFrom('suppliers').select('id').where('id', '=', supplierId)
  if (actor.role === 'SUPPLIER' && actor.organizationId !== supplierId) throw notFound('Supplier')
  if (actor.role === 'STATION') owner = owner.where('isActive', '=', true)
  if (await owner.executeTakeFirst() === undefined) throw notFound('Supplier')
  const limit = query.limit ?? 50
  let q = db.selectFrom('supplierSites').where('supplierId', '=', supplierId)
  if (query.cursor !== undefined) {
    const [name, id] = nameCursor(query.cursor)
    q = q.where(eb => eb(eb.refTuple('name', 'id'), '>', eb.tuple(name, id)))
  }
  q = q.orderBy('name').orderBy('id').limit(limit + 1)
  if (actor.role === 'STATION') return page(await q.select(['id', 'name']).execute(), limit, r => [r.name, r.id])
  return page((await q.select(SITE_COLS).execute()).map(toSite), limit, r => [r.name, r.id])
}

export async function createSite (db: Db, actor: Actor, supplierId: string, input: SiteInputT): Promise<SupplierSiteT> {
  await lockSupplierForSites(db, actor, supplierId)
  // (under the supplier's lock: concurrent additions cannot overshoot)
  const count = await db.selectFrom('supplierSites').select(eb => eb.fn.countAll<string>().as('n')).where('supplierId', '=', supplierId).executeTakeFirstOrThrow()
  if (Number(count.n) >= MAX_SITES) throw problem('BUSINESS_RULE_VIOLATED', `A supplier has at most ${MAX_SITES} sites`)
  if (input.isPrimary === true) await demotePrimarySite(db, supplierId)
  const row = await db.insertInto('supplierSites')
    .values({ supplierId, name: input.name, isPrimary: input.isPrimary === true, ...addressValues(input.address) })
    .returning(SITE_COLS).executeTakeFirstOrThrow()
  return toSite(row)
}

async function lockedSite (db: Db, supplierId: string, siteId: string): Promise<{ version: number, isPrimary: boolean }> {
  const site = await db.selectFrom('supplierSites').select(['version', 'isPrimary']).where('id', '=', siteId).where('supplierId', '=', supplierId).executeTakeFirst()
  if (site === undefined) throw notFound('Site')
  return site
}

export async function updateSite (db: Db, actor: Actor, supplierId: string, siteId: string, input: UpdateSiteInput, expected?: number): Promise<SupplierSiteT> {
  await lockSupplierForSites(db, actor, supplierId)
  const site = await lockedSite(db, supplierId, siteId)
  checkVersion(site.version, expected)
  if (input.isPrimary === false && site.isPrimary) {
    throw problem('BUSINESS_RULE_VIOLATED', 'A supplier keeps exactly one primary site: make another site primary instead', { errors: [{ pointer: '/isPrimary', code: 'ONE_PRIMARY_SITE', detail: 'this is the primary site' }] })
  }
  if (input.isPrimary === true && !site.isPrimary) await demotePrimarySite(db, supplierId)
  const row = await db.updateTable('supplierSites')
    .set({ ...pick(input, ['name', 'isPrimary']), ...addressPatch(input.address), ...bump })
    .where('id', '=', siteId).returning(SITE_COLS).executeTakeFirstOrThrow()
  return toSite(row)
}

export async function deleteSite (db: Db, actor: Actor, supplierId: string, siteId: string, expected?: number): Promise<void> {
  await lockSupplierForSites(db, actor, supplierId)
  const site = await lockedSite(db, supplierId, siteId)
  checkVersion(site.version, expected)
  if (site.isPrimary) throw problem('BUSINESS_RULE_VIOLATED', 'The primary site cannot be deleted: make another site primary first')
  await db.deleteFrom('supplierSites').where('id', '=', siteId).execute()
}
