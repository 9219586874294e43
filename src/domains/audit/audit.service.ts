// The audit trail: events are appended in the transaction of the change they describe, and linked
// into a keyed (HMAC-SHA256) hash chain after commit by a single sealer, so mutations never wait on
// a global chain head. Verification recomputes the chain from the last verified seal and proves
// every event is sealed or queued.
import { sql } from 'kysely'
import { writeWithCommit, type Db } from '../../db/index.js'
import type { Actor } from '../../lib/permissions.js'
import { decodeCursor, page } from '../../lib/cursor.js'
import { hmacHex, keyRank, keySecret, type ChainKey, type ChainKeys } from './chain-keys.js'

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

/** The first `max` code points of a text: a cut never splits a surrogate pair (jsonb refuses half of one). */
function cutText (text: string, max: number): string {
  let end = 0
  for (let n = 0; n < max && end < text.length; n++) {
    const c = text.charCodeAt(end)
    const next = text.charCodeAt(end + 1)
    end += c >= 0xD800 && c <= 0xDBFF && next >= 0xDC00 && next <= 0xDFFF ? 2 : 1
  }
  return text.slice(0, end)
}

/**
 * What an audit event may record of a body: secrets dropped, personal values replaced by a marker
 * (so GDPR erasure never has to rewrite the append-only log), long strings cut.
 */
export function redactChanges (value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value !== 'string' || value.length <= 500) return value
    const cut = cutText(value, 500)
    return cut.length < value.length ? cut + '…' : value
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
//
// Link n = HMAC-SHA256(key, version, key id, n, hash of link n-1, canonical event). The key lives
// in the service's configuration only: the database owner can disable triggers and rewrite rows,
// but cannot produce links that verify. Verify proves three things: every seal from 1 to the
// head is present, in order, keyed by a known key (never going back to a retired one) and matches
// its event; every event is either sealed or waiting in the queue (an event removed from the
// queue is reported); and nothing waits in the queue longer than MAX_UNSEALED_SECONDS.

export const GENESIS_HASH = '0'.repeat(64)
const SEALER_LOCK = 7_310_001
const LINK_VERSION = 'ge-audit-chain-v2'
const CHECKPOINT_VERSION = 'ge-audit-checkpoint-v2'
/** an event unsealed for longer than this means the sealer is stuck or the queue was tampered with */
export const MAX_UNSEALED_SECONDS = 60
/**
 * Events newer than this may still be followed by a late commit with a smaller id (ids are taken
 * at insert, commits land in any order), so the completeness horizon stays this far behind.
 */
const LATE_COMMIT_MARGIN_SECONDS = 300
const COMPLETENESS_ID_SPAN = 50_000

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

function eventContent (e: ChainRow): string {
  return canonical([e.id, e.occurredAt, e.actorUserId, e.actorRole, e.actorOrgId, e.action, e.entityType, e.entityId, e.requestId, e.idempotencyKey, e.ip, e.userAgent, e.changes ?? null])
}

/** The link of event `e` at position `seq` after `prevHash`, keyed by `key`. */
export function linkMac (key: ChainKey, seq: number, prevHash: string, e: ChainRow): string {
  return hmacHex(key.secret, LINK_VERSION, key.id, String(seq), prevHash, eventContent(e))
}

function checkpointMac (key: ChainKey, seq: number, hash: string, horizon: number): string {
  return hmacHex(key.secret, CHECKPOINT_VERSION, key.id, String(seq), hash, String(horizon))
}

const chainColumns = sql`e.id, to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
  e.actor_user_id, e.actor_role, e.actor_org_id, e.action, e.entity_type, e.entity_id, e.request_id, e.idempotency_key, e.ip, e.user_agent, e.changes`

/** A seal this process saw at the chain's head: it must stay in the chain, unchanged. */
export interface SealAnchor { seq: number, hash: string }

export class ChainRewoundError extends Error {}

/**
 * Links not-yet-sealed events into the chain with the current key. Only one sealer runs at a time
 * across all instances (advisory lock). Sealing removes the events from the queue (a trigger on
 * the seals). Returns how many events it sealed. An instance that does not know the head's key
 * (a newer instance rotated it) refuses to seal: the chain never goes back to an older key.
 *
 * `memory` holds the head this process last sealed. The database owner could otherwise rewrite an
 * event, delete its seal and every later one, queue those events again and let this sealer — which
 * holds the key — re-link the forgery. Before sealing, the remembered seal must still be in the
 * chain with the same hash; if not, the sealer refuses (ChainRewoundError) and leaves the queue
 * alone. The heads it seals are also logged by the caller: an anchor outside the database that
 * `verifyChain({ anchor })` checks, which survives restarts.
 */
export async function sealPending (db: Db, keys: ChainKeys, batch = 2000, memory?: { last?: SealAnchor }): Promise<number> {
  // The new head is remembered only once the seals have committed: a COMMIT lost with its
  // connection must leave the memory on a head that exists, or every later tick would take the
  // missing seal for a chain cut back and stop sealing for good.
  const { sealed, last } = await db.transaction().execute(async (trx): Promise<{ sealed: number, last?: SealAnchor }> => {
    const lock = await sql<{ ok: boolean }>`SELECT pg_try_advisory_xact_lock(${SEALER_LOCK}) AS ok`.execute(trx)
    if (lock.rows[0]?.ok !== true) return { sealed: 0 }
    const pending = await sql<ChainRow>`SELECT ${chainColumns} FROM audit_unsealed u JOIN audit_events e ON e.id = u.event_id ORDER BY u.event_id LIMIT ${batch}`.execute(trx)
    if (pending.rows.length === 0) return { sealed: 0 }
    // the head and the seal this process sealed last, in one statement (one round trip)
    const remembered = memory?.last
    const head = (await sql<{ seq: number | null, hash: string | null, keyId: string | null, rememberedHash: string | null }>`
      SELECT h.seq, h.hash, h.key_id, (SELECT r.hash FROM audit_seals r WHERE r.seq = ${remembered?.seq ?? 0}) AS remembered_hash
      FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT seq, hash, key_id FROM audit_seals ORDER BY seq DESC LIMIT 1) h ON true`.execute(trx)).rows[0]
    if (remembered !== undefined) {
      const seen = head?.rememberedHash ?? undefined
      if (seen !== remembered.hash) {
        throw new ChainRewoundError(`audit sealer: seal ${remembered.seq}, sealed by this process, is ${seen === undefined ? 'gone' : 'changed'} (the chain was cut back or rewritten); not sealing`)
      }
    }
    const headKey = head?.keyId ?? undefined
    if (headKey !== undefined && keyRank(keys, headKey) === undefined) {
      throw new Error(`audit sealer: the chain head is keyed by "${headKey}", which this instance does not know (a newer key is in use elsewhere); not sealing`)
    }
    const key = keys.current
    let seq = head?.seq ?? 0
    let prev = head?.hash ?? GENESIS_HASH
    const seqs: number[] = []
    const ids: number[] = []
    const prevs: string[] = []
    const hashes: string[] = []
    for (const row of pending.rows) {
      seq += 1
      const hash = linkMac(key, seq, prev, row)
      seqs.push(seq); ids.push(row.id); prevs.push(prev); hashes.push(hash)
      prev = hash
    }
    // nobody reads its result and its failure fails the batch: it travels with the COMMIT
    await writeWithCommit(trx, sql`INSERT INTO audit_seals (seq, event_id, key_id, prev_hash, hash)
      SELECT s, e, ${key.id}, p, h FROM unnest(${seqs}::bigint[], ${ids}::bigint[], ${prevs}::text[], ${hashes}::text[]) AS t(s, e, p, h)`)
    return { sealed: ids.length, last: { seq, hash: prev } }
  })
  if (memory !== undefined && last !== undefined) memory.last = last
  return sealed
}

/**
 * Whether any event waits to be sealed: one index probe, no transaction, no lock. The sealer asks
 * it while idle instead of opening its locked transaction every tick; an event committed after
 * the probe is sealed on the next tick, as one committed after the locked read would be. (A
 * parameter, so the naming client prepares it once per connection instead of planning it per tick.)
 */
export async function hasUnsealed (db: Db): Promise<boolean> {
  const r = await sql<{ pending: boolean }>`SELECT EXISTS (SELECT 1 FROM audit_unsealed WHERE event_id > ${0}) AS pending`.execute(db)
  return r.rows[0]?.pending !== false
}

export interface ChainBreak { seq: number | null, eventId: number | null, reason: string }

export interface ChainReport {
  ok: boolean
  /** incremental: from the last verified seal; full: from the first seal */
  mode: 'incremental' | 'full'
  sealedEvents: number
  unsealedEvents: number
  oldestUnsealedSeconds: number
  lastSeq: number
  lastHash: string
  lastKeyId: string | null
  /** the seals read are those after this one */
  verifiedFromSeq: number
  examinedSeals: number
  /** events checked for being sealed or queued: ids above `checkedFromEventId` */
  checkedFromEventId: number
  examinedEvents: number
  firstBroken: ChainBreak | null
}

export interface VerifyOptions {
  /** ignore the stored checkpoint and verify from the first seal and the first event */
  full?: boolean
  batch?: number
  maxUnsealedSeconds?: number
  lateCommitMarginSeconds?: number
  /** a head recorded outside the database (the sealer's log): that seal must still be in the chain */
  anchor?: SealAnchor
}

interface Start { seq: number, hash: string, rank: number, horizon: number, keyId: string | null }

interface SealRow extends Omit<ChainRow, 'id'> { id: number | null, seq: number, sealEventId: number, keyId: string, prevHash: string, hash: string }

/**
 * Verifies the chain from the last verified seal (or from the start with `full`) in one
 * consistent snapshot, then stores the new checkpoint when everything is in order.
 */
export async function verifyChain (db: Db, keys: ChainKeys, opts: VerifyOptions = {}): Promise<ChainReport> {
  const batch = opts.batch ?? 5000
  const maxUnsealed = opts.maxUnsealedSeconds ?? MAX_UNSEALED_SECONDS
  const margin = opts.lateCommitMarginSeconds ?? LATE_COMMIT_MARGIN_SECONDS
  const outcome = await db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(async trx => {
    const genesis: Start = { seq: 0, hash: GENESIS_HASH, rank: Infinity, horizon: 0, keyId: null }
    let start = genesis
    let mode: ChainReport['mode'] = 'full'
    if (opts.full !== true) {
      const loaded = await loadCheckpoint(trx, keys)
      if ('broken' in loaded) {
        const { oldestUnsealedId: _, ...queued } = await unsealedBacklog(trx)
        return { report: { ...brokenReport('incremental', loaded.broken, genesis), ...queued }, checkpoint: undefined }
      }
      if (loaded.start !== undefined) { start = loaded.start; mode = 'incremental' }
    }
    let prev = start.hash
    let prevRank = start.rank
    let lastKeyId = start.keyId
    let expected = start.seq + 1
    let examinedSeals = 0
    let broken: ChainBreak | null = null
    while (broken === null) {
      const rows = await sql<SealRow>`
        SELECT s.seq, s.event_id AS seal_event_id, s.key_id, s.prev_hash, s.hash, ${chainColumns}
        FROM audit_seals s LEFT JOIN audit_events e ON e.id = s.event_id
        WHERE s.seq >= ${expected} ORDER BY s.seq LIMIT ${batch}`.execute(trx)
      for (const r of rows.rows) {
        examinedSeals += 1
        const rank = keyRank(keys, r.keyId)
        let reason: string | null = null
        if (r.seq !== expected) reason = `seal ${expected} is missing`
        else if (r.id === null) reason = 'the sealed event is missing'
        else if (rank === undefined) reason = `sealed with an unknown key "${r.keyId}"`
        else if (rank > prevRank) reason = `sealed with the retired key "${r.keyId}" after a newer key`
        else if (r.prevHash !== prev) reason = 'previous-hash link does not match'
        else if (linkMac({ id: r.keyId, secret: keySecret(keys, r.keyId) as string }, r.seq, prev, r as ChainRow) !== r.hash) reason = 'event content does not match its hash (or the link was not made with the chain key)'
        if (reason !== null) { broken = { seq: r.seq, eventId: r.sealEventId, reason }; break }
        prev = r.hash
        prevRank = rank as number
        lastKeyId = r.keyId
        expected += 1
      }
      if (rows.rows.length < batch) break
    }
    const { oldestUnsealedId, ...queued } = await unsealedBacklog(trx)
    const head = { seq: expected - 1, hash: prev, keyId: lastKeyId }
    const base = { mode, verifiedFromSeq: start.seq, examinedSeals, checkedFromEventId: start.horizon, ...queued }
    if (broken !== null) return { report: { ...brokenReport(mode, broken, head), ...base }, checkpoint: undefined }

    // every event above the horizon is sealed (in the snapshot, all seals were just walked) or queued
    const maxId = (await sql<{ id: number | null }>`SELECT max(id) AS id FROM audit_events`.execute(trx)).rows[0]?.id ?? 0
    let examinedEvents = 0
    for (let lo = start.horizon; lo < maxId && broken === null; lo += COMPLETENESS_ID_SPAN) {
      const r = (await sql<{ n: number, hidden: number | null }>`
        SELECT count(*)::int AS n, min(e.id) FILTER (WHERE s.event_id IS NULL AND u.event_id IS NULL) AS hidden
        FROM audit_events e
        LEFT JOIN audit_seals s ON s.event_id = e.id
        LEFT JOIN audit_unsealed u ON u.event_id = e.id
        WHERE e.id > ${lo} AND e.id <= ${lo + COMPLETENESS_ID_SPAN}`.execute(trx)).rows[0]
      examinedEvents += r?.n ?? 0
      if (r?.hidden !== null && r?.hidden !== undefined) broken = { seq: null, eventId: r.hidden, reason: 'the event is neither sealed nor queued for sealing (removed from the queue)' }
    }
    if (broken === null && opts.anchor !== undefined) {
      const anchored = (await sql<{ hash: string, eventId: number }>`SELECT hash, event_id FROM audit_seals WHERE seq = ${opts.anchor.seq}`.execute(trx)).rows[0]
      if (anchored?.hash !== opts.anchor.hash) broken = { seq: opts.anchor.seq, eventId: anchored?.eventId ?? null, reason: `the anchored seal ${opts.anchor.seq} is ${anchored === undefined ? 'missing (the chain was cut back)' : 'different (the chain was rewritten)'}` }
    }
    if (broken === null && queued.oldestUnsealedSeconds > maxUnsealed) {
      broken = { seq: null, eventId: oldestUnsealedId, reason: `the event has waited more than ${maxUnsealed} s to be sealed (is the sealer running?)` }
    }
    const report: ChainReport = { ok: broken === null, ...base, examinedEvents, sealedEvents: head.seq, lastSeq: head.seq, lastHash: head.hash, lastKeyId: head.keyId, firstBroken: broken }
    if (broken !== null || head.seq === 0) return { report, checkpoint: undefined }
    // the next run re-checks the events of the last few minutes (a late commit may take a smaller
    // id) and everything from the oldest queued event on (it must still be there when sealed)
    const old = await sql<{ id: number }>`SELECT id FROM audit_events WHERE occurred_at <= now() - make_interval(secs => ${margin}) ORDER BY occurred_at DESC LIMIT 1`.execute(trx)
    let horizon = Math.min(old.rows[0]?.id ?? 0, maxId)
    if (oldestUnsealedId !== null) horizon = Math.min(horizon, oldestUnsealedId - 1)
    return { report, checkpoint: { seq: head.seq, hash: head.hash, horizon: Math.max(horizon, start.horizon) } }
  })
  if (outcome.checkpoint !== undefined) await storeCheckpoint(db, keys, outcome.checkpoint)
  return outcome.report
}

function brokenReport (mode: ChainReport['mode'], broken: ChainBreak, head: { seq: number, hash: string, keyId: string | null }): ChainReport {
  return {
    ok: false,
    mode,
    sealedEvents: head.seq,
    unsealedEvents: 0,
    oldestUnsealedSeconds: 0,
    lastSeq: head.seq,
    lastHash: head.hash,
    lastKeyId: head.keyId,
    verifiedFromSeq: 0,
    examinedSeals: 0,
    checkedFromEventId: 0,
    examinedEvents: 0,
    firstBroken: broken
  }
}

async function loadCheckpoint (db: Db, keys: ChainKeys): Promise<{ start?: Start } | { broken: ChainBreak }> {
  const cp = await db.selectFrom('auditVerifyCheckpoint').select(['seq', 'hash', 'eventHorizon', 'keyId', 'mac']).executeTakeFirst()
  if (cp === undefined) return {}
  const secret = keySecret(keys, cp.keyId)
  // a checkpoint this instance cannot authenticate (forged, or its key retired): verify in full
  if (secret === undefined || checkpointMac({ id: cp.keyId, secret }, cp.seq, cp.hash, cp.eventHorizon) !== cp.mac) return {}
  const seal = await sql<{ hash: string, keyId: string }>`SELECT hash, key_id FROM audit_seals WHERE seq = ${cp.seq}`.execute(db)
  const row = seal.rows[0]
  if (row === undefined || row.hash !== cp.hash) return { broken: { seq: cp.seq, eventId: null, reason: 'the last verified seal was changed or removed' } }
  const rank = keyRank(keys, row.keyId)
  if (rank === undefined) return {}
  return { start: { seq: cp.seq, hash: cp.hash, rank, horizon: cp.eventHorizon, keyId: row.keyId } }
}

async function storeCheckpoint (db: Db, keys: ChainKeys, cp: { seq: number, hash: string, horizon: number }): Promise<void> {
  const key = keys.current
  const mac = checkpointMac(key, cp.seq, cp.hash, cp.horizon)
  // never moves back (two verifies at once); a row this instance cannot authenticate is replaced
  const existing = await db.selectFrom('auditVerifyCheckpoint').select(['seq', 'hash', 'eventHorizon', 'keyId', 'mac']).executeTakeFirst()
  const secret = existing === undefined ? undefined : keySecret(keys, existing.keyId)
  const trusted = existing !== undefined && secret !== undefined && checkpointMac({ id: existing.keyId, secret }, existing.seq, existing.hash, existing.eventHorizon) === existing.mac
  await sql`INSERT INTO audit_verify_checkpoint (id, seq, hash, event_horizon, key_id, mac, verified_at)
    VALUES (true, ${cp.seq}, ${cp.hash}, ${cp.horizon}, ${key.id}, ${mac}, now())
    ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, event_horizon = EXCLUDED.event_horizon,
      key_id = EXCLUDED.key_id, mac = EXCLUDED.mac, verified_at = EXCLUDED.verified_at
    WHERE ${!trusted} OR audit_verify_checkpoint.seq <= EXCLUDED.seq`.execute(db)
}

export interface UnsealedBacklog { unsealedEvents: number, oldestUnsealedSeconds: number, oldestUnsealedId: number | null }

/** Events committed but not linked yet, and how long the oldest has waited (also in /metrics). */
export async function unsealedBacklog (db: Db): Promise<UnsealedBacklog> {
  const r = await sql<{ n: number, age: number | null, oldest: number | null }>`
    SELECT count(*)::int AS n, extract(epoch FROM clock_timestamp() - min(e.occurred_at))::float8 AS age, min(u.event_id) AS oldest
    FROM audit_unsealed u JOIN audit_events e ON e.id = u.event_id`.execute(db)
  const row = r.rows[0]
  return { unsealedEvents: row?.n ?? 0, oldestUnsealedSeconds: Math.max(0, row?.age ?? 0), oldestUnsealedId: row?.oldest ?? null }
}

/** True when the service's database role could switch the log's triggers off (superuser or owner). */
export async function roleCanBypassAuditTriggers (db: Db): Promise<boolean> {
  const r = await sql<{ privileged: boolean }>`
    SELECT r.rolsuper OR pg_has_role(current_user, c.relowner, 'USAGE') AS privileged
    FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.oid = 'public.audit_events'::regclass`.execute(db)
  return r.rows[0]?.privileged ?? true
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
