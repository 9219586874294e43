// Station groups (PRODUCT.md §2). Platform staff see every group in full; station users see active
// groups in brief; deactivating a group deactivates its stations and their users in the caller's
// transaction (the audit plugin's), in one statement.
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import { page } from '../../lib/cursor.js'
import type { Actor } from '../../lib/permissions.js'
import { notFound, problem } from '../../lib/problems.js'
import type { CreateStationGroupInput, StationGroupListQueryT, StationGroupT, UpdateStationGroupInput } from './groups.schemas.js'
import {
  ADMIN_MANAGER, STAFF, bump, checkVersion, contains, isStaff, lockRow, nameCursor, pick, requireRole,
  type Brief, type Cascade, type PageOf, type Viewed
} from './shared.service.js'

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
  const { stationsDeactivated, usersDeactivated, ...value } = await deactivateGroupCascade(db, id)
  return { value, changes: { isActive: false, stationsDeactivated, usersDeactivated } }
}

type DeactivatedGroup = StationGroupT & { stationsDeactivated: number, usersDeactivated: number }

/** The cascade of a deactivation, one statement: the group, its active stations, their users. */
async function deactivateGroupCascade (db: Db, id: string): Promise<DeactivatedGroup> {
  const r = await sql<DeactivatedGroup>`
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
  return r.rows[0] as DeactivatedGroup
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
export async function requireActiveGroup (db: Db, groupId: string): Promise<void> {
  const g = await db.selectFrom('stationGroups').select('isActive').where('id', '=', groupId).forShare().executeTakeFirst()
  if (g === undefined) throw problem('REFERENCE_NOT_FOUND', 'Station group not found', { errors: [{ pointer: '/groupId', code: 'NOT_FOUND', detail: 'no such station group' }] })
  if (!g.isActive) throw problem('BUSINESS_RULE_VIOLATED', 'The station group is inactive', { errors: [{ pointer: '/groupId', code: 'GROUP_INACTIVE', detail: 'activate the group first' }] })
}
