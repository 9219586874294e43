// Station stock (PRODUCT.md §6): levels, the movement ledger, and the bodies of the stock writes.
// One level schema serves every caller: the fields a station may not see of ANOTHER station's
// level (thresholds and the flags derived from them; its movements) are optional and absent from
// that station's answers — PRODUCT.md §2.1 "all stations (quantities only)".
import { Type, type Static } from '@sinclair/typebox'
import { Count, DateString, DateTime, Int32, Int64, NonEmpty, Nullable, PageQuery, StringEnum, Text, Uuid } from '../../lib/schemas.js'
import { Category } from '../catalog/catalog.schemas.js'

export const INT4_MAX = 2_147_483_647
/** At most this many lines in one adjustment, consumption or count. */
export const MAX_LINES = 1000
/** Movements shown with a single level. */
export const LEVEL_MOVEMENTS = 20

export const STOCK_REASONS = ['PO_RECEIPT', 'TRANSFER_OUT', 'TRANSFER_IN', 'ADJUSTMENT', 'COUNT', 'CONSUMPTION'] as const
export const StockReasonSchema = StringEnum(STOCK_REASONS, { description: 'Why the stock moved' })

const HIDDEN = 'Absent on another station\'s level read by a STATION user (quantities only)'

const levelFields = {
  stationId: Uuid(),
  articleId: Uuid(),
  articleCode: Text(64),
  articleName: Text(200),
  baseUnit: Text(20, { description: 'The unit the quantity is counted in' }),
  quantity: Count({ description: 'On hand, in base units' }),
  alertThreshold: Type.Optional(Count({ description: `Low at or below this quantity. ${HIDDEN}` })),
  criticalThreshold: Type.Optional(Count({ description: `Critical at or below this quantity (≤ alertThreshold). ${HIDDEN}` })),
  low: Type.Optional(Type.Boolean({ description: `quantity ≤ alertThreshold. ${HIDDEN}` })),
  critical: Type.Optional(Type.Boolean({ description: `quantity ≤ criticalThreshold. ${HIDDEN}` })),
  out: Type.Boolean({ description: 'quantity = 0' }),
  version: Count({ description: 'Row version (the ETag); 0 for a station × article that never had stock or thresholds' }),
  updatedAt: Type.Union([DateTime(), Type.Null()], { description: 'Last change; null when the level was never written' })
}

export const StockLevelSchema = Type.Object(levelFields, { description: 'A station\'s stock of one article' })

export const StockMovementSchema = Type.Object({
  id: Int64({ description: 'Ledger position (increasing)' }),
  stationId: Uuid(),
  articleId: Uuid(),
  articleCode: Text(64),
  delta: Int32({ description: 'Signed change in base units' }),
  reason: StockReasonSchema,
  refType: Nullable(Text(32), { description: 'What caused it: PURCHASE_ORDER, TRANSFER, STOCK_ADJUSTMENT, STOCK_CONSUMPTION, STOCK_COUNT' }),
  refId: Type.Union([Uuid(), Type.Null()], { description: 'Id of the cause (a purchase order, a transfer, or the refId a stock write answered — also the audit event\'s entity id)' }),
  actorUserId: Type.Union([Uuid(), Type.Null()]),
  at: DateTime()
})

export const StockLevelDetailSchema = Type.Object({
  ...levelFields,
  movements: Type.Optional(Type.Array(StockMovementSchema, { maxItems: LEVEL_MOVEMENTS, description: `The last ${LEVEL_MOVEMENTS} movements, newest first. ${HIDDEN}` }))
}, { description: 'A station\'s stock of one article with its latest movements' })

export const StockAlertSchema = Type.Object({
  ...levelFields,
  severity: StringEnum(['OUT', 'CRITICAL', 'LOW'], { description: 'The worst flag: OUT (0), CRITICAL (≤ critical threshold) or LOW (≤ alert threshold)' })
})

export const StockChangeSchema = Type.Object({
  articleId: Uuid(),
  delta: Int32({ description: 'The change applied (0: a count that matched, no movement)' }),
  before: Count(),
  after: Count(),
  low: Type.Boolean(),
  critical: Type.Boolean(),
  out: Type.Boolean()
})

export const StockOperationSchema = Type.Object({
  refId: Uuid({ description: 'Id of this operation: the refId of its movements and the entity id of its audit event' }),
  stationId: Uuid(),
  reason: StockReasonSchema,
  changes: Type.Array(StockChangeSchema, { maxItems: MAX_LINES, description: 'One per line, in the order of the lines' })
})

export type StockLevelView = Static<typeof StockLevelSchema>
export type StockLevelDetail = Static<typeof StockLevelDetailSchema>
export type StockAlert = Static<typeof StockAlertSchema>
export type StockMovementView = Static<typeof StockMovementSchema>
export type StockOperation = Static<typeof StockOperationSchema>

// ---- parameters and queries

export const StationParams = Type.Object({ stationId: Uuid() }, { additionalProperties: false })
export const LevelParams = Type.Object({ stationId: Uuid(), articleId: Uuid() }, { additionalProperties: false })

const flagFilters = {
  low: Type.Optional(Type.Boolean({ description: 'true: quantity ≤ alert threshold; false: above it. A STATION user filtering on low or critical gets its own station\'s levels only (it does not see other stations\' thresholds)' })),
  critical: Type.Optional(Type.Boolean({ description: 'true: quantity ≤ critical threshold; false: above it (same station rule as low)' })),
  out: Type.Optional(Type.Boolean({ description: 'true: quantity = 0; false: quantity > 0' }))
}

export const StockListQuery = Type.Object({
  stationId: Type.Optional(Uuid()),
  articleId: Type.Optional(Uuid()),
  category: Type.Optional(Category),
  ...flagFilters,
  ...PageQuery
}, { additionalProperties: false })
export type StockListInput = Static<typeof StockListQuery>

export const StockAlertQuery = Type.Object({
  stationId: Type.Optional(Uuid({ description: 'Platform staff: one station; a STATION user only ever sees its own' })),
  articleId: Type.Optional(Uuid()),
  category: Type.Optional(Category),
  critical: flagFilters.critical,
  out: flagFilters.out,
  ...PageQuery
}, { additionalProperties: false })
export type StockAlertInput = Static<typeof StockAlertQuery>

export const MovementListQuery = Type.Object({
  articleId: Type.Optional(Uuid()),
  reason: Type.Optional(StockReasonSchema),
  from: Type.Optional(DateString({ description: 'Movements on or after this day (UTC)' })),
  to: Type.Optional(DateString({ description: 'Movements on or before this day (UTC)' })),
  ...PageQuery
}, { additionalProperties: false })
export type MovementListInput = Static<typeof MovementListQuery>

// ---- bodies

const EXAMPLE_ARTICLE = '0193a5f0-0000-7000-8000-0000000000a1'
const note = Type.Optional(Type.Union([Text(1000), Type.Null()], { description: 'Free text kept in the audit event' }))
const lines = <T extends Parameters<typeof Type.Array>[0]>(item: T) => Type.Array(item, { minItems: 1, maxItems: MAX_LINES, description: `1–${MAX_LINES} lines, one per article (an article twice is a 400)` })

export const AdjustmentBody = Type.Object({
  reason: NonEmpty(200, { description: 'Why the stock is adjusted (breakage, found, write-off…); kept in the audit event' }),
  note,
  lines: lines(Type.Object({
    articleId: Uuid(),
    delta: Type.Integer({ format: 'int32', minimum: -INT4_MAX, maximum: INT4_MAX, not: { const: 0 }, description: 'Signed change in base units, not 0' }),
    note: Type.Optional(Type.Union([Text(500), Type.Null()]))
  }, { additionalProperties: false }))
}, {
  additionalProperties: false,
  examples: [{ reason: 'Casse à la réception', note: null, lines: [{ articleId: EXAMPLE_ARTICLE, delta: -12, note: 'palette renversée' }] }]
})
export type AdjustmentInput = Static<typeof AdjustmentBody>

export const ConsumptionBody = Type.Object({
  note,
  lines: lines(Type.Object({
    articleId: Uuid(),
    units: Type.Integer({ format: 'int32', minimum: 1, maximum: INT4_MAX, description: 'Units used, in base units' })
  }, { additionalProperties: false }))
}, {
  additionalProperties: false,
  examples: [{ note: 'Semaine 48', lines: [{ articleId: EXAMPLE_ARTICLE, units: 1200 }] }]
})
export type ConsumptionInput = Static<typeof ConsumptionBody>

export const CountBody = Type.Object({
  note,
  lines: lines(Type.Object({
    articleId: Uuid(),
    counted: Type.Integer({ format: 'int32', minimum: 0, maximum: INT4_MAX, description: 'Quantity found, in base units' })
  }, { additionalProperties: false }))
}, {
  additionalProperties: false,
  examples: [{ note: 'Inventaire de fin de mois', lines: [{ articleId: EXAMPLE_ARTICLE, counted: 5400 }] }]
})
export type CountInput = Static<typeof CountBody>

export const ThresholdsBody = Type.Object({
  alertThreshold: Type.Optional(Type.Integer({ format: 'int32', minimum: 0, maximum: INT4_MAX })),
  criticalThreshold: Type.Optional(Type.Integer({ format: 'int32', minimum: 0, maximum: INT4_MAX }))
}, {
  additionalProperties: false,
  minProperties: 1,
  description: 'Either or both; the resulting critical threshold must not exceed the alert threshold (422 THRESHOLDS_INVALID)',
  examples: [{ alertThreshold: 2000, criticalThreshold: 500 }]
})
export type ThresholdsInput = Static<typeof ThresholdsBody>
