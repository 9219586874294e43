// Delivery attempts of a subscription (newest first) and replays. Same scope as the subscription.
// A replay sends an event again as a new series (attempt numbers go on, the 24 h retry window
// starts again, `webhook-id` stays the event's, so a receiver that already has it can tell).
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import { decodeCursor, page } from '../../lib/cursor.js'
import type { Actor } from '../../lib/permissions.js'
import { AppError, notFound, problem } from '../../lib/problems.js'
import { DELIVER_TASK } from './dispatcher.js'
import type { DeliveryView, ListDeliveriesInput } from './webhooks.schemas.js'
import { getWebhook } from './webhooks.service.js'

function deliveries (db: Db) {
  return db.selectFrom('webhookDeliveries as d').innerJoin('outboxEvents as e', 'e.id', 'd.eventId').select([
    'd.id', 'd.subscriptionId', 'd.eventId', 'e.type as eventType', 'd.attempt', 'd.trigger', 'd.status', 'd.scheduledAt', 'd.attemptedAt',
    'd.durationMs', 'd.responseStatus', 'd.responseBody', 'd.error', 'd.nextAttemptAt', 'd.deliveredAt'
  ])
}

export async function listDeliveries (db: Db, actor: Actor, subscriptionId: string, input: ListDeliveriesInput): Promise<{ items: DeliveryView[], nextCursor: string | null }> {
  await getWebhook(db, actor, subscriptionId)
  const limit = input.limit ?? 50
  let q = deliveries(db).where('d.subscriptionId', '=', subscriptionId)
  if (input.status !== undefined) q = q.where('d.status', '=', input.status)
  if (input.eventId !== undefined) q = q.where('d.eventId', '=', input.eventId)
  if (input.cursor !== undefined) {
    const [id] = decodeCursor(input.cursor, 1)
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
    q = q.where('d.id', '<', id)
  }
  const rows = await q.orderBy('d.id', 'desc').limit(limit + 1).execute()
  return page(rows, limit, r => [r.id])
}

/**
 * Queues the event of a delivery again for its subscription, due now. 409 when the subscription
 * is not active or an attempt of that event is already pending.
 */
export async function replayDelivery (db: Db, actor: Actor, subscriptionId: string, deliveryId: number): Promise<DeliveryView> {
  const sub = await getWebhook(db, actor, subscriptionId, true)
  const source = await db.selectFrom('webhookDeliveries').select(['eventId']).where('id', '=', deliveryId).where('subscriptionId', '=', subscriptionId).executeTakeFirst()
  if (source === undefined) throw notFound('Delivery')
  if (!sub.isActive) throw new AppError('CONFLICT', 'The subscription is not active: resume it (PATCH isActive: true) before replaying')
  const { rows } = await sql<{ id: number }>`
    WITH n AS (
      INSERT INTO webhook_deliveries (subscription_id, event_id, attempt, trigger, series_started_at, scheduled_at)
      SELECT ${subscriptionId}::uuid, ${source.eventId}, max(attempt) + 1, 'REPLAY', now(), now()
      FROM webhook_deliveries WHERE subscription_id = ${subscriptionId}::uuid AND event_id = ${source.eventId}
      ON CONFLICT DO NOTHING
      RETURNING id
    ), job AS (
      SELECT graphile_worker.add_job(${DELIVER_TASK}, json_build_object('deliveryId', n.id)) FROM n
    )
    SELECT n.id FROM n, (SELECT count(*) FROM job) j`.execute(db)
  const id = rows[0]?.id
  if (id === undefined) throw new AppError('CONFLICT', 'An attempt of this event is already pending for this subscription')
  return await deliveries(db).where('d.id', '=', id).executeTakeFirstOrThrow()
}
