// Users and their roles (PRODUCT.md §2, §2.1). Who may manage whom:
//   ADMIN   → every role;  MANAGER → all but ADMIN/MANAGER;  HANDLER → STATION and SUPPLIER users;
//   STATION / SUPPLIER → nobody (and they read only their own organization's users).
// Nobody changes their own role or deactivates (or erases) themselves. A role must match its
// organization's kind; the database enforces it too (composite FK + CHECK), this module answers
// first with a clear 422. Rows outside the caller's read scope are 404, never 403.
//
// Revocation: a role change, a deactivation and an erasure move tokens_valid_after to
// clock_timestamp() — not now(), the transaction's start, which would spare a token issued while
// the transaction ran — so tokens carrying the old role (or issued before a deactivation, should
// the user be reactivated) stop working on every instance within a second (see src/plugins/auth.ts).
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import { decodeCursor, page } from '../../lib/cursor.js'
import { assertPasswordPolicy, hashPassword } from '../../lib/password.js'
import { kindForRole, type Actor, type OrganizationKind, type Role } from '../../lib/permissions.js'
import { AppError, notFound } from '../../lib/problems.js'
import { PERSONAL_DATA_MAX_ROWS } from './users.schemas.js'

const MANAGEABLE: Record<Role, readonly Role[]> = {
  ADMIN: ['ADMIN', 'MANAGER', 'HANDLER', 'STATION', 'SUPPLIER'],
  MANAGER: ['HANDLER', 'STATION', 'SUPPLIER'],
  HANDLER: ['STATION', 'SUPPLIER'],
  STATION: [],
  SUPPLIER: []
}

export function canManageRole (actorRole: Role, targetRole: Role): boolean {
  return MANAGEABLE[actorRole].includes(targetRole)
}

/** STATION and SUPPLIER users see only their own organization's users; platform staff see all. */
function readScope (actor: Actor): string | null {
  return actor.organizationKind === 'PLATFORM' ? null : actor.organizationId
}

export interface User {
  id: string
  email: string
  fullName: string
  phone: string | null
  role: Role
  organizationId: string
  organizationKind: OrganizationKind
  isActive: boolean
  lastLoginAt: Date | null
  createdAt: Date
  updatedAt: Date
  version: number
}

const USER_FIELDS = ['id', 'email', 'fullName', 'phone', 'role', 'organizationId', 'organizationKind', 'isActive', 'lastLoginAt', 'createdAt', 'updatedAt', 'version'] as const
const USER_COLUMNS = USER_FIELDS.map(c => `users.${c}` as const)

const ERASED_DOMAIN = '@erased.invalid'

export interface ListUsersQuery {
  q?: string
  role?: Role
  organizationId?: string
  active?: boolean
  limit?: number
  cursor?: string
}

function likePattern (q: string): string {
  return `%${q.replace(/[\\%_]/g, m => `\\${m}`)}%`
}

/** Keyset-paginated by (created_at, id); the cursor carries created_at at full (microsecond) precision. */
export async function listUsers (db: Db, actor: Actor, query: ListUsersQuery): Promise<{ items: User[], nextCursor: string | null }> {
  const limit = query.limit ?? 50
  let q = db.selectFrom('users').select([...USER_COLUMNS, sql<string>`users.created_at::text`.as('createdKey')])
    .orderBy('users.createdAt').orderBy('users.id').limit(limit + 1)
  const scope = readScope(actor)
  if (scope !== null) q = q.where('users.organizationId', '=', scope)
  if (query.organizationId !== undefined) q = q.where('users.organizationId', '=', query.organizationId)
  if (query.role !== undefined) q = q.where('users.role', '=', query.role)
  if (query.active !== undefined) q = q.where('users.isActive', '=', query.active)
  if (query.q !== undefined && query.q !== '') {
    const pattern = likePattern(query.q)
    q = q.where(eb => eb.or([eb('users.email', 'ilike', pattern), eb('users.fullName', 'ilike', pattern)]))
  }
  if (query.cursor !== undefined) {
    const [created, id] = decodeCursor(query.cursor, 2)
    if (typeof created !== 'string' || typeof id !== 'string') throw new AppError('INVALID_CURSOR', 'The cursor does not fit this list')
    q = q.where(sql<boolean>`(users.created_at, users.id) > (${created}::timestamptz, ${id}::uuid)`)
  }
  const rows = await q.execute()
  const result = page(rows, limit, r => [r.createdKey, r.id])
  return { items: result.items.map(({ createdKey: _k, ...u }) => u), nextCursor: result.nextCursor }
}

export async function getUser (db: Db, actor: Actor, id: string): Promise<User> {
  let q = db.selectFrom('users').select(USER_COLUMNS).where('users.id', '=', id)
  const scope = readScope(actor)
  if (scope !== null) q = q.where('users.organizationId', '=', scope)
  const row = await q.executeTakeFirst()
  if (row === undefined) throw notFound('User')
  return row
}

/** Locks the target row for a change; 404 outside the caller's scope. */
async function lockTarget (db: Db, actor: Actor, id: string): Promise<User> {
  let q = db.selectFrom('users').select(USER_COLUMNS).where('users.id', '=', id).forUpdate()
  const scope = readScope(actor)
  if (scope !== null) q = q.where('users.organizationId', '=', scope)
  const row = await q.executeTakeFirst()
  if (row === undefined) throw notFound('User')
  return row
}

function assertCanManage (actor: Actor, role: Role, verb: string): void {
  if (!canManageRole(actor.role, role)) {
    const allowed = MANAGEABLE[actor.role]
    throw new AppError('FORBIDDEN', `Role ${actor.role} may not ${verb} ${role} users${allowed.length > 0 ? ` (only ${allowed.join(', ')})` : ''}`)
  }
}

function assertVersion (expected: number | undefined, current: number): void {
  if (expected !== undefined && expected !== current) throw new AppError('PRECONDITION_FAILED', `If-Match "${expected}" does not match the current ETag "${current}"`)
}

function roleMismatch (role: Role, kind: OrganizationKind): AppError {
  const needed = kindForRole(role)
  return new AppError('ROLE_ORGANIZATION_MISMATCH', `Role ${role} belongs to a ${needed} organization; this organization is a ${kind}`, {
    errors: [{ pointer: '/role', code: 'ROLE_ORGANIZATION_MISMATCH', detail: `${role} needs a ${needed} organization, not a ${kind} one` }]
  })
}

export interface CreateUserInput {
  email: string
  fullName: string
  phone?: string | null
  role: Role
  organizationId: string
  password: string
}

export async function createUser (db: Db, actor: Actor, input: CreateUserInput): Promise<User> {
  assertCanManage(actor, input.role, 'create')
  const org = await db.selectFrom('organizations').select(['id', 'kind']).where('id', '=', input.organizationId).executeTakeFirst()
  if (org === undefined) {
    throw new AppError('REFERENCE_NOT_FOUND', 'The organization does not exist', { errors: [{ pointer: '/organizationId', code: 'REFERENCE_NOT_FOUND', detail: 'no such organization' }] })
  }
  if (kindForRole(input.role) !== org.kind) throw roleMismatch(input.role, org.kind)
  if (input.email.toLowerCase().endsWith(ERASED_DOMAIN)) {
    throw new AppError('BUSINESS_RULE_VIOLATED', `Addresses ${ERASED_DOMAIN} are reserved for erased accounts`, { errors: [{ pointer: '/email', code: 'RESERVED', detail: 'reserved domain' }] })
  }
  assertPasswordPolicy(input.password, input.email, '/password')
  const passwordHash = await hashPassword(input.password)
  return await db.insertInto('users').values({
    organizationId: org.id,
    organizationKind: org.kind,
    email: input.email,
    fullName: input.fullName,
    phone: input.phone ?? null,
    role: input.role,
    passwordHash,
    lockedUntil: null,
    lastLoginAt: null,
    createdBy: actor.userId
  }).returning(USER_FIELDS).executeTakeFirstOrThrow()
}

export interface UpdateUserInput {
  fullName?: string
  phone?: string | null
  email?: string
  role?: Role
}

export async function updateUser (db: Db, actor: Actor, id: string, input: UpdateUserInput, expectedVersion?: number): Promise<{ user: User, previousRole: Role }> {
  const target = await lockTarget(db, actor, id)
  const self = target.id === actor.userId
  const roleChange = input.role !== undefined && input.role !== target.role
  if (roleChange && self) throw new AppError('FORBIDDEN', 'Nobody can change their own role')
  // users may edit their own name, phone and email; anyone else's only within the roles they manage
  if (!self) assertCanManage(actor, target.role, 'update')
  if (roleChange && input.role !== undefined) {
    assertCanManage(actor, input.role, 'assign the role of')
    if (kindForRole(input.role) !== target.organizationKind) throw roleMismatch(input.role, target.organizationKind)
  }
  if (input.email !== undefined && input.email.toLowerCase().endsWith(ERASED_DOMAIN)) {
    throw new AppError('BUSINESS_RULE_VIOLATED', `Addresses ${ERASED_DOMAIN} are reserved for erased accounts`, { errors: [{ pointer: '/email', code: 'RESERVED', detail: 'reserved domain' }] })
  }
  assertVersion(expectedVersion, target.version)
  const user = await db.updateTable('users')
    .set({
      ...(input.fullName !== undefined ? { fullName: input.fullName } : {}),
      ...(input.phone !== undefined ? { phone: input.phone } : {}),
      ...(input.email !== undefined ? { email: input.email } : {}),
      ...(roleChange ? { role: input.role, tokensValidAfter: sql<Date>`clock_timestamp()` } : {}),
      version: sql<number>`version + 1`,
      updatedAt: sql<Date>`now()`
    })
    .where('id', '=', id)
    .returning(USER_FIELDS)
    .executeTakeFirstOrThrow()
  return { user, previousRole: target.role }
}

export async function setUserActive (db: Db, actor: Actor, id: string, active: boolean, expectedVersion?: number): Promise<User> {
  const target = await lockTarget(db, actor, id)
  if (target.id === actor.userId) throw new AppError('FORBIDDEN', `Nobody can ${active ? 'activate' : 'deactivate'} themselves`)
  assertCanManage(actor, target.role, active ? 'activate' : 'deactivate')
  assertVersion(expectedVersion, target.version)
  if (active && target.email.toLowerCase().endsWith(ERASED_DOMAIN)) throw new AppError('INVALID_TRANSITION', 'An erased account cannot be reactivated', { currentStatus: 'ERASED' })
  if (target.isActive === active) return target
  const user = await db.updateTable('users')
    .set({
      isActive: active,
      // Moved on both transitions: on deactivation so that reactivating never revives tokens issued
      // before it; on activation because an inactive user holds no valid token anyway, and the
      // users_notify_tokens trigger cannot cast a '-infinity' tokens_valid_after to bigint.
      tokensValidAfter: sql<Date>`clock_timestamp()`,
      version: sql<number>`version + 1`,
      updatedAt: sql<Date>`now()`
    })
    .where('id', '=', id)
    .returning(USER_FIELDS)
    .executeTakeFirstOrThrow()
  if (!active) await sql`UPDATE sessions SET revoked_at = now() WHERE user_id = ${id} AND revoked_at IS NULL`.execute(db)
  return user
}

/**
 * GDPR erasure: the person's name, email and phone are replaced, the password made unusable, the
 * account deactivated, sessions revoked and stripped of IP and user agent. The row (and its id)
 * stays, so orders, contracts and audit events that reference it keep working; audit events never
 * held personal values in the first place.
 */
export async function eraseUser (db: Db, actor: Actor, id: string): Promise<User> {
  const target = await lockTarget(db, actor, id)
  if (target.id === actor.userId) throw new AppError('FORBIDDEN', 'Nobody can erase themselves')
  assertCanManage(actor, target.role, 'erase')
  const user = await sql<User>`
    UPDATE users SET full_name = 'Erased user', email = 'erased-' || id::text || ${ERASED_DOMAIN}, phone = NULL,
      password_hash = '!erased', is_active = false, failed_logins = 0, locked_until = NULL,
      tokens_valid_after = clock_timestamp(), version = version + 1, updated_at = now()
    WHERE id = ${id}
    RETURNING id, email, full_name, phone, role, organization_id, organization_kind, is_active, last_login_at, created_at, updated_at, version`.execute(db)
  await sql`UPDATE sessions SET revoked_at = coalesce(revoked_at, now()), ip = NULL, user_agent = NULL WHERE user_id = ${id}`.execute(db)
  await sql`UPDATE password_reset_tokens SET used_at = coalesce(used_at, now()) WHERE user_id = ${id}`.execute(db)
  const row = user.rows[0]
  if (row === undefined) throw notFound('User')
  return row
}

export interface PersonalData {
  profile: User & { passwordChangedAt: Date, organization: { id: string, kind: OrganizationKind, name: string } }
  sessions: Array<{ id: string, familyId: string, createdAt: Date, lastUsedAt: Date, expiresAt: Date, usedAt: Date | null, revokedAt: Date | null, ip: string | null, userAgent: string | null }>
  sessionsTruncated: boolean
  auditEvents: Array<{ id: number, occurredAt: Date, action: string, entityType: string, entityId: string | null }>
  auditEventsTruncated: boolean
}

export const PERSONAL_DATA_MAX_EVENTS = PERSONAL_DATA_MAX_ROWS

/** Everything the service holds about a person (GDPR access): ADMIN, or the person themselves. */
export async function exportPersonalData (db: Db, actor: Actor, id: string): Promise<PersonalData> {
  if (actor.role !== 'ADMIN' && actor.userId !== id) {
    await getUser(db, actor, id) // 404 outside the read scope
    throw new AppError('FORBIDDEN', 'Only an ADMIN or the person themselves may export personal data')
  }
  const profile = await db.selectFrom('users').innerJoin('organizations as o', 'o.id', 'users.organizationId')
    .select([...USER_COLUMNS, 'users.passwordChangedAt', 'o.kind as orgKind', 'o.name as orgName'])
    .where('users.id', '=', id).executeTakeFirst()
  if (profile === undefined) throw notFound('User')
  // every refresh rotates a session row: the latest PERSONAL_DATA_MAX_ROWS of them, oldest first
  const sessions = (await db.selectFrom('sessions')
    .select(['id', 'familyId', 'createdAt', 'lastUsedAt', 'expiresAt', 'usedAt', 'revokedAt', 'ip', 'userAgent'])
    .where('userId', '=', id).orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(PERSONAL_DATA_MAX_ROWS + 1).execute()).reverse()
  const events = await db.selectFrom('auditEvents').select(['id', 'occurredAt', 'action', 'entityType', 'entityId'])
    .where('actorUserId', '=', id).orderBy('id').limit(PERSONAL_DATA_MAX_EVENTS + 1).execute()
  const { orgKind, orgName, ...user } = profile
  return {
    profile: { ...user, organization: { id: user.organizationId, kind: orgKind, name: orgName } },
    sessions: (sessions.length > PERSONAL_DATA_MAX_ROWS ? sessions.slice(1) : sessions) as PersonalData['sessions'],
    sessionsTruncated: sessions.length > PERSONAL_DATA_MAX_ROWS,
    auditEvents: events.slice(0, PERSONAL_DATA_MAX_EVENTS),
    auditEventsTruncated: events.length > PERSONAL_DATA_MAX_EVENTS
  }
}
