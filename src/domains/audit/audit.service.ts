// The audit trail: events are appended in the transaction of the change they describe, and linked
// into a SHA-256 hash chain after commit by a single sealer, so mutations never wait on a global
// chain head. Verification recomputes the chain over the seals in order.
import { createHash } from 'node:crypto'
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import type { Actor } from '../../lib/permissions.js'
import { decodeCursor, page } from '../../lib/cursor.js'

export interface AuditEventInput {
  actor?: Actor | null
  action: string
  entityType: string
  entityId?: string | null
  requestId?: string | null
  idempotencyKey?: string | null
  ip?: string | null
  userAgent?: string | null
  changes?: Record<string, unknown> | null
}

const SECRET_KEY = /password|token|secret|hash|authorization/i
const PERSONAL_KEY = /^(email|fullName|full_name|phone|name)$/i

/**
 * What an audit event may record of a body: secrets dropped, personal values replaced by a marker
 * (so GDPR erasure never has to rewrite the append-only log), long strings cut.
 */
export function redactChanges (value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'string' && value.length > 500 ? value.slice(0, 500) + '…' : value
  }
  if (depth > 4) return '[nested]'
  if (Array.isArray(value)) return value.slice(0, 100).map(v => redactChanges(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (SECRET_KEY.test(k)) continue
    out[k] = PERSONAL_KEY.test(k) && k !== 'name' ? '[changed]' : redactChanges(v, depth + 1)
  }
  return out
}

/** Appends one audit event (used directly by security events; mutations go through the audit plugin). */
export async function appendAuditEvent (db: Db, e: AuditEventInput): Promise<number> {
  const r = await sql<{ id: number }>`
    INSERT INTO audit_events (actor_user_id, actor_role, actor_org_id, action, entity_type, entity_id, request_id, idempotency_key, ip, user_agent, changes)
    VALUES (${e.actor?.userId ?? null}, ${e.actor?.role ?? null}, ${e.actor?.organizationId ?? null}, ${e.action}, ${e.entityType}, ${e.entityId ?? null},
      ${e.requestId ?? null}, ${e.idempotencyKey ?? null}, ${e.ip ?? null}, ${e.userAgent?.slice(0, 512) ?? null}, ${e.changes === undefined || e.changes === null ? null : JSON.stringify(e.changes)}::jsonb)
    RETURNING id`.execute(db)
  return (r.rows[0] as { id: number }).id
}

// ---- hash chain ------------------------------------------------------------------------------

export const GENESIS_HASH = '0'.repeat(64)
const SEALER_LOCK = 7_310_001

interface ChainRow {
  id: number
  occurredAt: string
  actorUserId: string | null
  actorRole: string | null
  actorOrgId: string | null
  action: string
  entityType: string
  entityId: string | null
  requestId: string | null
  idempotencyKey: string | null
  ip: string | null
  userAgent: string | null
  changes: unknown
}

function canonical (v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null'
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']'
  const keys = Object.keys(v as Record<string, unknown>).sort()
  return '{' + keys.map(k => JSON.stringify(k) + ':' + canonical((v as Record<string, unknown>)[k])).join(',') + '}'
}

export function linkHash (prevHash: string, e: ChainRow): string {
  const content = canonical([e.id, e.occurredAt, e.actorUserId, e.actorRole, e.actorOrgId, e.action, e.entityType, e.entityId, e.requestId, e.idempotencyKey, e.ip, e.userAgent, e.changes ?? null])
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex')
}

const chainColumns = sql`e.id, to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
  e.actor_user_id, e.actor_role, e.actor_org_id, e.action, e.entity_type, e.entity_id, e.request_id, e.idempotency_key, e.ip, e.user_agent, e.changes`

/**
 * Links not-yet-sealed events into the chain. Only one sealer runs at a time across all instances
 * (advisory lock); returns how many events it sealed.
 */
export async function sealPending (db: Db, batch = 2000): Promise<number> {
  return await db.transaction().execute(async trx => {
    const lock = await sql<{ ok: boolean }>`SELECT pg_try_advisory_xact_lock(${SEALER_LOCK}) AS ok`.execute(trx)
    if (lock.rows[0]?.ok !== true) return 0
    const pending = await sql<ChainRow>`SELECT ${chainColumns} FROM audit_unsealed u JOIN audit_events e ON e.id = u.event_id ORDER BY u.event_id LIMIT ${batch}`.execute(trx)
    if (pending.rows.length === 0) return 0
    const head = await sql<{ seq: number, hash: string }>`SELECT seq, hash FROM audit_seals ORDER BY seq DESC LIMIT 1`.execute(trx)
    let seq = head.rows[0]?.seq ?? 0
    let prev = head.rows[0]?.hash ?? GENESIS_HASH
    const seqs: number[] = []
    const ids: number[] = []
    const prevs: string[] = []
    const hashes: string[] = []
    for (const row of pending.rows) {
      const hash = linkHash(prev, row)
      seq += 1
      seqs.push(seq); ids.push(row.id); prevs.push(prev); hashes.push(hash)
      prev = hash
    }
    await sql`INSERT INTO audit_seals (seq, event_id, prev_hash, hash)
      SELECT * FROM unnest(${seqs}::bigint[], ${ids}::bigint[], ${prevs}::text[], ${hashes}::text[])`.execute(trx)
    await sql`DELETE FROM audit_unsealed WHERE event_id = ANY(${ids}::bigint[])`.execute(trx)
    return ids.length
  })
}

export interface ChainReport {
  ok: boolean
  sealedEvents: number
  unsealedEvents: number
  lastSeq: number
  lastHash: string
  firstBroken: { seq: number, eventId: number, reason: string } | null
}

export async function verifyChain (db: Db, batch = 5000): Promise<ChainReport> {
  let prev = GENESIS_HASH
  let expectedSeq = 1
  let count = 0
  for (;;) {
    const rows = await sql<ChainRow & { seq: number, prevHash: string, hash: string }>`
      SELECT s.seq, s.prev_hash, s.hash, ${chainColumns}
      FROM audit_seals s JOIN audit_events e ON e.id = s.event_id
      WHERE s.seq >= ${expectedSeq} ORDER BY s.seq LIMIT ${batch}`.execute(db)
    for (const r of rows.rows) {
      let reason: string | null = null
      if (r.seq !== expectedSeq) reason = `seal ${expectedSeq} is missing`
      else if (r.prevHash !== prev) reason = 'previous-hash link does not match'
      else if (linkHash(prev, r) !== r.hash) reason = 'event content does not match its hash'
      if (reason !== null) {
        const unsealed = await countUnsealed(db)
        return { ok: false, sealedEvents: count, unsealedEvents: unsealed, lastSeq: expectedSeq - 1, lastHash: prev, firstBroken: { seq: r.seq, eventId: r.id, reason } }
      }
      prev = r.hash
      expectedSeq += 1
      count += 1
    }
    if (rows.rows.length < batch) break
  }
  return { ok: true, sealedEvents: count, unsealedEvents: await countUnsealed(db), lastSeq: expectedSeq - 1, lastHash: prev, firstBroken: null }
}

async function countUnsealed (db: Db): Promise<number> {
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_unsealed`.execute(db)
  return r.rows[0]?.n ?? 0
}

// ---- reading ---------------------------------------------------------------------------------

export interface AuditQuery {
  entityType?: string
  entityId?: string
  actorUserId?: string
  action?: string
  from?: string
  to?: string
  limit?: number
  cursor?: string
}

export async function listAuditEvents (db: Db, q: AuditQuery) {
  const limit = q.limit ?? 50
  let query = db.selectFrom('auditEvents')
    .select(['id', 'occurredAt', 'actorUserId', 'actorRole', 'actorOrgId', 'action', 'entityType', 'entityId', 'requestId', 'idempotencyKey', 'ip', 'userAgent', 'changes'])
    .orderBy('id', 'desc')
    .limit(limit + 1)
  if (q.entityType !== undefined) query = query.where('entityType', '=', q.entityType)
  if (q.entityId !== undefined) query = query.where('entityId', '=', q.entityId)
  if (q.actorUserId !== undefined) query = query.where('actorUserId', '=', q.actorUserId)
  if (q.action !== undefined) query = query.where('action', '=', q.action)
  if (q.from !== undefined) query = query.where('occurredAt', '>=', new Date(q.from))
  if (q.to !== undefined) query = query.where('occurredAt', '<', new Date(q.to))
  if (q.cursor !== undefined) {
    const [id] = decodeCursor(q.cursor, 1)
    query = query.where('id', '<', Number(id))
  }
  const rows = await query.execute()
  return page(rows, limit, r => [r.id])
}
