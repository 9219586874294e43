// Stations, station groups, suppliers with their sites, and contacts (PRODUCT.md §2, §2.1).
//
// Scope rules live here as `where` clauses: platform staff see every row in full; a station user
// sees active organizations in brief and its own station in full; a supplier user sees active
// stations in brief and its own supplier in full; anything else is a 404, never a 403. Role rules
// the permission table cannot express (a station may not edit its own station, a supplier may not
// rename itself) are 403s decided before any row is read, so they never reveal whether a row exists.
//
// Invariants are kept by the database (unique code/SIRET, one primary site / contact per owner);
// the service serializes changes to an owner's sites or contacts by locking the owner row first,
// so "make this one primary" demotes the previous one and promotes the new one atomically even
// under parallel requests. Deactivation cascades run in the caller's transaction (the audit
// plugin's), in one statement each.
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import { decodeCursor, page } from '../../lib/cursor.js'
import { isPlatformRole, type Actor, type Role } from '../../lib/permissions.js'
import { notFound, problem } from '../../lib/problems.js'
import type {
  AddressInputT, ContactT, CreateContactInput, CreateStationGroupInput, CreateStationInput, CreateSupplierInput, ListQueryT,
  SiteInputT, StationBriefT, StationGroupListQueryT, StationGroupT, StationListQueryT, StationT, SupplierBriefT, SupplierListQueryT,
  SupplierSiteT, SupplierT, UpdateContactInput, UpdateSiteInput, UpdateStationGroupInput, UpdateStationInput, UpdateSupplierInput
} from './organizations.schemas.js'

export interface PageOf<T> { items: T[], nextCursor: string | null }
/** A row in the view the caller may see: `full` for staff and the organization's own users. */
export type Viewed<F, B> = { full: true, value: F } | { full: false, value: B }
export interface Brief { id: string, name: string }
export interface Cascade<T> { value: T, changes: Record<string, number | boolean> }

const isStaff = (actor: Actor): boolean => isPlatformRole(actor.role)

function requireRole (actor: Actor, roles: readonly Role[], what: string): void {
  if (!roles.includes(actor.role)) throw problem('FORBIDDEN', `Role ${actor.role} may not ${what}`)
}
const ADMIN_MANAGER: readonly Role[] = ['ADMIN', 'MANAGER']
const STAFF: readonly Role[] = ['ADMIN', 'MANAGER', 'HANDLER']

function checkVersion (current: number, expected: number | undefined): void {
  if (expected !== undefined && expected !== current) throw problem('PRECONDITION_FAILED', `If-Match "${expected}" does not match the current ETag "${current}"`)
}

/** `%q%` for ILIKE with the pattern characters of q taken literally. */
function contains (q: string): string {
  return `%${q.replace(/[\\%_]/g, m => '\\' + m)}%`
}

/** The (name, id) keyset of every list here; the cursor is HMAC-checked, the types re-checked anyway. */
function nameCursor (cursor: string): [string, string] {
  const [name, id] = decodeCursor(cursor, 2)
  if (typeof name !== 'string' || typeof id !== 'string') throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
  return [name, id]
}

// ---- addresses -------------------------------------------------------------------------------

interface AddressRow { addressLine1: string | null, addressLine2: string | null, postalCode: string | null, city: string | null, country: string }

const addressOf = (r: AddressRow): StationT['address'] => ({ line1: r.addressLine1, line2: r.addressLine2, postalCode: r.postalCode, city: r.city, country: r.country })

/** Column values of an address on create: a missing field is null, the country FR. */
function addressValues (a: AddressInputT | undefined): AddressRow {
  return { addressLine1: a?.line1 ?? null, addressLine2: a?.line2 ?? null, postalCode: a?.postalCode ?? null, city: a?.city ?? null, country: a?.country ?? 'FR' }
}

/** Column values of an address on update: only the fields the client sent. */
function addressPatch (a: AddressInputT | undefined): Partial<AddressRow> {
  if (a === undefined) return {}
  const out: Partial<AddressRow> = {}
  if (a.line1 !== undefined) out.addressLine1 = a.line1
  if (a.line2 !== undefined) out.addressLine2 = a.line2
  if (a.postalCode !== undefined) out.postalCode = a.postalCode
  if (a.city !== undefined) out.city = a.city
  if (a.country !== undefined) out.country = a.country
  return out
}

/** Copies the keys the client sent (undefined = not sent; null = clear). */
function pick<T extends object, K extends keyof T> (input: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {}
  for (const k of keys) if (input[k] !== undefined) out[k] = input[k]
  return out
}

const bump = { version: sql<number>`version + 1`, updatedAt: sql<Date>`now()` }

// ---- station groups --------------------------------------------------------------------------

const GROUP_COLS = ['id', 'name', 'description', 'isActive', 'version', 'createdAt', 'updatedAt'] as const

export async function listStationGroups (db: Db, actor: Actor, query: StationGroupListQueryT): Promise<PageOf<StationGroupT> | PageOf<Brief>> {
  const limit = query.limit ?? 50
  let q = db.selectFrom('stationGroups')
  if (!isStaff(actor)) q = q.where('isActive', '=', true)
  if (query.active !== undefined) q = q.where('isActive', '=', query.active)
  if (query.q !== undefined) q = q.where('name', 'ilike', contains(query.q))
  if (query.cursor !== undefined) {
    const [name, id] = nameCursor(query.cursor)
    q = q.where(eb => eb(eb.refTuple('name', 'id'), '>', eb.tuple(name, id)))
  }
  q = q.orderBy('name').orderBy('id').limit(limit + 1)
  const key = (r: Brief): [string, string] => [r.name, r.id]
  if (isStaff(actor)) return page(await q.select(GROUP_COLS).execute(), limit, key)
  return page(await q.select(['id', 'name']).execute(), limit, key)
}

export async function getStationGroup (db: Db, actor: Actor, id: string): Promise<Viewed<StationGroupT, Brief & { version: number }>> {
  if (isStaff(actor)) {
    const row = await db.selectFrom('stationGroups').select(GROUP_COLS).where('id', '=', id).executeTakeFirst()
    if (row === undefined) throw notFound('Station group')
    return { full: true, value: row }
  }
  const row = await db.selectFrom('stationGroups').select(['id', 'name', 'version']).where('id', '=', id).where('isActive', '=', true).executeTakeFirst()
  if (row === undefined) throw notFound('Station group')
  return { full: false, value: row }
}

export async function createStationGroup (db: Db, actor: Actor, input: CreateStationGroupInput): Promise<StationGroupT> {
  requireRole(actor, ADMIN_MANAGER, 'create station groups')
  return await db.insertInto('stationGroups').values({ name: input.name, description: input.description ?? null }).returning(GROUP_COLS).executeTakeFirstOrThrow()
}

async function lockRow (db: Db, table: 'stationGroups' | 'stations' | 'suppliers', id: string, what: string): Promise<{ version: number, isActive: boolean }> {
  const row = await db.selectFrom(table).select(['version', 'isActive']).where('id', '=', id).forNoKeyUpdate().executeTakeFirst()
  if (row === undefined) throw notFound(what)
  return row
}

export async function updateStationGroup (db: Db, actor: Actor, id: string, input: UpdateStationGroupInput, expected?: number): Promise<StationGroupT> {
  requireRole(actor, STAFF, 'update station groups')
  checkVersion((await lockRow(db, 'stationGroups', id, 'Station group')).version, expected)
  return await db.updateTable('stationGroups').set({ ...pick(input, ['name', 'description']), ...bump }).where('id', '=', id).returning(GROUP_COLS).executeTakeFirstOrThrow()
}

/** Deactivates the group, its active stations and their users, in one statement. */
export async function deactivateStationGroup (db: Db, actor: Actor, id: string, expected?: number): Promise<Cascade<StationGroupT>> {
  requireRole(actor, ADMIN_MANAGER, 'deactivate station groups')
  const cur = await lockRow(db, 'stationGroups', id, 'Station group')
  checkVersion(cur.version, expected)
  if (!cur.isActive) return { value: await groupById(db, id), changes: { isActive: false, unchanged: true } }
  const r = await sql<StationGroupT & { stationsDeactivated: number, usersDeactivated: number }>`
    WITH g AS (
      UPDATE station_groups SET is_active = false, version = version + 1, updated_at = now() WHERE id = ${id}
      RETURNING id, name, description, is_active, version, created_at, updated_at),
    s AS (
      UPDATE stations SET is_active = false, version = version + 1, updated_at = now()
      WHERE group_id IN (SELECT id FROM g) AND is_active RETURNING id),
    u AS (
      UPDATE users SET is_active = false, version = version + 1, updated_at = now()
      WHERE organization_id IN (SELECT id FROM s) AND is_active RETURNING id)
    SELECT g.*, (SELECT count(*) FROM s)::int AS stations_deactivated, (SELECT count(*) FROM u)::int AS users_deactivated FROM g`.execute(db)
  const { stationsDeactivated, usersDeactivated, ...value } = r.rows[0] as StationGroupT & { stationsDeactivated: number, usersDeactivated: number }
  return { value, changes: { isActive: false, stationsDeactivated, usersDeactivated } }
}

/** Activates the group only: its stations stay as they are (reactivate them one by one). */
export async function activateStationGroup (db: Db, actor: Actor, id: string, expected?: number): Promise<Cascade<StationGroupT>> {
  requireRole(actor, ADMIN_MANAGER, 'activate station groups')
  const cur = await lockRow(db, 'stationGroups', id, 'Station group')
  checkVersion(cur.version, expected)
  if (cur.isActive) return { value: await groupById(db, id), changes: { isActive: true, unchanged: true } }
  const value = await db.updateTable('stationGroups').set({ isActive: true, ...bump }).where('id', '=', id).returning(GROUP_COLS).executeTakeFirstOrThrow()
  return { value, changes: { isActive: true } }
}

async function groupById (db: Db, id: string): Promise<StationGroupT> {
  return await db.selectFrom('stationGroups').select(GROUP_COLS).where('id', '=', id).executeTakeFirstOrThrow()
}

/**
 * A station may only join an active group. FOR SHARE makes a concurrent deactivation of the group
 * wait for this transaction, so its cascade then sees (and deactivates) this station too.
 */
async function requireActiveGroup (db: Db, groupId: string): Promise<void> {
  const g = await db.selectFrom('stationGroups').select('isActive').where('id', '=', groupId).forShare().executeTakeFirst()
  if (g === undefined) throw problem('REFERENCE_NOT_FOUND', 'Station group not found', { errors: [{ pointer: '/groupId', code: 'NOT_FOUND', detail: 'no such station group' }] })
  if (!g.isActive) throw problem('BUSINESS_RULE_VIOLATED', 'The station group is inactive', { errors: [{ pointer: '/groupId', code: 'GROUP_INACTIVE', detail: 'activate the group first' }] })
}

// ---- stations --------------------------------------------------------------------------------

const STATION_COLS = ['id', 'code', 'name', 'groupId', 'addressLine1', 'addressLine2', 'postalCode', 'city', 'country', 'phone', 'email', 'isActive', 'version', 'createdAt', 'updatedAt'] as const
const STATION_SQL_COLS = sql.raw('id, code, name, group_id, address_line1, address_line2, postal_code, city, country, phone, email, is_active, version, created_at, updated_at')

interface StationRow extends AddressRow {
  id: string
  code: string
  name: string
  groupId: string | null
  phone: string | null
  email: string | null
  isActive: boolean
  version: number
  createdAt: Date
  updatedAt: Date
}

function toStation (r: StationRow): StationT {
  return { id: r.id, code: r.code, name: r.name, groupId: r.groupId, address: addressOf(r), phone: r.phone, email: r.email, isActive: r.isActive, version: r.version, createdAt: r.createdAt, updatedAt: r.updatedAt }
}

export async function listStations (db: Db, actor: Actor, query: StationListQueryT): Promise<PageOf<StationT> | PageOf<StationBriefT>> {
  const staff = isStaff(actor)
  // where a station is located is part of the full view, which other parties may not see
  if (!staff && query.city !== undefined) throw problem('FORBIDDEN', 'Filtering stations by city is reserved for platform staff')
  const limit = query.limit ?? 50
  let q = db.selectFrom('stations')
  if (actor.role === 'STATION') q = q.where(eb => eb.or([eb('isActive', '=', true), eb('id', '=', actor.organizationId)]))
  else if (!staff) q = q.where('isActive', '=', true)
  if (query.active !== undefined) q = q.where('isActive', '=', query.active)
  if (query.groupId !== undefined) q = q.where('groupId', '=', query.groupId)
  const city = query.city
  if (city !== undefined) q = q.where(eb => eb(eb.fn('lower', ['city']), '=', city.toLowerCase()))
  if (query.q !== undefined) {
    const p = contains(query.q)
    q = q.where(eb => eb.or([eb('name', 'ilike', p), eb('code', 'ilike', p)]))
  }
  if (query.cursor !== undefined) {
    const [name, id] = nameCursor(query.cursor)
    q = q.where(eb => eb(eb.refTuple('name', 'id'), '>', eb.tuple(name, id)))
  }
  q = q.orderBy('name').orderBy('id').limit(limit + 1)
  if (staff) return page((await q.select(STATION_COLS).execute()).map(toStation), limit, r => [r.name, r.id])
  return page(await q.select(['id', 'code', 'name']).execute(), limit, r => [r.name, r.id])
}

export async function getStation (db: Db, actor: Actor, id: string): Promise<Viewed<StationT, StationBriefT & { version: number }>> {
  if (isStaff(actor) || actor.organizationId === id) {
    const row = await db.selectFrom('stations').select(STATION_COLS).where('id', '=', id).executeTakeFirst()
    if (row === undefined) throw notFound('Station')
    return { full: true, value: toStation(row) }
  }
  const row = await db.selectFrom('stations').select(['id', 'code', 'name', 'version']).where('id', '=', id).where('isActive', '=', true).executeTakeFirst()
  if (row === undefined) throw notFound('Station')
  return { full: false, value: row }
}

export async function createStation (db: Db, actor: Actor, input: CreateStationInput): Promise<StationT> {
  requireRole(actor, ADMIN_MANAGER, 'create stations')
  const groupId = input.groupId ?? null
  if (groupId !== null) await requireActiveGroup(db, groupId)
  const a = addressValues(input.address)
  // the organizations row and the station row share their id: one statement, one round trip
  const r = await sql<StationRow>`
    WITH org AS (INSERT INTO organizations (kind, name) VALUES ('STATION', ${input.name}) RETURNING id)
    INSERT INTO stations (id, code, name, group_id, address_line1, address_line2, postal_code, city, country, phone, email)
    SELECT org.id, ${input.code}::text, ${input.name}::text, ${groupId}::uuid, ${a.addressLine1}::text, ${a.addressLine2}::text,
      ${a.postalCode}::text, ${a.city}::text, ${a.country}::text, ${input.phone ?? null}::text, ${input.email ?? null}::text
    FROM org
    RETURNING ${STATION_SQL_COLS}`.execute(db)
  return toStation(r.rows[0] as StationRow)
}

export async function updateStation (db: Db, actor: Actor, id: string, input: UpdateStationInput, expected?: number): Promise<StationT> {
  // station users manage their contacts, not their station's profile (§2.1)
  requireRole(actor, STAFF, 'update stations')
  if (input.groupId !== undefined && input.groupId !== null) await requireActiveGroup(db, input.groupId)
  checkVersion((await lockRow(db, 'stations', id, 'Station')).version, expected)
  const row = await db.updateTable('stations')
    .set({ ...pick(input, ['name', 'groupId', 'phone', 'email']), ...addressPatch(input.address), ...bump })
    .where('id', '=', id).returning(STATION_COLS).executeTakeFirstOrThrow()
  return toStation(row)
}

/**
 * Deactivates the station and its users in one statement: a closed station's staff must not keep
 * ordering on its behalf (the users trigger revokes their tokens on every instance).
 */
export async function deactivateStation (db: Db, actor: Actor, id: string, expected?: number): Promise<Cascade<StationT>> {
  requireRole(actor, ADMIN_MANAGER, 'deactivate stations')
  const cur = await lockRow(db, 'stations', id, 'Station')
  checkVersion(cur.version, expected)
  if (!cur.isActive) return { value: await stationById(db, id), changes: { isActive: false, unchanged: true } }
  const r = await sql<StationRow & { usersDeactivated: number }>`
    WITH s AS (
      UPDATE stations SET is_active = false, version = version + 1, updated_at = now() WHERE id = ${id}
      RETURNING ${STATION_SQL_COLS}),
    u AS (
      UPDATE users SET is_active = false, version = version + 1, updated_at = now()
      WHERE organization_id IN (SELECT id FROM s) AND is_active RETURNING id)
    SELECT s.*, (SELECT count(*) FROM u)::int AS users_deactivated FROM s`.execute(db)
  const row = r.rows[0] as StationRow & { usersDeactivated: number }
  return { value: toStation(row), changes: { isActive: false, usersDeactivated: row.usersDeactivated } }
}

/** Activates the station only (its users stay inactive); its group must be active. */
export async function activateStation (db: Db, actor: Actor, id: string, expected?: number): Promise<Cascade<StationT>> {
  requireRole(actor, ADMIN_MANAGER, 'activate stations')
  const cur = await db.selectFrom('stations').select(['version', 'isActive', 'groupId']).where('id', '=', id).forNoKeyUpdate().executeTakeFirst()
  if (cur === undefined) throw notFound('Station')
  checkVersion(cur.version, expected)
  if (cur.isActive) return { value: await stationById(db, id), changes: { isActive: true, unchanged: true } }
  if (cur.groupId !== null) await requireActiveGroup(db, cur.groupId)
  const row = await db.updateTable('stations').set({ isActive: true, ...bump }).where('id', '=', id).returning(STATION_COLS).executeTakeFirstOrThrow()
  return { value: toStation(row), changes: { isActive: true } }
}

async function stationById (db: Db, id: string): Promise<StationT> {
  return toStation(await db.selectFrom('stations').select(STATION_COLS).where('id', '=', id).executeTakeFirstOrThrow())
}

// ---- suppliers and their sites ---------------------------------------------------------------

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

function primaryCheck (sites: SiteInputT[]): void {
  const flagged = sites.filter(s => s.isPrimary === true).length
  if (flagged > 1 || (flagged === 0 && sites.length > 1)) {
    throw problem('BUSINESS_RULE_VIOLATED', 'A supplier has exactly one primary site', { errors: [{ pointer: '/sites', code: 'ONE_PRIMARY_SITE', detail: `${flagged} sites marked primary; mark exactly one` }] })
  }
}

export async function createSupplier (db: Db, actor: Actor, input: CreateSupplierInput): Promise<SupplierT> {
  requireRole(actor, ADMIN_MANAGER, 'create suppliers')
  primaryCheck(input.sites)
  const a = addressValues(input.address)
  const r = await sql<SupplierRow>`
    WITH org AS (INSERT INTO organizations (kind, name) VALUES ('SUPPLIER', ${input.name}) RETURNING id)
    INSERT INTO suppliers (id, name, siret, email, phone, website, address_line1, address_line2, postal_code, city, country)
    SELECT org.id, ${input.name}::text, ${input.siret ?? null}::text, ${input.email ?? null}::text, ${input.phone ?? null}::text, ${input.website ?? null}::text,
      ${a.addressLine1}::text, ${a.addressLine2}::text, ${a.postalCode}::text, ${a.city}::text, ${a.country}::text
    FROM org
    RETURNING id, name, siret, email, phone, website, address_line1, address_line2, postal_code, city, country, is_active, version, created_at, updated_at`.execute(db)
  const row = r.rows[0] as SupplierRow
  // a single site is the primary one whether or not the client said so
  const single = input.sites.length === 1
  const sites = await db.insertInto('supplierSites')
    .values(input.sites.map(s => ({ supplierId: row.id, name: s.name, isPrimary: single || s.isPrimary === true, ...addressValues(s.address) })))
    .returning(SITE_COLS).execute()
  sites.sort((x, y) => Number(y.isPrimary) - Number(x.isPrimary))
  return toSupplier(row, sites.map(toSite))
}

/** Suppliers edit their own contact details; their legal identity (name, SIRET) is the platform's call. */
const SUPPLIER_SELF_FIELDS = ['email', 'phone', 'website', 'address'] as const

export async function updateSupplier (db: Db, actor: Actor, id: string, input: UpdateSupplierInput, expected?: number): Promise<SupplierT> {
  if (actor.role === 'STATION') throw problem('FORBIDDEN', 'Role STATION may not update suppliers')
  if (actor.role === 'SUPPLIER') {
    // scope first: another supplier's row is a 404 whatever the body says
    if (actor.organizationId !== id) throw notFound('Supplier')
    const denied = Object.keys(input).filter(k => !(SUPPLIER_SELF_FIELDS as readonly string[]).includes(k))
    if (denied.length > 0) throw problem('FORBIDDEN', `A supplier may not change its ${denied.join(', ')}; ask the platform`)
  }
  checkVersion((await lockRow(db, 'suppliers', id, 'Supplier')).version, expected)
  await db.updateTable('suppliers')
    .set({ ...pick(input, ['name', 'siret', 'email', 'phone', 'website']), ...addressPatch(input.address), ...bump })
    .where('id', '=', id).executeTakeFirstOrThrow()
  return await supplierById(db, id)
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
  const r = await sql<{ usersDeactivated: number, offersDeactivated: number }>`
    WITH s AS (
      UPDATE suppliers SET is_active = false, version = version + 1, updated_at = now() WHERE id = ${id} RETURNING id),
    u AS (
      UPDATE users SET is_active = false, version = version + 1, updated_at = now()
      WHERE organization_id IN (SELECT id FROM s) AND is_active RETURNING id)
    SELECT (SELECT count(*) FROM u)::int AS users_deactivated,
      (SELECT count(*) FROM offers WHERE supplier_id IN (SELECT id FROM s) AND is_active)::int AS offers_deactivated`.execute(db)
  const counts = r.rows[0] as { usersDeactivated: number, offersDeactivated: number }
  return { value: await supplierById(db, id), changes: { isActive: false, ...counts } }
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

// ---- contacts --------------------------------------------------------------------------------

const CONTACT_COLS = ['id', 'organizationId', 'fullName', 'position', 'phone', 'email', 'isPrimary', 'version', 'createdAt', 'updatedAt'] as const

/**
 * Contacts hang off stations and suppliers. Staff reach any; station and supplier users only
 * their own organization's (another one is a 404). `lock` serializes primary switching.
 */
async function contactOwner (db: Db, actor: Actor, organizationId: string, lock: boolean): Promise<void> {
  if (!isStaff(actor) && actor.organizationId !== organizationId) throw notFound('Organization')
  const q = db.selectFrom('organizations').select('id').where('id', '=', organizationId).where('kind', 'in', ['STATION', 'SUPPLIER'])
  const org = await (lock ? q.forNoKeyUpdate() : q).executeTakeFirst()
  if (org === undefined) throw notFound('Organization')
}

async function demotePrimaryContact (db: Db, organizationId: string): Promise<void> {
  await db.updateTable('contacts').set({ isPrimary: false, ...bump })
    .where('organizationId', '=', organizationId).where('isPrimary', '=', true).where('isActive', '=', true).execute()
}

export async function listContacts (db: Db, actor: Actor, organizationId: string, query: ListQueryT): Promise<PageOf<ContactT>> {
  await contactOwner(db, actor, organizationId, false)
  const limit = query.limit ?? 50
  let q = db.selectFrom('contacts').select(CONTACT_COLS).where('organizationId', '=', organizationId).where('isActive', '=', true)
  if (query.cursor !== undefined) {
    const [name, id] = nameCursor(query.cursor)
    q = q.where(eb => eb(eb.refTuple('fullName', 'id'), '>', eb.tuple(name, id)))
  }
  return page(await q.orderBy('fullName').orderBy('id').limit(limit + 1).execute(), limit, r => [r.fullName, r.id])
}

export async function createContact (db: Db, actor: Actor, organizationId: string, input: CreateContactInput): Promise<ContactT> {
  await contactOwner(db, actor, organizationId, true)
  if (input.isPrimary === true) await demotePrimaryContact(db, organizationId)
  return await db.insertInto('contacts').values({
    organizationId, fullName: input.fullName, position: input.position ?? null, phone: input.phone ?? null, email: input.email ?? null, isPrimary: input.isPrimary === true
  }).returning(CONTACT_COLS).executeTakeFirstOrThrow()
}

async function lockedContact (db: Db, organizationId: string, contactId: string): Promise<{ version: number, isPrimary: boolean }> {
  const c = await db.selectFrom('contacts').select(['version', 'isPrimary'])
    .where('id', '=', contactId).where('organizationId', '=', organizationId).where('isActive', '=', true).executeTakeFirst()
  if (c === undefined) throw notFound('Contact')
  return c
}

export async function updateContact (db: Db, actor: Actor, organizationId: string, contactId: string, input: UpdateContactInput, expected?: number): Promise<ContactT> {
  await contactOwner(db, actor, organizationId, true)
  const c = await lockedContact(db, organizationId, contactId)
  checkVersion(c.version, expected)
  if (input.isPrimary === true && !c.isPrimary) await demotePrimaryContact(db, organizationId)
  return await db.updateTable('contacts')
    .set({ ...pick(input, ['fullName', 'position', 'phone', 'email', 'isPrimary']), ...bump })
    .where('id', '=', contactId).returning(CONTACT_COLS).executeTakeFirstOrThrow()
}

/** Contacts are personal data: deleting one removes the row (the audit trail keeps no values). */
export async function deleteContact (db: Db, actor: Actor, organizationId: string, contactId: string, expected?: number): Promise<void> {
  await contactOwner(db, actor, organizationId, true)
  checkVersion((await lockedContact(db, organizationId, contactId)).version, expected)
  await db.deleteFrom('contacts').where('id', '=', contactId).execute()
}
