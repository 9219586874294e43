// Table types of migration 0004 (carts, orders, stock).
import type { ColumnType, Generated } from 'kysely'

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>
type Decimal = ColumnType<string, string, string>
type NullableDecimal = ColumnType<string | null, string | null | undefined, string | null>

export type PurchaseOrderStatus = 'PLACED' | 'CONFIRMED' | 'DECLINED' | 'SHIPPED' | 'RECEIVED' | 'CLOSED' | 'INVOICED' | 'ARCHIVED' | 'CANCELLED'
export type PriceSource = 'CONTRACT' | 'CATALOG'
export type StockReason = 'PO_RECEIPT' | 'TRANSFER_OUT' | 'TRANSFER_IN' | 'ADJUSTMENT' | 'COUNT' | 'CONSUMPTION'

export interface CartsTable {
  id: Generated<string>
  stationId: string
  status: Generated<'OPEN' | 'CHECKED_OUT'>
  masterOrderId: string | null
  createdBy: string | null
  checkedOutAt: Date | null
  version: Generated<number>
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface CartLinesTable {
  id: Generated<string>
  cartId: string
  stationId: string
  articleId: string
  supplierId: string
  packs: number
  desiredDeliveryDate: string
  note: string | null
  createdAt: Timestamp
  updatedAt: Timestamp
}

interface Totals {
  supplierNet: Decimal
  supplierVat: Decimal
  supplierGross: Decimal
  stationNet: Decimal
  stationVat: Decimal
  stationGross: Decimal
}

export interface MasterOrdersTable extends Totals {
  id: Generated<string>
  number: string
  stationId: string
  cartId: string
  status: Generated<string>
  supplierCount: number
  currency: Generated<string>
  createdBy: string | null
  version: Generated<number>
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface PurchaseOrdersTable extends Totals {
  id: Generated<string>
  number: string
  masterOrderId: string
  stationId: string
  supplierId: string
  status: Generated<PurchaseOrderStatus>
  invoicedSupplierNet: NullableDecimal
  invoicedSupplierVat: NullableDecimal
  invoicedSupplierGross: NullableDecimal
  invoicedStationNet: NullableDecimal
  invoicedStationVat: NullableDecimal
  invoicedStationGross: NullableDecimal
  currency: Generated<string>
  carrier: string | null
  trackingNo: string | null
  deliveryNoteDocId: string | null
  signedNoteDocId: string | null
  invoiceNumber: string | null
  invoiceDate: string | null
  confirmedAt: Date | null
  shippedAt: Date | null
  receivedAt: Date | null
  closedAt: Date | null
  invoicedAt: Date | null
  archivedAt: Date | null
  cancelledAt: Date | null
  statusReason: string | null
  createdBy: string | null
  version: Generated<number>
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface PurchaseOrderLinesTable {
  id: Generated<string>
  purchaseOrderId: string
  lineNo: number
  stationId: string
  supplierId: string
  articleId: string
  contractLineId: string | null
  articleCode: string
  articleName: string
  supplierRef: string
  packLabel: string
  unitsPerPack: number
  supplierPackPrice: Decimal
  feePct: Decimal
  stationPackPrice: Decimal
  vatRate: Decimal
  priceSource: PriceSource
  packsOrdered: number
  supplierLineNet: Decimal
  stationLineNet: Decimal
  desiredDeliveryDate: string
  confirmedDeliveryDate: string | null
  packsReceived: number | null
  discrepancy: string | null
}

export interface PurchaseOrderEventsTable {
  id: Generated<number>
  purchaseOrderId: string
  fromStatus: string | null
  toStatus: string
  actorUserId: string | null
  actorRole: string | null
  at: Timestamp
  note: string | null
}

export interface StockLevelsTable {
  stationId: string
  articleId: string
  quantity: Generated<number>
  alertThreshold: Generated<number>
  criticalThreshold: Generated<number>
  version: Generated<number>
  updatedAt: Timestamp
}

export interface StockMovementsTable {
  id: Generated<number>
  stationId: string
  articleId: string
  delta: number
  reason: StockReason
  refType: string | null
  refId: string | null
  actorUserId: string | null
  at: Timestamp
}

export interface OrderingTables {
  carts: CartsTable
  cartLines: CartLinesTable
  masterOrders: MasterOrdersTable
  purchaseOrders: PurchaseOrdersTable
  purchaseOrderLines: PurchaseOrderLinesTable
  purchaseOrderEvents: PurchaseOrderEventsTable
  stockLevels: StockLevelsTable
  stockMovements: StockMovementsTable
}
