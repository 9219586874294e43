// Stations (PRODUCT.md §2, §2.1). Platform staff and the station's own users see a station in
// full; other station users see active stations as `{ id, code, name }`, supplier users as
// `{ id, name }`. Only platform staff edit a station; deactivating one deactivates its users in
// the caller's transaction (the audit plugin's), in one statement.
import { sql, type SelectQueryBuilder } from 'kysely'
import type { Db } from '../../db/index.js'
import type { Database } from '../../db/schema.js'
import { page } from '../../lib/cursor.js'
import type { Actor } from '../../lib/permissions.js'
import { notFound, problem } from '../../lib/problems.js'
import { requireActiveGroup } from './groups.service.js'
import type { CreateStationInput, StationBriefT, StationListQueryT, StationT, UpdateStationInput } from './stations.schemas.js'
import {
  ADMIN_MANAGER, STAFF, addressOf, addressPatch, addressValues, bump, checkVersion, contains, isStaff, lockRow, nameCursor, pick, requireRole,
  type AddressRow, type Cascade, type PageOf, type Viewed
} from './shared.service.js'

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

// ---- reads -----------------------------------------------------------------------------------

type StationQuery<O> = SelectQueryBuilder<Database, 'stations', O>

export async function listStations (db: Db, actor: Actor, query: StationListQueryT): Promise<PageOf<StationT> | PageOf<StationBriefT>> {
  const staff = isStaff(actor)
  // where a station is located is part of the full view, which other parties may not see
  if (!staff && query.city !== undefined) throw problem('FORBIDDEN', 'Filtering stations by city is reserved for platform staff')
  const limit = query.limit ?? 50
  const q = filterStations(stationsInScope(db.selectFrom('stations'), actor), query).orderBy('name').orderBy('id').limit(limit + 1)
  if (staff) return page((await q.select(STATION_COLS).execute()).map(toStation), limit, r => [r.name, r.id])
  return page(await q.select(['id', 'code', 'name']).execute(), limit, r => [r.name, r.id])
}

/** Staff list every station; a station user the active ones and its own; a supplier user the active ones. */
function stationsInScope<O> (q: StationQuery<O>, actor: Actor): StationQuery<O> {
  if (actor.role === 'STATION') return q.where(eb => eb.or([eb('isActive', '=', true), eb('id', '=', actor.organizationId)]))
  if (!isStaff(actor)) return q.where('isActive', '=', true)
  return q
}

/** The list filters (`active`, `groupId`, `city`, `q`) and the keyset cursor. */
function filterStations<O> (q: StationQuery<O>, query: StationListQueryT): StationQuery<O> {
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
  return q
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

async function stationById (db: Db, id: string): Promise<StationT> {
  return toStation(await db.selectFrom('stations').select(STATION_COLS).where('id', '=', id).executeTakeFirstOrThrow())
}

// ---- writes ----------------------------------------------------------------------------------

export async function createStation (db: Db, actor: Actor, input: CreateStationInput): Promise<StationT> {
  requireRole(actor, ADMIN_MANAGER, 'create stations')
  const groupId = input.groupId ?? null
  if (groupId !== null) await requireActiveGroup(db, groupId)
  return toStation(await insertStation(db, input, groupId))
}

/** The organizations row and the station row share their id: one statement, one round trip. */
async function insertStation (db: Db, input: CreateStationInput, groupId: string | null): Promise<StationRow> {
  const a = addressValues(input.address)
  const r = await sql<StationRow>`
    WITH org AS (INSERT INTO organizations (kind, name) VALUES ('STATION', ${input.name}) RETURNING id)
    INSERT INTO stations (id, code, name, group_id, address_line1, address_line2, postal_code, city, country, phone, email)
    SELECT org.id, ${input.code}::text, ${input.name}::text, ${groupId}::uuid, ${a.addressLine1}::text, ${a.addressLine2}::text,
      ${a.postalCode}::text, ${a.city}::text, ${a.country}::text, ${input.phone ?? null}::text, ${input.email ?? null}::text
    FROM org
    RETURNING ${STATION_SQL_COLS}`.execute(db)
  return r.rows[0] as StationRow
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
  const row = await deactivateStationCascade(db, id)
  return { value: toStation(row), changes: { isActive: false, usersDeactivated: row.usersDeactivated } }
}

type DeactivatedStation = StationRow & { usersDeactivated: number }

/** The cascade of a deactivation, one statement: the station and its active users. */
async function deactivateStationCascade (db: Db, id: string): Promise<DeactivatedStation> {
  const r = await sql<DeactivatedStation>`
    WITH s AS (
      UPDATE stations SET is_active = false, version = version + 1, updated_at = now() WHERE id = ${id}
      RETURNING ${STATION_SQL_COLS}),
    u AS (
      UPDATE users SET is_active = false, version = version + 1, updated_at = now()
      WHERE organization_id IN (SELECT id FROM s) AND is_active RETURNING id)
    SELECT s.*, (SELECT count(*) FROM u)::int AS users_deactivated FROM s`.execute(db)
  return r.rows[0] as DeactivatedStation
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
