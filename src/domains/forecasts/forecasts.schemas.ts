// Forecasts, supplier demand and replenishment schemas (PRODUCT.md §7). Forecast quantities are in
// the article's base units; weeks are ISO 8601 weeks (`2026-W49`). Replenishment shows the station
// price only (what the station would pay): no supplier price or fee ever appears here (§2.2).
import { Type, type Static } from '@sinclair/typebox'
import { Amount, DateString, DateTime, PageQuery, UnitPrice, Uuid } from '../../lib/schemas.js'

export const MAX_FORECAST_LINES = 5000
export const MAX_TO_CART_LINES = 500

/** `YYYY-Www`, weeks 01–53 (a week 53 in a year that has none is refused where it is written). */
export const IsoWeekString = (opts: Record<string, unknown> = {}) => Type.String({ pattern: '^2[0-9]{3}-W(?:0[1-9]|[1-4][0-9]|5[0-3])$', examples: ['2026-W49'], ...opts })

export const StationParams = Type.Object({ stationId: Uuid() }, { additionalProperties: false })
export const SupplierParams = Type.Object({ supplierId: Uuid() }, { additionalProperties: false })

// ---- forecasts

export const ForecastLineInput = Type.Object({
  articleId: Uuid(),
  isoYear: Type.Integer({ minimum: 2000, maximum: 2999 }),
  isoWeek: Type.Integer({ minimum: 1, maximum: 53, description: '53 only in ISO years that have a week 53 (422 otherwise)' }),
  units: Type.Integer({ minimum: 0, maximum: 2_000_000_000, description: 'Forecast demand in base units; 0 clears the week' })
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
  lines: Type.Integer({ description: 'Lines received' }),
  inserted: Type.Integer({ description: 'New (article, week) forecasts' }),
  updated: Type.Integer({ description: 'Existing forecasts whose units changed' }),
  unchanged: Type.Integer({ description: 'Lines equal to what was stored (left untouched)' }),
  articles: Type.Integer({ description: 'Distinct articles in the body' }),
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
  articleCode: Type.String(),
  isoYear: Type.Integer(),
  isoWeek: Type.Integer(),
  week: IsoWeekString(),
  units: Type.Integer(),
  updatedBy: Type.Union([Uuid(), Type.Null()]),
  updatedAt: DateTime()
}, { $id: 'Forecast', additionalProperties: false })
export type ForecastView = Static<typeof ForecastSchema>

// ---- supplier demand

export const DemandListQuery = ForecastListQuery
export const DemandSchema = Type.Object({
  articleId: Uuid(),
  articleCode: Type.String(),
  isoYear: Type.Integer(),
  isoWeek: Type.Integer(),
  week: IsoWeekString(),
  units: Type.Integer({ description: 'Σ of every station\'s forecast for this article and week' })
}, { $id: 'Demand', additionalProperties: false, description: 'Aggregated demand: never a per-station figure' })
export type DemandView = Static<typeof DemandSchema>

// ---- replenishment

export const ReplenishmentQuery = Type.Object({
  horizonWeeks: Type.Optional(Type.Integer({ minimum: 1, maximum: 52, default: 4, description: 'Weeks to cover beyond the lead time (1–52, default 4)' })),
  onlyNeeded: Type.Optional(Type.Boolean({ default: false, description: 'Only the articles with a positive raw need (proposal > 0)' })),
  articleId: Type.Optional(Uuid({ description: 'Only this article' })),
  ...PageQuery
}, { additionalProperties: false })
export type ReplenishmentInput = Static<typeof ReplenishmentQuery>

export const CHOICE_RULES = ['ONLY_OFFER', 'CONTRACT_PRICE', 'LOWEST_UNIT_PRICE', 'SHORTEST_LEAD_TIME', 'TIE', 'NO_OFFER'] as const

export const ChosenOfferSchema = Type.Object({
  offerId: Uuid(),
  supplierId: Uuid(),
  supplierName: Type.String(),
  supplierRef: Type.String(),
  packLabel: Type.String(),
  unitsPerPack: Type.Integer(),
  moqPacks: Type.Integer(),
  packMultiple: Type.Integer(),
  leadTimeDays: Type.Integer(),
  priceSource: Type.Union([Type.Literal('CONTRACT'), Type.Literal('CATALOG')]),
  contractNumber: Type.Union([Type.String(), Type.Null()]),
  stationPackPrice: UnitPrice(),
  stationUnitPrice: Type.String({ description: 'Station pack price ÷ units per pack, 6 decimals (the price the choice compares)' })
}, { additionalProperties: false })

export const ReplenishmentItemSchema = Type.Object({
  articleId: Uuid(),
  articleCode: Type.String(),
  articleName: Type.String(),
  baseUnit: Type.String(),
  leadTimeDays: Type.Integer({ description: 'Of the chosen offer (0 without one)' }),
  leadTimeWeeks: Type.Integer({ description: 'ceil(leadTimeDays / 7)' }),
  windowWeeks: Type.Integer({ description: 'leadTimeWeeks + horizonWeeks: the forecast weeks summed, from the current ISO week' }),
  windowFrom: IsoWeekString(),
  windowTo: IsoWeekString(),
  forecastUnits: Type.Integer({ description: 'Σ forecast units over the window' }),
  onHandUnits: Type.Integer(),
  inboundPoUnits: Type.Integer({ description: 'Open purchase orders not yet received (PLACED, CONFIRMED, SHIPPED): packs ordered × units per pack' }),
  inboundTransferUnits: Type.Integer({ description: 'Transfers to this station SHIPPED and not yet received: units shipped' }),
  safetyStockUnits: Type.Integer({ description: 'The stock level\'s alert threshold' }),
  rawNeedUnits: Type.Integer({ description: 'forecast − on hand − inbound POs − inbound transfers + safety stock (may be negative)' }),
  packsForNeed: Type.Integer({ description: 'ceil(rawNeedUnits / unitsPerPack), 0 when the raw need is ≤ 0' }),
  proposedPacks: Type.Integer({ description: 'packsForNeed raised to the MOQ, then rounded up to the order multiple; 0 when nothing is needed or no offer can be ordered' }),
  proposedUnits: Type.Integer(),
  estimatedNet: Type.Union([Amount(), Type.Null()], { description: 'Station-side net of the proposal at today\'s price' }),
  offer: Type.Union([ChosenOfferSchema, Type.Null()], { description: 'The chosen offer; null when no active, priced offer exists' }),
  choice: Type.Object({
    rule: Type.Union(CHOICE_RULES.map(r => Type.Literal(r)), { description: 'What set the chosen offer apart from the runner-up' }),
    candidates: Type.Integer({ description: 'Orderable, priced offers compared' }),
    explanation: Type.String()
  }, { additionalProperties: false }),
  working: Type.String({ description: 'The formula with this article\'s numbers' })
}, { $id: 'ReplenishmentItem', additionalProperties: false })

export const ReplenishmentSchema = Type.Object({
  stationId: Uuid(),
  asOf: DateString({ description: 'Business date (Europe/Paris) the proposal was computed for' }),
  currentWeek: IsoWeekString(),
  horizonWeeks: Type.Integer(),
  items: Type.Array(Type.Ref(ReplenishmentItemSchema), { description: 'A page of the station\'s articles in code order (with onlyNeeded, those of the page that need something: a page may hold fewer than limit; follow nextCursor)' }),
  nextCursor: Type.Union([Type.String(), Type.Null()])
}, { additionalProperties: false, description: 'A list page (compressed when the client accepts it)' })

export const ToCartBody = Type.Object({
  lines: Type.Array(Type.Object({
    articleId: Uuid(),
    packs: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Override of the proposed packs (still checked by the cart quote: MOQ, multiple)' }))
  }, { additionalProperties: false }), { minItems: 1, maxItems: MAX_TO_CART_LINES }),
  horizonWeeks: Type.Optional(Type.Integer({ minimum: 1, maximum: 52, default: 4 })),
  desiredDeliveryDate: Type.Optional(DateString({ description: 'Default: per line, today + the chosen offer\'s lead time (the earliest date the cart accepts). A date given here is used as is for every line (the quote flags DELIVERY_DATE_TOO_EARLY)' }))
}, {
  additionalProperties: false,
  examples: [{ lines: [{ articleId: '0193a5f0-0000-7000-8000-0000000000a1' }], horizonWeeks: 4 }]
})
export type ToCartInput = Static<typeof ToCartBody>
