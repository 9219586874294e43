// Response and input schemas of master and purchase orders. Prices follow PRODUCT.md §2.2: one view
// per audience, and a field a party may not see is absent from its schema. Every view requires its
// distinguishing totals (`totals` for the station side, `supplierTotals` for the supplier side) so
// the union the route declares resolves unambiguously when a stored idempotent response is replayed.
import { Type, type Static } from '@sinclair/typebox'
import { Amount, DateString, DateTime, NonEmpty, Percent, Text, UnitPrice, Uuid } from '../../lib/schemas.js'
import { MASTER_ORDER_STATUSES } from './master-status.js'

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])

export const PO_STATUSES = ['PLACED', 'CONFIRMED', 'DECLINED', 'SHIPPED', 'RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED', 'CANCELLED'] as const
export const PurchaseOrderStatusSchema = Type.Union(PO_STATUSES.map(s => Type.Literal(s)))
export const MasterOrderStatusSchema = Type.Union(MASTER_ORDER_STATUSES.map(s => Type.Literal(s)))

export const TotalsSchema = Type.Object({
  net: Amount(),
  vat: Amount(),
  gross: Amount(),
  currency: Type.String({ minLength: 3, maxLength: 3, examples: ['EUR'] })
}, { additionalProperties: false })

// ---- purchase-order lines --------------------------------------------------------------------

const lineBase = {
  id: Uuid(),
  lineNo: Type.Integer({ minimum: 1 }),
  articleId: Uuid(),
  articleCode: Type.String(),
  articleName: Type.String(),
  supplierRef: Type.String(),
  packLabel: Type.String(),
  unitsPerPack: Type.Integer({ minimum: 1 }),
  vatRate: Percent(),
  priceSource: Type.Union([Type.Literal('CONTRACT'), Type.Literal('CATALOG')]),
  packs: Type.Integer({ minimum: 1, description: 'Packs ordered' }),
  desiredDeliveryDate: DateString(),
  confirmedDeliveryDate: Type.Union([DateString(), Type.Null()]),
  packsReceived: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  discrepancy: Type.Union([Type.String(), Type.Null()])
}
const stationLinePrices = {
  stationPackPrice: UnitPrice({ description: 'Frozen station price per pack' }),
  lineNet: Amount({ description: 'Station-side line net' })
}
const supplierLinePrices = {
  supplierPackPrice: UnitPrice({ description: 'Frozen supplier price per pack' }),
  supplierLineNet: Amount({ description: 'Supplier-side line net' }),
  contractLineId: Type.Union([Uuid(), Type.Null()])
}

export const PurchaseOrderLinePlatform = Type.Object({ ...lineBase, ...stationLinePrices, ...supplierLinePrices, feePct: Percent() }, { $id: 'PurchaseOrderLinePlatform' })
export const PurchaseOrderLineSupplier = Type.Object({ ...lineBase, ...supplierLinePrices }, { $id: 'PurchaseOrderLineSupplier' })
export const PurchaseOrderLineStation = Type.Object({ ...lineBase, ...stationLinePrices }, { $id: 'PurchaseOrderLineStation' })

// ---- purchase orders -------------------------------------------------------------------------

const poBase = {
  id: Uuid(),
  number: Type.String({ examples: ['PO-2026-000001'] }),
  stationId: Uuid(),
  supplierId: Uuid(),
  status: PurchaseOrderStatusSchema,
  currency: Type.String({ examples: ['EUR'] }),
  carrier: Nullable(Type.String()),
  trackingNumber: Nullable(Type.String()),
  deliveryNoteDocumentId: Type.Union([Uuid(), Type.Null()]),
  signedDeliveryNoteDocumentId: Type.Union([Uuid(), Type.Null()]),
  invoiceNumber: Nullable(Type.String()),
  invoiceDate: Type.Union([DateString(), Type.Null()]),
  statusReason: Nullable(Type.String()),
  createdAt: DateTime(),
  confirmedAt: Type.Union([DateTime(), Type.Null()]),
  shippedAt: Type.Union([DateTime(), Type.Null()]),
  receivedAt: Type.Union([DateTime(), Type.Null()]),
  closedAt: Type.Union([DateTime(), Type.Null()]),
  invoicedAt: Type.Union([DateTime(), Type.Null()]),
  archivedAt: Type.Union([DateTime(), Type.Null()]),
  cancelledAt: Type.Union([DateTime(), Type.Null()]),
  updatedAt: DateTime(),
  version: Type.Integer()
}
const stationPoPrices = {
  totals: TotalsSchema,
  invoicedTotals: Type.Union([TotalsSchema, Type.Null()], { description: 'Station-side invoice amounts, on received packs' })
}
const supplierPoPrices = {
  supplierTotals: TotalsSchema,
  invoicedSupplierTotals: Type.Union([TotalsSchema, Type.Null()], { description: 'Supplier-side invoice amounts, on received packs' })
}

export const PurchaseOrderPlatform = Type.Object({
  ...poBase,
  masterOrderId: Uuid(),
  ...stationPoPrices,
  ...supplierPoPrices,
  marginNet: Amount({ description: 'Station net − supplier net (platform only)' }),
  lines: Type.Optional(Type.Array(Type.Ref(PurchaseOrderLinePlatform), { description: 'Always on single reads; in lists only with include=lines' }))
}, { $id: 'PurchaseOrderPlatform' })
export const PurchaseOrderSupplier = Type.Object({
  ...poBase,
  ...supplierPoPrices,
  lines: Type.Optional(Type.Array(Type.Ref(PurchaseOrderLineSupplier), { description: 'Always on single reads; in lists only with include=lines' }))
}, { $id: 'PurchaseOrderSupplier', description: 'A purchase order as its supplier sees it: supplier prices only, no master order' })
export const PurchaseOrderStation = Type.Object({
  ...poBase,
  masterOrderId: Uuid(),
  ...stationPoPrices,
  lines: Type.Optional(Type.Array(Type.Ref(PurchaseOrderLineStation), { description: 'Always on single reads; in lists only with include=lines' }))
}, { $id: 'PurchaseOrderStation', description: 'A purchase order as its station sees it: station prices only' })

// ---- master orders ---------------------------------------------------------------------------

const moBase = {
  id: Uuid(),
  number: Type.String({ examples: ['MO-2026-000001'] }),
  stationId: Uuid(),
  cartId: Uuid(),
  status: MasterOrderStatusSchema,
  supplierCount: Type.Integer({ minimum: 1 }),
  createdAt: DateTime(),
  updatedAt: DateTime(),
  version: Type.Integer()
}

export const MasterOrderPlatform = Type.Object({ ...moBase, totals: TotalsSchema, supplierTotals: TotalsSchema, marginNet: Amount() }, { $id: 'MasterOrderPlatform' })
export const MasterOrderStation = Type.Object({ ...moBase, totals: TotalsSchema }, { $id: 'MasterOrderStation' })
export const MasterOrderDetailPlatform = Type.Object({
  ...moBase,
  totals: TotalsSchema,
  supplierTotals: TotalsSchema,
  marginNet: Amount(),
  purchaseOrders: Type.Array(Type.Ref(PurchaseOrderPlatform))
}, { $id: 'MasterOrderDetailPlatform' })
export const MasterOrderDetailStation = Type.Object({
  ...moBase,
  totals: TotalsSchema,
  purchaseOrders: Type.Array(Type.Ref(PurchaseOrderStation))
}, { $id: 'MasterOrderDetailStation' })

export const PurchaseOrderEventSchema = Type.Object({
  id: Type.Integer(),
  fromStatus: Type.Union([PurchaseOrderStatusSchema, Type.Null()]),
  toStatus: PurchaseOrderStatusSchema,
  actorUserId: Type.Union([Uuid(), Type.Null()]),
  actorRole: Nullable(Type.String()),
  at: DateTime(),
  note: Nullable(Type.String())
}, { $id: 'PurchaseOrderEvent' })

/** shared schemas the views reference (registered on the app, passed to the serializers) */
export const orderRefs = [PurchaseOrderLinePlatform, PurchaseOrderLineSupplier, PurchaseOrderLineStation, PurchaseOrderPlatform, PurchaseOrderSupplier, PurchaseOrderStation]

// ---- inputs ----------------------------------------------------------------------------------

export const ListPurchaseOrdersQuery = Type.Object({
  status: Type.Optional(PurchaseOrderStatusSchema),
  stationId: Type.Optional(Uuid()),
  supplierId: Type.Optional(Uuid()),
  from: Type.Optional(DateString({ description: 'Created on or after this date (UTC)' })),
  to: Type.Optional(DateString({ description: 'Created on or before this date (UTC)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Page size (max 200)' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: "Opaque cursor from the previous page's nextCursor" })),
  include: Type.Optional(Type.Literal('lines', { description: 'Embed every PO\'s lines (loaded for the whole page in one query). Without it the list carries headers and totals only, which keeps pages small and fast.' }))
}, { additionalProperties: false })
export type ListPurchaseOrdersInput = Static<typeof ListPurchaseOrdersQuery>

export const ListMasterOrdersQuery = Type.Object({
  status: Type.Optional(MasterOrderStatusSchema),
  stationId: Type.Optional(Uuid()),
  from: Type.Optional(DateString({ description: 'Created on or after this date (UTC)' })),
  to: Type.Optional(DateString({ description: 'Created on or before this date (UTC)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Page size (max 200)' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: "Opaque cursor from the previous page's nextCursor" }))
}, { additionalProperties: false })
export type ListMasterOrdersInput = Static<typeof ListMasterOrdersQuery>

export const EventsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Page size (max 200)' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: "Opaque cursor from the previous page's nextCursor" }))
}, { additionalProperties: false })

export const ConfirmBody = Type.Object({
  lines: Type.Array(Type.Object({
    lineId: Uuid(),
    confirmedDeliveryDate: DateString()
  }, { additionalProperties: false }), { minItems: 1, maxItems: 500, description: 'Every line of the order, exactly once' })
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
    packsReceived: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    discrepancy: Type.Optional(Type.Union([Text(1000), Type.Null()]))
  }, { additionalProperties: false }), { minItems: 1, maxItems: 500, description: 'Every line of the order, exactly once' })
}, { additionalProperties: false, examples: [{ signedDeliveryNoteDocumentId: '0193a5f0-0000-7000-8000-00000000d002', lines: [{ lineId: '0193a5f0-0000-7000-8000-000000000001', packsReceived: 10, discrepancy: null }] }] })
export type ReceiveInput = Static<typeof ReceiveBody>

export const InvoiceBody = Type.Object({
  invoiceNumber: NonEmpty(100),
  invoiceDate: DateString()
}, { additionalProperties: false, examples: [{ invoiceNumber: 'FA-2026-0042', invoiceDate: '2026-12-20' }] })
export type InvoiceInput = Static<typeof InvoiceBody>

export const EmptyBody = Type.Object({}, { additionalProperties: false, examples: [{}] })
export type EmptyInput = Static<typeof EmptyBody>
