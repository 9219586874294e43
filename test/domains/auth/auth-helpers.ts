// Shared steps of the identity tests: sign in over HTTP, read a user's rows, wait for revocation.
import { expect } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { bearer } from '../../helpers/app.js'
import { TEST_PASSWORD } from '../../helpers/factories.js'

export interface Tokens { accessToken: string, refreshToken: string, tokenType: string, expiresIn: number, user: { id: string, email: string, fullName: string, role: string, organizationId: string } }

export async function loginAs (app: App, email: string, password = TEST_PASSWORD): Promise<Tokens> {
  const res = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json() as Tokens
}

export const login = (app: App, email: string, password: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password }, headers })

export const refresh = (app: App, refreshToken: string) =>
  app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken } })

export const me = (app: App, accessToken: string) =>
  app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) })

/** Polls until the access token is refused (401) or the deadline passes; returns the elapsed ms. */
export async function waitUntilRejected (app: App, accessToken: string, deadlineMs = 1000): Promise<number> {
  const start = Date.now()
  for (;;) {
    const res = await me(app, accessToken)
    if (res.statusCode === 401) return Date.now() - start
    if (Date.now() - start > deadlineMs) throw new Error(`token still accepted after ${deadlineMs} ms (status ${res.statusCode})`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

export async function auditActions (app: App, entityId: string): Promise<string[]> {
  const rows = await app.db.selectFrom('auditEvents').select('action').where('entityId', '=', entityId).orderBy('id').execute()
  return rows.map(r => r.action)
}

export async function liveSessions (app: App, userId: string): Promise<number> {
  const r = await app.db.selectFrom('sessions').select(eb => eb.fn.countAll<number>().as('n'))
    .where('userId', '=', userId).where('revokedAt', 'is', null).where('usedAt', 'is', null).executeTakeFirstOrThrow()
  return Number(r.n)
}
