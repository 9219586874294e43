// Sign-in, sessions and passwords (PRODUCT.md §13). Security decisions live here:
//
// - Refresh tokens are 256 random bits, opaque (never JWTs, so they can never pass as access
//   tokens), stored only as SHA-256 hashes. A session family is one sign-in on one device; every
//   refresh rotates the token inside the family with one guarded UPDATE, so of two concurrent
//   refreshes with the same token exactly one wins. Presenting a token that was already rotated is
//   treated as theft: the whole family is revoked, the user's access tokens too, and it is audited.
//   Every row of a family carries the family's absolute expiry (sign-in + REFRESH_TOKEN_TTL_DAYS).
// - Access-token revocation goes through users.tokens_valid_after / is_active: a trigger tells
//   every instance (src/plugins/auth.ts), so nothing here reads the database per request. It is
//   always set to clock_timestamp(): now() is the transaction's start, and a token issued while the
//   transaction ran would survive the revocation.
// - Lockout, per email string: settings.lockout_threshold failures within settings.lockout_minutes
//   lock the address for lockout_minutes, whether or not an account has it (login_throttles, keyed
//   by the SHA-256 of the lower-cased address). An unknown address therefore gets exactly what a
//   known one gets — 401, then 429 ACCOUNT_LOCKED with Retry-After — through the same statements
//   and one argon2 verification (against a dummy hash), so neither the answers nor their timing tell
//   whether an account exists. One upsert does the counting under the row lock, so parallel guesses
//   cannot slip past the threshold. Trade-off: anyone can still lock an address for lockout_minutes
//   by failing on purpose (the price of a per-account lockout); the owner always gets back in
//   through a password reset, which is never blocked by the lock and lifts it, and the per-IP
//   limit of the sign-in route bounds how many addresses one client can lock.
// - Failed attempts are security events whose audit rows must commit although the answer is an
//   error; that is why these functions open their own transactions (their routes are not wrapped
//   by the audit plugin).
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../../db/index.js'
import type { Actor, OrganizationKind, Role } from '../../lib/permissions.js'
import { AppError } from '../../lib/problems.js'
import { assertPasswordPolicy, hashPassword, needsRehash, verifyPassword } from '../../lib/password.js'
import { appendAuditEvent } from '../audit/audit.service.js'
import { RESET_EVENT, sealResetToken } from './reset-delivery.js'

export const MAX_LIVE_SESSIONS = 5
export const RESET_TOKEN_TTL_MINUTES = 30

/** Where a request came from, for sessions and audit events. */
export interface RequestContext {
  requestId: string
  ip: string
  userAgent: string | null
}

export interface SessionUser {
  id: string
  email: string
  fullName: string
  role: Role
  organizationId: string
}

/** A signed-in session: the route signs the access token for `actor`. */
export interface IssuedSession {
  actor: Actor
  user: SessionUser
  refreshToken: string
  /**
   * The access token's issue instant, read from the database clock while the user's row was
   * locked: a role change or revocation committed after it sets a later tokens_valid_after, so
   * a token can never carry a role older than its own issue instant.
   */
  issuedMs: number
}

export function sha256 (value: string): string {
  return createHash('sha256').update(value).digest('hex')
}

function newOpaqueToken (): string {
  return randomBytes(32).toString('base64url')
}

let dummyHash: Promise<string> | undefined
/** A hash of a random secret made with today's argon2 parameters, verified for unknown emails. */
export async function getDummyHash (): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(24).toString('base64url'))
  return await dummyHash
}

const audit = (db: Db, ctx: RequestContext, e: { actor?: Actor | null, action: string, entityType: string, entityId?: string | null, changes?: Record<string, unknown> | null }): Promise<number> =>
  appendAuditEvent(db, { ...e, requestId: ctx.requestId, ip: ctx.ip, userAgent: ctx.userAgent })

function actorOfRow (u: { id: string, role: Role, organizationId: string, organizationKind: OrganizationKind }): Actor {
  return { userId: u.id, role: u.role, organizationId: u.organizationId, organizationKind: u.organizationKind }
}

async function insertSession (db: Db, userId: string, familyId: string, expiresAt: Date | RawBuilder<Date>, ctx: RequestContext): Promise<{ id: string, refreshToken: string }> {
  const refreshToken = newOpaqueToken()
  const row = await db.insertInto('sessions').values({
    userId, familyId, refreshHash: sha256(refreshToken), expiresAt, ip: ctx.ip, userAgent: ctx.userAgent?.slice(0, 512) ?? null, usedAt: null, revokedAt: null, replacedBy: null
  }).returning('id').executeTakeFirstOrThrow()
  return { id: row.id, refreshToken }
}

/** Revokes every live family of the user beyond the newest MAX_LIVE_SESSIONS (by sign-in time). */
async function enforceSessionCap (db: Db, userId: string): Promise<void> {
  // every row of a family carries the family's absolute expiry, so expires_at orders families by sign-in
  await sql`
    UPDATE sessions SET revoked_at = now()
    WHERE revoked_at IS NULL AND family_id IN (
      SELECT family_id FROM sessions
      WHERE user_id = ${userId} AND revoked_at IS NULL AND used_at IS NULL AND expires_at > now()
      ORDER BY expires_at DESC, id DESC
      OFFSET ${MAX_LIVE_SESSIONS})`.execute(db)
}

interface LoginRow {
  id: string
  email: string
  fullName: string
  role: Role
  organizationId: string
  organizationKind: OrganizationKind
  passwordHash: string
  isActive: boolean
  orgActive: boolean
  lockedForSeconds: number | null
}

/** The lockout key of an address (login_throttles.email_key): computed by PostgreSQL everywhere. */
const emailKey = (email: string | RawBuilder<unknown>): RawBuilder<string> =>
  sql<string>`encode(sha256(convert_to(lower(${typeof email === 'string' ? sql`${email}::text` : email}), 'UTF8')), 'hex')`

const lockedFor = (t: string): RawBuilder<number | null> =>
  sql<number | null>`CASE WHEN ${sql.ref(`${t}.locked_until`)} > now() THEN ceil(extract(epoch FROM ${sql.ref(`${t}.locked_until`)} - now()))::int END`

async function findLoginRow (db: Db, where: { id: string }, lock = false): Promise<LoginRow | undefined> {
  const q = db.selectFrom('users').innerJoin('organizations as o', 'o.id', 'users.organizationId')
    .select(['users.id', 'users.email', 'users.fullName', 'users.role', 'users.organizationId', 'users.organizationKind', 'users.passwordHash', 'users.isActive', 'o.isActive as orgActive',
      sql<number | null>`(SELECT ${lockedFor('t')} FROM login_throttles t WHERE t.email_key = ${emailKey(sql`users.email::text`)})`.as('lockedForSeconds')])
    .where('users.id', '=', where.id)
  return await (lock ? q.forShare('users') : q).executeTakeFirst() as LoginRow | undefined
}

/**
 * The sign-in read: always one row, with the address's lock whether or not an account has it, and
 * the account when there is one (one statement either way).
 */
async function findSignIn (db: Db, email: string): Promise<{ lockedForSeconds: number | null, user: LoginRow | undefined }> {
  const r = await sql<Omit<LoginRow, 'lockedForSeconds'> & { id: string | null, lockedForSeconds: number | null }>`
    SELECT u.id, u.email, u.full_name, u.role, u.organization_id, u.organization_kind, u.password_hash, u.is_active, o.is_active AS org_active,
      ${lockedFor('t')} AS locked_for_seconds
    FROM (SELECT ${emailKey(email)} AS k) q
    LEFT JOIN login_throttles t ON t.email_key = q.k
    LEFT JOIN users u ON u.email = ${email}
    LEFT JOIN organizations o ON o.id = u.organization_id`.execute(db)
  const row = r.rows[0]
  const lockedForSeconds = row?.lockedForSeconds ?? null
  return { lockedForSeconds, user: row?.id == null ? undefined : { ...row, id: row.id, lockedForSeconds } }
}

function lockedError (seconds: number): AppError {
  return new AppError('ACCOUNT_LOCKED', `Too many failed sign-in attempts; try again in ${Math.ceil(seconds / 60)} minute(s)`, { retryAfterSeconds: seconds })
}

/**
 * Counts one failed password proof for an address (with or without an account) and locks it when
 * the threshold is reached within the window. Returns the remaining lock in seconds when the
 * address is (now) locked. Known and unknown addresses run the same statements.
 */
async function registerFailure (db: Db, email: string, user: LoginRow | undefined, ctx: RequestContext, action: string, reason: string): Promise<number | null> {
  return await db.transaction().execute(async trx => {
    // one upsert: under concurrent attempts PostgreSQL re-evaluates the update on the newest row
    // version; a row already locked is left alone (no row returned)
    const span = sql`(SELECT make_interval(mins => lockout_minutes) FROM settings LIMIT 1)`
    const threshold = sql`(SELECT lockout_threshold FROM settings LIMIT 1)`
    const fresh = sql`(t.failed_logins = 0 OR t.window_started_at <= now() - ${span})`
    const count = sql`(CASE WHEN ${fresh} THEN 1 ELSE t.failed_logins + 1 END)`
    const r = await sql<{ failedLogins: number, lockedForSeconds: number | null, justLocked: boolean }>`
      INSERT INTO login_throttles AS t (email_key, failed_logins, window_started_at, locked_until)
      SELECT ${emailKey(email)}, CASE WHEN ${threshold} <= 1 THEN 0 ELSE 1 END, now(), CASE WHEN ${threshold} <= 1 THEN now() + ${span} END
      ON CONFLICT (email_key) DO UPDATE SET
        failed_logins = CASE WHEN ${count} >= ${threshold} THEN 0 ELSE ${count} END,
        window_started_at = CASE WHEN ${fresh} THEN now() ELSE t.window_started_at END,
        locked_until = CASE WHEN ${count} >= ${threshold} THEN now() + ${span} END
      WHERE t.locked_until IS NULL OR t.locked_until <= now()
      RETURNING t.failed_logins, ${lockedFor('t')} AS locked_for_seconds, coalesce(t.locked_until > now(), false) AS just_locked`.execute(trx)
    const row = r.rows[0]
    const actor = user === undefined ? null : actorOfRow(user)
    const entityId = user?.id ?? null
    await audit(trx, ctx, { actor, action, entityType: 'user', entityId, changes: { reason, failedLogins: row?.failedLogins ?? null, locked: row === undefined || row.justLocked } })
    if (row === undefined) {
      // locked by a concurrent attempt between our read and this upsert
      const again = await sql<{ lockedForSeconds: number | null }>`SELECT ${lockedFor('t')} AS locked_for_seconds FROM login_throttles t WHERE t.email_key = ${emailKey(email)}`.execute(trx)
      return again.rows[0]?.lockedForSeconds ?? 1
    }
    if (row.justLocked) {
      await audit(trx, ctx, { actor, action: 'auth.lockout', entityType: 'user', entityId, changes: { lockedForSeconds: row.lockedForSeconds } })
    }
    return row.lockedForSeconds
  })
}

const invalidCredentials = (): AppError => new AppError('INVALID_CREDENTIALS', 'The email or password is incorrect')

export async function login (db: Db, input: { email: string, password: string }, ctx: RequestContext, refreshTtlDays: number): Promise<IssuedSession> {
  const { lockedForSeconds, user } = await findSignIn(db, input.email)
  if (lockedForSeconds !== null) {
    await audit(db, ctx, { actor: user === undefined ? null : actorOfRow(user), action: 'auth.login_failed', entityType: 'user', entityId: user?.id ?? null, changes: { reason: 'LOCKED' } })
    throw lockedError(lockedForSeconds)
  }
  // unknown addresses and an erased account's unusable marker verify the dummy hash, so they cost the same
  const usable = user !== undefined && user.passwordHash.startsWith('$argon2')
  const ok = await verifyPassword(usable ? user.passwordHash : await getDummyHash(), input.password) && usable
  if (!ok || user === undefined) {
    const locked = await registerFailure(db, input.email, user, ctx, 'auth.login_failed', user === undefined ? 'UNKNOWN_EMAIL' : 'WRONG_PASSWORD')
    if (locked !== null) throw lockedError(locked)
    throw invalidCredentials()
  }
  if (!user.isActive || !user.orgActive) {
    // same answer as a wrong password: an inactive account is not confirmed to exist
    await audit(db, ctx, { actor: actorOfRow(user), action: 'auth.login_failed', entityType: 'user', entityId: user.id, changes: { reason: 'INACTIVE' } })
    throw invalidCredentials()
  }
  const rehash = needsRehash(user.passwordHash) ? await hashPassword(input.password) : undefined
  const session = await db.transaction().execute(async trx => {
    // the row lock also serializes concurrent sign-ins of one user, which keeps the session cap
    // exact; the role is the one under the lock, not the one read before the password check
    const updated = await trx.updateTable('users')
      .set({ lastLoginAt: sql<Date>`now()`, ...(rehash !== undefined ? { passwordHash: rehash } : {}) })
      .where('id', '=', user.id).where('isActive', '=', true)
      .returning(['id', 'role', 'organizationId', 'organizationKind', sql<number>`floor(extract(epoch FROM clock_timestamp()) * 1000)::float8`.as('issuedMs')])
      .executeTakeFirst()
    if (updated === undefined) return undefined
    const actor = actorOfRow(updated)
    await sql`DELETE FROM login_throttles WHERE email_key = ${emailKey(input.email)}`.execute(trx)
    const s = await insertSession(trx, user.id, randomUUID(), sql<Date>`now() + make_interval(days => ${refreshTtlDays})`, ctx)
    await enforceSessionCap(trx, user.id)
    await audit(trx, ctx, { actor, action: 'auth.login', entityType: 'user', entityId: user.id, changes: rehash !== undefined ? { passwordRehashed: true } : null })
    return { ...s, actor, issuedMs: Number(updated.issuedMs) }
  })
  if (session === undefined) throw invalidCredentials()
  const { actor } = session
  return { actor, user: { id: user.id, email: user.email, fullName: user.fullName, role: actor.role, organizationId: actor.organizationId }, refreshToken: session.refreshToken, issuedMs: session.issuedMs }
}

export async function refreshSession (db: Db, refreshToken: string, ctx: RequestContext): Promise<IssuedSession> {
  const hash = sha256(refreshToken)
  const outcome = await db.transaction().execute(async trx => {
    const rotated = await sql<{ id: string, userId: string, familyId: string, expiresAt: Date }>`
      UPDATE sessions SET used_at = now(), last_used_at = now()
      WHERE refresh_hash = ${hash} AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
      RETURNING id, user_id, family_id, expires_at`.execute(trx)
    const old = rotated.rows[0]
    if (old === undefined) {
      const prior = await trx.selectFrom('sessions').select(['userId', 'familyId', 'usedAt']).where('refreshHash', '=', hash).executeTakeFirst()
      if (prior === undefined || prior.usedAt === null) return { kind: 'invalid' as const }
      // An already-rotated token came back: either it was stolen or the thief already used it.
      // Revoke the whole family and the user's access tokens (clock_timestamp: also the ones a
      // concurrent rotation of this family issued while this transaction waited).
      const revoked = await sql`UPDATE sessions SET revoked_at = now() WHERE family_id = ${prior.familyId} AND revoked_at IS NULL`.execute(trx)
      await sql`UPDATE users SET tokens_valid_after = clock_timestamp() WHERE id = ${prior.userId}`.execute(trx)
      const owner = await findLoginRow(trx, { id: prior.userId })
      await audit(trx, ctx, { actor: owner !== undefined ? actorOfRow(owner) : null, action: 'session.refresh_reuse', entityType: 'session', entityId: prior.familyId, changes: { familyId: prior.familyId, revokedSessions: Number(revoked.numAffectedRows ?? 0) } })
      return { kind: 'reuse' as const }
    }
    // locked (FOR SHARE) until the commit: a role change waits, then revokes what this issues
    const user = await findLoginRow(trx, { id: old.userId }, true)
    if (user === undefined || !user.isActive || !user.orgActive) {
      await sql`UPDATE sessions SET revoked_at = now() WHERE family_id = ${old.familyId} AND revoked_at IS NULL`.execute(trx)
      return { kind: 'invalid' as const }
    }
    const next = await insertSession(trx, old.userId, old.familyId, old.expiresAt, ctx)
    await trx.updateTable('sessions').set({ replacedBy: next.id }).where('id', '=', old.id).execute()
    const actor = actorOfRow(user)
    await audit(trx, ctx, { actor, action: 'session.refresh', entityType: 'session', entityId: old.familyId, changes: null })
    const now = await sql<{ ms: number }>`SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms`.execute(trx)
    return { kind: 'ok' as const, session: { actor, user: { id: user.id, email: user.email, fullName: user.fullName, role: user.role, organizationId: user.organizationId }, refreshToken: next.refreshToken, issuedMs: Number(now.rows[0]?.ms) } }
  })
  if (outcome.kind !== 'ok') throw new AppError('REFRESH_TOKEN_INVALID', 'The refresh token is invalid, expired, revoked or already used; sign in again')
  return outcome.session
}

/** Ends the session (family) the refresh token belongs to; unknown tokens are ignored. */
export async function logout (db: Db, refreshToken: string, ctx: RequestContext): Promise<void> {
  await db.transaction().execute(async trx => {
    const r = await sql<{ userId: string, familyId: string }>`
      UPDATE sessions SET revoked_at = now()
      WHERE family_id = (SELECT family_id FROM sessions WHERE refresh_hash = ${sha256(refreshToken)}) AND revoked_at IS NULL
      RETURNING user_id, family_id`.execute(trx)
    const first = r.rows[0]
    if (first === undefined) return
    const owner = await findLoginRow(trx, { id: first.userId })
    await audit(trx, ctx, { actor: owner !== undefined ? actorOfRow(owner) : null, action: 'session.logout', entityType: 'session', entityId: first.familyId, changes: null })
  })
}

/** Revokes every session of the caller and every access token issued so far (runs in the audit plugin's transaction). */
export async function logoutEverywhere (db: Db, actor: Actor): Promise<{ revokedSessions: number }> {
  const r = await sql`UPDATE sessions SET revoked_at = now() WHERE user_id = ${actor.userId} AND revoked_at IS NULL`.execute(db)
  await sql`UPDATE users SET tokens_valid_after = clock_timestamp() WHERE id = ${actor.userId}`.execute(db)
  return { revokedSessions: Number(r.numAffectedRows ?? 0) }
}

/**
 * Sets a new password and revokes what the old one granted: every access token issued before now,
 * every session except `keepFamilyOf` (the caller's own refresh token, when given), and unused
 * reset tokens.
 */
async function applyNewPassword (db: Db, userId: string, hash: string, keepRefreshToken?: string): Promise<void> {
  await sql`UPDATE users SET password_hash = ${hash}, password_changed_at = now(), tokens_valid_after = clock_timestamp(),
      version = version + 1, updated_at = now()
    WHERE id = ${userId}`.execute(db)
  // a new password lifts the lockout of the address (the way back in for a locked-out owner)
  await sql`DELETE FROM login_throttles WHERE email_key = (SELECT ${emailKey(sql`email::text`)} FROM users WHERE id = ${userId})`.execute(db)
  const keep = keepRefreshToken === undefined ? null : sha256(keepRefreshToken)
  await sql`UPDATE sessions SET revoked_at = now()
    WHERE user_id = ${userId} AND revoked_at IS NULL
      AND family_id IS DISTINCT FROM (SELECT family_id FROM sessions WHERE refresh_hash = ${keep} AND user_id = ${userId} AND used_at IS NULL AND revoked_at IS NULL)`.execute(db)
  await sql`UPDATE password_reset_tokens SET used_at = now() WHERE user_id = ${userId} AND used_at IS NULL`.execute(db)
}

export interface ChangePasswordInput { currentPassword: string, newPassword: string, refreshToken?: string }

export async function changePassword (db: Db, actor: Actor, input: ChangePasswordInput, ctx: RequestContext): Promise<void> {
  const user = await findLoginRow(db, { id: actor.userId })
  if (user === undefined || !user.isActive) throw new AppError('INVALID_TOKEN', 'The account no longer exists or is inactive')
  assertPasswordPolicy(input.newPassword, user.email, '/newPassword')
  if (user.lockedForSeconds !== null) throw lockedError(user.lockedForSeconds)
  // a stolen access token must not become a way around the sign-in lockout: failures count the same
  if (!await verifyPassword(user.passwordHash, input.currentPassword)) {
    const locked = await registerFailure(db, user.email, user, ctx, 'user.password_change_failed', 'WRONG_PASSWORD')
    if (locked !== null) throw lockedError(locked)
    throw new AppError('CURRENT_PASSWORD_INCORRECT', 'The current password is incorrect', { errors: [{ pointer: '/currentPassword', code: 'CURRENT_PASSWORD_INCORRECT', detail: 'does not match' }] })
  }
  const hash = await hashPassword(input.newPassword)
  await db.transaction().execute(async trx => {
    await applyNewPassword(trx, user.id, hash, input.refreshToken)
    await audit(trx, ctx, { actor, action: 'user.password_change', entityType: 'user', entityId: user.id, changes: { keptCurrentSession: input.refreshToken !== undefined } })
  })
}

/**
 * Starts a reset. Always succeeds from the caller's point of view; returns the raw token (for the
 * development log) only when one was issued. The token reaches the user through the outbox event
 * `user.password_reset_requested`, addressed to no organization: only the platform's mailer reads
 * it, never a station's or supplier's webhook. The event holds the user id, the expiry and the
 * token sealed with `sealKey` (reset-delivery.ts), never the token in clear nor the address.
 */
export async function requestPasswordReset (db: Db, email: string, ctx: RequestContext, sealKey: Buffer): Promise<{ userId: string, token: string } | null> {
  // The same work whether or not the address has an account (issue 11: no existence oracle in
  // status, body or timing): a token is always made and sealed, and one transaction runs the same
  // two statements — a CTE that issues the token and its outbox event only when an active account
  // matches, then the audit event.
  const token = newOpaqueToken()
  const sealedToken = sealResetToken(token, sealKey)
  const issued = await db.transaction().execute(async trx => {
    const r = await sql<{ id: string | null, role: Role | null, organizationId: string | null, organizationKind: OrganizationKind | null }>`
      WITH u AS (
        SELECT users.id, users.role, users.organization_id, users.organization_kind FROM users
        JOIN organizations o ON o.id = users.organization_id
        WHERE users.email = ${email} AND users.is_active AND o.is_active
      ), t AS (
        INSERT INTO password_reset_tokens (user_id, token_hash, expires_at)
        SELECT u.id, ${sha256(token)}, now() + make_interval(mins => ${RESET_TOKEN_TTL_MINUTES}) FROM u
        RETURNING id, user_id, expires_at
      ), o AS (
        INSERT INTO outbox_events (type, organization_ids, payload)
        SELECT ${RESET_EVENT}, '{}'::uuid[], jsonb_build_object('userId', t.user_id, 'resetId', t.id, 'expiresAt', t.expires_at, 'sealedToken', ${sealedToken}::text) FROM t
        RETURNING id
      )
      SELECT u.id, u.role, u.organization_id, u.organization_kind FROM (SELECT 1) AS one LEFT JOIN u ON true`.execute(trx)
    const row = r.rows[0]
    const user = row?.id !== null && row?.id !== undefined ? actorOfRow({ id: row.id, role: row.role as Role, organizationId: row.organizationId as string, organizationKind: row.organizationKind as OrganizationKind }) : null
    await audit(trx, ctx, { actor: user, action: 'user.password_reset_request', entityType: 'user', entityId: user?.userId ?? null, changes: { issued: user !== null } })
    return user
  })
  return issued === null ? null : { userId: issued.userId, token }
}

const invalidResetToken = (): AppError => new AppError('PASSWORD_RESET_TOKEN_INVALID', 'The reset token is invalid, already used or expired; request a new one')

export async function confirmPasswordReset (db: Db, input: { token: string, newPassword: string }, ctx: RequestContext): Promise<void> {
  const tokenHash = sha256(input.token)
  const found = await db.selectFrom('passwordResetTokens as t').innerJoin('users as u', 'u.id', 't.userId')
    .select(['u.id', 'u.email', 'u.isActive'])
    .where('t.tokenHash', '=', tokenHash).where('t.usedAt', 'is', null).where(sql<boolean>`t.expires_at > now()`)
    .executeTakeFirst()
  if (found === undefined || !found.isActive) throw invalidResetToken()
  // policy before consuming the token, so a refused password does not burn it
  assertPasswordPolicy(input.newPassword, found.email, '/newPassword')
  const hash = await hashPassword(input.newPassword)
  const done = await db.transaction().execute(async trx => {
    const consumed = await sql<{ userId: string }>`
      UPDATE password_reset_tokens SET used_at = now()
      WHERE token_hash = ${tokenHash} AND used_at IS NULL AND expires_at > now()
      RETURNING user_id`.execute(trx)
    if (consumed.rows[0] === undefined) return false
    const user = await findLoginRow(trx, { id: found.id })
    if (user === undefined || !user.isActive) return false
    await applyNewPassword(trx, found.id, hash)
    await audit(trx, ctx, { actor: actorOfRow(user), action: 'user.password_reset', entityType: 'user', entityId: found.id, changes: null })
    return true
  })
  if (!done) throw invalidResetToken()
}

export interface Me {
  id: string
  email: string
  fullName: string
  phone: string | null
  role: Role
  organizationId: string
  organization: { id: string, kind: OrganizationKind, name: string }
  isActive: boolean
  lastLoginAt: Date | null
  passwordChangedAt: Date
  createdAt: Date
  version: number
}

export async function getMe (db: Db, actor: Actor): Promise<Me> {
  const row = await db.selectFrom('users').innerJoin('organizations as o', 'o.id', 'users.organizationId')
    .select(['users.id', 'users.email', 'users.fullName', 'users.phone', 'users.role', 'users.organizationId', 'o.kind as orgKind', 'o.name as orgName',
      'users.isActive', 'users.lastLoginAt', 'users.passwordChangedAt', 'users.createdAt', 'users.version'])
    .where('users.id', '=', actor.userId)
    .executeTakeFirst()
  if (row === undefined) throw new AppError('NOT_FOUND', 'The signed-in user no longer exists')
  const { orgKind, orgName, ...rest } = row
  return { ...rest, organization: { id: row.organizationId, kind: orgKind, name: orgName } }
}

/** Deletes lockout rows whose window and lock are both over (they no longer count for anything). */
export async function sweepLoginThrottles (db: Db): Promise<number> {
  const r = await sql`
    DELETE FROM login_throttles t
    USING (SELECT make_interval(mins => lockout_minutes) AS span FROM settings LIMIT 1) s
    WHERE t.window_started_at < now() - s.span AND (t.locked_until IS NULL OR t.locked_until < now())`.execute(db)
  return Number(r.numAffectedRows ?? 0)
}
