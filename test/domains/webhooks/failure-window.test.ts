// The 24 h rules, with the delivery's clock moved instead of waiting: retries stop 24 h after a
// series began, and a subscription whose every attempt failed for 24 h is disabled, once, with a
// webhook.disabled event for its organization only. Attempts run one by one (deliver() called as
// the queue task would), against a real receiver answering 500.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backoffMs, deliver, deliverySettings, type DeliverySettings } from '../../../src/domains/webhooks/delivery.js'
import { dispatchOutbox } from '../../../src/domains/webhooks/dispatcher.js'
import { webhookSecretKey } from '../../../src/domains/webhooks/secrets.js'
import type { App } from '../../../src/lib/route.js'
import { bearer, createTestApp } from '../../helpers/app.js'
import { clearWebhooks, emit, org, subscribe, type Org } from './fixtures.js'
import { Receiver } from './receiver.js'

const HOUR = 3_600_000
let app: App
let receiver: Receiver
let key: Buffer
let settings: DeliverySettings

beforeAll(async () => {
  await clearWebhooks()
  app = await createTestApp({ WEBHOOK_ALLOW_PRIVATE: true, WEBHOOK_RETRY_BASE_MS: 60_000, WEBHOOK_RETRY_MAX_MS: 2 * HOUR })
  receiver = await Receiver.start()
  key = webhookSecretKey(app.conf)
  settings = deliverySettings(app.conf)
})
afterAll(async () => {
  await app?.close()
  await receiver?.close()
})

/** The subscription's pending attempt (one at most). */
async function pending (subId: string): Promise<{ id: number, attempt: number }> {
  const row = await app.db.selectFrom('webhookDeliveries').select(['id', 'attempt']).where('subscriptionId', '=', subId).where('status', '=', 'PENDING').executeTakeFirst()
  if (row === undefined) throw new Error('no pending attempt')
  return row
}

async function failingSubscription (path: string): Promise<{ station: Org, subId: string }> {
  receiver.plans.set(path, () => ({ status: 500 }))
  const station = await org(app, 'STATION')
  const sub = await subscribe(app, station, receiver.url(path), ['stock.low'])
  await emit(app, [{ type: 'stock.low', organizationIds: [station.id], payload: { stationId: station.id } }])
  await dispatchOutbox(app.db)
  return { station, subId: sub.id }
}

const at = (t: number) => ({ now: () => new Date(t), random: () => 1 })

describe('24 h of failures', () => {
  it('disable the subscription once, with webhook.disabled for its organization only; resuming starts afresh', async () => {
    const { station, subId } = await failingSubscription('/down')
    const other = await org(app, 'STATION')
    const t0 = Date.now()

    const first = await deliver({ db: app.db, key, settings, ...at(t0) }, (await pending(subId)).id)
    expect(first).toMatchObject({ outcome: 'failed', reason: 'http_status', disabled: false })
    // attempt 1 failed: the next after base × 2^0 (random 1: the whole delay)
    expect((first as { retryAt: Date }).retryAt.getTime()).toBe(t0 + 60_000)
    let w = await app.db.selectFrom('webhookSubscriptions').selectAll().where('id', '=', subId).executeTakeFirstOrThrow()
    expect(w.failingSince?.getTime()).toBe(t0)

    const second = await deliver({ db: app.db, key, settings, ...at(t0 + 23 * HOUR) }, (await pending(subId)).id)
    expect(second).toMatchObject({ outcome: 'failed', disabled: false })
    w = await app.db.selectFrom('webhookSubscriptions').selectAll().where('id', '=', subId).executeTakeFirstOrThrow()
    expect(w).toMatchObject({ isActive: true })
    expect(w.failingSince?.getTime()).toBe(t0)

    const third = await deliver({ db: app.db, key, settings, ...at(t0 + 24 * HOUR + 1000) }, (await pending(subId)).id)
    expect(third).toMatchObject({ outcome: 'failed', disabled: true, retryAt: null })
    expect(receiver.at('/down')).toHaveLength(3)
    const res = await app.inject({ method: 'GET', url: `/v1/webhooks/${subId}`, headers: bearer(station.token) })
    expect(res.json()).toMatchObject({ isActive: false, disabledReason: expect.stringMatching(/failed for 24 h/) })
    expect(Date.parse(res.json().disabledAt)).toBe(t0 + 24 * HOUR + 1000)
    const attempts = await app.db.selectFrom('webhookDeliveries').select(['attempt', 'status', 'nextAttemptAt']).where('subscriptionId', '=', subId).orderBy('attempt').execute()
    expect(attempts.map(a => [a.attempt, a.status, a.nextAttemptAt === null])).toEqual([[1, 'FAILED', false], [2, 'FAILED', false], [3, 'FAILED', true]])

    const disabled = await sql<{ organizationIds: string[], payload: Record<string, unknown> }>`
      SELECT organization_ids, payload FROM outbox_events WHERE type = 'webhook.disabled' AND payload->>'subscriptionId' = ${subId}`.execute(app.db)
    expect(disabled.rows).toHaveLength(1)
    expect(disabled.rows[0]).toMatchObject({ organizationIds: [station.id], payload: { subscriptionId: subId, url: receiver.url('/down') } })
    expect(JSON.stringify(disabled.rows[0])).not.toMatch(/whsec_|secret/i)
    // the owner reads it in its feed; another organization does not
    await dispatchOutbox(app.db)
    const feedOf = async (o: Org): Promise<string> => (await app.inject({ method: 'GET', url: '/v1/events?type=webhook.disabled&limit=200', headers: bearer(o.token) })).body
    expect(await feedOf(station)).toContain(subId)
    expect(await feedOf(other)).not.toContain(subId)

    // resumed by its owner: healthy again, the next failure starts a new 24 h
    const resume = await app.inject({ method: 'PATCH', url: `/v1/webhooks/${subId}`, headers: bearer(station.token), payload: { isActive: true } })
    expect(resume.json()).toMatchObject({ isActive: true, failingSince: null, disabledAt: null, disabledReason: null })
  })

  it('a success in between starts the count again', async () => {
    const { subId } = await failingSubscription('/intermittent')
    const t0 = Date.now()
    await deliver({ db: app.db, key, settings, ...at(t0) }, (await pending(subId)).id)
    receiver.plans.set('/intermittent', () => ({ status: 202 }))
    const ok = await deliver({ db: app.db, key, settings, ...at(t0 + 20 * HOUR) }, (await pending(subId)).id)
    expect(ok).toMatchObject({ outcome: 'delivered', status: 202 })
    let w = await app.db.selectFrom('webhookSubscriptions').selectAll().where('id', '=', subId).executeTakeFirstOrThrow()
    expect(w.failingSince).toBeNull()

    receiver.plans.set('/intermittent', () => ({ status: 503 }))
    const station = await app.db.selectFrom('webhookSubscriptions').select('organizationId').where('id', '=', subId).executeTakeFirstOrThrow()
    await emit(app, [{ type: 'stock.low', organizationIds: [station.organizationId], payload: {} }])
    await dispatchOutbox(app.db)
    const again = await deliver({ db: app.db, key, settings, ...at(t0 + 30 * HOUR) }, (await pending(subId)).id)
    expect(again).toMatchObject({ outcome: 'failed', disabled: false })
    w = await app.db.selectFrom('webhookSubscriptions').selectAll().where('id', '=', subId).executeTakeFirstOrThrow()
    expect(w).toMatchObject({ isActive: true })
    expect(w.failingSince?.getTime()).toBe(t0 + 30 * HOUR)
  })

  it('a series gives up once its next attempt would fall beyond 24 h after its first', async () => {
    const { subId } = await failingSubscription('/late')
    const series = await app.db.selectFrom('webhookDeliveries').select('seriesStartedAt').where('subscriptionId', '=', subId).executeTakeFirstOrThrow()
    // a first failure 30 s before its series turns 24 h (the subscription not failing before): no time for another (1 min)
    const late = await deliver({ db: app.db, key, settings, ...at(series.seriesStartedAt.getTime() + 24 * HOUR - 30_000) }, (await pending(subId)).id)
    expect(late).toMatchObject({ outcome: 'failed', retryAt: null, disabled: false })
    const rows = await app.db.selectFrom('webhookDeliveries').select(['status', 'nextAttemptAt']).where('subscriptionId', '=', subId).execute()
    expect(rows).toEqual([{ status: 'FAILED', nextAttemptAt: null }])
  })

  it('the backoff doubles from the base up to the cap, jittered within [½, 1] of it', async () => {
    const s = { retryBaseMs: 1000, retryMaxMs: 60_000 }
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(n => backoffMs(n, s, () => 1))).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000])
    expect(backoffMs(3, s, () => 0)).toBe(2000)
    for (let i = 0; i < 100; i++) {
      const d = backoffMs(4, s)
      expect(d).toBeGreaterThanOrEqual(4000)
      expect(d).toBeLessThanOrEqual(8000)
    }
  })
})
