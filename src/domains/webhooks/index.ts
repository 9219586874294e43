// The webhooks domain: the routes, and its share of the background work (src/plugins/jobs.ts):
// the outbox dispatcher (a worker loop), the delivery task (the job queue) and the hourly purge
// of dispatched outbox events past OUTBOX_RETENTION_DAYS (a cron sweep, with the queue's
// permanently failed jobs).
import fp from 'fastify-plugin'
import type { onSendHookHandler } from 'fastify'
import { unlockAbandonedJobs } from '../../lib/queue.js'
import type { App } from '../../lib/route.js'
import { deliver, deliverySettings } from './delivery.js'
import { DELIVER_TASK, dispatchOutbox, purgeOutbox } from './dispatcher.js'
import { webhookMetrics } from './metrics.js'
import { openSecret, SEALED_PREFIX, webhookSecretKey } from './secrets.js'
import { webhookRoutes } from './webhooks.routes.js'

/** The answers that carry a secret (sealed by the service, opened on the way out): create and rotate. */
const REVEALING = new Set(['/v1/webhooks', '/v1/webhooks/:id/rotate-secret'])
const SEALED_SECRET = new RegExp(`"secret":"${SEALED_PREFIX.replace('.', '\\.')}([A-Za-z0-9_-]+)"`)

function deliveryIdOf (payload: unknown): number {
  const id = (payload as { deliveryId?: unknown } | null)?.deliveryId
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new Error(`${DELIVER_TASK}: payload without a deliveryId`)
  return id
}

async function webhooks (app: App): Promise<void> {
  const key = webhookSecretKey(app.conf)
  const settings = deliverySettings(app.conf)

  // The secret is stored in no response record (an Idempotency-Key replay stores the answer): the
  // answer holds it sealed, and it is opened only into the bytes sent to the client. A hook of the
  // two POST routes that reveal one, not of the app: this plugin is not encapsulated, and an
  // app-level onSend ran on every request of every route (an async hook: ~1.5–5 µs of CPU each).
  const openSealedSecret: onSendHookHandler = async function (_request, reply, payload) {
    if (typeof payload !== 'string' || reply.statusCode >= 300) return payload
    return payload.replace(SEALED_SECRET, (_m, sealed: string) => `"secret":${JSON.stringify(openSecret(sealed, key))}`)
  }
  app.addHook('onRoute', route => {
    if (route.method !== 'POST' || !REVEALING.has(route.url)) return
    const existing = route.onSend
    route.onSend = existing === undefined ? [openSealedSecret] : [...(Array.isArray(existing) ? existing : [existing]), openSealedSecret]
  })
  await webhookRoutes(app, { key, policy: { requireHttps: settings.requireHttps, allowPrivate: settings.allowPrivate } })

  const metrics = webhookMetrics(app.metrics)
  app.jobs.task(DELIVER_TASK, async (payload, helpers) => {
    await deliver({ db: app.db, key, settings, metrics, signal: helpers.abortSignal, log: app.log }, deliveryIdOf(payload))
  })
  app.jobs.workerLoop({ name: 'outbox-dispatcher', intervalMs: app.conf.OUTBOX_POLL_MS, run: async () => await dispatchOutbox(app.db) })
  // a delivery job held by a worker that died: free again after 2 min (an attempt lasts at most
  // WEBHOOK_TIMEOUT_MS plus its statements), not after the queue's 4 h lock expiry
  const abandonedAfterMs = Math.max(120_000, 4 * app.conf.WEBHOOK_TIMEOUT_MS)
  app.jobs.workerLoop({ name: 'delivery-rescue', intervalMs: 30_000, run: async () => await unlockAbandonedJobs(app.db, [DELIVER_TASK], abandonedAfterMs) })
  app.jobs.add({
    name: 'outbox-purge',
    intervalMs: 60 * 60_000,
    run: async () => {
      await purgeOutbox(app.db, app.conf.OUTBOX_RETENTION_DAYS)
      await app.jobs.queue()?.deletePermanentlyFailed()
    }
  })
}

export default fp(webhooks, { name: 'webhooks', dependencies: ['jobs', 'health'] })
