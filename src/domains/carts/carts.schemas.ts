// Cart schemas. The quote shows the station price to a station and both sides to platform staff
// (PRODUCT.md §2.2); suppliers never reach a cart (RBAC). Each view requires its distinguishing
// totals so a replayed idempotent response resolves to the right view.
import { Type, type Static } from '@sinclair/typebox'
import { Amount, DateString, DateTime, Percent, Text, UnitPrice, Uuid } from '../../lib/schemas.js'
import { TotalsSchema } from '../orders/orders.schemas.js'

export const CartProblemSchema = Type.Object({
  code: Type.String({ examples: ['BELOW_MOQ'] }),
  detail: Type.String(),
  pointer: Type.String({ description: 'Field of the line the problem is about, e.g. /packs' })
}, { additionalProperties: false })

const lineBase = {
  id: Uuid(),
  articleId: Uuid(),
  supplierId: Uuid(),
  packs: Type.Integer({ minimum: 1 }),
  desiredDeliveryDate: DateString(),
  note: Type.Union([Type.String(), Type.Null()]),
  articleCode: Type.Union([Type.String(), Type.Null()]),
  articleName: Type.Union([Type.String(), Type.Null()]),
  packLabel: Type.Union([Type.String(), Type.Null()]),
  unitsPerPack: Type.Union([Type.Integer(), Type.Null()]),
  vatRate: Type.Union([Percent(), Type.Null()]),
  priceSource: Type.Union([Type.Literal('CONTRACT'), Type.Literal('CATALOG'), Type.Null()], { description: 'null when no price applies (NO_CONTRACT_PRICE)' }),
  stationPackPrice: Type.Union([UnitPrice(), Type.Null()]),
  lineNet: Type.Union([Amount(), Type.Null()], { description: 'Station-side line net at the current price' }),
  problems: Type.Array(CartProblemSchema, { description: 'What would make checkout refuse this line; empty when it is fine' })
}

export const CartLinePlatform = Type.Object({
  ...lineBase,
  supplierPackPrice: Type.Union([UnitPrice(), Type.Null()]),
  supplierLineNet: Type.Union([Amount(), Type.Null()]),
  feePct: Type.Union([Percent(), Type.Null()])
}, { $id: 'CartLinePlatform' })
export const CartLineStation = Type.Object(lineBase, { $id: 'CartLineStation' })

const cartBase = {
  id: Uuid(),
  stationId: Uuid(),
  status: Type.Literal('OPEN'),
  version: Type.Integer({ description: 'Bumped by every line change; the ETag' }),
  createdAt: DateTime(),
  updatedAt: DateTime()
}

export const CartPlatform = Type.Object({
  ...cartBase,
  lines: Type.Array(Type.Ref(CartLinePlatform)),
  totals: TotalsSchema,
  supplierTotals: TotalsSchema
}, { $id: 'CartPlatform' })
export const CartStation = Type.Object({
  ...cartBase,
  lines: Type.Array(Type.Ref(CartLineStation)),
  totals: TotalsSchema
}, { $id: 'CartStation' })

export const StationParams = Type.Object({ stationId: Uuid() }, { additionalProperties: false })
export const LineParams = Type.Object({ stationId: Uuid(), lineId: Uuid() }, { additionalProperties: false })

export const AddLineBody = Type.Object({
  articleId: Uuid(),
  supplierId: Uuid(),
  packs: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  desiredDeliveryDate: DateString(),
  note: Type.Optional(Type.Union([Text(1000), Type.Null()]))
}, {
  additionalProperties: false,
  examples: [{ articleId: '0193a5f0-0000-7000-8000-0000000000a1', supplierId: '0193a5f0-0000-7000-8000-0000000000b1', packs: 10, desiredDeliveryDate: '2026-12-15', note: null }]
})
export type AddLineInput = Static<typeof AddLineBody>

export const UpdateLineBody = Type.Object({
  packs: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  desiredDeliveryDate: Type.Optional(DateString()),
  note: Type.Optional(Type.Union([Text(1000), Type.Null()]))
}, { additionalProperties: false, minProperties: 1, examples: [{ packs: 20 }] })
export type UpdateLineInput = Static<typeof UpdateLineBody>

export const CheckoutBody = Type.Object({}, { additionalProperties: false, examples: [{}] })
