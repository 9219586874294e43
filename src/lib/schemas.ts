// Shared TypeBox building blocks. Schemas with an `$id` are registered once on the app and appear
// as named components in the OpenAPI document.
import { Type, type TSchema, type Static } from '@sinclair/typebox'

export const ProblemItemSchema = Type.Object({
  pointer: Type.String({ description: 'JSON pointer to the offending input, e.g. /lines/1/packs' }),
  code: Type.String(),
  detail: Type.String()
}, { additionalProperties: false })

export const ProblemSchema = Type.Object({
  type: Type.String({ format: 'uri' }),
  title: Type.String(),
  status: Type.Integer({ minimum: 400, maximum: 599 }),
  detail: Type.Optional(Type.String()),
  instance: Type.Optional(Type.String()),
  code: Type.String({ description: 'Stable error code (see the catalogue in the API description)' }),
  requestId: Type.String(),
  currentStatus: Type.Optional(Type.String({ description: 'For INVALID_TRANSITION: the current status' })),
  errors: Type.Optional(Type.Array(ProblemItemSchema))
}, { $id: 'Problem', additionalProperties: false, description: 'RFC 9457 problem details' })
export type Problem = Static<typeof ProblemSchema>
export const ProblemRef = Type.Ref(ProblemSchema)

export const Uuid = (opts: Record<string, unknown> = {}) => Type.String({ format: 'uuid', ...opts })
/**
 * Business dates, `YYYY-MM-DD`, years 1900–2999: every such date is a valid PostgreSQL date (year
 * 0000 is not), and date arithmetic on it (lead times, renewal periods) stays within four-digit
 * years that both JavaScript's ISO strings and PostgreSQL read back.
 */
export const DATE_PATTERN = '^(?:19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$'
export const DateString = (opts: Record<string, unknown> = {}) => Type.String({ format: 'date', pattern: DATE_PATTERN, ...opts })
export const DateTime = (opts: Record<string, unknown> = {}) => Type.Unsafe<Date | string>(Type.String({ format: 'date-time', ...opts }))
export const Text = (max: number, opts: Record<string, unknown> = {}) => Type.String({ maxLength: max, ...opts })
export const NonEmpty = (max: number, opts: Record<string, unknown> = {}) => Type.String({ minLength: 1, maxLength: max, ...opts })

/** Pack prices: decimal string with up to 4 decimals, e.g. "18.5000". */
export const UnitPrice = (opts: Record<string, unknown> = {}) => Type.String({ pattern: '^\\d{1,10}(\\.\\d{1,4})?$', maxLength: 15, examples: ['54.0000'], ...opts })
/** Amounts: decimal string with 2 decimals, e.g. "1250.00". */
export const Amount = (opts: Record<string, unknown> = {}) => Type.String({ pattern: '^-?\\d{1,12}\\.\\d{2}$', examples: ['1250.00'], ...opts })
/** Percentages: decimal string with up to 2 decimals, e.g. "8.00". */
export const Percent = (opts: Record<string, unknown> = {}) => Type.String({ pattern: '^\\d{1,3}(\\.\\d{1,2})?$', maxLength: 6, examples: ['8.00'], ...opts })

export const IdParams = Type.Object({ id: Uuid() }, { additionalProperties: false })

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Page size (max 200)' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'Opaque cursor from the previous page\'s nextCursor' }))
}

export const Page = <T extends TSchema>(item: T, opts: Record<string, unknown> = {}) => Type.Object({
  items: Type.Array(item),
  nextCursor: Type.Union([Type.String(), Type.Null()])
}, opts)

export const IdempotencyHeaders = (required: boolean) => Type.Object({
  'idempotency-key': required
    ? Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$', description: 'Required. 1–255 visible ASCII characters; retained 24 h per user.' })
    : Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$', description: '1–255 visible ASCII characters; retained 24 h per user.' }))
})

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ maxLength: 64, description: 'ETag from a previous read; a stale one answers 412' }))
})

export const NoContent = Type.Null({ description: 'No content' })
