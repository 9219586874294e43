// The job queue under the restricted service role (src/db/roles.ts): on an empty database the
// owner installs everything (migrations, the queue's schema, the grants — prepareDatabase, what
// the server and `npm run worker` do at start); the service role then runs the queue — the runner's
// start-up check, cron registration, enqueueing from the dispatcher, deliveries — without owning
// or being able to change any of it.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { loadConfig } from '../../../src/config.js'
import { createDb } from '../../../src/db/index.js'
import { ensureLoginRole } from '../../../src/db/roles.js'
import { prepareDatabase } from '../../../src/runtime.js'
import type { App } from '../../../src/lib/route.js'
import { createTestApp } from '../../helpers/app.js'
import { databaseUrl, serverUrl } from '../../helpers/db.js'
import { emit, eventually, org, subscribe, WORKER } from './fixtures.js'
import { Receiver, verifies } from './receiver.js'

const role = `${inject('dbPrefix')}_wsvc${process.env.VITEST_POOL_ID ?? '0'}`
const dbName = `${inject('dbPrefix')}_wrole${process.env.VITEST_POOL_ID ?? '0'}`
const password = randomBytes(18).toString('base64url')
let serviceUrl: string
let service: pg.Client
let apps: App[] = []
let receiver: Receiver

beforeAll(async () => {
  const admin = new pg.Client(serverUrl())
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    // empty: no migration, no queue schema
    await admin.query(`CREATE DATABASE ${dbName}`)
  } finally { await admin.end() }
  const ownerUrl = databaseUrl(dbName)
  const owner = createDb({ connectionString: ownerUrl, poolSize: 1, statementTimeoutMs: 10_000, connectTimeoutMs: 10_000 })
  try { await ensureLoginRole(owner.db, role, password) } finally { await owner.destroy() }
  const u = new URL(ownerUrl)
  u.username = role
  u.password = password
  serviceUrl = u.toString()
  await prepareDatabase(loadConfig({}, { NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: serviceUrl, DATABASE_OWNER_URL: ownerUrl, SEED_DEMO: false }), serviceUrl, () => {})
  service = new pg.Client(serviceUrl)
  await service.connect()
  receiver = await Receiver.start()
}, 120_000)

afterAll(async () => {
  for (const app of apps) await app.close()
  await service?.end()
  await receiver?.close()
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

describe('the queue under the service role', () => {
  it('is installed by the owner and only used by the service', async () => {
    const owner = await service.query<{ owner: string }>("SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = 'graphile_worker'")
    expect(owner.rows[0]?.owner).not.toBe(role)
    expect(await refused('DROP TABLE graphile_worker._private_jobs')).toMatch(/must be owner/)
    expect(await refused('CREATE TABLE graphile_worker.shadow (id int)')).toMatch(/42501|permission denied/)
    expect(await refused('INSERT INTO graphile_worker.migrations (id) VALUES (999)')).toMatch(/42501/)
    expect(await refused('DELETE FROM graphile_worker.migrations')).toMatch(/42501/)
    expect(await refused('CREATE OR REPLACE FUNCTION graphile_worker.add_job(text) RETURNS void LANGUAGE sql AS $$ SELECT $$')).toMatch(/42501|must be owner/)
  })

  it('runs: two workers start (cron registered once), dispatch and deliver', async () => {
    apps = [await createTestApp(WORKER, serviceUrl), await createTestApp(WORKER, serviceUrl)]
    const [app] = apps as [App, App]
    const station = await org(app, 'STATION')
    const sub = await subscribe(app, station, receiver.url('/role'), ['stock.low'])
    await emit(app, [{ type: 'stock.low', organizationIds: [station.id], payload: { stationId: station.id } }])
    await receiver.waitFor(rs => rs.length >= 1)
    expect(verifies(sub.secret, receiver.requests[0]!)).toBe(true)
    await new Promise(resolve => setTimeout(resolve, 300))
    expect(receiver.requests).toHaveLength(1)
    const crons = await eventually(async () => {
      const r = await sql<{ identifier: string }>`SELECT identifier FROM graphile_worker._private_known_crontabs ORDER BY identifier`.execute(app.db)
      return r.rows.length >= 3 ? r.rows.map(x => x.identifier) : undefined
    })
    expect(crons).toEqual(expect.arrayContaining(['cron:contract-expiry', 'cron:idempotency-sweep', 'cron:outbox-purge']))
    expect(new Set(crons).size).toBe(crons.length)
  })
})
