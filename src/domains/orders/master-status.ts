// The master-order status is derived from its purchase orders (PRODUCT.md §5.4) and never set by
// clients. Kept pure so the rule is table-tested on its own; the services call it inside the
// transaction of every child transition, after locking the master order row.
import type { PurchaseOrderStatus } from '../../db/schema.js'

/** Order of progress; CANCELLED and DECLINED are outside it (ignored unless every child has one). */
const PROGRESS = ['PLACED', 'CONFIRMED', 'SHIPPED', 'RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED'] as const satisfies readonly PurchaseOrderStatus[]

export function deriveMasterStatus (children: readonly PurchaseOrderStatus[]): MasterOrderStatus {
  const live = new Set(children.filter(s => s !== 'CANCELLED' && s !== 'DECLINED'))
  // the furthest status a live child has reached
  const top = PROGRESS.filter(p => live.has(p)).at(-1)
  // No child at all cannot happen (checkout creates ≥ 1 PO); treat it like "nothing left".
  if (top === undefined) return 'CANCELLED'
  if (live.size === 1) return top
  return top === 'PLACED' ? 'PLACED' : `PARTIALLY_${top}`
}

export const MASTER_ORDER_STATUSES = [
  'PLACED', 'CONFIRMED', 'SHIPPED', 'RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED', 'CANCELLED',
  'PARTIALLY_CONFIRMED', 'PARTIALLY_SHIPPED', 'PARTIALLY_RECEIVED', 'PARTIALLY_CLOSED', 'PARTIALLY_INVOICED', 'PARTIALLY_ARCHIVED'
] as const
export type MasterOrderStatus = typeof MASTER_ORDER_STATUSES[number]
