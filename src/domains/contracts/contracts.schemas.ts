// Master contracts and their price lines (PRODUCT.md §4.1). Two audiences read them: platform staff
// (with the fee and the derived station prices) and the contract's supplier (supplier prices only).
// Stations never read contracts (403).
import { Type, type Static } from '@sinclair/typebox'
import { Count, DateString, DateTime, Int32, NonEmpty, Nullable, PageQuery, Percent, StringEnum, Text, UnitPrice, Uuid, Version } from '../../lib/schemas.js'

export const KINDS = ['ANNUAL', 'MULTI_YEAR', 'SEASONAL', 'SPOT'] as const
export const STATUSES = ['DRAFT', 'ACTIVE', 'SUSPENDED', 'TERMINATED', 'EXPIRED'] as const
const Kind = StringEnum(KINDS)
const Status = StringEnum(STATUSES, { description: 'Effective status: an ACTIVE contract past its validUntil reads as EXPIRED even before the expiry sweep has run' })
const nullable = Nullable
const AllowancePct = (opts: Record<string, unknown> = {}) => Type.String({ pattern: '^\\d{1,4}(\\.\\d{1,2})?$', maxLength: 7, ...opts })

const contractBase = {
  id: Uuid(),
  number: Text(32, { examples: ['CT-2026-0001'] }),
  supplierId: Uuid(),
  supplierName: Text(200),
  name: Text(200),
  kind: Kind,
  status: Status,
  validFrom: DateString(),
  validUntil: DateString(),
  currency: Text(3, { pattern: '^[A-Z]{3}$', examples: ['EUR'] }),
  paymentTerms: nullable(Text(200)),
  deliverySlaDays: nullable(Int32({ minimum: 0, maximum: 365 })),
  notes: nullable(Text(2000)),
  approvedAt: Type.Union([DateTime(), Type.Null()]),
  renewedFromId: nullable(Uuid()),
  statusReason: nullable(Text(500, { description: 'Why it was suspended, terminated or expired' })),
  lineCount: Count({ maximum: 500 }),
  version: Version(),
  createdAt: DateTime(),
  updatedAt: DateTime()
}

export const ContractPlatformView = Type.Object({
  ...contractBase,
  feePct: Percent({ description: 'Platform fee % added to this contract\'s prices' }),
  createdBy: Uuid(),
  approvedBy: nullable(Uuid())
}, { $id: 'ContractPlatformView', description: 'A contract as platform staff see it (with the fee)' })

export const ContractSupplierView = Type.Object(contractBase, { $id: 'ContractSupplierView', description: 'A contract as its supplier sees it (no fee)' })

export type EffectiveStatus = typeof STATUSES[number]

export interface Contract {
  id: string
  number: string
  supplierId: string
  supplierName: string
  name: string
  kind: typeof KINDS[number]
  status: EffectiveStatus
  validFrom: string
  validUntil: string
  currency: string
  feePct: string
  paymentTerms: string | null
  deliverySlaDays: number | null
  notes: string | null
  createdBy: string
  approvedBy: string | null
  approvedAt: Date | null
  renewedFromId: string | null
  statusReason: string | null
  lineCount: number
  version: number
  createdAt: Date
  updatedAt: Date
}

const lineBase = {
  id: Uuid(),
  articleId: Uuid(),
  articleCode: Text(64),
  articleName: Text(200),
  packPrice: UnitPrice({ description: 'Negotiated supplier price per pack (4 decimals)' }),
  committedPacks: nullable(Int32({ minimum: 1, maximum: 100_000_000, description: 'Annual cap in packs; null: no cap' })),
  allowancePct: AllowancePct({ description: 'How far above the cap orders may go' }),
  orderedPacks: Count({ description: 'Packs on non-cancelled purchase-order lines priced by this line (maintained by the service)' }),
  remainingPacks: nullable(Int32({ description: 'floor(committed × (1 + allowance%)) − ordered; null: no cap' }))
}

export const ContractLinePlatformView = Type.Object({
  ...lineBase,
  stationPackPrice: UnitPrice({ description: 'packPrice × (1 + the contract\'s fee %), 4 decimals' })
}, { $id: 'ContractLinePlatformView', description: 'A contract line as platform staff see it (with the station price)' })
export const ContractLineSupplierView = Type.Object(lineBase, { $id: 'ContractLineSupplierView', description: 'A contract line as its supplier sees it' })

export interface ContractLine {
  id: string
  articleId: string
  articleCode: string
  articleName: string
  packPrice: string
  committedPacks: number | null
  allowancePct: string
  orderedPacks: number
  remainingPacks: number | null
  stationPackPrice: string
}

export const ContractLineInputSchema = Type.Object({
  articleId: Uuid(),
  packPrice: UnitPrice(),
  committedPacks: Type.Optional(Type.Union([Type.Integer({ format: 'int32', minimum: 1, maximum: 100_000_000 }), Type.Null()])),
  allowancePct: Type.Optional(AllowancePct({ description: '0–1000, default 0', examples: ['5.00'] }))
}, { additionalProperties: false })
export type ContractLineInput = Static<typeof ContractLineInputSchema>

export const MAX_LINES = 500
const Lines = Type.Array(ContractLineInputSchema, { maxItems: MAX_LINES, description: `At most ${MAX_LINES} lines, one per article` })

export const ContractCreateSchema = Type.Object({
  supplierId: Uuid(),
  name: NonEmpty(200),
  kind: Kind,
  validFrom: DateString(),
  validUntil: DateString(),
  feePct: Type.Optional(Percent({ description: 'Defaults to the platform default fee %' })),
  paymentTerms: Type.Optional(Type.Union([Text(200), Type.Null()])),
  deliverySlaDays: Type.Optional(Type.Union([Type.Integer({ format: 'int32', minimum: 0, maximum: 365 }), Type.Null()])),
  notes: Type.Optional(Type.Union([Text(2000), Type.Null()])),
  lines: Type.Optional(Lines)
}, {
  additionalProperties: false,
  examples: [{ supplierId: '0190a8f2-6c1e-7b7a-9f00-aabbccddeeff', name: 'Accord cadre 2026', kind: 'ANNUAL', validFrom: '2026-01-01', validUntil: '2026-12-31', feePct: '8.00', deliverySlaDays: 7 }]
})
export type ContractCreate = Static<typeof ContractCreateSchema>

/** Pricing fields change only while DRAFT; descriptive ones while DRAFT, ACTIVE or SUSPENDED. */
export const DRAFT_ONLY_FIELDS = ['kind', 'validFrom', 'validUntil', 'feePct'] as const

export const ContractPatchSchema = Type.Object({
  name: Type.Optional(NonEmpty(200)),
  kind: Type.Optional(Kind),
  validFrom: Type.Optional(DateString()),
  validUntil: Type.Optional(DateString()),
  feePct: Type.Optional(Percent()),
  paymentTerms: Type.Optional(Type.Union([Text(200), Type.Null()])),
  deliverySlaDays: Type.Optional(Type.Union([Type.Integer({ format: 'int32', minimum: 0, maximum: 365 }), Type.Null()])),
  notes: Type.Optional(Type.Union([Text(2000), Type.Null()]))
}, {
  additionalProperties: false,
  minProperties: 1,
  description: 'Any subset. kind, validFrom, validUntil and feePct only while DRAFT; name, paymentTerms, deliverySlaDays and notes while DRAFT, ACTIVE or SUSPENDED. Status changes go through the workflow actions.',
  examples: [{ name: 'Accord cadre 2026 — barquettes', deliverySlaDays: 5 }]
})
export type ContractPatch = Static<typeof ContractPatchSchema>

export const ContractLinesPutSchema = Type.Object({ lines: Lines }, {
  additionalProperties: false,
  examples: [{ lines: [{ articleId: '0190a8f2-6c1e-7b7a-9f00-1c2d3e4f5a6b', packPrice: '50.0000', committedPacks: 1000, allowancePct: '5.00' }] }]
})
export type ContractLinesPut = Static<typeof ContractLinesPutSchema>

export const ReasonSchema = Type.Object({ reason: NonEmpty(500) }, { additionalProperties: false, examples: [{ reason: 'Quality dispute on the March deliveries' }] })
export const EmptyBodySchema = Type.Object({}, { additionalProperties: false, examples: [{}] })
export const RenewSchema = Type.Object({
  name: Type.Optional(NonEmpty(200)),
  validFrom: Type.Optional(DateString()),
  validUntil: Type.Optional(DateString())
}, {
  additionalProperties: false,
  description: 'Optional overrides; by default the next period (see the operation description)',
  examples: [{}, { name: 'Accord cadre 2027' }]
})
export type RenewInput = Static<typeof RenewSchema>

export const ContractListQuery = Type.Object({
  supplierId: Type.Optional(Uuid()),
  status: Type.Optional(Status),
  ...PageQuery
}, { additionalProperties: false })
export type ContractListInput = Static<typeof ContractListQuery>
