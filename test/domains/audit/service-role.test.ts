// The service runs under a restricted database role (issue 11): migrations and grants run as the
// owner (DATABASE_OWNER_URL), the service (DATABASE_URL) can only do DML, so it cannot switch the
// audit log's triggers off, empty the unsealed queue or rewrite events — and everything works.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { Type } from '@sinclair/typebox'
import pg from 'pg'
import { sql } from 'kysely'
import { loadConfig } from '../../../src/config.js'
import { createDb } from '../../../src/db/index.js'
import { ensureLoginRole } from '../../../src/db/roles.js'
import { prepareDatabase } from '../../../src/runtime.js'
import { roleCanBypassAuditTriggers } from '../../../src/domains/audit/audit.service.js'
import { dbOf } from '../../../src/lib/route.js'
import type { App } from '../../../src/lib/route.js'
import { bearer, buildTestApp, tokenFor } from '../../helpers/app.js'
import { createDatabaseFromTemplate, serverUrl } from '../../helpers/db.js'

// roles are cluster-wide: a name of this run and worker only
const role = `${inject('dbPrefix')}_svc${process.env.VITEST_POOL_ID ?? '0'}`
const password = randomBytes(18).toString('base64url')
const dbName = `${inject('dbPrefix')}_role${process.env.VITEST_POOL_ID ?? '0'}`
let ownerUrl: string
let serviceUrl: string
let service: pg.Client
let app: App

beforeAll(async () => {
  ownerUrl = await createDatabaseFromTemplate(dbName)
  const admin = createDb({ connectionString: ownerUrl, poolSize: 1, statementTimeoutMs: 10_000, connectTimeoutMs: 10_000 })
  try { await ensureLoginRole(admin.db, role, password) } finally { await admin.destroy() }
  const u = new URL(ownerUrl)
  u.username = role
  u.password = password
  serviceUrl = u.toString()
  // what the server does at startup: migrate and grant as the owner
  const config = loadConfig({}, { NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: serviceUrl, DATABASE_OWNER_URL: ownerUrl, SEED_DEMO: false })
  await prepareDatabase(config, serviceUrl, () => {})
  service = new pg.Client(serviceUrl)
  await service.connect()

  app = await buildTestApp({ AUDIT_SEAL_INTERVAL_MS: 60_000 }, serviceUrl)
  app.post('/v1/test-role-widgets', {
    config: { access: 'organizations:create', audit: { action: 'widget.create', entity: 'widget' } },
    schema: { body: Type.Object({ name: Type.String({ maxLength: 50 }) }, { additionalProperties: false }) }
  }, async (request) => {
    return await dbOf(request).insertInto('organizations').values({ kind: 'SUPPLIER', name: request.body.name } as never).returning(['id', 'name']).executeTakeFirstOrThrow()
  })
  await app.ready()
})

afterAll(async () => {
  await app?.close()
  await service?.end()
  // the role's privileges live in its database: drop that first, then the role
  const admin = new pg.Client(serverUrl())
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    await admin.query(`DROP ROLE IF EXISTS ${role}`)
  } finally { await admin.end() }
})

const refused = async (text: string): Promise<string> => {
  const err = await service.query(text).then(() => undefined, (e: Error & { code?: string }) => e)
  expect(err, `${text} should be refused`).toBeDefined()
  return `${err?.code ?? ''} ${err?.message ?? ''}`
}

describe('the service role', () => {
  it('cannot disable the audit triggers, by ALTER TABLE or by replication role', async () => {
    expect(await refused('ALTER TABLE audit_events DISABLE TRIGGER ALL')).toMatch(/must be owner/)
    expect(await refused('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only')).toMatch(/must be owner/)
    expect(await refused('ALTER TABLE audit_unsealed DISABLE TRIGGER USER')).toMatch(/must be owner/)
    expect(await refused('ALTER TABLE audit_seals DISABLE TRIGGER ALL')).toMatch(/must be owner/)
    expect(await refused('SET session_replication_role = replica')).toMatch(/42501|permission denied/)
    expect(await refused('DROP TRIGGER audit_events_append_only ON audit_events')).toMatch(/must be owner/)
    expect(await roleCanBypassAuditTriggers(app.db)).toBe(false)
  })

  it('cannot empty the unsealed queue, rewrite or remove events and seals', async () => {
    expect(await refused('DELETE FROM audit_unsealed')).toMatch(/42501/)
    expect(await refused('TRUNCATE audit_unsealed')).toMatch(/42501/)
    expect(await refused('INSERT INTO audit_unsealed (event_id) VALUES (1)')).toMatch(/42501/)
    expect(await refused("UPDATE audit_events SET action = 'x'")).toMatch(/42501/)
    expect(await refused('DELETE FROM audit_events')).toMatch(/42501/)
    expect(await refused('TRUNCATE audit_events')).toMatch(/42501/)
    expect(await refused("UPDATE audit_seals SET hash = 'x'")).toMatch(/42501/)
    expect(await refused('DELETE FROM audit_seals')).toMatch(/42501/)
    expect(await refused('DELETE FROM kysely_migration')).toMatch(/42501/)
    expect(await refused('CREATE TABLE audit_shadow (id int)')).toMatch(/42501|permission denied/)
  })

  it('runs the service: audited mutation, sealing, verify, readiness and metrics', async () => {
    const admin = tokenFor(app, { role: 'ADMIN' })
    const res = await app.inject({ method: 'POST', url: '/v1/test-role-widgets', headers: bearer(admin), payload: { name: 'role-widget' } })
    expect(res.statusCode, res.body).toBe(200)
    const queued = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_unsealed`.execute(app.db)
    expect(queued.rows[0]?.n).toBeGreaterThanOrEqual(1)
    const metricsBefore = (await app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metricsBefore).toMatch(/^audit_unsealed_backlog [1-9]/m)
    expect(metricsBefore).toMatch(/^audit_unsealed_oldest_seconds \d/m)
    await app.jobs.runNow('audit-sealer')
    const report = (await app.inject({ method: 'GET', url: '/v1/audit-events/verify?full=true', headers: bearer(admin) })).json()
    expect(report).toMatchObject({ ok: true, unsealedEvents: 0, firstBroken: null })
    expect(report.sealedEvents).toBeGreaterThanOrEqual(1)
    // incremental, from the checkpoint the service just stored
    expect((await app.inject({ method: 'GET', url: '/v1/audit-events/verify', headers: bearer(admin) })).json()).toMatchObject({ ok: true, mode: 'incremental', examinedSeals: 0 })
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^audit_unsealed_backlog 0$/m)
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200)
  })

  it('starts with only its own URL once a migration job applied everything (it cannot create the migrator\'s tables)', async () => {
    // a deployment whose instances never see the owner's credentials
    const config = loadConfig({}, { NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: serviceUrl, SEED_DEMO: false })
    await expect(prepareDatabase(config, serviceUrl, () => {})).resolves.toBeUndefined()
  })

  it('is what production requires: a privileged role refuses to boot unless DATABASE_PRIVILEGED_ROLE_OK', async () => {
    const prod = { NODE_ENV: 'production', JWT_SECRET: 'j'.repeat(40), AUDIT_CHAIN_KEY: 'c'.repeat(40) } as const
    const privileged = await buildTestApp(prod, ownerUrl)
    await expect(privileged.ready()).rejects.toThrow(/could disable their triggers/)
    await privileged.close().catch(() => {})
    const accepted = await buildTestApp({ ...prod, DATABASE_PRIVILEGED_ROLE_OK: true }, ownerUrl)
    await expect(accepted.ready()).resolves.toBeDefined()
    await accepted.close()
    const restricted = await buildTestApp(prod, serviceUrl)
    await expect(restricted.ready()).resolves.toBeDefined()
    await restricted.close()
  })
})
