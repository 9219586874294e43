// The domain events an organization can receive (PRODUCT.md §10), by webhook or from the events
// feed: the published contract. Each names `entity.past_participle`; its `data` is what the
// emitting domain wrote to the outbox (ids, number, statuses, version — never prices, secrets or
// personal data). Who receives one is decided when it is written (outbox_events.organization_ids):
// - purchase_order.*: the station and the supplier of the purchase order;
// - master_order.created: the station;
// - contract.*: the supplier;
// - transfer.*: both stations (requesting and source);
// - stock.low: the station;
// - webhook.disabled: the organization owning the subscription;
// and platform staff receive all of them. Password-reset events are never part of it
// (PRIVATE_EVENT_TYPES, src/lib/outbox.ts).
export const EVENT_TYPES = [
  'master_order.created',
  'purchase_order.placed',
  'purchase_order.confirmed',
  'purchase_order.declined',
  'purchase_order.shipped',
  'purchase_order.received',
  'purchase_order.closed',
  'purchase_order.invoiced',
  'purchase_order.archived',
  'purchase_order.cancelled',
  'contract.approved',
  'contract.suspended',
  'contract.resumed',
  'contract.terminated',
  'contract.expired',
  'contract.renewed',
  'transfer.requested',
  'transfer.confirmed',
  'transfer.rejected',
  'transfer.cancelled',
  'transfer.prepared',
  'transfer.shipped',
  'transfer.received',
  'transfer.closed',
  'transfer.settled',
  'transfer.archived',
  'stock.low',
  'webhook.disabled'
] as const

export type EventType = typeof EVENT_TYPES[number]
