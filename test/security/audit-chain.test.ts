// Issue 11: the audit chain against whoever can write the tables (the database owner, with the
// triggers switched off). Each attack runs on its own database (they leave it forged) through the
// real app and GET /v1/audit-events/verify?full=true as ADMIN.
import { createHash, createHmac } from 'node:crypto'
import { afterAll, describe, expect, it, inject } from 'vitest'
import { sql } from 'kysely'
import type { App } from '../../src/lib/route.js'
import { appendAuditEvent } from '../../src/domains/audit/audit.service.js'
import { bearer, createTestApp, tokenFor } from '../helpers/app.js'
import { createDatabaseFromTemplate } from '../helpers/db.js'

const apps: App[] = []
afterAll(async () => { for (const a of apps) await a.close() })

let dbCounter = 0
async function freshApp (): Promise<{ app: App, admin: string }> {
  const url = await createDatabaseFromTemplate(`${inject('dbPrefix')}_chain${process.env.VITEST_POOL_ID ?? '0'}_${dbCounter++}`)
  // the sealer runs only when a test asks (runNow)
  const app = await createTestApp({ AUDIT_SEAL_INTERVAL_MS: 60_000 }, url)
  apps.push(app)
  return { app, admin: tokenFor(app, { role: 'ADMIN' }) }
}

async function addEvents (app: App, n: number, action = 'test.event'): Promise<number[]> {
  const ids: number[] = []
  for (let i = 0; i < n; i++) ids.push(await appendAuditEvent(app.db, { action, entityType: 'test', entityId: String(i), changes: { i } }))
  return ids
}

async function verify (app: App, admin: string): Promise<{ ok: boolean, firstBroken: { eventId: number | null, reason: string } | null, unsealedEvents: number }> {
  const res = await app.inject({ method: 'GET', url: '/v1/audit-events/verify?full=true', headers: bearer(admin) })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

/** Runs statements as the owner with every trigger (and foreign key check) switched off. */
async function withTriggersOff (app: App, fn: (db: App['db']) => Promise<void>): Promise<void> {
  await app.db.connection().execute(async conn => {
    await sql`SET session_replication_role = replica`.execute(conn)
    try { await fn(conn) } finally { await sql`SET session_replication_role = DEFAULT`.execute(conn) }
  })
}

// ---- what an attacker can compute without the key -----------------------------------------

interface EventRow { id: number, occurredAt: string, actorUserId: string | null, actorRole: string | null, actorOrgId: string | null, action: string, entityType: string, entityId: string | null, requestId: string | null, idempotencyKey: string | null, ip: string | null, userAgent: string | null, changes: unknown }

function canonical (v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null'
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']'
  return '{' + Object.keys(v as object).sort().map(k => JSON.stringify(k) + ':' + canonical((v as Record<string, unknown>)[k])).join(',') + '}'
}
const content = (e: EventRow): string => canonical([e.id, e.occurredAt, e.actorUserId, e.actorRole, e.actorOrgId, e.action, e.entityType, e.entityId, e.requestId, e.idempotencyKey, e.ip, e.userAgent, e.changes ?? null])

/** The hash function the service exported before the chain was keyed (SHA-256, no key). */
function oldLinkHash (prev: string, e: EventRow): string {
  return createHash('sha256').update(prev).update('\n').update(content(e)).digest('hex')
}

/** The keyed link format with a key the attacker guessed (the format is public, the key is not). */
function guessedKeyLink (keyId: string) {
  return (prev: string, e: EventRow, seq: number): string => {
    const h = createHmac('sha256', 'an-attacker-guess-of-the-key-0123456789')
    for (const p of ['ge-audit-chain-v2', keyId, String(seq), prev, content(e)]) h.update(p).update('\n')
    return h.digest('hex')
  }
}

/**
 * The forgery: rewrite one sealed event, drop its seal and every later one, and re-link them with
 * `link`, claiming the key id of the genuine seals (on a chain without key ids, the old layout).
 */
async function rewriteAndRelink (app: App, victim: number, link: (prev: string, e: EventRow, seq: number) => string): Promise<void> {
  const hasKeyId = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'audit_seals' AND column_name = 'key_id'`.execute(app.db)).rows[0]?.n === 1
  await withTriggersOff(app, async db => {
    await sql`UPDATE audit_events SET changes = '{"i": "forged"}'::jsonb, action = 'test.forged' WHERE id = ${victim}`.execute(db)
    const from = (await sql<{ seq: number }>`SELECT seq FROM audit_seals WHERE event_id = ${victim}`.execute(db)).rows[0]?.seq as number
    const keyId = hasKeyId ? (await sql<{ k: string }>`SELECT key_id AS k FROM audit_seals WHERE seq = ${from}`.execute(db)).rows[0]?.k as string : ''
    let prev = from === 1 ? '0'.repeat(64) : (await sql<{ hash: string }>`SELECT hash FROM audit_seals WHERE seq = ${from - 1}`.execute(db)).rows[0]?.hash as string
    const tail = await sql<EventRow & { seq: number }>`
      SELECT s.seq, e.id, to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at, e.actor_user_id, e.actor_role, e.actor_org_id,
        e.action, e.entity_type, e.entity_id, e.request_id, e.idempotency_key, e.ip, e.user_agent, e.changes
      FROM audit_seals s JOIN audit_events e ON e.id = s.event_id WHERE s.seq >= ${from} ORDER BY s.seq`.execute(db)
    await sql`DELETE FROM audit_seals WHERE seq >= ${from}`.execute(db)
    for (const e of tail.rows) {
      const hash = link(prev, e, e.seq)
      if (hasKeyId) await sql`INSERT INTO audit_seals (seq, event_id, key_id, prev_hash, hash) VALUES (${e.seq}, ${e.id}, ${keyId}, ${prev}, ${hash})`.execute(db)
      else await sql`INSERT INTO audit_seals (seq, event_id, prev_hash, hash) VALUES (${e.seq}, ${e.id}, ${prev}, ${hash})`.execute(db)
      prev = hash
    }
  })
}

describe('the unsealed queue is protected like the log', () => {
  it('refuses DELETE, UPDATE and TRUNCATE of a queued event; sealing empties the queue', async () => {
    const { app, admin } = await freshApp()
    const [id] = await addEvents(app, 1)
    await expect(sql`DELETE FROM audit_unsealed`.execute(app.db)).rejects.toThrow(/refused/)
    await expect(sql`UPDATE audit_unsealed SET event_id = event_id`.execute(app.db)).rejects.toThrow(/refused/)
    await expect(sql`TRUNCATE audit_unsealed`.execute(app.db)).rejects.toThrow(/refused/)
    const queued = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_unsealed WHERE event_id = ${id}`.execute(app.db)
    expect(queued.rows[0]?.n).toBe(1)
    await app.jobs.runNow('audit-sealer')
    const left = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_unsealed`.execute(app.db)
    expect(left.rows[0]?.n).toBe(0)
    expect((await verify(app, admin)).ok).toBe(true)
  })

  it('reports an event removed from the queue with the triggers off (hidden from sealing)', async () => {
    const { app, admin } = await freshApp()
    await addEvents(app, 3)
    const [hidden] = await addEvents(app, 1, 'test.hidden')
    await addEvents(app, 2)
    await withTriggersOff(app, async db => { await sql`DELETE FROM audit_unsealed WHERE event_id = ${hidden}`.execute(db) })
    await app.jobs.runNow('audit-sealer')
    const report = await verify(app, admin)
    expect(report.ok).toBe(false)
    expect(report.firstBroken?.eventId).toBe(hidden)
    expect(report.firstBroken?.reason).toMatch(/neither sealed nor queued/)
    expect(report.unsealedEvents).toBe(0)
  })
})

describe('the chain is keyed: it cannot be recomputed without the key', () => {
  it('detects a rewritten event re-linked with the old exported SHA-256 link function', async () => {
    const { app, admin } = await freshApp()
    const ids = await addEvents(app, 6)
    await app.jobs.runNow('audit-sealer')
    expect((await verify(app, admin)).ok).toBe(true)
    await rewriteAndRelink(app, ids[2] as number, oldLinkHash)
    const report = await verify(app, admin)
    expect(report.ok).toBe(false)
    expect(report.firstBroken?.eventId).toBe(ids[2])
  })

  it('detects a chain re-linked in the keyed format under a guessed key', async () => {
    const { app, admin } = await freshApp()
    const ids = await addEvents(app, 6)
    await app.jobs.runNow('audit-sealer')
    await rewriteAndRelink(app, ids[0] as number, guessedKeyLink(app.conf.auditChainKeys.current.id))
    const report = await verify(app, admin)
    expect(report.ok).toBe(false)
    expect(report.firstBroken?.eventId).toBe(ids[0])
    expect(report.firstBroken?.reason).toMatch(/chain key/)
  })

  it('detects events and their seals removed from the middle of the chain', async () => {
    const { app, admin } = await freshApp()
    const ids = await addEvents(app, 5)
    await app.jobs.runNow('audit-sealer')
    await withTriggersOff(app, async db => {
      await sql`DELETE FROM audit_seals WHERE event_id = ${ids[1] as number}`.execute(db)
      await sql`DELETE FROM audit_events WHERE id = ${ids[1] as number}`.execute(db)
    })
    const report = await verify(app, admin)
    expect(report.ok).toBe(false)
    expect(report.firstBroken?.reason).toMatch(/missing/)
  })

  it('refuses to re-seal a rewritten event queued again (the sealer holds the key), and an anchored head catches the cut', async () => {
    const { app, admin } = await freshApp()
    const ids = await addEvents(app, 6)
    await app.jobs.runNow('audit-sealer')
    const head = (await verify(app, admin)) as unknown as { ok: boolean, lastSeq: number, lastHash: string }
    expect(head.ok).toBe(true)
    const target = ids[2] as number
    // the owner rewrites an event, deletes its seal and every later one, forgets the verify
    // checkpoint and queues the events again, for the service's own sealer to re-link them
    await withTriggersOff(app, async db => {
      await sql`UPDATE audit_events SET changes = '{"i": "forged"}'::jsonb WHERE id = ${target}`.execute(db)
      await sql`DELETE FROM audit_seals WHERE event_id >= ${target}`.execute(db)
      await sql`DELETE FROM audit_verify_checkpoint`.execute(db)
      await sql`INSERT INTO audit_unsealed (event_id) SELECT id FROM audit_events WHERE id >= ${target}`.execute(db)
    })
    await app.jobs.runNow('audit-sealer')
    // the sealer remembered its head and refused: nothing was re-linked
    const seals = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_seals WHERE event_id >= ${target}`.execute(app.db)
    expect(seals.rows[0]?.n).toBe(0)
    // a verify against the head logged before the attack reports the cut
    const anchored = await app.inject({ method: 'GET', url: `/v1/audit-events/verify?full=true&anchor=${head.lastSeq}:${head.lastHash}`, headers: bearer(admin) })
    expect(anchored.statusCode, anchored.body).toBe(200)
    expect(anchored.json()).toMatchObject({ ok: false, firstBroken: { seq: head.lastSeq } })
    expect(anchored.json().firstBroken.reason).toMatch(/anchored seal .* missing/)
  })
})
