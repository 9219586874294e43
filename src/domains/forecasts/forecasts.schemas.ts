// Forecasts, supplier demand and replenishment schemas (PRODUCT.md §7). Forecast quantities are in
// the article's base units; weeks are ISO 8601 weeks (`2026-W49`). Replenishment shows the station
// price only (what the station would pay): no supplier price or fee ever appears here (§2.2).
import { Type, type Static } from '@sinclair/typebox'
import { Amount, Count, CURSOR_MAX_LENGTH, DateString, DateTime, Int32, Int64, MAX_PAGE, Nullable, PageQuery, StringEnum, Text, UnitPrice, Uuid } from '../../lib/schemas.js'

/** Sums of units (over weeks, stations or packs × units per pack) may pass 2³¹: 64-bit, signed where a need may be negative. */
const Units64 = (opts: Record<string, unknown> = {}) => Int64(opts)
const SignedUnits64 = (opts: Record<string, unknown> = {}) => Int64({ minimum: -Number.MAX_SAFE_INTEGER, ...opts })

export const MAX_FORECAST_LINES = 5000
export const MAX_TO_CART_LINES = 500

/** `YYYY-Www`, weeks 01–53 (a week 53 in a year that has none is refused where it is written). */
export const IsoWeekString = (opts: Record<string, unknown> = {}) => Type.String({ pattern: '^2[0-9]{3}-W(?:0[1-9]|[1-4][0-9]|5[0-3])$', maxLength: 8, examples: ['2026-W49'], ...opts })

export const StationParams = Type.Object({ stationId: Uuid() }, { additionalProperties: false })
export const SupplierParams = Type.Object({ supplierId: Uuid() }, { additionalProperties: false })

// ---- forecasts

export const ForecastLineInput = Type.Object({
  articleId: Uuid(),
  isoYear: Type.Integer({ format: 'int32', minimum: 2000, maximum: 2999 }),
  isoWeek: Type.Integer({ format: 'int32', minimum: 1, maximum: 53, description: '53 only in ISO years that have a week 53 (422 otherwise)' }),
  units: Type.Integer({ format: 'int32', minimum: 0, maximum: 2_000_000_000, description: 'Forecast demand in base units; 0 clears the week' })
}, { additionalProperties: false })

export const ForecastUpsertBody = Type.Object({
  lines: Type.Array(ForecastLineInput, { minItems: 1, maxItems: MAX_FORECAST_LINES, description: `1–${MAX_FORECAST_LINES} lines; one line per (article, ISO year, ISO week)` })
}, {
  additionalProperties: false,
  examples: [{ lines: [{ articleId: '0193a5f0-0000-7000-8000-0000000000a1', isoYear: 2026, isoWeek: 49, units: 12000 }, { articleId: '0193a5f0-0000-7000-8000-0000000000a1', isoYear: 2026, isoWeek: 50, units: 9000 }] }]
})
export type ForecastUpsertInput = Static<typeof ForecastUpsertBody>
export type ForecastLine = Static<typeof ForecastLineInput>

export const ForecastUpsertResult = Type.Object({
  stationId: Uuid(),
  lines: Count({ maximum: MAX_FORECAST_LINES, description: 'Lines received' }),
  inserted: Count({ maximum: MAX_FORECAST_LINES, description: 'New (article, week) forecasts' }),
  updated: Count({ maximum: MAX_FORECAST_LINES, description: 'Existing forecasts whose units changed' }),
  unchanged: Count({ maximum: MAX_FORECAST_LINES, description: 'Lines equal to what was stored (left untouched)' }),
  articles: Count({ maximum: MAX_FORECAST_LINES, description: 'Distinct articles in the body' }),
  fromWeek: IsoWeekString(),
  toWeek: IsoWeekString()
}, { additionalProperties: false })
export type ForecastUpsertSummary = Static<typeof ForecastUpsertResult>

export const ForecastListQuery = Type.Object({
  articleId: Type.Optional(Uuid()),
  from: Type.Optional(IsoWeekString({ description: 'First ISO week included' })),
  to: Type.Optional(IsoWeekString({ description: 'Last ISO week included' })),
  ...PageQuery
}, { additionalProperties: false })
export type ForecastListInput = Static<typeof ForecastListQuery>

export const ForecastSchema = Type.Object({
  articleId: Uuid(),
  articleCode: Text(64),
  isoYear: Int32({ minimum: 2000, maximum: 2999 }),
  isoWeek: Int32({ minimum: 1, maximum: 53 }),
  week: IsoWeekString(),
  units: Count({ maximum: 2_000_000_000 }),
  updatedBy: Type.Union([Uuid(), Type.Null()]),
  updatedAt: DateTime()
}, { $id: 'Forecast', additionalProperties: false })
export type ForecastView = Static<typeof ForecastSchema>

// ---- supplier demand

export const DemandListQuery = ForecastListQuery
export const DemandSchema = Type.Object({
  articleId: Uuid(),
  articleCode: Text(64),
  isoYear: Int32({ minimum: 2000, maximum: 2999 }),
  isoWeek: Int32({ minimum: 1, maximum: 53 }),
  week: IsoWeekString(),
  units: Units64({ description: 'Σ of every station\'s forecast for this article and week' })
}, { $id: 'Demand', additionalProperties: false, description: 'Aggregated demand: never a per-station figure' })
export type DemandView = Static<typeof DemandSchema>

// ---- replenishment

export const ReplenishmentQuery = Type.Object({
  horizonWeeks: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 52, default: 4, description: 'Weeks to cover beyond the lead time (1–52, default 4)' })),
  onlyNeeded: Type.Optional(Type.Boolean({ default: false, description: 'Only the articles with a positive raw need (proposal > 0)' })),
  articleId: Type.Optional(Uuid({ description: 'Only this article' })),
  ...PageQuery
}, { additionalProperties: false })
export type ReplenishmentInput = Static<typeof ReplenishmentQuery>

export const CHOICE_RULES = ['ONLY_OFFER', 'CONTRACT_PRICE', 'LOWEST_UNIT_PRICE', 'SHORTEST_LEAD_TIME', 'TIE', 'NO_OFFER'] as const

export const ChosenOfferSchema = Type.Object({
  offerId: Uuid(),
  supplierId: Uuid(),
  supplierName: Text(200),
  supplierRef: Text(64),
  packLabel: Text(100),
  unitsPerPack: Int32({ minimum: 1, maximum: 1_000_000 }),
  moqPacks: Int32({ minimum: 1, maximum: 1_000_000 }),
  packMultiple: Int32({ minimum: 1, maximum: 1_000_000 }),
  leadTimeDays: Int32({ minimum: 0, maximum: 365 }),
  priceSource: StringEnum(['CONTRACT', 'CATALOG']),
  contractNumber: Nullable(Text(32)),
  stationPackPrice: UnitPrice(),
  stationUnitPrice: Type.String({ maxLength: 24, pattern: '^\\d+(\\.\\d+)?$', description: 'Station pack price ÷ units per pack, 6 decimals (the price the choice compares)' })
}, { additionalProperties: false })

export const ReplenishmentItemSchema = Type.Object({
  articleId: Uuid(),
  articleCode: Text(64),
  articleName: Text(200),
  baseUnit: Text(20),
  leadTimeDays: Int32({ minimum: 0, maximum: 365, description: 'Of the chosen offer (0 without one)' }),
  leadTimeWeeks: Int32({ minimum: 0, maximum: 53, description: 'ceil(leadTimeDays / 7)' }),
  windowWeeks: Int32({ minimum: 1, maximum: 106, description: 'leadTimeWeeks + horizonWeeks: the forecast weeks summed, from the current ISO week' }),
  windowFrom: IsoWeekString(),
  windowTo: IsoWeekString(),
  forecastUnits: Units64({ description: 'Σ forecast units over the window' }),
  onHandUnits: Count(),
  inboundPoUnits: Units64({ description: 'Open purchase orders not yet received (PLACED, CONFIRMED, SHIPPED): packs ordered × units per pack' }),
  inboundTransferUnits: Units64({ description: 'Transfers to this station SHIPPED and not yet received: units shipped' }),
  safetyStockUnits: Count({ description: 'The stock level\'s alert threshold' }),
  rawNeedUnits: SignedUnits64({ description: 'forecast − on hand − inbound POs − inbound transfers + safety stock (may be negative)' }),
  packsForNeed: Units64({ description: 'ceil(rawNeedUnits / unitsPerPack), 0 when the raw need is ≤ 0' }),
  proposedPacks: Units64({ description: 'packsForNeed raised to the MOQ, then rounded up to the order multiple; 0 when nothing is needed or no offer can be ordered' }),
  proposedUnits: Units64(),
  estimatedNet: Type.Union([Amount(), Type.Null()], { description: 'Station-side net of the proposal at today\'s price' }),
  offer: Type.Union([ChosenOfferSchema, Type.Null()], { description: 'The chosen offer; null when no active, priced offer exists' }),
  choice: Type.Object({
    rule: StringEnum(CHOICE_RULES, { description: 'What set the chosen offer apart from the runner-up' }),
    candidates: Count({ description: 'Orderable, priced offers compared' }),
    explanation: Text(2000)
  }, { additionalProperties: false }),
  working: Text(4000, { description: 'The formula with this article\'s numbers' })
}, { $id: 'ReplenishmentItem', additionalProperties: false })

export const ReplenishmentSchema = Type.Object({
  stationId: Uuid(),
  asOf: DateString({ description: 'Business date (Europe/Paris) the proposal was computed for' }),
  currentWeek: IsoWeekString(),
  horizonWeeks: Int32({ minimum: 1, maximum: 52 }),
  items: Type.Array(Type.Ref(ReplenishmentItemSchema), { maxItems: MAX_PAGE, description: 'A page of the station\'s articles in code order (with onlyNeeded, those of the page that need something: a page may hold fewer than limit; follow nextCursor)' }),
  nextCursor: Nullable(Text(CURSOR_MAX_LENGTH))
}, { additionalProperties: false, description: 'A list page (compressed when the client accepts it)' })

export const ToCartBody = Type.Object({
  lines: Type.Array(Type.Object({
    articleId: Uuid(),
    packs: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 1_000_000, description: 'Override of the proposed packs (still checked by the cart quote: MOQ, multiple)' }))
  }, { additionalProperties: false }), { minItems: 1, maxItems: MAX_TO_CART_LINES }),
  horizonWeeks: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 52, default: 4 })),
  desiredDeliveryDate: Type.Optional(DateString({ description: 'Default: per line, today + the chosen offer\'s lead time (the earliest date the cart accepts). A date given here is used as is for every line (the quote flags DELIVERY_DATE_TOO_EARLY)' }))
}, {
  additionalProperties: false,
  examples: [{ lines: [{ articleId: '0193a5f0-0000-7000-8000-0000000000a1' }], horizonWeeks: 4 }]
})
export type ToCartInput = Static<typeof ToCartBody>
