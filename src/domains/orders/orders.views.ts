// The object views of orders: their types, derived from the response schemas (orders.schemas.ts),
// and the mappers from database rows to them. An object view carries every field of every audience
// (the platform view's fields); the route's per-audience serializer (views.ts) keeps what the
// caller may see. Mutations, checkout and master-order reads answer through these objects; the hot
// purchase-order reads are written as JSON by PostgreSQL instead (orders.sql.ts).
import type { Selectable } from 'kysely'
import type { Static } from '@sinclair/typebox'
import type { MasterOrders } from '../../db/types.generated.js'
import { fromScaled, toScaled } from '../../lib/money.js'
import type { MasterOrderStatus } from './master-status.js'
import type { MasterOrderDetailPlatform, MasterOrderPlatform, PurchaseOrderLinePlatform, PurchaseOrderPlatform, TotalsSchema } from './orders.schemas.js'

export type TotalsView = Static<typeof TotalsSchema>
/** A purchase-order line with both price sides (the serializers keep the caller's). */
export type PurchaseOrderLineView = Static<typeof PurchaseOrderLinePlatform>
/** A purchase order with both price sides; `lines` always on single reads and mutations. */
export type PurchaseOrderView = Static<typeof PurchaseOrderPlatform>
/** A master order with its purchase orders (detail read, checkout). */
export type MasterOrderView = Static<typeof MasterOrderDetailPlatform>
/** A master order as a list item: no purchase orders. */
export type MasterOrderListItem = Static<typeof MasterOrderPlatform>

/** Station net − supplier net, 2 decimals. */
export const margin = (stationNet: string, supplierNet: string): string => fromScaled(toScaled(stationNet, 2) - toScaled(supplierNet, 2), 2)

const totals = (net: string, vat: string, gross: string, currency: string): TotalsView => ({ net, vat, gross, currency })

// ---- purchase orders -------------------------------------------------------------------------

/** The amounts of a PO row, one column per side and total (the view nests them in totals objects). */
interface PoAmounts {
  supplierNet: string
  supplierVat: string
  supplierGross: string
  stationNet: string
  stationVat: string
  stationGross: string
  invoicedSupplierNet: string | null
  invoicedSupplierVat: string | null
  invoicedSupplierGross: string | null
  invoicedStationNet: string | null
  invoicedStationVat: string | null
  invoicedStationGross: string | null
}

/**
 * A purchase-order row as the reads return it (orders.sql.ts, PO_SELECT): the view's fields under
 * their keys, timestamps already RFC 3339 text, the margin computed by PostgreSQL, the amounts as
 * flat columns and — when asked for — the lines as JSON in the line view's shape.
 */
export type PoRow = Omit<PurchaseOrderView, 'totals' | 'supplierTotals' | 'invoicedTotals' | 'invoicedSupplierTotals'> & PoAmounts

/** A purchase_order_lines row as read: the line view's fields under their column names. */
export type LineRow = Omit<PurchaseOrderLineView, 'packs' | 'lineNet'> & { purchaseOrderId: string, packsOrdered: number, stationLineNet: string }

export function poView (r: PoRow, lines: PurchaseOrderLineView[] | undefined): PurchaseOrderView {
  const currency = r.currency
  return {
    id: r.id,
    number: r.number,
    masterOrderId: r.masterOrderId,
    stationId: r.stationId,
    supplierId: r.supplierId,
    status: r.status,
    currency,
    totals: { net: r.stationNet, vat: r.stationVat, gross: r.stationGross, currency },
    supplierTotals: { net: r.supplierNet, vat: r.supplierVat, gross: r.supplierGross, currency },
    marginNet: r.marginNet,
    invoicedTotals: r.invoicedStationNet !== null && r.invoicedStationVat !== null && r.invoicedStationGross !== null
      ? { net: r.invoicedStationNet, vat: r.invoicedStationVat, gross: r.invoicedStationGross, currency }
      : null,
    invoicedSupplierTotals: r.invoicedSupplierNet !== null && r.invoicedSupplierVat !== null && r.invoicedSupplierGross !== null
      ? { net: r.invoicedSupplierNet, vat: r.invoicedSupplierVat, gross: r.invoicedSupplierGross, currency }
      : null,
    carrier: r.carrier,
    trackingNumber: r.trackingNumber,
    deliveryNoteDocumentId: r.deliveryNoteDocumentId,
    signedDeliveryNoteDocumentId: r.signedDeliveryNoteDocumentId,
    invoiceNumber: r.invoiceNumber,
    invoiceDate: r.invoiceDate,
    statusReason: r.statusReason,
    createdAt: r.createdAt,
    confirmedAt: r.confirmedAt,
    shippedAt: r.shippedAt,
    receivedAt: r.receivedAt,
    closedAt: r.closedAt,
    invoicedAt: r.invoicedAt,
    archivedAt: r.archivedAt,
    cancelledAt: r.cancelledAt,
    updatedAt: r.updatedAt,
    version: r.version,
    // one object shape whether or not lines are embedded; the serializers skip undefined
    lines
  }
}

// ---- master orders ---------------------------------------------------------------------------

export const MO_COLUMNS = ['id', 'number', 'stationId', 'cartId', 'status', 'supplierCount', 'currency', 'supplierNet', 'supplierVat', 'supplierGross', 'stationNet', 'stationVat', 'stationGross', 'createdAt', 'updatedAt', 'version'] as const

/** A master_orders row as read (MO_COLUMNS); the status is one of MASTER_ORDER_STATUSES (checkout and deriveMasterStatus write it). */
export type MoRow = Omit<Pick<Selectable<MasterOrders>, typeof MO_COLUMNS[number]>, 'status'> & { status: MasterOrderStatus }

export function moView (r: MoRow): MasterOrderListItem {
  return {
    id: r.id,
    number: r.number,
    stationId: r.stationId,
    cartId: r.cartId,
    status: r.status,
    supplierCount: r.supplierCount,
    totals: totals(r.stationNet, r.stationVat, r.stationGross, r.currency),
    supplierTotals: totals(r.supplierNet, r.supplierVat, r.supplierGross, r.currency),
    marginNet: margin(r.stationNet, r.supplierNet),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    version: r.version
  }
}
