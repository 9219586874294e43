// Webhook metrics, in the registry /metrics serves (the health plugin's). The outbox backlog gauge
// lives with the other database gauges in src/plugins/health.ts.
import client, { type Registry } from 'prom-client'
import type { FailureReason } from './http-client.js'

export interface WebhookMetrics {
  observe: (outcome: 'success' | 'failure', seconds: number) => void
  failed: (reason: FailureReason) => void
  disabled: () => void
}

export function webhookMetrics (registry: Registry | undefined): WebhookMetrics {
  if (registry === undefined) return { observe () {}, failed () {}, disabled () {} }
  const latency = new client.Histogram({
    name: 'webhook_delivery_duration_seconds',
    help: 'Webhook delivery attempts: time from the request to the receiver\'s answer (or the failure), by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry]
  })
  const failures = new client.Counter({
    name: 'webhook_delivery_failures_total',
    help: 'Failed webhook delivery attempts by reason (http_status, redirect, timeout, refused_address, network, invalid_url)',
    labelNames: ['reason'] as const,
    registers: [registry]
  })
  const disabled = new client.Counter({
    name: 'webhook_subscriptions_disabled_total',
    help: 'Subscriptions disabled after failing for the whole retry window',
    registers: [registry]
  })
  return {
    observe: (outcome, seconds) => { latency.observe({ outcome }, seconds) },
    failed: reason => { failures.inc({ reason }) },
    disabled: () => { disabled.inc() }
  }
}
