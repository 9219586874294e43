// PRODUCT.md §5.4, table-driven: the master status is derived from the children's statuses.
import { describe, expect, it } from 'vitest'
import { deriveMasterStatus } from '../../../src/domains/orders/master-status.js'
import type { PurchaseOrderStatus } from '../../../src/db/schema.js'

const cases: Array<[PurchaseOrderStatus[], string]> = [
  [['PLACED'], 'PLACED'],
  [['PLACED', 'PLACED', 'PLACED'], 'PLACED'],
  [['CONFIRMED', 'CONFIRMED'], 'CONFIRMED'],
  [['PLACED', 'CONFIRMED'], 'PARTIALLY_CONFIRMED'],
  [['PLACED', 'SHIPPED', 'CONFIRMED'], 'PARTIALLY_SHIPPED'],
  [['SHIPPED', 'SHIPPED'], 'SHIPPED'],
  [['SHIPPED', 'RECEIVED'], 'PARTIALLY_RECEIVED'],
  [['RECEIVED', 'RECEIVED', 'RECEIVED'], 'RECEIVED'],
  [['RECEIVED', 'CLOSED'], 'PARTIALLY_CLOSED'],
  [['CLOSED'], 'CLOSED'],
  [['CLOSED', 'INVOICED'], 'PARTIALLY_INVOICED'],
  [['INVOICED', 'INVOICED'], 'INVOICED'],
  [['INVOICED', 'ARCHIVED'], 'PARTIALLY_ARCHIVED'],
  [['ARCHIVED', 'ARCHIVED'], 'ARCHIVED'],
  [['PLACED', 'ARCHIVED'], 'PARTIALLY_ARCHIVED'],
  // cancelled and declined children are ignored…
  [['CANCELLED', 'PLACED'], 'PLACED'],
  [['DECLINED', 'CONFIRMED'], 'CONFIRMED'],
  [['CANCELLED', 'SHIPPED', 'SHIPPED'], 'SHIPPED'],
  [['DECLINED', 'CANCELLED', 'RECEIVED', 'CLOSED'], 'PARTIALLY_CLOSED'],
  [['CANCELLED', 'ARCHIVED'], 'ARCHIVED'],
  // …unless every child is one of them
  [['CANCELLED'], 'CANCELLED'],
  [['DECLINED'], 'CANCELLED'],
  [['CANCELLED', 'DECLINED', 'CANCELLED'], 'CANCELLED']
]

describe('deriveMasterStatus', () => {
  it.each(cases)('%j → %s', (children, expected) => {
    expect(deriveMasterStatus(children)).toBe(expected)
  })

  it('does not depend on the order of the children', () => {
    for (const [children, expected] of cases) expect(deriveMasterStatus([...children].reverse())).toBe(expected)
  })
})
