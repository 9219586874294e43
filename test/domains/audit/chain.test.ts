// The keyed chain's service functions: incremental verify on many events (it reads only what is
// new since the last verified seal), the checkpoint's own protection, key rotation, and the
// unsealed backlog's age.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { sql } from 'kysely'
import { createDb, type DbHandle } from '../../../src/db/index.js'
import { appendAuditEvent, sealPending, verifyChain } from '../../../src/domains/audit/audit.service.js'
import { resolveChainKeys, type ChainKeys } from '../../../src/domains/audit/chain-keys.js'
import { createDatabaseFromTemplate } from '../../helpers/db.js'

const K1 = 'k1-secret-0123456789abcdefghijklmnopqrstuvwxyz'
const K2 = 'k2-secret-0123456789abcdefghijklmnopqrstuvwxyz'
function keys (env: Record<string, string>): ChainKeys {
  const k = resolveChainKeys(env, false)
  if ('errors' in k) throw new Error(k.errors.join('; '))
  return k
}
const onlyK1 = keys({ AUDIT_CHAIN_KEY: K1, AUDIT_CHAIN_KEY_ID: 'k1' })
const rotated = keys({ AUDIT_CHAIN_KEY: K2, AUDIT_CHAIN_KEY_ID: 'k2', AUDIT_CHAIN_PREVIOUS_KEYS: `k1:${K1}` })
const onlyK2 = keys({ AUDIT_CHAIN_KEY: K2, AUDIT_CHAIN_KEY_ID: 'k2' })

const handles: DbHandle[] = []
afterAll(async () => { for (const h of handles) await h.destroy() })
let n = 0
async function freshDb (): Promise<DbHandle['db']> {
  const url = await createDatabaseFromTemplate(`${inject('dbPrefix')}_vchain${process.env.VITEST_POOL_ID ?? '0'}_${n++}`)
  const h = createDb({ connectionString: url, poolSize: 2, statementTimeoutMs: 60_000, connectTimeoutMs: 10_000 })
  handles.push(h)
  return h.db
}
async function sealAll (db: DbHandle['db'], k: ChainKeys): Promise<void> {
  while (await sealPending(db, k) > 0) { /* drain */ }
}
async function add (db: DbHandle['db'], count: number): Promise<void> {
  for (let i = 0; i < count; i++) await appendAuditEvent(db, { action: 'test.event', entityType: 'test', entityId: String(i) })
}

describe('incremental verify', () => {
  let db: DbHandle['db']
  beforeAll(async () => {
    db = await freshDb()
    // 20 000 events in bulk, an hour old (their occurred_at is distinct, like real ones)
    await sql`INSERT INTO audit_events (occurred_at, action, entity_type, entity_id, changes)
      SELECT now() - interval '1 hour' + g * interval '1 millisecond', 'bulk.event', 'bulk', g::text, jsonb_build_object('g', g)
      FROM generate_series(1, 20000) AS g`.execute(db)
    await sealAll(db, onlyK1)
  }, 120_000)

  it('verifies 20 000 events in full once, then reads only what was sealed since', async () => {
    const full = await verifyChain(db, onlyK1, { full: true })
    expect(full).toMatchObject({ ok: true, mode: 'full', verifiedFromSeq: 0, examinedSeals: 20_000, checkedFromEventId: 0, examinedEvents: 20_000, sealedEvents: 20_000, unsealedEvents: 0 })

    await add(db, 5)
    await sealAll(db, onlyK1)
    const next = await verifyChain(db, onlyK1)
    // the seals after the last verified one, and the events above the horizon (the bulk is older
    // than the late-commit margin, the five new ones are not)
    expect(next).toMatchObject({ ok: true, mode: 'incremental', verifiedFromSeq: 20_000, examinedSeals: 5, checkedFromEventId: 20_000, examinedEvents: 5, sealedEvents: 20_005, lastSeq: 20_005 })
    const again = await verifyChain(db, onlyK1)
    expect(again).toMatchObject({ ok: true, mode: 'incremental', verifiedFromSeq: 20_005, examinedSeals: 0 })
  })

  it('ignores a checkpoint forged without the key (and verifies in full)', async () => {
    await sql`UPDATE audit_verify_checkpoint SET seq = seq + 1000`.execute(db)
    const r = await verifyChain(db, onlyK1)
    expect(r).toMatchObject({ ok: true, mode: 'full', verifiedFromSeq: 0 })
    expect(r.examinedSeals).toBeGreaterThanOrEqual(20_005)
  })

  it('reports a verified seal removed or rewritten since the checkpoint', async () => {
    await verifyChain(db, onlyK1)
    const cp = await db.selectFrom('auditVerifyCheckpoint').select('seq').executeTakeFirstOrThrow()
    await db.connection().execute(async conn => {
      await sql`SET session_replication_role = replica`.execute(conn)
      await sql`UPDATE audit_seals SET hash = repeat('f', 64) WHERE seq = ${cp.seq}`.execute(conn)
      await sql`SET session_replication_role = DEFAULT`.execute(conn)
    })
    const r = await verifyChain(db, onlyK1)
    expect(r.ok).toBe(false)
    expect(r.firstBroken).toMatchObject({ seq: cp.seq, reason: expect.stringMatching(/last verified seal/) })
  })
})

describe('key rotation', () => {
  it('starts a new segment chained to the last hash; verify needs the retired key, and never goes back', async () => {
    const db = await freshDb()
    await add(db, 3)
    await sealAll(db, onlyK1)
    await add(db, 3)
    await sealAll(db, rotated)
    const seals = await db.selectFrom('auditSeals').select(['seq', 'keyId', 'prevHash', 'hash']).orderBy('seq').execute()
    expect(seals.map(s => s.keyId)).toEqual(['k1', 'k1', 'k1', 'k2', 'k2', 'k2'])
    expect(seals[3]?.prevHash).toBe(seals[2]?.hash)
    expect((await verifyChain(db, rotated, { full: true })).ok).toBe(true)
    // without the retired key the old segment cannot be checked
    expect((await verifyChain(db, onlyK2, { full: true })).firstBroken).toMatchObject({ seq: 1, reason: expect.stringMatching(/unknown key "k1"/) })
    // an instance still on k1 (a rolling restart) does not seal after a k2 head
    await add(db, 1)
    await expect(sealPending(db, onlyK1)).rejects.toThrow(/does not know/)
    await sealAll(db, rotated)
    expect((await verifyChain(db, rotated, { full: true })).ok).toBe(true)
  })

  it('refuses a link made with a retired key after a newer one', async () => {
    const db = await freshDb()
    await add(db, 2)
    await sealAll(db, rotated)
    await add(db, 1)
    // a k1 link after the k2 segment, as a leaked retired key would allow
    const k1AsCurrent = keys({ AUDIT_CHAIN_KEY: K1, AUDIT_CHAIN_KEY_ID: 'k1', AUDIT_CHAIN_PREVIOUS_KEYS: `k2:${K2}` })
    await sealAll(db, k1AsCurrent)
    const r = await verifyChain(db, rotated, { full: true })
    expect(r.firstBroken).toMatchObject({ seq: 3, reason: expect.stringMatching(/retired key "k1" after a newer key/) })
  })
})

describe('backlog', () => {
  it('an event unsealed for more than the limit makes verify fail, and is reported with its age', async () => {
    const db = await freshDb()
    await add(db, 2)
    await sealAll(db, onlyK1)
    const old = await sql<{ id: number }>`INSERT INTO audit_events (occurred_at, action, entity_type) VALUES (now() - interval '2 minutes', 'late.event', 'test') RETURNING id`.execute(db)
    const r = await verifyChain(db, onlyK1, { full: true })
    expect(r.ok).toBe(false)
    expect(r.unsealedEvents).toBe(1)
    expect(r.oldestUnsealedSeconds).toBeGreaterThan(100)
    expect(r.firstBroken).toMatchObject({ seq: null, eventId: old.rows[0]?.id, reason: expect.stringMatching(/waited more than 60 s/) })
    await sealAll(db, onlyK1)
    expect(await verifyChain(db, onlyK1, { full: true })).toMatchObject({ ok: true, unsealedEvents: 0, oldestUnsealedSeconds: 0 })
  })

  it('a recent unsealed event is a backlog, not a failure; the checkpoint stays below it', async () => {
    const db = await freshDb()
    await add(db, 2)
    await sealAll(db, onlyK1)
    await add(db, 1)
    const r = await verifyChain(db, onlyK1, { full: true })
    expect(r).toMatchObject({ ok: true, unsealedEvents: 1 })
    const cp = await db.selectFrom('auditVerifyCheckpoint').select(['seq', 'eventHorizon']).executeTakeFirstOrThrow()
    expect(cp.seq).toBe(2)
    expect(cp.eventHorizon).toBeLessThan(3)
  })
})

describe('configuration', () => {
  it('requires a key of 32+ characters unless the development default is allowed, and well-formed retired keys', () => {
    expect(resolveChainKeys({}, false)).toEqual({ errors: [expect.stringMatching(/AUDIT_CHAIN_KEY: must be set/)] })
    expect(resolveChainKeys({}, true)).toMatchObject({ current: { id: 'dev' } })
    expect(resolveChainKeys({ AUDIT_CHAIN_KEY: 'short' }, true)).toEqual({ errors: [expect.stringMatching(/at least 32/)] })
    expect(resolveChainKeys({ AUDIT_CHAIN_KEY: K1, AUDIT_CHAIN_PREVIOUS_KEYS: 'nocolon' }, false)).toHaveProperty('errors')
    expect(resolveChainKeys({ AUDIT_CHAIN_KEY: K1, AUDIT_CHAIN_KEY_ID: 'k1', AUDIT_CHAIN_PREVIOUS_KEYS: `k1:${K2}` }, false)).toHaveProperty('errors')
    expect(resolveChainKeys({ AUDIT_CHAIN_KEY: K2, AUDIT_CHAIN_KEY_ID: 'k2', AUDIT_CHAIN_PREVIOUS_KEYS: `k1:${K1}` }, false)).toMatchObject({ current: { id: 'k2' }, previous: [{ id: 'k1' }] })
  })
})

describe('the sealer memory and a failed COMMIT', () => {
  it('a COMMIT that fails leaves the remembered head on a seal that exists, so sealing goes on', async () => {
    const db = await freshDb()
    const memory: { last?: { seq: number, hash: string } } = {}
    await add(db, 3)
    await sealAll(db, onlyK1)
    await sealPending(db, onlyK1, 2000, memory) // nothing pending: memory unchanged
    await add(db, 2)
    expect(await sealPending(db, onlyK1, 2000, memory)).toBe(2)
    const before = memory.last
    expect(before?.seq).toBe(5)
    // the next sealing transaction fails at COMMIT (a deferred constraint trigger), as it would
    // when its connection is lost there
    await sql`CREATE FUNCTION fail_commit () RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'commit lost'; END $$`.execute(db)
    await sql`CREATE CONSTRAINT TRIGGER fail_commit AFTER INSERT ON audit_seals DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_commit()`.execute(db)
    await add(db, 2)
    await expect(sealPending(db, onlyK1, 2000, memory)).rejects.toThrow(/commit lost/)
    expect(memory.last).toEqual(before)
    await sql`DROP TRIGGER fail_commit ON audit_seals`.execute(db)
    // before the fix the memory held seal 7, which never committed: "the chain was cut back"
    expect(await sealPending(db, onlyK1, 2000, memory)).toBe(2)
    expect(memory.last?.seq).toBe(7)
    expect((await verifyChain(db, onlyK1, { full: true })).ok).toBe(true)
  })
})
