// The audit plugin's transaction, the Idempotency-Key protocol, the append-only table and the
// after-commit hash chain, exercised through a route this test adds to the real app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Type } from '@sinclair/typebox'
import { sql } from 'kysely'
import type { App } from '../../src/lib/route.js'
import { actorOf, dbOf } from '../../src/lib/route.js'
import { AppError } from '../../src/lib/problems.js'
import { ProblemRef } from '../../src/lib/schemas.js'
import { sealPending, verifyChain, redactChanges } from '../../src/domains/audit/audit.service.js'
import { bearer, buildTestApp, countAudit, expectProblem, tokenFor } from '../helpers/app.js'

let app: App
let admin: string
let manager: string

beforeAll(async () => {
  app = await buildTestApp()
  app.post('/v1/test-widgets', {
    config: { access: 'organizations:create', audit: { action: 'widget.create', entity: 'widget' } },
    schema: {
      body: Type.Object({ name: Type.String({ maxLength: 50 }), password: Type.Optional(Type.String({ maxLength: 50 })), email: Type.Optional(Type.String({ maxLength: 50 })) }, { additionalProperties: false }),
      response: { 201: Type.Object({ id: Type.String(), name: Type.String() }), '4xx': ProblemRef }
    }
  }, async (request, reply) => {
    const row = await dbOf(request).insertInto('organizations').values({ kind: 'SUPPLIER', name: request.body.name } as never).returning(['id', 'name']).executeTakeFirstOrThrow()
    if (request.body.name === 'fail-after-insert') throw new AppError('BUSINESS_RULE_VIOLATED', 'refused after the insert')
    if (request.body.name === 'slow') await sql`SELECT pg_sleep(0.5)`.execute(dbOf(request))
    actorOf(request)
    void reply.code(201)
    return row
  })
  await app.ready()
  admin = tokenFor(app, { role: 'ADMIN' })
  manager = tokenFor(app, { role: 'MANAGER' })
})
afterAll(async () => { await app.close() })

const post = (body: unknown, headers: Record<string, string> = {}, token = admin) =>
  app.inject({ method: 'POST', url: '/v1/test-widgets', headers: { ...bearer(token), ...headers }, payload: body as object })

async function orgCount (name: string): Promise<number> {
  const r = await app.db.selectFrom('organizations').select(eb => eb.fn.countAll<number>().as('n')).where('name', '=', name).executeTakeFirstOrThrow()
  return Number(r.n)
}

describe('audit plugin', () => {
  it('writes exactly one event with the request context on success', async () => {
    const before = await countAudit(app, { action: 'widget.create' })
    const res = await post({ name: 'w-ok', password: 'secret-value', email: 'a@b.example' }, { 'x-request-id': 'req-audit-1', 'user-agent': 'vitest' })
    expect(res.statusCode).toBe(201)
    expect(await countAudit(app, { action: 'widget.create' })).toBe(before + 1)
    const ev = await app.db.selectFrom('auditEvents').selectAll().where('requestId', '=', 'req-audit-1').executeTakeFirstOrThrow()
    expect(ev.entityType).toBe('widget')
    expect(ev.entityId).toBe(res.json().id)
    expect(ev.actorRole).toBe('ADMIN')
    expect(ev.userAgent).toBe('vitest')
    expect(ev.changes).toEqual({ name: 'w-ok', email: '[changed]' })
  })

  it('rolls back the change and writes no event when the handler fails', async () => {
    const before = await countAudit(app)
    const res = await post({ name: 'fail-after-insert' })
    expectProblem(res, 422, 'BUSINESS_RULE_VIOLATED')
    expect(await countAudit(app)).toBe(before)
    expect(await orgCount('fail-after-insert')).toBe(0)
  })

  it('refuses unknown body fields with a pointer and changes nothing', async () => {
    const before = await countAudit(app)
    const body = expectProblem(await post({ name: 'x', role: 'ADMIN' }), 400, 'VALIDATION_FAILED')
    expect(body.errors).toEqual([expect.objectContaining({ pointer: '/role' })])
    expect(await countAudit(app)).toBe(before)
  })

  it('redacts secrets and personal values recursively', () => {
    expect(redactChanges({ a: { refreshToken: 'x', fullName: 'Ann', phone: '1', list: [{ passwordHash: 'h', n: 1 }] }, long: 'x'.repeat(600) }))
      .toEqual({ a: { fullName: '[changed]', phone: '[changed]', list: [{ n: 1 }] }, long: 'x'.repeat(500) + '…' })
  })
})

describe('idempotency', () => {
  it('replays the stored response for the same key and body', async () => {
    const first = await post({ name: 'idem-1' }, { 'idempotency-key': 'k-1' })
    expect(first.statusCode).toBe(201)
    const again = await post({ name: 'idem-1' }, { 'idempotency-key': 'k-1' })
    expect(again.statusCode).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.body).toBe(first.body)
    expect(await orgCount('idem-1')).toBe(1)
  })

  it('answers 422 for the same key with another body, and keys are per user', async () => {
    await post({ name: 'idem-2' }, { 'idempotency-key': 'k-2' })
    expectProblem(await post({ name: 'idem-2-other' }, { 'idempotency-key': 'k-2' }), 422, 'IDEMPOTENCY_KEY_REUSED')
    const other = await post({ name: 'idem-2' }, { 'idempotency-key': 'k-2' }, manager)
    expect(other.statusCode).toBe(201)
    expect(other.headers['idempotent-replayed']).toBeUndefined()
  })

  it('answers 409 while the first request with the key is in flight, and exactly one effect', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, async () => await post({ name: 'slow' }, { 'idempotency-key': 'k-slow' })))
    const codes = results.map(r => r.statusCode)
    expect(codes.filter(c => c === 201).length).toBeGreaterThanOrEqual(1)
    for (const r of results.filter(r => r.statusCode !== 201)) expectProblem(r, 409, 'IDEMPOTENCY_IN_PROGRESS')
    expect(results.filter(r => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined).length).toBe(1)
    expect(await orgCount('slow')).toBe(1)
  })

  it('rejects a malformed key', async () => {
    expectProblem(await post({ name: 'x' }, { 'idempotency-key': 'has space' }), 400, 'VALIDATION_FAILED')
  })
})

describe('audit trail storage', () => {
  it('refuses UPDATE, DELETE and TRUNCATE on audit_events and audit_seals', async () => {
    await post({ name: 'append-only' })
    await expect(sql`UPDATE audit_events SET action = 'x'`.execute(app.db)).rejects.toThrow(/append-only/)
    await expect(sql`DELETE FROM audit_events`.execute(app.db)).rejects.toThrow(/append-only/)
    await expect(sql`TRUNCATE audit_events CASCADE`.execute(app.db)).rejects.toThrow(/append-only/)
    await sealPending(app.db, app.conf.auditChainKeys)
    await expect(sql`UPDATE audit_seals SET hash = 'x'`.execute(app.db)).rejects.toThrow(/append-only/)
    await expect(sql`DELETE FROM audit_seals`.execute(app.db)).rejects.toThrow(/append-only/)
  })

  it('seals events after commit and the chain verifies; a tampered row is reported', async () => {
    await Promise.all(Array.from({ length: 20 }, async (_, i) => await post({ name: `chain-${i}` })))
    await app.jobs.runNow('audit-sealer')
    const res = await app.inject({ method: 'GET', url: '/v1/audit-events/verify', headers: bearer(manager) })
    expect(res.statusCode).toBe(200)
    const report = res.json()
    expect(report.ok).toBe(true)
    expect(report.unsealedEvents).toBe(0)
    expect(report.sealedEvents).toBeGreaterThanOrEqual(20)

    const victim = await app.db.selectFrom('auditEvents').select('id').where('action', '=', 'widget.create').orderBy('id').limit(1).executeTakeFirstOrThrow()
    await app.db.connection().execute(async conn => {
      await sql`SET session_replication_role = replica`.execute(conn)
      await sql`UPDATE audit_events SET action = 'widget.tampered' WHERE id = ${victim.id}`.execute(conn)
      await sql`SET session_replication_role = DEFAULT`.execute(conn)
    })
    // the incremental verify resumes after the seals already verified: only a full one re-reads them
    expect((await verifyChain(app.db, app.conf.auditChainKeys)).examinedSeals).toBe(0)
    const broken = await verifyChain(app.db, app.conf.auditChainKeys, { full: true })
    expect(broken.ok).toBe(false)
    expect(broken.firstBroken?.eventId).toBe(victim.id)
    expect(broken.firstBroken?.reason).toMatch(/content/)
    await app.db.connection().execute(async conn => {
      await sql`SET session_replication_role = replica`.execute(conn)
      await sql`UPDATE audit_events SET action = 'widget.create' WHERE id = ${victim.id}`.execute(conn)
      await sql`SET session_replication_role = DEFAULT`.execute(conn)
    })
    expect((await verifyChain(app.db, app.conf.auditChainKeys, { full: true, batch: 7 })).ok).toBe(true)
  })
})

describe('GET /v1/audit-events', () => {
  it('lists newest first with filters and keyset pagination', async () => {
    for (let i = 0; i < 5; i++) await post({ name: `page-${i}` })
    const first = await app.inject({ method: 'GET', url: '/v1/audit-events?action=widget.create&limit=2', headers: bearer(admin) })
    expect(first.statusCode).toBe(200)
    const p1 = first.json()
    expect(p1.items).toHaveLength(2)
    expect(p1.items[0].id).toBeGreaterThan(p1.items[1].id)
    const second = await app.inject({ method: 'GET', url: `/v1/audit-events?action=widget.create&limit=2&cursor=${p1.nextCursor as string}`, headers: bearer(admin) })
    const p2 = second.json()
    expect(p2.items[0].id).toBeLessThan(p1.items[1].id)
    const filtered = await app.inject({ method: 'GET', url: `/v1/audit-events?entityType=widget&entityId=${p1.items[0].entityId as string}&from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z&actorUserId=${p1.items[0].actorUserId as string}`, headers: bearer(admin) })
    expect(filtered.json().items).toHaveLength(1)
  })

  it('rejects a forged cursor and a limit above the maximum', async () => {
    expectProblem(await app.inject({ method: 'GET', url: '/v1/audit-events?cursor=eyJ4Ijox.forged', headers: bearer(admin) }), 400, 'INVALID_CURSOR')
    expectProblem(await app.inject({ method: 'GET', url: '/v1/audit-events?limit=500', headers: bearer(admin) }), 400, 'VALIDATION_FAILED')
  })

  it('is forbidden to roles other than ADMIN and MANAGER', async () => {
    for (const role of ['HANDLER', 'STATION', 'SUPPLIER'] as const) {
      expectProblem(await app.inject({ method: 'GET', url: '/v1/audit-events', headers: bearer(tokenFor(app, { role })) }), 403, 'FORBIDDEN')
      expectProblem(await app.inject({ method: 'GET', url: '/v1/audit-events/verify', headers: bearer(tokenFor(app, { role })) }), 403, 'FORBIDDEN')
    }
  })
})

describe('token notices', () => {
  it('parse user:ms, inactive and -Infinity payloads', async () => {
    const { parseTokenNotice } = await import('../../src/plugins/auth.js')
    expect(parseTokenNotice('u1:1700000000000')).toEqual(['u1', 1700000000000])
    expect(parseTokenNotice('u1:inactive')).toEqual(['u1', Infinity])
    expect(parseTokenNotice('u1:-Infinity')).toEqual(['u1', -Infinity])
    expect(parseTokenNotice('garbage')).toBeUndefined()
    expect(parseTokenNotice('u1:abc')).toBeUndefined()
  })
})
