// Shared set-up of the webhook tests: an app running the worker with short timings, organizations
// with users, subscriptions created through the API, and events written as the domains write them.
import { sql } from 'kysely'
import { createDb } from '../../../src/db/index.js'
import type { App } from '../../../src/lib/route.js'
import type { Role } from '../../../src/lib/permissions.js'
import { emitEvents, type OutboxEvent } from '../../../src/lib/outbox.js'
import { bearer, createTestApp, tokenFor, type ConfigOverrides } from '../../helpers/app.js'
import { testDatabaseUrl } from '../../helpers/db.js'
import { createStation, createSupplier, createUser } from '../../helpers/factories.js'

/** The worker in this process, timings short enough for tests (never sleeping for real backoffs). */
export const WORKER: ConfigOverrides = {
  WORKER_MODE: 'in-process',
  WEBHOOK_ALLOW_PRIVATE: true,
  OUTBOX_POLL_MS: 30,
  WORKER_POLL_MS: 50,
  WEBHOOK_TIMEOUT_MS: 1000,
  WEBHOOK_RETRY_BASE_MS: 40,
  WEBHOOK_RETRY_MAX_MS: 200
}

/**
 * Subscriptions left in this worker's database by earlier test files (the access matrix and the
 * fuzzer create some, to public addresses no test may contact): removed before a worker starts.
 */
export async function clearWebhooks (): Promise<void> {
  const h = createDb({ connectionString: await testDatabaseUrl(), poolSize: 1, statementTimeoutMs: 10_000, connectTimeoutMs: 5000 })
  try { await sql`DELETE FROM webhook_subscriptions`.execute(h.db) } finally { await h.destroy() }
}

export async function workerApp (over: ConfigOverrides = {}): Promise<App> {
  await clearWebhooks()
  return await createTestApp({ ...WORKER, ...over })
}

export interface Org { id: string, token: string, userId: string }

export async function org (app: App, kind: 'STATION' | 'SUPPLIER'): Promise<Org> {
  const o = kind === 'STATION' ? await createStation(app.db) : await createSupplier(app.db)
  const u = await createUser(app.db, kind, o.id)
  return { id: o.id, userId: u.userId, token: tokenFor(app, u) }
}

export async function staff (app: App, role: Role = 'ADMIN'): Promise<Org> {
  const u = await createUser(app.db, role)
  return { id: u.organizationId, userId: u.userId, token: tokenFor(app, u) }
}

export interface Created { id: string, secret: string, version: number, organizationId: string }

export async function subscribe (app: App, who: Org, url: string, events: string[], extra: Record<string, unknown> = {}): Promise<Created> {
  const res = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(who.token), payload: { url, events, ...extra } })
  if (res.statusCode !== 201) throw new Error(`subscribe: ${res.statusCode} ${res.body}`)
  return res.json()
}

export async function emit (app: App, events: OutboxEvent[]): Promise<void> {
  await app.db.transaction().execute(async trx => { await emitEvents(trx, events) })
}

/** Polls `check` until it returns a value (not undefined), or fails after `ms`. */
export async function eventually<T> (check: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}
