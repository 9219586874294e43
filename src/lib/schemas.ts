// Shared TypeBox building blocks. Schemas with an `$id` are registered once on the app and appear
// as named components in the OpenAPI document. Every string has a maximum length (or an enum),
// every integer a format and bounds, every array a maximum size — in responses too, where the
// bound is a promise the service keeps (OWASP API4, checked by `npm run lint:openapi`).
import { Type, type TSchema, type Static, type TUnsafe } from '@sinclair/typebox'
import { PROBLEMS, type ProblemCode } from './problems.js'

const INT32_MAX = 2_147_483_647
const INT32_MIN = -2_147_483_648

/**
 * A string enum rendered as one `{ type: 'string', enum: [...] }` (a TypeBox union of literals
 * renders as an `anyOf` of one-value consts, which documentation tools and generated clients
 * read poorly); the static type stays the union of the values.
 */
export const StringEnum = <const T extends readonly string[]>(values: T, opts: Record<string, unknown> = {}): TUnsafe<T[number]> =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...opts })

/** The schema or null. */
export const Nullable = <T extends TSchema>(t: T, opts: Record<string, unknown> = {}) => Type.Union([t, Type.Null()], opts)

/** 32-bit integers (PostgreSQL integer); the bounds default to the type's range. */
export const Int32 = (opts: { minimum?: number, maximum?: number } & Record<string, unknown> = {}) =>
  Type.Integer({ format: 'int32', minimum: INT32_MIN, maximum: INT32_MAX, ...opts })
/** Non-negative 32-bit integers: counts, quantities, sizes. */
export const Count = (opts: Record<string, unknown> = {}) => Int32({ minimum: 0, ...opts })
/** 64-bit integers (PostgreSQL bigint) as JSON numbers: up to 2^53 − 1, exact in JavaScript. */
export const Int64 = (opts: Record<string, unknown> = {}) =>
  Type.Integer({ format: 'int64', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, ...opts })
/** A row version: starts at 1, bumped by every change; the ETag. */
export const Version = (opts: Record<string, unknown> = {}) => Int32({ minimum: 1, description: 'Row version; the ETag', ...opts })

/** Problem texts are clipped to these lengths when rendered (plugins/errors.ts). */
export const PROBLEM_LIMITS = { detail: 8000, instance: 2048, items: 1000, pointer: 1024, itemDetail: 2000 } as const

export const ProblemItemSchema = Type.Object({
  pointer: Type.String({ maxLength: PROBLEM_LIMITS.pointer, description: 'JSON pointer to the offending input, e.g. /lines/1/packs' }),
  code: Type.String({ maxLength: 64, pattern: '^[A-Z][A-Z0-9_]*$' }),
  detail: Type.String({ maxLength: PROBLEM_LIMITS.itemDetail })
}, { additionalProperties: false })

export const ProblemSchema = Type.Object({
  type: Type.String({ format: 'uri', maxLength: 200 }),
  title: Type.String({ maxLength: 200 }),
  status: Type.Integer({ format: 'int32', minimum: 400, maximum: 599 }),
  detail: Type.Optional(Type.String({ maxLength: PROBLEM_LIMITS.detail })),
  instance: Type.Optional(Type.String({ maxLength: PROBLEM_LIMITS.instance, description: 'The request path' })),
  code: StringEnum(Object.keys(PROBLEMS) as ProblemCode[], { description: 'Stable error code (see the catalogue in the API description)' }),
  requestId: Type.String({ maxLength: 128, pattern: '^[A-Za-z0-9._-]+$', description: 'The X-Request-Id of the request' }),
  currentStatus: Type.Optional(Type.String({ maxLength: 32, pattern: '^[A-Z_]+$', description: 'For INVALID_TRANSITION: the current status' })),
  errors: Type.Optional(Type.Array(ProblemItemSchema, { maxItems: PROBLEM_LIMITS.items }))
}, { $id: 'Problem', additionalProperties: false, description: 'RFC 9457 problem details' })
export type Problem = Static<typeof ProblemSchema>
export const ProblemRef = Type.Ref(ProblemSchema)

/** UUIDs (`format: uuid`: exactly 36 characters). */
export const Uuid = (opts: Record<string, unknown> = {}) => Type.String({ format: 'uuid', maxLength: 36, ...opts })
/**
 * Business dates, `YYYY-MM-DD`, years 1900–2999: every such date is a valid PostgreSQL date (year
 * 0000 is not), and date arithmetic on it (lead times, renewal periods) stays within four-digit
 * years that both JavaScript's ISO strings and PostgreSQL read back.
 */
export const DATE_PATTERN = '^(?:19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$'
export const DateString = (opts: Record<string, unknown> = {}) => Type.String({ format: 'date', pattern: DATE_PATTERN, maxLength: 10, ...opts })
/** RFC 3339 timestamps; responses are UTC with milliseconds (24 characters). */
export const DateTime = (opts: Record<string, unknown> = {}) => Type.Unsafe<Date | string>(Type.String({ format: 'date-time', maxLength: 40, ...opts }))
export const Text = (max: number, opts: Record<string, unknown> = {}) => Type.String({ maxLength: max, ...opts })
export const NonEmpty = (max: number, opts: Record<string, unknown> = {}) => Type.String({ minLength: 1, maxLength: max, ...opts })

/** Pack prices: decimal string with up to 4 decimals, e.g. "18.5000". */
export const UnitPrice = (opts: Record<string, unknown> = {}) => Type.String({ pattern: '^\\d{1,10}(\\.\\d{1,4})?$', maxLength: 15, examples: ['54.0000'], ...opts })
/** Amounts: decimal string with 2 decimals, e.g. "1250.00". */
export const Amount = (opts: Record<string, unknown> = {}) => Type.String({ pattern: '^-?\\d{1,12}\\.\\d{2}$', maxLength: 16, examples: ['1250.00'], ...opts })
/** Percentages: decimal string with up to 2 decimals, e.g. "8.00". */
export const Percent = (opts: Record<string, unknown> = {}) => Type.String({ pattern: '^\\d{1,3}(\\.\\d{1,2})?$', maxLength: 6, examples: ['8.00'], ...opts })

export const IdParams = Type.Object({ id: Uuid() }, { additionalProperties: false })

/** The largest page a list returns (`limit`'s maximum). */
export const MAX_PAGE = 200
/** A cursor carries the last row's sort key: a 200-character name in 4-byte UTF-8 or JSON escapes
 * takes up to ~1 700 characters once base64url-encoded (the former 512 refused such a page's cursor). */
export const CURSOR_MAX_LENGTH = 2048

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: MAX_PAGE, default: 50, description: `Page size (max ${MAX_PAGE})` })),
  cursor: Type.Optional(Type.String({ maxLength: CURSOR_MAX_LENGTH, description: 'Opaque cursor from the previous page\'s nextCursor' }))
}

/** A keyset page: at most `maxItems` (the list's largest `limit`) items and the next page's cursor. */
export const Page = <T extends TSchema>(item: T, opts: Record<string, unknown> & { maxItems?: number } = {}) => {
  const { maxItems = MAX_PAGE, ...rest } = opts
  return Type.Object({
    items: Type.Array(item, { maxItems }),
    nextCursor: Nullable(Type.String({ maxLength: CURSOR_MAX_LENGTH, pattern: '^[A-Za-z0-9_.-]+$', description: 'Opaque; pass it as `cursor` for the next page' }), { description: 'null on the last page' })
  }, rest)
}

export const IdempotencyHeaders = (required: boolean) => Type.Object({
  'idempotency-key': required
    ? Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$', description: 'Required. 1–255 visible ASCII characters; retained 24 h per user.' })
    : Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$', description: '1–255 visible ASCII characters; retained 24 h per user.' }))
})

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ maxLength: 64, description: 'ETag from a previous read; a stale one answers 412' }))
})

export const NoContent = Type.Null({ description: 'No content' })
