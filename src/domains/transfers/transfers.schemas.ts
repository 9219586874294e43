// Request and response schemas of inter-station transfers (PRODUCT.md §6, API.md "Stock, transfers,
// forecasts"). Quantities are base units. Transfers carry no prices: both parties see the same
// representation, so there is one view for every audience.
import { Type, type Static } from '@sinclair/typebox'
import { Count, DateString, DateTime, Int64, NonEmpty, Page, StringEnum, Text, Uuid, Version } from '../../lib/schemas.js'
import { TRANSFER_STATUSES } from './transfers.rules.js'

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()])
const Units = (description: string) => Count({ description })
/** At most this many lines in a transfer (the create, confirm and receive bodies' maximum). */
const MAX_TRANSFER_LINES = 500

export const TransferStatusSchema = StringEnum(TRANSFER_STATUSES)

/** Settlement amounts: a non-negative decimal string with 2 decimals. */
const SettlementAmount = Type.String({ pattern: '^\\d{1,12}\\.\\d{2}$', maxLength: 15, examples: ['412.50'], description: 'Internal invoice or credit-note amount, EUR' })

// ---- views -----------------------------------------------------------------------------------

const quantities = {
  unitsRequested: Units('Units the requesting station asked for'),
  unitsGranted: Nullable(Units('Units the source station granted (null until confirmed)')),
  unitsShipped: Nullable(Units('Units that left the source station (null until shipped)')),
  unitsReceived: Nullable(Units('Units the destination received (null until received)')),
  unitsInTransit: Units('Shipped and not yet received (shipped while the receipt is pending, else 0)'),
  unitsLost: Units('Shipped minus received once received (else 0)')
}

export const TransferLineSchema = Type.Object({
  id: Uuid(),
  articleId: Uuid(),
  articleCode: Text(64),
  articleName: Text(200),
  baseUnit: Text(20),
  ...quantities,
  note: Nullable(Text(500, { description: 'Discrepancy noted at receipt' }))
}, { $id: 'TransferLine', additionalProperties: false })

export const TransferTotalsSchema = Type.Object({
  lines: Count({ maximum: MAX_TRANSFER_LINES }),
  unitsRequested: Units('Σ requested'),
  unitsGranted: Nullable(Units('Σ granted (null until confirmed)')),
  unitsShipped: Nullable(Units('Σ shipped (null until shipped)')),
  unitsReceived: Nullable(Units('Σ received (null until received)')),
  unitsInTransit: Units('Σ in transit'),
  unitsLost: Units('Σ lost: shipped minus received')
}, { additionalProperties: false })

const header = {
  id: Uuid(),
  number: Text(32, { examples: ['TR-2026-000001'] }),
  requestingStationId: Uuid({ description: 'The station that asked for the units; the destination' }),
  sourceStationId: Uuid({ description: 'The station asked to lend them' }),
  status: TransferStatusSchema,
  reason: Nullable(Text(1000)),
  neededBy: Type.Union([DateString(), Type.Null()]),
  statusReason: Nullable(Text(1000, { description: 'Why it was rejected or cancelled' })),
  deliveryNoteDocumentId: Type.Union([Uuid(), Type.Null()]),
  signedDeliveryNoteDocumentId: Type.Union([Uuid(), Type.Null()]),
  settlementRef: Nullable(Text(100)),
  settlementAmount: Type.Union([SettlementAmount, Type.Null()]),
  createdBy: Type.Union([Uuid(), Type.Null()]),
  createdAt: DateTime(),
  confirmedAt: Type.Union([DateTime(), Type.Null()]),
  shippedAt: Type.Union([DateTime(), Type.Null()]),
  receivedAt: Type.Union([DateTime(), Type.Null()]),
  updatedAt: DateTime(),
  version: Version(),
  totals: TransferTotalsSchema
}

export const TransferSchema = Type.Object(header, { $id: 'Transfer', additionalProperties: false })
export const TransferDetailSchema = Type.Object({ ...header, lines: Type.Array(Type.Ref(TransferLineSchema), { maxItems: MAX_TRANSFER_LINES }) }, { $id: 'TransferDetail', additionalProperties: false })
export const TransferPageSchema = Page(Type.Ref(TransferSchema), { $id: 'TransferPage' })

export const TransferEventSchema = Type.Object({
  id: Int64(),
  fromStatus: Type.Union([TransferStatusSchema, Type.Null()]),
  toStatus: TransferStatusSchema,
  actorUserId: Type.Union([Uuid(), Type.Null()]),
  actorRole: Nullable(Text(32)),
  at: DateTime(),
  note: Nullable(Text(2000))
}, { $id: 'TransferEvent', additionalProperties: false })
export const TransferEventPageSchema = Page(Type.Ref(TransferEventSchema), { $id: 'TransferEventPage' })

/** Every shared schema the routes reference (registered once on the app). */
export const transferSchemas = [TransferLineSchema, TransferSchema, TransferDetailSchema, TransferPageSchema, TransferEventSchema, TransferEventPageSchema]

// ---- inputs ----------------------------------------------------------------------------------

const page = {
  limit: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 200, default: 50, description: 'Page size (max 200)' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: "Opaque cursor from the previous page's nextCursor" }))
}

export const ListTransfersQuery = Type.Object({
  status: Type.Optional(TransferStatusSchema),
  stationId: Type.Optional(Uuid({ description: 'Transfers where this station is either side (narrowed by `side`)' })),
  side: Type.Optional(StringEnum(['requesting', 'source'], { description: 'The role of `stationId` (a station user: of its own station when `stationId` is omitted) in the transfer' })),
  from: Type.Optional(DateString({ description: 'Created on or after this date (UTC)' })),
  to: Type.Optional(DateString({ description: 'Created on or before this date (UTC)' })),
  ...page
}, { additionalProperties: false })
export type ListTransfersInput = Static<typeof ListTransfersQuery>

export const EventsQuery = Type.Object(page, { additionalProperties: false })
export type EventsInput = Static<typeof EventsQuery>

const EXAMPLE_STATION = '0193a5f0-0000-7000-8000-0000000000a1'
const EXAMPLE_ARTICLE = '0193a5f0-0000-7000-8000-0000000000b1'
const EXAMPLE_LINE = '0193a5f0-0000-7000-8000-0000000000c1'
const EXAMPLE_DOC = '0193a5f0-0000-7000-8000-00000000d001'

export const CreateTransferBody = Type.Object({
  requestingStationId: Type.Optional(Uuid({ description: 'Platform staff: the station asking (required). A station user asks for itself: omit it or give its own id.' })),
  sourceStationId: Uuid({ description: 'The station asked to lend the units; another station than the requester' }),
  lines: Type.Array(Type.Object({
    articleId: Uuid(),
    units: Type.Integer({ format: 'int32', minimum: 1, maximum: 1_000_000, description: 'Base units requested' })
  }, { additionalProperties: false }), { minItems: 1, maxItems: 500, description: 'One line per article' }),
  reason: Type.Optional(Type.Union([Text(1000), Type.Null()])),
  neededBy: Type.Optional(Type.Union([DateString(), Type.Null()]))
}, { additionalProperties: false, examples: [{ sourceStationId: EXAMPLE_STATION, lines: [{ articleId: EXAMPLE_ARTICLE, units: 600 }], reason: 'Harvest peak, next delivery in 5 days', neededBy: '2099-06-30' }] })
export type CreateTransferInput = Static<typeof CreateTransferBody>

export const ConfirmBody = Type.Object({
  lines: Type.Array(Type.Object({
    lineId: Uuid(),
    unitsGranted: Type.Integer({ format: 'int32', minimum: 0, maximum: 1_000_000, description: '≤ requested and ≤ the source station\'s stock' })
  }, { additionalProperties: false }), { minItems: 1, maxItems: 500, description: 'Every line of the transfer, exactly once' })
}, { additionalProperties: false, examples: [{ lines: [{ lineId: EXAMPLE_LINE, unitsGranted: 400 }] }] })
export type ConfirmInput = Static<typeof ConfirmBody>

export const RejectBody = Type.Object({
  reason: NonEmpty(1000)
}, { additionalProperties: false, examples: [{ reason: 'We need all of it this week' }] })
export type RejectInput = Static<typeof RejectBody>

export const CancelBody = Type.Object({
  reason: Type.Optional(Type.Union([NonEmpty(1000), Type.Null()]))
}, { additionalProperties: false, examples: [{ reason: 'Our supplier delivered after all' }] })
export type CancelInput = Static<typeof CancelBody>

export const NoteBody = Type.Object({
  note: Type.Optional(Type.Union([NonEmpty(1000), Type.Null()]))
}, { additionalProperties: false, examples: [{ note: 'Pick-up booked with Geodis for Tuesday morning' }] })
export type NoteInput = Static<typeof NoteBody>

export const ShipBody = Type.Object({
  deliveryNoteDocumentId: Uuid({ description: 'The delivery note document' }),
  note: Type.Optional(Type.Union([NonEmpty(1000), Type.Null()]))
}, { additionalProperties: false, examples: [{ deliveryNoteDocumentId: EXAMPLE_DOC }] })
export type ShipInput = Static<typeof ShipBody>

export const ReceiveBody = Type.Object({
  signedDeliveryNoteDocumentId: Uuid({ description: 'The signed delivery note document' }),
  lines: Type.Array(Type.Object({
    lineId: Uuid(),
    unitsReceived: Type.Integer({ format: 'int32', minimum: 0, maximum: 1_000_000, description: '≤ shipped' }),
    note: Type.Optional(Type.Union([Text(500), Type.Null()]))
  }, { additionalProperties: false }), { minItems: 1, maxItems: 500, description: 'Every line that shipped units, exactly once (lines that shipped nothing may be left out)' })
}, { additionalProperties: false, examples: [{ signedDeliveryNoteDocumentId: '0193a5f0-0000-7000-8000-00000000d002', lines: [{ lineId: EXAMPLE_LINE, unitsReceived: 390, note: '10 units crushed' }] }] })
export type ReceiveInput = Static<typeof ReceiveBody>

export const SettleBody = Type.Object({
  settlementRef: NonEmpty(100, { description: 'Internal invoice or credit-note reference' }),
  settlementAmount: SettlementAmount
}, { additionalProperties: false, examples: [{ settlementRef: 'AV-2026-0042', settlementAmount: '412.50' }] })
export type SettleInput = Static<typeof SettleBody>

export const EmptyBody = Type.Object({}, { additionalProperties: false, examples: [{}] })
