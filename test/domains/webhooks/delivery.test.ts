// Deliveries end to end: the dispatcher turns committed outbox events into signed POSTs to a real
// receiver on loopback, which verifies them with the Standard Webhooks reference library; failed
// attempts are recorded and retried (short backoffs configured, nothing sleeps for real ones).
import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EVENT_TYPES } from '../../../src/domains/events/events.catalogue.js'
import { RESET_EVENT } from '../../../src/domains/auth/reset-delivery.js'
import { sealSecret, webhookSecretKey } from '../../../src/domains/webhooks/secrets.js'
import { uuidv7 } from '../../../src/lib/ids.js'
import { PLATFORM_ORGANIZATION_ID } from '../../../src/lib/permissions.js'
import type { App } from '../../../src/lib/route.js'
import { bearer } from '../../helpers/app.js'
import { createUser } from '../../helpers/factories.js'
import { emit, eventually, org, staff, subscribe, workerApp, type Org } from './fixtures.js'
import { Receiver, verifies } from './receiver.js'

let app: App
let receiver: Receiver

beforeAll(async () => {
  app = await workerApp()
  receiver = await Receiver.start()
})
afterAll(async () => {
  await app?.close()
  await receiver?.close()
})

interface Delivery { id: number, attempt: number, trigger: string, status: string, responseStatus: number | null, responseBody: string | null, error: string | null, nextAttemptAt: string | null, durationMs: number | null, eventId: number, eventType: string }

async function deliveriesOf (who: Org, subId: string): Promise<Delivery[]> {
  const res = await app.inject({ method: 'GET', url: `/v1/webhooks/${subId}/deliveries?limit=200`, headers: bearer(who.token) })
  expect(res.statusCode, res.body).toBe(200)
  return (res.json() as { items: Delivery[] }).items.reverse()
}

/** Waits until the subscription's attempts satisfy `done`. */
async function attemptsUntil (who: Org, subId: string, done: (ds: Delivery[]) => boolean): Promise<Delivery[]> {
  return await eventually(async () => {
    const ds = await deliveriesOf(who, subId)
    return done(ds) ? ds : undefined
  })
}

const lowStock = (stationId: string) => ({ type: 'stock.low', organizationIds: [stationId], payload: { stationId, articleId: uuidv7(), quantity: 1, alertThreshold: 5, criticalThreshold: 0, critical: false } })

describe('a delivery', () => {
  it('is a POST of the event, signed per Standard Webhooks, sent once and recorded', async () => {
    const station = await org(app, 'STATION')
    const sub = await subscribe(app, station, receiver.url('/ok'), ['stock.low'])
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/)
    await emit(app, [lowStock(station.id)])
    const ds = await attemptsUntil(station, sub.id, ds => ds[0]?.status === 'SUCCEEDED')
    const [r] = receiver.at('/ok')
    expect(receiver.at('/ok')).toHaveLength(1)
    expect(verifies(sub.secret, r!)).toBe(true)
    expect(r!.headers['content-type']).toBe('application/json')
    const body = JSON.parse(r!.body) as { id: number, type: string, occurredAt: string, data: { stationId: string } }
    expect(body).toMatchObject({ type: 'stock.low', data: { stationId: station.id } })
    expect(Date.parse(body.occurredAt)).toBeGreaterThan(Date.now() - 60_000)
    expect(r!.headers['webhook-id']).toBe(`evt_${body.id}`)
    expect(Math.abs(Number(r!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30)
    expect(ds).toHaveLength(1)
    expect(ds[0]).toMatchObject({ attempt: 1, trigger: 'EVENT', responseStatus: 204, eventType: 'stock.low', eventId: body.id, error: null, nextAttemptAt: null })
  })

  it('is retried after 500s with backoff, the same message each time, until a 2xx', async () => {
    const station = await org(app, 'STATION')
    receiver.plans.set('/flaky', (_r, nth) => nth < 2 ? { status: 500, body: 'down for maintenance' } : { status: 200, body: 'ok' })
    const sub = await subscribe(app, station, receiver.url('/flaky'), ['stock.low'])
    await emit(app, [lowStock(station.id)])
    const ds = await attemptsUntil(station, sub.id, ds => ds.some(d => d.status === 'SUCCEEDED'))
    expect(ds.map(d => [d.attempt, d.trigger, d.status, d.responseStatus])).toEqual([[1, 'EVENT', 'FAILED', 500], [2, 'RETRY', 'FAILED', 500], [3, 'RETRY', 'SUCCEEDED', 200]])
    expect(ds[0]!.responseBody).toBe('down for maintenance')
    expect(ds[0]!.error).toBe('HTTP 500')
    expect(ds[0]!.nextAttemptAt).not.toBeNull()
    const got = receiver.at('/flaky')
    expect(new Set(got.map(r => r.headers['webhook-id'])).size).toBe(1)
    expect(new Set(got.map(r => r.body)).size).toBe(1)
    for (const r of got) expect(verifies(sub.secret, r)).toBe(true)
    const w = await app.inject({ method: 'GET', url: `/v1/webhooks/${sub.id}`, headers: bearer(station.token) })
    expect(w.json()).toMatchObject({ isActive: true, failingSince: null })
  })

  it('times out after WEBHOOK_TIMEOUT_MS, follows no redirect and keeps 4 KiB of an answer', async () => {
    const station = await org(app, 'STATION')
    receiver.plans.set('/slow', (_r, nth) => nth === 0 ? { delayMs: 1600 } : { status: 204 })
    receiver.plans.set('/moved', (_r, nth) => nth === 0 ? { status: 302, headers: { location: '/elsewhere' } } : { status: 204 })
    receiver.plans.set('/chatty', (_r, nth) => nth === 0 ? { status: 500, body: 'x'.repeat(10_000) } : { status: 204 })
    const slow = await subscribe(app, station, receiver.url('/slow'), ['stock.low'])
    const moved = await subscribe(app, station, receiver.url('/moved'), ['stock.low'])
    const chatty = await subscribe(app, station, receiver.url('/chatty'), ['stock.low'])
    await emit(app, [lowStock(station.id)])
    const [s1, m1, c1] = await Promise.all([slow, moved, chatty].map(async sub => (await attemptsUntil(station, sub.id, ds => ds.some(d => d.status === 'SUCCEEDED')))[0]!))
    expect(s1).toMatchObject({ status: 'FAILED', responseStatus: null, error: 'no complete answer within 1000 ms' })
    expect(s1!.durationMs).toBeGreaterThanOrEqual(990)
    expect(m1).toMatchObject({ status: 'FAILED', responseStatus: 302, error: 'redirect to /elsewhere not followed' })
    expect(receiver.at('/elsewhere')).toHaveLength(0)
    expect(c1).toMatchObject({ status: 'FAILED', responseStatus: 500 })
    expect(c1!.responseBody).toBe('x'.repeat(4096))
  })
})

describe('metrics', () => {
  it('/metrics has the delivery latency by outcome, the failures by reason and the outbox backlog', async () => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
    expect(text).toMatch(/^webhook_delivery_duration_seconds_count\{outcome="success"\} [1-9]/m)
    expect(text).toMatch(/^webhook_delivery_duration_seconds_count\{outcome="failure"\} [1-9]/m)
    expect(text).toMatch(/^webhook_delivery_failures_total\{reason="http_status"\} [1-9]/m)
    expect(text).toMatch(/^webhook_delivery_failures_total\{reason="timeout"\} [1-9]/m)
    expect(text).toMatch(/^webhook_delivery_failures_total\{reason="redirect"\} [1-9]/m)
    expect(text).toMatch(/^outbox_backlog \d+$/m)
  })
})

describe('secret rotation', () => {
  it('signs with both secrets during the overlap, with the new one only after', async () => {
    const station = await org(app, 'STATION')
    const sub = await subscribe(app, station, receiver.url('/rotate'), ['stock.low'])
    const rotate = async (overlapSeconds: number): Promise<string> => {
      const res = await app.inject({ method: 'POST', url: `/v1/webhooks/${sub.id}/rotate-secret`, headers: bearer(station.token), payload: { overlapSeconds } })
      expect(res.statusCode, res.body).toBe(200)
      return (res.json() as { secret: string }).secret
    }
    const second = await rotate(3600)
    expect(second).not.toBe(sub.secret)
    await emit(app, [lowStock(station.id)])
    await receiver.waitFor(() => receiver.at('/rotate').length === 1)
    const during = receiver.at('/rotate')[0]!
    expect(during.headers['webhook-signature']!.split(' ')).toHaveLength(2)
    expect(verifies(sub.secret, during)).toBe(true)
    expect(verifies(second, during)).toBe(true)

    const third = await rotate(0)
    await emit(app, [lowStock(station.id)])
    await receiver.waitFor(() => receiver.at('/rotate').length === 2)
    const after = receiver.at('/rotate')[1]!
    expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(1)
    expect(verifies(third, after)).toBe(true)
    expect(verifies(second, after)).toBe(false)
    expect(verifies(sub.secret, after)).toBe(false)
  })
})

describe('replay', () => {
  it('sends the event again as a new series; one pending attempt at a time; not while paused', async () => {
    const station = await org(app, 'STATION')
    const sub = await subscribe(app, station, receiver.url('/replay'), ['stock.low'])
    await emit(app, [lowStock(station.id)])
    const [first] = await attemptsUntil(station, sub.id, ds => ds[0]?.status === 'SUCCEEDED')
    // the receiver is slow now: a replay stays pending for a second
    receiver.plans.set('/replay', () => ({ status: 204, delayMs: 800 }))
    const answers = await Promise.all(Array.from({ length: 10 }, async () => await app.inject({ method: 'POST', url: `/v1/webhooks/${sub.id}/deliveries/${first!.id}/replay`, headers: bearer(station.token) })))
    const accepted = answers.filter(a => a.statusCode === 202)
    expect(accepted, answers.map(a => `${a.statusCode} ${a.body}`).join('\n')).toHaveLength(1)
    for (const a of answers.filter(a => a.statusCode !== 202)) expect(a.json()).toMatchObject({ status: 409, code: 'CONFLICT' })
    expect(accepted[0]!.json()).toMatchObject({ attempt: 2, trigger: 'REPLAY', status: 'PENDING', eventId: first!.eventId })
    const ds = await attemptsUntil(station, sub.id, ds => ds.length === 2 && ds[1]!.status === 'SUCCEEDED')
    expect(ds[1]).toMatchObject({ attempt: 2, trigger: 'REPLAY' })
    const got = receiver.at('/replay')
    expect(got).toHaveLength(2)
    expect(got[1]!.headers['webhook-id']).toBe(got[0]!.headers['webhook-id'])
    expect(verifies(sub.secret, got[1]!)).toBe(true)

    const pause = await app.inject({ method: 'PATCH', url: `/v1/webhooks/${sub.id}`, headers: bearer(station.token), payload: { isActive: false } })
    expect(pause.statusCode, pause.body).toBe(200)
    const refused = await app.inject({ method: 'POST', url: `/v1/webhooks/${sub.id}/deliveries/${first!.id}/replay`, headers: bearer(station.token) })
    expect(refused.json()).toMatchObject({ status: 409, code: 'CONFLICT' })
    // a paused subscription gets nothing new
    const other = await subscribe(app, station, receiver.url('/replay-witness'), ['stock.low'])
    await emit(app, [lowStock(station.id)])
    await attemptsUntil(station, other.id, ds => ds[0]?.status === 'SUCCEEDED')
    expect(receiver.at('/replay')).toHaveLength(2)
    expect(await deliveriesOf(station, sub.id)).toHaveLength(2)
  })
})

describe('events carrying secrets', () => {
  it('a password-reset event never reaches a webhook nor the feed, whoever subscribes', async () => {
    const admin = await staff(app, 'ADMIN')
    const everything = await subscribe(app, admin, receiver.url('/platform'), [...EVENT_TYPES])
    // a subscription row naming the reset type (the API refuses it: 400) still gets nothing
    const key = webhookSecretKey(app.conf)
    await sql`INSERT INTO webhook_subscriptions (id, organization_id, url, events, secret_sealed)
      VALUES (${uuidv7()}::uuid, ${PLATFORM_ORGANIZATION_ID}::uuid, ${receiver.url('/forged')}, ${[RESET_EVENT, 'stock.low']}::text[], ${sealSecret('whsec_' + randomBytes(32).toString('base64'), key)})`.execute(app.db)
    const refusedType = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(admin.token), payload: { url: receiver.url('/x'), events: [RESET_EVENT] } })
    expect(refusedType.statusCode).toBe(400)
    try {
      const user = await createUser(app.db, 'HANDLER')
      const reset = await app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email: user.email } })
      expect(reset.statusCode).toBe(202)
      const station = await org(app, 'STATION')
      await emit(app, [lowStock(station.id)])
      // the stock event, written after the reset event, is delivered to both
      await receiver.waitFor(() => receiver.at('/platform').some(r => r.body.includes(station.id)) && receiver.at('/forged').some(r => r.body.includes(station.id)))
      const resetRow = await sql<{ id: number, dispatchedAt: Date | null, seq: number | null, sealed: boolean }>`
        SELECT id, dispatched_at, seq, payload ? 'sealedToken' AS sealed FROM outbox_events
        WHERE type = ${RESET_EVENT} AND payload->>'userId' = ${user.userId}`.execute(app.db)
      expect(resetRow.rows).toHaveLength(1)
      // left for the mailer: not dispatched, no feed position, its sealed token intact
      expect(resetRow.rows[0]).toMatchObject({ dispatchedAt: null, seq: null, sealed: true })
      const deliveries = await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries WHERE event_id = ${resetRow.rows[0]!.id}`.execute(app.db)
      expect(deliveries.rows[0]!.n).toBe(0)
      for (const r of receiver.requests) expect(JSON.parse(r.body).type).not.toBe(RESET_EVENT)
      const feed = await app.inject({ method: 'GET', url: '/v1/events?limit=200', headers: bearer(admin.token) })
      expect(feed.statusCode).toBe(200)
      expect(feed.body).not.toContain(RESET_EVENT)
    } finally {
      await sql`DELETE FROM webhook_subscriptions WHERE organization_id = ${PLATFORM_ORGANIZATION_ID}::uuid`.execute(app.db)
    }
    expect(everything.organizationId).toBe(PLATFORM_ORGANIZATION_ID)
  })
})
