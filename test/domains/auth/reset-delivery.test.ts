// The password-reset event keeps only what delivery needs — the user id, the expiry and the token
// sealed for the mailer — and loses the sealed token as soon as it is of no more use: when the event
// is marked dispatched (trigger), and when the reset token is used or expired (the auth sweep).
import { createHash } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { openResetToken, resetDeliveryKey } from '../../../src/domains/auth/reset-delivery.js'
import { createTestApp } from '../../helpers/app.js'
import { createUser } from '../../helpers/factories.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

interface Row { id: string, payload: Record<string, unknown> }
const requestReset = (email: string) => app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email } })
const lastEvent = async (userId: string): Promise<Row> => {
  const r = await sql<Row>`SELECT id, payload FROM outbox_events WHERE type = 'user.password_reset_requested' AND payload->>'userId' = ${userId} ORDER BY id DESC LIMIT 1`.execute(app.db)
  return r.rows[0] as Row
}
const reload = async (id: string): Promise<Record<string, unknown>> =>
  (await sql<{ payload: Record<string, unknown> }>`SELECT payload FROM outbox_events WHERE id = ${id}`.execute(app.db)).rows[0]?.payload ?? {}
const sweep = async () => { await app.jobs.runNow('auth-sweep') }

describe('password-reset delivery', () => {
  it('stores the user id, the expiry and the sealed token — never the token in clear nor the address', async () => {
    const u = await createUser(app.db, 'HANDLER', undefined, { fullName: 'Rosalie Reset' })
    expect((await requestReset(u.email)).statusCode).toBe(202)
    const ev = await lastEvent(u.userId)
    expect(Object.keys(ev.payload).sort()).toEqual(['expiresAt', 'resetId', 'sealedToken', 'userId'])
    const token = openResetToken(String(ev.payload.sealedToken), resetDeliveryKey(app.conf.jwtSecret))
    const stored = await app.db.selectFrom('passwordResetTokens').select(['id', 'tokenHash']).where('userId', '=', u.userId).executeTakeFirstOrThrow()
    expect(stored.tokenHash).toBe(createHash('sha256').update(token).digest('hex'))
    expect(ev.payload.resetId).toBe(stored.id)
    const text = JSON.stringify(ev.payload)
    expect(text).not.toContain(token)
    expect(text).not.toContain(u.email)
    expect(text).not.toContain('Rosalie')
    // another key cannot open it
    expect(() => openResetToken(String(ev.payload.sealedToken), resetDeliveryKey('another secret of at least 32 characters'))).toThrow()
  })

  it('drops the sealed token the moment the event is marked dispatched', async () => {
    const u = await createUser(app.db, 'HANDLER')
    await requestReset(u.email)
    const ev = await lastEvent(u.userId)
    await sql`UPDATE outbox_events SET dispatched_at = now() WHERE id = ${ev.id}`.execute(app.db)
    expect(await reload(ev.id)).toEqual({ userId: u.userId, resetId: ev.payload.resetId, expiresAt: ev.payload.expiresAt })
  })

  it('drops it once the reset token is used, superseded or expired; keeps it while still usable', async () => {
    const used = await createUser(app.db, 'HANDLER')
    await requestReset(used.email)
    const usedEv = await lastEvent(used.userId)
    const token = openResetToken(String(usedEv.payload.sealedToken), resetDeliveryKey(app.conf.jwtSecret))
    expect((await app.inject({ method: 'POST', url: '/v1/auth/password-reset/confirm', payload: { token, newPassword: 'a brand new and long passphrase' } })).statusCode).toBe(204)

    const expired = await createUser(app.db, 'HANDLER')
    await requestReset(expired.email)
    const expiredEv = await lastEvent(expired.userId)
    await sql`UPDATE password_reset_tokens SET expires_at = now() - interval '1 second' WHERE user_id = ${expired.userId}`.execute(app.db)

    const superseded = await createUser(app.db, 'HANDLER')
    await requestReset(superseded.email)
    const firstEv = await lastEvent(superseded.userId)
    await app.db.updateTable('passwordResetTokens').set({ usedAt: new Date() }).where('id', '=', String(firstEv.payload.resetId)).execute()

    const pending = await createUser(app.db, 'HANDLER')
    await requestReset(pending.email)
    const pendingEv = await lastEvent(pending.userId)

    await sweep()
    for (const ev of [usedEv, expiredEv, firstEv]) expect(await reload(ev.id)).not.toHaveProperty('sealedToken')
    expect(await reload(pendingEv.id)).toHaveProperty('sealedToken', pendingEv.payload.sealedToken)
  })
})
