// Response and input schemas of master and purchase orders. Prices follow PRODUCT.md §2.2: one view
// per audience, and a field a party may not see is absent from its schema. Every view requires its
// distinguishing totals (`totals` for the station side, `supplierTotals` for the supplier side) so
// the union the route declares resolves unambiguously when a stored idempotent response is replayed.
import { Type, type Static } from '@sinclair/typebox'
import { Amount, Count, DateString, DateTime, Int32, Int64, NonEmpty, Nullable, Percent, StringEnum, Text, UnitPrice, Uuid, Version } from '../../lib/schemas.js'
import { ROLES } from '../../lib/permissions.js'
import { MASTER_ORDER_STATUSES } from './master-status.js'

/** The most lines a purchase order has: a cart holds at most this many (carts.service), and confirm and receive list every line. */
export const MAX_ORDER_LINES = 500

export const PO_STATUSES = ['PLACED', 'CONFIRMED', 'DECLINED', 'SHIPPED', 'RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED', 'CANCELLED'] as const
export const PurchaseOrderStatusSchema = StringEnum(PO_STATUSES)
export const MasterOrderStatusSchema = StringEnum(MASTER_ORDER_STATUSES)

export const TotalsSchema = Type.Object({
  net: Amount(),
  vat: Amount(),
  gross: Amount(),
  currency: Type.String({ minLength: 3, maxLength: 3, pattern: '^[A-Z]{3}$', examples: ['EUR'] })
}, { additionalProperties: false })

// ---- purchase-order lines --------------------------------------------------------------------

const lineBase = {
  id: Uuid(),
  lineNo: Int32({ minimum: 1, maximum: MAX_ORDER_LINES }),
  articleId: Uuid(),
  articleCode: Text(64),
  articleName: Text(200),
  supplierRef: Text(64),
  packLabel: Text(100),
  unitsPerPack: Int32({ minimum: 1, maximum: 1_000_000 }),
  vatRate: Percent(),
  priceSource: StringEnum(['CONTRACT', 'CATALOG']),
  packs: Int32({ minimum: 1, maximum: 1_000_000, description: 'Packs ordered' }),
  desiredDeliveryDate: DateString(),
  confirmedDeliveryDate: Nullable(DateString()),
  packsReceived: Nullable(Count({ maximum: 1_000_000 })),
  discrepancy: Nullable(Text(1000))
}
const stationLinePrices = {
  stationPackPrice: UnitPrice({ description: 'Frozen station price per pack' }),
  lineNet: Amount({ description: 'Station-side line net' })
}
const supplierLinePrices = {
  supplierPackPrice: UnitPrice({ description: 'Frozen supplier price per pack' }),
  supplierLineNet: Amount({ description: 'Supplier-side line net' }),
  contractLineId: Nullable(Uuid())
}

export const PurchaseOrderLinePlatform = Type.Object({ ...lineBase, ...stationLinePrices, ...supplierLinePrices, feePct: Percent() }, { $id: 'PurchaseOrderLinePlatform', description: 'A purchase-order line as platform staff see it: both prices and the fee' })
export const PurchaseOrderLineSupplier = Type.Object({ ...lineBase, ...supplierLinePrices }, { $id: 'PurchaseOrderLineSupplier', description: 'A purchase-order line as its supplier sees it' })
export const PurchaseOrderLineStation = Type.Object({ ...lineBase, ...stationLinePrices }, { $id: 'PurchaseOrderLineStation', description: 'A purchase-order line as its station sees it' })

// ---- purchase orders -------------------------------------------------------------------------

const poBase = {
  id: Uuid(),
  number: Text(32, { examples: ['PO-2026-000001'] }),
  stationId: Uuid(),
  supplierId: Uuid(),
  status: PurchaseOrderStatusSchema,
  currency: Text(3, { pattern: '^[A-Z]{3}$', examples: ['EUR'] }),
  carrier: Nullable(Text(200)),
  trackingNumber: Nullable(Text(200)),
  deliveryNoteDocumentId: Nullable(Uuid()),
  signedDeliveryNoteDocumentId: Nullable(Uuid()),
  invoiceNumber: Nullable(Text(100)),
  invoiceDate: Nullable(DateString()),
  statusReason: Nullable(Text(1000)),
  createdAt: DateTime(),
  confirmedAt: Nullable(DateTime()),
  shippedAt: Nullable(DateTime()),
  receivedAt: Nullable(DateTime()),
  closedAt: Nullable(DateTime()),
  invoicedAt: Nullable(DateTime()),
  archivedAt: Nullable(DateTime()),
  cancelledAt: Nullable(DateTime()),
  updatedAt: DateTime(),
  version: Version()
}
const stationPoPrices = {
  totals: TotalsSchema,
  invoicedTotals: Nullable(TotalsSchema, { description: 'Station-side invoice amounts, on received packs' })
}
const supplierPoPrices = {
  supplierTotals: TotalsSchema,
  invoicedSupplierTotals: Nullable(TotalsSchema, { description: 'Supplier-side invoice amounts, on received packs' })
}

export const PurchaseOrderPlatform = Type.Object({
  ...poBase,
  masterOrderId: Uuid(),
  ...stationPoPrices,
  ...supplierPoPrices,
  marginNet: Amount({ description: 'Station net − supplier net (platform only)' }),
  lines: Type.Optional(Type.Array(Type.Ref(PurchaseOrderLinePlatform), { maxItems: MAX_ORDER_LINES, description: 'Always on single reads; in lists only with include=lines' }))
}, { $id: 'PurchaseOrderPlatform', description: 'A purchase order as platform staff see it: both sides of the prices and the margin' })
export const PurchaseOrderSupplier = Type.Object({
  ...poBase,
  ...supplierPoPrices,
  lines: Type.Optional(Type.Array(Type.Ref(PurchaseOrderLineSupplier), { maxItems: MAX_ORDER_LINES, description: 'Always on single reads; in lists only with include=lines' }))
}, { $id: 'PurchaseOrderSupplier', description: 'A purchase order as its supplier sees it: supplier prices only, no master order' })
export const PurchaseOrderStation = Type.Object({
  ...poBase,
  masterOrderId: Uuid(),
  ...stationPoPrices,
  lines: Type.Optional(Type.Array(Type.Ref(PurchaseOrderLineStation), { maxItems: MAX_ORDER_LINES, description: 'Always on single reads; in lists only with include=lines' }))
}, { $id: 'PurchaseOrderStation', description: 'A purchase order as its station sees it: station prices only' })

// ---- master orders ---------------------------------------------------------------------------

const moBase = {
  id: Uuid(),
  number: Text(32, { examples: ['MO-2026-000001'] }),
  stationId: Uuid(),
  cartId: Uuid(),
  status: MasterOrderStatusSchema,
  supplierCount: Int32({ minimum: 1, maximum: MAX_ORDER_LINES }),
  createdAt: DateTime(),
  updatedAt: DateTime(),
  version: Version()
}

export const MasterOrderPlatform = Type.Object({ ...moBase, totals: TotalsSchema, supplierTotals: TotalsSchema, marginNet: Amount() }, { $id: 'MasterOrderPlatform', description: 'A master order as platform staff see it' })
export const MasterOrderStation = Type.Object({ ...moBase, totals: TotalsSchema }, { $id: 'MasterOrderStation', description: 'A master order as its station sees it' })
export const MasterOrderDetailPlatform = Type.Object({
  ...moBase,
  totals: TotalsSchema,
  supplierTotals: TotalsSchema,
  marginNet: Amount(),
  purchaseOrders: Type.Array(Type.Ref(PurchaseOrderPlatform), { maxItems: MAX_ORDER_LINES, description: 'One per supplier' })
}, { $id: 'MasterOrderDetailPlatform', description: 'A master order with its purchase orders, as platform staff see it' })
export const MasterOrderDetailStation = Type.Object({
  ...moBase,
  totals: TotalsSchema,
  purchaseOrders: Type.Array(Type.Ref(PurchaseOrderStation), { maxItems: MAX_ORDER_LINES, description: 'One per supplier' })
}, { $id: 'MasterOrderDetailStation', description: 'A master order with its purchase orders, as its station sees it' })

export const PurchaseOrderEventSchema = Type.Object({
  id: Int64(),
  fromStatus: Nullable(PurchaseOrderStatusSchema),
  toStatus: PurchaseOrderStatusSchema,
  actorUserId: Nullable(Uuid()),
  actorRole: Nullable(StringEnum(ROLES)),
  at: DateTime(),
  note: Nullable(Text(2000))
}, { $id: 'PurchaseOrderEvent', description: 'A step of a purchase order\'s status history' })

/** shared schemas the views reference (registered on the app, passed to the serializers) */
export const orderRefs = [PurchaseOrderLinePlatform, PurchaseOrderLineSupplier, PurchaseOrderLineStation, PurchaseOrderPlatform, PurchaseOrderSupplier, PurchaseOrderStation]

// ---- inputs ----------------------------------------------------------------------------------

export const ListPurchaseOrdersQuery = Type.Object({
  status: Type.Optional(PurchaseOrderStatusSchema),
  stationId: Type.Optional(Uuid()),
  supplierId: Type.Optional(Uuid()),
  from: Type.Optional(DateString({ description: 'Created on or after this date (UTC)' })),
  to: Type.Optional(DateString({ description: 'Created on or before this date (UTC)' })),
  limit: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 200, default: 50, description: 'Page size (max 200)' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: "Opaque cursor from the previous page's nextCursor" })),
  include: Type.Optional(Type.Literal('lines', { description: 'Embed every PO\'s lines (loaded for the whole page in one query). Without it the list carries headers and totals only, which keeps pages small and fast.' }))
}, { additionalProperties: false })
export type ListPurchaseOrdersInput = Static<typeof ListPurchaseOrdersQuery>

export const ListMasterOrdersQuery = Type.Object({
  status: Type.Optional(MasterOrderStatusSchema),
  stationId: Type.Optional(Uuid()),
  from: Type.Optional(DateString({ description: 'Created on or after this date (UTC)' })),
  to: Type.Optional(DateString({ description: 'Created on or before this date (UTC)' })),
  limit: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 200, default: 50, description: 'Page size (max 200)' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: "Opaque cursor from the previous page's nextCursor" }))
}, { additionalProperties: false })
export type ListMasterOrdersInput = Static<typeof ListMasterOrdersQuery>

export const EventsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 200, default: 50, description: 'Page size (max 200)' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: "Opaque cursor from the previous page's nextCursor" }))
}, { additionalProperties: false })

export const ConfirmBody = Type.Object({
  lines: Type.Array(Type.Object({
    lineId: Uuid(),
    confirmedDeliveryDate: DateString()
  }, { additionalProperties: false }), { minItems: 1, maxItems: MAX_ORDER_LINES, description: 'Every line of the order, exactly once' })
}, { additionalProperties: false, examples: [{ lines: [{ lineId: '0193a5f0-0000-7000-8000-000000000001', confirmedDeliveryDate: '2099-12-14' }] }] })
export type ConfirmInput = Static<typeof ConfirmBody>

export const ReasonBody = Type.Object({
  reason: NonEmpty(1000)
}, { additionalProperties: false, examples: [{ reason: 'Out of stock until January' }] })
export type ReasonInput = Static<typeof ReasonBody>

export const ShipBody = Type.Object({
  carrier: NonEmpty(200),
  trackingNumber: NonEmpty(200),
  deliveryNoteDocumentId: Uuid()
}, { additionalProperties: false, examples: [{ carrier: 'Geodis', trackingNumber: 'GEO-123456', deliveryNoteDocumentId: '0193a5f0-0000-7000-8000-00000000d001' }] })
export type ShipInput = Static<typeof ShipBody>

export const ReceiveBody = Type.Object({
  signedDeliveryNoteDocumentId: Uuid(),
  lines: Type.Array(Type.Object({
    lineId: Uuid(),
    packsReceived: Type.Integer({ format: 'int32', minimum: 0, maximum: 1_000_000 }),
    discrepancy: Type.Optional(Type.Union([Text(1000), Type.Null()]))
  }, { additionalProperties: false }), { minItems: 1, maxItems: MAX_ORDER_LINES, description: 'Every line of the order, exactly once' })
}, { additionalProperties: false, examples: [{ signedDeliveryNoteDocumentId: '0193a5f0-0000-7000-8000-00000000d002', lines: [{ lineId: '0193a5f0-0000-7000-8000-000000000001', packsReceived: 10, discrepancy: null }] }] })
export type ReceiveInput = Static<typeof ReceiveBody>

export const InvoiceBody = Type.Object({
  invoiceNumber: NonEmpty(100),
  invoiceDate: DateString()
}, { additionalProperties: false, examples: [{ invoiceNumber: 'FA-2026-0042', invoiceDate: '2026-12-20' }] })
export type InvoiceInput = Static<typeof InvoiceBody>

export const EmptyBody = Type.Object({}, { additionalProperties: false, examples: [{}] })
export type EmptyInput = Static<typeof EmptyBody>
