// Articles and offers. Offers have three response views (PRODUCT.md §2.2): platform staff see the
// supplier's catalog price, today's station price and the fee; a supplier sees its own catalog
// price only; a station sees the station price only. The views are distinct named schemas.
import { Type, type Static } from '@sinclair/typebox'
import { DateTime, Int32, NonEmpty, Nullable, PageQuery, Percent, StringEnum, Text, UnitPrice, Uuid, Version } from '../../lib/schemas.js'

export const CATEGORIES = ['TRAY', 'CRATE', 'PLATTER', 'FILM', 'CARDBOARD_BOX', 'PLASTIC_BAG', 'PAPER_BAG', 'INSULATED', 'LABEL', 'OTHER'] as const
export const Category = StringEnum(CATEGORIES, { description: 'Article category' })

const articleCode = Type.String({ pattern: '^[A-Z0-9][A-Z0-9._-]{1,63}$', maxLength: 64, description: 'Unique code: upper-case letters, digits, . _ -', examples: ['BARQ-500-PET'] })
const nullableText = (max: number) => Nullable(Text(max))

export const ArticleSchema = Type.Object({
  id: Uuid(),
  code: Text(64),
  name: Text(200),
  description: nullableText(2000),
  category: Category,
  baseUnit: Text(20, { description: 'Unit stock is counted in (piece, m, kg…)' }),
  material: nullableText(100),
  dimensions: nullableText(100),
  vatRate: Percent({ description: 'VAT rate %, 2 decimals' }),
  isActive: Type.Boolean(),
  version: Version(),
  createdAt: DateTime(),
  updatedAt: DateTime()
}, { $id: 'Article', description: 'An article of the catalog' })
export type Article = Static<typeof ArticleSchema>

export const ArticleCreateSchema = Type.Object({
  code: articleCode,
  name: NonEmpty(200),
  description: Type.Optional(nullableText(2000)),
  category: Category,
  baseUnit: Type.Optional(NonEmpty(20, { default: 'piece' })),
  material: Type.Optional(nullableText(100)),
  dimensions: Type.Optional(nullableText(100)),
  vatRate: Type.Optional(Percent({ default: '20.00' })),
  isActive: Type.Optional(Type.Boolean())
}, {
  additionalProperties: false,
  examples: [{ code: 'BARQ-500-PET', name: 'Barquette PET 500 g', category: 'TRAY', baseUnit: 'piece', vatRate: '20.00' }]
})
export type ArticleCreate = Static<typeof ArticleCreateSchema>

export const ArticlePatchSchema = Type.Object({
  name: Type.Optional(NonEmpty(200)),
  description: Type.Optional(nullableText(2000)),
  category: Type.Optional(Category),
  baseUnit: Type.Optional(NonEmpty(20)),
  material: Type.Optional(nullableText(100)),
  dimensions: Type.Optional(nullableText(100)),
  vatRate: Type.Optional(Percent()),
  isActive: Type.Optional(Type.Boolean())
}, {
  additionalProperties: false,
  minProperties: 1,
  description: 'Any subset. The code is immutable (orders and stock refer to it).',
  examples: [{ name: 'Barquette PET 500 g transparente', isActive: false }]
})
export type ArticlePatch = Static<typeof ArticlePatchSchema>

export const ArticleListQuery = Type.Object({
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Code prefix, full-text words (prefix match) on name/description/code, or a fragment of the name (3+ characters, trigram index)' })),
  category: Type.Optional(Category),
  supplierId: Type.Optional(Uuid({ description: 'Only articles with an active offer of this supplier' })),
  active: Type.Optional(Type.Boolean()),
  ...PageQuery
}, { additionalProperties: false })
export type ArticleListInput = Static<typeof ArticleListQuery>

// ---- offers

const offerBase = {
  id: Uuid(),
  articleId: Uuid(),
  articleCode: Text(64),
  articleName: Text(200),
  supplierId: Uuid(),
  supplierName: Text(200),
  supplierRef: Text(64, { description: "The supplier's own reference" }),
  packLabel: Text(100, { examples: ['carton de 600'] }),
  unitsPerPack: Int32({ minimum: 1, maximum: 1_000_000 }),
  moqPacks: Int32({ minimum: 1, maximum: 1_000_000, description: 'Minimum order, in packs' }),
  packMultiple: Int32({ minimum: 1, maximum: 1_000_000, description: 'Order multiple, in packs' }),
  leadTimeDays: Int32({ minimum: 0, maximum: 365 }),
  isActive: Type.Boolean(),
  version: Version(),
  createdAt: DateTime(),
  updatedAt: DateTime()
}
const priceSource = Nullable(StringEnum(['CONTRACT', 'CATALOG']), { description: 'Where today\'s price comes from (PRODUCT.md §4.2); null: no price (fallback disabled and no contract)' })
const todayStationPrice = Nullable(UnitPrice(), { description: 'Price per pack the station pays if it orders today: the ACTIVE contract price or the catalog price, plus the fee (4 decimals); null when not orderable at a price' })

export const OfferPlatformView = Type.Object({
  ...offerBase,
  catalogPackPrice: UnitPrice({ description: 'Supplier catalog price per pack (4 decimals)' }),
  supplierPackPrice: Nullable(UnitPrice(), { description: "Today's resolved supplier price per pack (contract or catalog)" }),
  feePct: Percent({ description: "Fee % applied to today's price (the contract's or the default)" }),
  stationPackPrice: todayStationPrice,
  priceSource
}, { $id: 'OfferPlatformView', description: 'An offer as platform staff see it: both sides of the price and the fee' })

export const OfferSupplierView = Type.Object({
  ...offerBase,
  catalogPackPrice: UnitPrice({ description: 'Your catalog price per pack (4 decimals)' })
}, { $id: 'OfferSupplierView', description: 'An offer as its supplier sees it: supplier prices only' })

export const OfferStationView = Type.Object({
  ...offerBase,
  stationPackPrice: todayStationPrice,
  priceSource
}, { $id: 'OfferStationView', description: 'An offer as a station sees it: the station price only' })

/** What the service returns: every field; the caller's view drops what it may not see. */
export interface Offer {
  id: string
  articleId: string
  articleCode: string
  articleName: string
  supplierId: string
  supplierName: string
  supplierRef: string
  packLabel: string
  unitsPerPack: number
  moqPacks: number
  packMultiple: number
  leadTimeDays: number
  isActive: boolean
  version: number
  createdAt: Date
  updatedAt: Date
  catalogPackPrice: string
  supplierPackPrice: string | null
  feePct: string
  stationPackPrice: string | null
  priceSource: 'CONTRACT' | 'CATALOG' | null
}

export const OfferCreateSchema = Type.Object({
  articleId: Uuid(),
  supplierId: Type.Optional(Uuid({ description: 'Required for platform staff; a supplier may omit it (its own) and may not name another supplier (403)' })),
  supplierRef: NonEmpty(64),
  packLabel: NonEmpty(100),
  unitsPerPack: Type.Integer({ format: 'int32', minimum: 1, maximum: 1_000_000 }),
  catalogPackPrice: UnitPrice(),
  moqPacks: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 1_000_000, default: 1 })),
  packMultiple: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 1_000_000, default: 1 })),
  leadTimeDays: Type.Optional(Type.Integer({ format: 'int32', minimum: 0, maximum: 365, default: 0 })),
  isActive: Type.Optional(Type.Boolean())
}, {
  additionalProperties: false,
  examples: [{ articleId: '0190a8f2-6c1e-7b7a-9f00-1c2d3e4f5a6b', supplierId: '0190a8f2-6c1e-7b7a-9f00-aabbccddeeff', supplierRef: 'CDV-B500', packLabel: 'carton de 600', unitsPerPack: 600, catalogPackPrice: '54.0000', moqPacks: 5, packMultiple: 1, leadTimeDays: 7 }]
})
export type OfferCreate = Static<typeof OfferCreateSchema>

/** Fields a supplier may change on its own offers (PRODUCT.md §2.1); staff may change all. */
export const SUPPLIER_EDITABLE = ['supplierRef', 'catalogPackPrice', 'moqPacks', 'packMultiple', 'leadTimeDays'] as const

export const OfferPatchSchema = Type.Object({
  supplierRef: Type.Optional(NonEmpty(64)),
  catalogPackPrice: Type.Optional(UnitPrice()),
  moqPacks: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 1_000_000 })),
  packMultiple: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 1_000_000 })),
  leadTimeDays: Type.Optional(Type.Integer({ format: 'int32', minimum: 0, maximum: 365 })),
  packLabel: Type.Optional(NonEmpty(100, { description: 'Platform staff only' })),
  unitsPerPack: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 1_000_000, description: 'Platform staff only' })),
  isActive: Type.Optional(Type.Boolean({ description: 'Platform staff only' }))
}, {
  additionalProperties: false,
  minProperties: 1,
  description: 'Any subset. A supplier may send only supplierRef, catalogPackPrice, moqPacks, packMultiple and leadTimeDays (other fields: 400).',
  examples: [{ catalogPackPrice: '52.5000', leadTimeDays: 5 }]
})
export type OfferPatch = Static<typeof OfferPatchSchema>

export const OfferListQuery = Type.Object({
  articleId: Type.Optional(Uuid()),
  supplierId: Type.Optional(Uuid()),
  active: Type.Optional(Type.Boolean()),
  ...PageQuery
}, { additionalProperties: false })
export type OfferListInput = Static<typeof OfferListQuery>
