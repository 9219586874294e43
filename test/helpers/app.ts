// Builds the real app (production validator, plugins and hooks) against this worker's database.
import { randomUUID } from 'node:crypto'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { expect } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loadConfig, type ConfigSchema } from '../../src/config.js'
import type { Static } from '@sinclair/typebox'
import type { App } from '../../src/lib/route.js'
import { signAccessToken } from '../../src/plugins/auth.js'
import { ProblemSchema } from '../../src/lib/schemas.js'
import { kindForRole, PLATFORM_ORGANIZATION_ID, type Actor, type Role } from '../../src/lib/permissions.js'
import { testDatabaseUrl } from './db.js'

export type ConfigOverrides = Partial<Static<typeof ConfigSchema>>

export async function buildTestApp (overrides: ConfigOverrides = {}, connectionString?: string): Promise<App> {
  const url = connectionString ?? await testDatabaseUrl()
  // A pool wait is bounded at 15 s here (2 s in production): the suites prove invariants with 50
  // parallel requests on a 10-connection pool, and on a loaded CI machine a 2 s wait would turn a
  // queued request into a 503 that says nothing about the invariant. The 503 itself is tested
  // with an explicit short timeout (test/plugins/http.test.ts, the reliability suite).
  const config = loadConfig({}, { NODE_ENV: 'test', LOG_LEVEL: 'silent', RATE_LIMIT_ENABLED: false, DATABASE_URL: url, AUDIT_SEAL_INTERVAL_MS: 100, MAX_EVENT_LOOP_DELAY_MS: 0, WORKER_MODE: 'off', DATABASE_CONNECT_TIMEOUT_MS: 15_000, ...overrides })
  return await buildApp({ config, connectionString: url, logger: { level: process.env.TEST_LOG_LEVEL ?? 'silent' } })
}

/** Builds and readies the app. */
export async function createTestApp (overrides: ConfigOverrides = {}, connectionString?: string): Promise<App> {
  const app = await buildTestApp(overrides, connectionString)
  await app.ready()
  return app
}

export function tokenFor (app: App, actor: Partial<Actor> & { role: Role }): string {
  const full: Actor = {
    userId: actor.userId ?? randomUUID(),
    role: actor.role,
    organizationId: actor.organizationId ?? PLATFORM_ORGANIZATION_ID,
    organizationKind: actor.organizationKind ?? kindForRole(actor.role)
  }
  return signAccessToken(app, full)
}

export function bearer (token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv
const ajv = addFormats(new Ajv({ strict: false, allErrors: true }))
const validateProblem = ajv.compile(ProblemSchema)

/** Asserts a response is an RFC 9457 problem with the expected status (and code). */
export function expectProblem (res: { statusCode: number, headers: Record<string, unknown>, body: string }, status: number, code?: string): Record<string, unknown> {
  expect(res.statusCode, res.body).toBe(status)
  expect(String(res.headers['content-type'])).toContain('application/problem+json')
  const body = JSON.parse(res.body) as Record<string, unknown>
  const ok = validateProblem(body)
  expect(ok, JSON.stringify(validateProblem.errors)).toBe(true)
  if (code !== undefined) expect(body.code).toBe(code)
  return body
}

export async function countAudit (app: App, where: { action?: string } = {}): Promise<number> {
  let q = app.db.selectFrom('auditEvents').select(eb => eb.fn.countAll<number>().as('n'))
  if (where.action !== undefined) q = q.where('action', '=', where.action)
  const r = await q.executeTakeFirstOrThrow()
  return Number(r.n)
}
