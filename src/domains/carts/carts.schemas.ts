// Cart schemas. The quote shows the station price to a station and both sides to platform staff
// (PRODUCT.md §2.2); suppliers never reach a cart (RBAC). Each view requires its distinguishing
// totals so a replayed idempotent response resolves to the right view.
import { Type, type Static } from '@sinclair/typebox'
import { Amount, DateString, DateTime, Int32, Nullable, Percent, StringEnum, Text, UnitPrice, Uuid, Version } from '../../lib/schemas.js'
import { MAX_ORDER_LINES, TotalsSchema } from '../orders/orders.schemas.js'

/** A cart holds at most this many lines: each becomes a purchase-order line, and confirm and receive list every line. */
export const MAX_CART_LINES = MAX_ORDER_LINES

export const CartProblemSchema = Type.Object({
  code: Type.String({ maxLength: 64, pattern: '^[A-Z][A-Z0-9_]*$', examples: ['BELOW_MOQ'] }),
  detail: Text(2000),
  pointer: Text(64, { description: 'Field of the line the problem is about, e.g. /packs' })
}, { additionalProperties: false })

const lineBase = {
  id: Uuid(),
  articleId: Uuid(),
  supplierId: Uuid(),
  packs: Int32({ minimum: 1, maximum: 1_000_000 }),
  desiredDeliveryDate: DateString(),
  note: Nullable(Text(1000)),
  articleCode: Nullable(Text(64)),
  articleName: Nullable(Text(200)),
  packLabel: Nullable(Text(100)),
  unitsPerPack: Nullable(Int32({ minimum: 1, maximum: 1_000_000 })),
  vatRate: Nullable(Percent()),
  priceSource: Nullable(StringEnum(['CONTRACT', 'CATALOG']), { description: 'null when no price applies (NO_CONTRACT_PRICE)' }),
  stationPackPrice: Nullable(UnitPrice()),
  lineNet: Nullable(Amount(), { description: 'Station-side line net at the current price' }),
  problems: Type.Array(CartProblemSchema, { maxItems: 20, description: 'What would make checkout refuse this line; empty when it is fine' })
}

export const CartLinePlatform = Type.Object({
  ...lineBase,
  supplierPackPrice: Nullable(UnitPrice()),
  supplierLineNet: Nullable(Amount()),
  feePct: Nullable(Percent())
}, { $id: 'CartLinePlatform', description: 'A cart line as platform staff see it: both prices and the fee' })
export const CartLineStation = Type.Object(lineBase, { $id: 'CartLineStation', description: 'A cart line as the station sees it' })

const cartBase = {
  id: Uuid(),
  stationId: Uuid(),
  status: StringEnum(['OPEN']),
  version: Version({ description: 'Bumped by every line change; the ETag' }),
  createdAt: DateTime(),
  updatedAt: DateTime()
}

export const CartPlatform = Type.Object({
  ...cartBase,
  lines: Type.Array(Type.Ref(CartLinePlatform), { maxItems: MAX_CART_LINES }),
  totals: TotalsSchema,
  supplierTotals: TotalsSchema
}, { $id: 'CartPlatform', description: 'The open cart with its live quote, as platform staff see it' })
export const CartStation = Type.Object({
  ...cartBase,
  lines: Type.Array(Type.Ref(CartLineStation), { maxItems: MAX_CART_LINES }),
  totals: TotalsSchema
}, { $id: 'CartStation', description: 'The open cart with its live quote, as the station sees it' })

export const StationParams = Type.Object({ stationId: Uuid() }, { additionalProperties: false })
export const LineParams = Type.Object({ stationId: Uuid(), lineId: Uuid() }, { additionalProperties: false })

export const AddLineBody = Type.Object({
  articleId: Uuid(),
  supplierId: Uuid(),
  packs: Type.Integer({ format: 'int32', minimum: 1, maximum: 1_000_000 }),
  desiredDeliveryDate: DateString(),
  note: Type.Optional(Type.Union([Text(1000), Type.Null()]))
}, {
  additionalProperties: false,
  examples: [{ articleId: '0193a5f0-0000-7000-8000-0000000000a1', supplierId: '0193a5f0-0000-7000-8000-0000000000b1', packs: 10, desiredDeliveryDate: '2026-12-15', note: null }]
})
export type AddLineInput = Static<typeof AddLineBody>

export const UpdateLineBody = Type.Object({
  packs: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 1_000_000 })),
  desiredDeliveryDate: Type.Optional(DateString()),
  note: Type.Optional(Type.Union([Text(1000), Type.Null()]))
}, { additionalProperties: false, minProperties: 1, examples: [{ packs: 20 }] })
export type UpdateLineInput = Static<typeof UpdateLineBody>

export const CheckoutBody = Type.Object({}, { additionalProperties: false, examples: [{}] })
