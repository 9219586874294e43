// The master-order status is derived from its purchase orders (PRODUCT.md §5.4) and never set by
// clients. Kept pure so the rule is table-tested on its own; the services call it inside the
// transaction of every child transition, after locking the master order row.
import type { PurchaseOrderStatus } from '../../db/schema.js'

/** Order of progress; CANCELLED and DECLINED are outside it (ignored unless every child has one). */
const PROGRESS: readonly PurchaseOrderStatus[] = ['PLACED', 'CONFIRMED', 'SHIPPED', 'RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED']

export function deriveMasterStatus (children: readonly PurchaseOrderStatus[]): string {
  const live = children.filter(s => s !== 'CANCELLED' && s !== 'DECLINED')
  // No child at all cannot happen (checkout creates ≥ 1 PO); treat it like "nothing left".
  if (live.length === 0) return 'CANCELLED'
  const distinct = new Set(live)
  let most = 0
  for (const s of distinct) most = Math.max(most, PROGRESS.indexOf(s))
  const top = PROGRESS[most] as PurchaseOrderStatus
  if (distinct.size === 1) return top
  return top === 'PLACED' ? 'PLACED' : `PARTIALLY_${top}`
}

export const MASTER_ORDER_STATUSES = [
  'PLACED', 'CONFIRMED', 'SHIPPED', 'RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED', 'CANCELLED',
  'PARTIALLY_CONFIRMED', 'PARTIALLY_SHIPPED', 'PARTIALLY_RECEIVED', 'PARTIALLY_CLOSED', 'PARTIALLY_INVOICED', 'PARTIALLY_ARCHIVED'
] as const
export type MasterOrderStatus = typeof MASTER_ORDER_STATUSES[number]
