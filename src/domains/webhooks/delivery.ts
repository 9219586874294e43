// One webhook delivery attempt: the queue task `webhook.deliver` (payload { deliveryId }).
//
// The job queue runs a job on one worker at a time, and the dispatcher creates exactly one job per
// delivery row; an attempt is recorded only on a row still PENDING. So several workers never send
// the same attempt at once. Delivery is at least once: a worker that dies between the receiver's
// 2xx and the record sends it again when the job is retried — receivers deduplicate on
// `webhook-id`, which stays the same across attempts and replays of an event.
//
// Outcome of an attempt, recorded with the subscription's lock held:
// - 2xx: SUCCEEDED, and the subscription is no longer failing;
// - anything else (non-2xx, redirect, timeout, refused address, network error): FAILED with the
//   status, up to 4 KiB of the body and the error; the subscription is failing since its first
//   such attempt after a success; the next attempt is scheduled after an exponential backoff with
//   jitter (base × 2^(n−1), capped, uniformly in [½, 1] of it) as long as it falls within the
//   series' window (24 h from its first attempt); a subscription failing for the whole window is
//   disabled and its organization receives `webhook.disabled`.
// Time comes from `now` (injectable: tests move the clock instead of waiting).
import { sql } from 'kysely'
import type { Config } from '../../config.js'
import type { Db } from '../../db/index.js'
import { emitEvents, PRIVATE_EVENT_TYPES } from '../../lib/outbox.js'
import { DELIVER_TASK } from './dispatcher.js'
import { postWebhook, type FailureReason, type PostResult } from './http-client.js'
import type { WebhookMetrics } from './metrics.js'
import { openSecret, signatureHeader } from './secrets.js'
import type { ResolveAll } from './url-policy.js'

export interface DeliverySettings {
  timeoutMs: number
  allowPrivate: boolean
  requireHttps: boolean
  retryBaseMs: number
  retryMaxMs: number
  /** retries of a series stop, and a subscription failing this long is disabled */
  windowMs: number
}

export function deliverySettings (config: Config): DeliverySettings {
  return {
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
    requireHttps: config.NODE_ENV === 'production',
    retryBaseMs: config.WEBHOOK_RETRY_BASE_MS,
    retryMaxMs: config.WEBHOOK_RETRY_MAX_MS,
    windowMs: config.WEBHOOK_RETRY_WINDOW_HOURS * 3_600_000
  }
}

export interface DeliveryDeps {
  db: Db
  /** the secret-sealing key (secrets.ts) */
  key: Buffer
  settings: DeliverySettings
  now?: () => Date
  random?: () => number
  resolve?: ResolveAll
  metrics?: WebhookMetrics
  signal?: AbortSignal
  log?: { info: (obj: object, msg: string) => void }
}

export type DeliveryOutcome =
  | { outcome: 'skipped' }
  | { outcome: 'cancelled', reason: string }
  | { outcome: 'delivered', status: number }
  | { outcome: 'failed', reason: FailureReason | 'secret', retryAt: Date | null, disabled: boolean }

interface Loaded {
  id: number
  subscriptionId: string
  eventId: number
  attempt: number
  status: string
  seriesStartedAt: Date
  url: string
  isActive: boolean
  secretSealed: string
  previousSecretSealed: string | null
  previousSecretExpiresAt: Date | null
  type: string
  payload: unknown
  createdAt: Date
}

/** The message a receiver gets: the event's id, type, time and data. */
export function messageBody (eventId: number, type: string, occurredAt: Date, data: unknown): string {
  return JSON.stringify({ id: eventId, type, occurredAt: occurredAt.toISOString(), data })
}

export const messageId = (eventId: number): string => `evt_${eventId}`

/** The delay before attempt n + 1 after n failed attempts: exponential, capped, jittered. */
export function backoffMs (failedAttempts: number, settings: Pick<DeliverySettings, 'retryBaseMs' | 'retryMaxMs'>, random: () => number = Math.random): number {
  const full = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.min(failedAttempts - 1, 40))
  return Math.round(full / 2 + random() * full / 2)
}

async function load (db: Db, id: number): Promise<Loaded | undefined> {
  const { rows } = await sql<Loaded>`
    SELECT d.id, d.subscription_id, d.event_id, d.attempt, d.status, d.series_started_at,
      s.url, s.is_active, s.secret_sealed, s.previous_secret_sealed, s.previous_secret_expires_at,
      e.type, e.payload, e.created_at
    FROM webhook_deliveries d
    JOIN webhook_subscriptions s ON s.id = d.subscription_id
    JOIN outbox_events e ON e.id = d.event_id
    WHERE d.id = ${id}`.execute(db)
  return rows[0]
}

async function cancel (db: Db, id: number, reason: string, now: Date): Promise<void> {
  await db.updateTable('webhookDeliveries').set({ status: 'CANCELLED', error: reason, attemptedAt: now }).where('id', '=', id).where('status', '=', 'PENDING').execute()
}

/** The secrets that sign now: the current one and, during a rotation's overlap, the previous one. */
function liveSecrets (d: Loaded, key: Buffer, now: Date): string[] {
  const secrets = [openSecret(d.secretSealed, key)]
  if (d.previousSecretSealed !== null && d.previousSecretExpiresAt !== null && d.previousSecretExpiresAt > now) secrets.push(openSecret(d.previousSecretSealed, key))
  return secrets
}

/** Runs one attempt of a delivery (see the file comment). */
export async function deliver (deps: DeliveryDeps, deliveryId: number): Promise<DeliveryOutcome> {
  const now = deps.now ?? (() => new Date())
  const d = await load(deps.db, deliveryId)
  if (d === undefined || d.status !== 'PENDING') return { outcome: 'skipped' }
  const started = now()
  if (PRIVATE_EVENT_TYPES.includes(d.type)) {
    await cancel(deps.db, d.id, 'this event is never delivered to webhooks', started)
    return { outcome: 'cancelled', reason: 'private event' }
  }
  if (!d.isActive) {
    await cancel(deps.db, d.id, 'the subscription is not active', started)
    return { outcome: 'cancelled', reason: 'inactive subscription' }
  }

  let secrets: string[]
  try {
    secrets = liveSecrets(d, deps.key, started)
  } catch {
    return await recordFailure(deps, d, started, { ok: false, status: null, body: null, error: 'the signing secret cannot be opened (WEBHOOK_SECRET_KEY changed?); rotate the secret', reason: 'invalid_url', ms: 0 }, 'secret')
  }
  const body = messageBody(d.eventId, d.type, d.createdAt, d.payload)
  const id = messageId(d.eventId)
  const ts = Math.floor(started.getTime() / 1000)
  const result = await postWebhook({
    url: d.url,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GestionEmballages-Webhooks/1.0',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signatureHeader(secrets, id, ts, body)
    },
    body,
    timeoutMs: deps.settings.timeoutMs,
    allowPrivate: deps.settings.allowPrivate,
    requireHttps: deps.settings.requireHttps,
    resolve: deps.resolve,
    signal: deps.signal
  })
  // our own shutdown is no failure of the receiver: the job is retried and the attempt stays pending
  if (!result.ok && deps.signal?.aborted === true) throw new Error('delivery interrupted by shutdown; retried')
  deps.metrics?.observe(result.ok ? 'success' : 'failure', result.ms / 1000)
  if (result.ok) {
    await deps.db.transaction().execute(async trx => {
      const rec = await trx.updateTable('webhookDeliveries')
        .set({ status: 'SUCCEEDED', attemptedAt: started, durationMs: result.ms, responseStatus: result.status, responseBody: result.body, deliveredAt: now() })
        .where('id', '=', d.id).where('status', '=', 'PENDING').returning('subscriptionId').executeTakeFirst()
      if (rec !== undefined) await trx.updateTable('webhookSubscriptions').set({ failingSince: null }).where('id', '=', d.subscriptionId).where('failingSince', 'is not', null).execute()
    })
    return { outcome: 'delivered', status: result.status }
  }
  deps.metrics?.failed(result.reason)
  return await recordFailure(deps, d, started, result, result.reason)
}

async function recordFailure (deps: DeliveryDeps, d: Loaded, attemptedAt: Date, result: Extract<PostResult, { ok: false }>, reason: FailureReason | 'secret'): Promise<DeliveryOutcome> {
  const now = (deps.now ?? (() => new Date()))()
  const settings = deps.settings
  const candidate = new Date(now.getTime() + backoffMs(d.attempt, settings, deps.random))
  const retryAt = candidate.getTime() <= d.seriesStartedAt.getTime() + settings.windowMs ? candidate : null
  return await deps.db.transaction().execute(async trx => {
    // the subscription's lock orders concurrent attempts: one of them disables it, once
    const sub = await trx.selectFrom('webhookSubscriptions').select(['organizationId', 'url', 'isActive', 'failingSince'])
      .where('id', '=', d.subscriptionId).forUpdate().executeTakeFirst()
    if (sub === undefined) return { outcome: 'skipped' } as const
    const failingSince = sub.failingSince ?? attemptedAt
    const disable = sub.isActive && now.getTime() - failingSince.getTime() >= settings.windowMs
    const next = sub.isActive && !disable ? retryAt : null
    const rec = await trx.updateTable('webhookDeliveries').set({
      status: 'FAILED',
      attemptedAt,
      durationMs: result.ms,
      responseStatus: result.status,
      responseBody: result.body,
      error: result.error,
      nextAttemptAt: next
    }).where('id', '=', d.id).where('status', '=', 'PENDING').returning('id').executeTakeFirst()
    if (rec === undefined) return { outcome: 'skipped' } as const
    if (disable) {
      const reasonText = `every delivery failed for ${Math.round(settings.windowMs / 3_600_000)} h (since ${failingSince.toISOString()})`
      await trx.updateTable('webhookSubscriptions').set(eb => ({
        failingSince, isActive: false, disabledAt: now, disabledReason: reasonText, version: eb('version', '+', 1), updatedAt: now
      })).where('id', '=', d.subscriptionId).execute()
      await emitEvents(trx, [{
        type: 'webhook.disabled',
        organizationIds: [sub.organizationId],
        payload: { subscriptionId: d.subscriptionId, url: sub.url, failingSince: failingSince.toISOString(), disabledAt: now.toISOString(), reason: reasonText }
      }])
      deps.metrics?.disabled()
      deps.log?.info({ subscriptionId: d.subscriptionId, failingSince }, 'webhook subscription disabled after failing for the whole retry window')
    } else if (sub.failingSince === null) {
      await trx.updateTable('webhookSubscriptions').set({ failingSince }).where('id', '=', d.subscriptionId).execute()
    }
    if (next !== null) {
      await sql`
        WITH n AS (
          INSERT INTO webhook_deliveries (subscription_id, event_id, attempt, trigger, series_started_at, scheduled_at)
          VALUES (${d.subscriptionId}::uuid, ${d.eventId}, ${d.attempt + 1}, 'RETRY', ${d.seriesStartedAt}, ${next})
          RETURNING id, scheduled_at
        )
        SELECT graphile_worker.add_job(${DELIVER_TASK}, json_build_object('deliveryId', n.id), run_at => n.scheduled_at) FROM n`.execute(trx)
    }
    return { outcome: 'failed', reason, retryAt: next, disabled: disable } as const
  })
}
