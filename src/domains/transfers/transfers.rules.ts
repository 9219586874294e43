// The transfer workflow of PRODUCT.md §6, one row per action: the states it leaves, the state it
// reaches, whose step it is and the permission its route declares. Who may act is decided in three
// layers, in this order: RBAC on the route's permission (403 FORBIDDEN — suppliers everywhere,
// stations on platform steps), the scoped read (a station not involved in the transfer: 404), the
// party (a station that is involved but on the other side: 403 NOT_ALLOWED_FOR_PARTY; platform
// staff act on behalf of either station). Only then the state (409 INVALID_TRANSITION).
import type { Selectable } from 'kysely'
import type { Transfers } from '../../db/types.generated.js'
import type { Permission } from '../../lib/permissions.js'

export type TransferStatus = Selectable<Transfers>['status']

export const TRANSFER_STATUSES = ['REQUESTED', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'IN_PREPARATION', 'SHIPPED', 'RECEIVED', 'CLOSED', 'SETTLED', 'ARCHIVED'] as const satisfies readonly TransferStatus[]

export const TRANSFER_VERBS = ['confirm', 'reject', 'cancel', 'prepare', 'ship', 'receive', 'close', 'settle', 'archive'] as const
export type TransferVerb = typeof TRANSFER_VERBS[number]

/** Whose step: the station asked for units (requesting = destination), the one asked (source), or the platform. */
export type TransferParty = 'source' | 'requesting' | 'platform'

export interface TransferRule {
  from: readonly TransferStatus[]
  to: TransferStatus
  party: TransferParty
  permission: Permission
  /** outbox event type */
  event: string
  /** the timestamp column the transition stamps */
  stamp: 'confirmed_at' | 'shipped_at' | 'received_at' | null
}

export const TRANSFER_RULES: Record<TransferVerb, TransferRule> = {
  confirm: { from: ['REQUESTED'], to: 'CONFIRMED', party: 'source', permission: 'transfers:station_step', event: 'transfer.confirmed', stamp: 'confirmed_at' },
  reject: { from: ['REQUESTED'], to: 'REJECTED', party: 'source', permission: 'transfers:station_step', event: 'transfer.rejected', stamp: null },
  cancel: { from: ['REQUESTED'], to: 'CANCELLED', party: 'requesting', permission: 'transfers:station_step', event: 'transfer.cancelled', stamp: null },
  prepare: { from: ['CONFIRMED'], to: 'IN_PREPARATION', party: 'platform', permission: 'transfers:platform_step', event: 'transfer.prepared', stamp: null },
  ship: { from: ['IN_PREPARATION'], to: 'SHIPPED', party: 'source', permission: 'transfers:station_step', event: 'transfer.shipped', stamp: 'shipped_at' },
  receive: { from: ['SHIPPED'], to: 'RECEIVED', party: 'requesting', permission: 'transfers:station_step', event: 'transfer.received', stamp: 'received_at' },
  close: { from: ['RECEIVED'], to: 'CLOSED', party: 'requesting', permission: 'transfers:station_step', event: 'transfer.closed', stamp: null },
  settle: { from: ['CLOSED'], to: 'SETTLED', party: 'platform', permission: 'transfers:platform_step', event: 'transfer.settled', stamp: null },
  archive: { from: ['SETTLED'], to: 'ARCHIVED', party: 'platform', permission: 'transfers:platform_step', event: 'transfer.archived', stamp: null }
}
