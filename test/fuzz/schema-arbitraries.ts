// fast-check arbitraries generated from JSON schemas (the routes' TypeBox schemas as the OpenAPI
// document publishes them): values of the schema's shape whose leaves are now and then hostile
// (NUL, lone surrogates, emoji across cut points, right-to-left marks, very long text, boundary
// numbers and dates, wrong types), and objects now and then missing a required field or carrying
// an unknown one.
import fc from 'fast-check'

export type JsonSchema = Record<string, unknown> & {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
  enum?: unknown[]
  const?: unknown
  format?: string
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  minItems?: number
  maxItems?: number
}

export interface GenContext {
  /** ids for a uuid field or parameter of this name: real rows in some runs, random uuids in others */
  uuidFor: (name: string) => fc.Arbitrary<string>
}

const EMOJI = '😀'
const LONG = 'x'.repeat(10_000)

/** Text PostgreSQL cannot store or that tends to break cut points, encodings and parsers. */
export function hostileString (maxLength = 500): fc.Arbitrary<string> {
  const at = Math.max(0, Math.min(maxLength, 500) - 1)
  return fc.oneof(
    // NUL and unpaired surrogates (what PostgreSQL text and jsonb refuse)
    { weight: 4, arbitrary: fc.constantFrom('\u0000', 'a\u0000b', '\u0000'.repeat(3), '\uD800', 'x\uD800y', 'x\uDC00y', '\uDFFF\uD800', `ok${EMOJI.slice(0, 1)}`, `${EMOJI.slice(1)}ok`) },
    // valid text that is hard on cut points, lengths and directions
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '\u202Eevil\u202C', 'שלום עולם', 'مرحبا', '\u200F\u200E', '\uFEFF', '\u200B\u200D', 'e\u0301\u0301\u0301', 'Ａ', 'ﬃ', '\u{10FFFF}', '\uFFFE', '\uFFFF',
        EMOJI, '👩‍👩‍👧‍👦', '🇫🇷', EMOJI.repeat(Math.min(maxLength, 300)), EMOJI.repeat(maxLength + 1),
        'a'.repeat(at) + EMOJI + 'tail', 'a'.repeat(499) + EMOJI + 'b'.repeat(20), // an emoji across a cut
        'x'.repeat(maxLength + 1), LONG
      )
    },
    // syntax other layers might interpret, and dates / numbers PostgreSQL or JavaScript choke on
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '', ' ', '\t\r\n', '%00', '\\u0000', "'; DROP TABLE users; --", '$' + '{x}', '{{x}}', '<script>x</script>', '\\', '"', '*', '%', '_',
        '0000-01-01', '9999-12-31', '1899-12-31', '3000-01-01', '2026-02-30', '+010000-01-01', '1970-01-01T00:00:00Z',
        'NaN', 'Infinity', '-0', '1e400', '99999999999999999999', '-1', '0.00001'
      )
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }) }
  )
}

function numberBounds (s: JsonSchema): { min: number, max: number } {
  const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1_000_000)
  const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : 1_000_000)
  return { min, max }
}

/** Numbers at and beyond the bounds of a schema and of PostgreSQL's integer types. */
export function hostileNumber (s: JsonSchema = {}): fc.Arbitrary<number> {
  const { min, max } = numberBounds(s)
  return fc.constantFrom(min - 1, max + 1, min, max, 0, -1, -0, 0.5, 1.5, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 2 ** 63, 1e21, 1e308, -1e308, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER)
}

/** Any JSON value of the wrong kind. */
export const wrongType: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, '', 'x', [], [null], {}, { a: 1 }, [[[[[]]]]])

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')
const isoDate = (d: Date): string => `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`

const dateArb: fc.Arbitrary<string> = fc.oneof(
  fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2035-12-31T00:00:00Z'), noInvalidDate: true }).map(isoDate),
  fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2999-12-31T00:00:00Z'), noInvalidDate: true }).map(isoDate),
  fc.constantFrom('1900-01-01', '2999-12-31', '2024-02-29', '0000-01-01', '0001-01-01', '9999-12-31', '1899-12-31', '3000-01-01', '2026-02-29', '2026-13-01', '2026-1-1')
)

const dateTimeArb: fc.Arbitrary<string> = fc.oneof(
  fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2040-01-01T00:00:00Z'), noInvalidDate: true }).map(d => d.toISOString()),
  fc.constantFrom('0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59-23:59', '0000-01-01T00:00:00+23:59',
    '2026-06-30T23:59:60Z', '2026-01-01T00:00:00.123456789123Z', '2026-01-01T00:00:00+16:00', '2026-01-01 00:00:00Z', '2026-01-01T00:00:00')
)

function stringArb (s: JsonSchema, name: string, ctx: GenContext): fc.Arbitrary<string> {
  const max = s.maxLength ?? 200
  const min = s.minLength ?? 0
  switch (s.format) {
    case 'uuid': return ctx.uuidFor(name)
    case 'date': return dateArb
    case 'date-time': return dateTimeArb
    case 'email': return fc.emailAddress({ size: 'small' }).map(e => e.slice(0, max))
    case 'uri': return fc.webUrl({ size: 'small' }).map(u => u.slice(0, max))
  }
  if (s.pattern !== undefined) {
    // `^[class]+$` with length bounds: draw the length from the bounds (a filter would spin)
    const cls = /^\^(\[[^\]]+\])\+\$$/.exec(s.pattern)?.[1]
    const re = cls === undefined ? new RegExp(s.pattern) : new RegExp(`^${cls}{${Math.max(1, min)},${Math.min(max, Math.max(1, min) + 40)}}$`)
    return fc.stringMatching(re, { size: 'small' }).map(v => v.slice(0, max))
  }
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, 40) }) },
    { weight: 1, arbitrary: fc.constant('a'.repeat(Math.max(min, max - 1)) + (max >= 2 ? 'é' : '')) }, // exactly maxLength
    { weight: 1, arbitrary: fc.constant(EMOJI.repeat(Math.max(min, Math.min(max, 600)))) } // maxLength in code points
  )
}

/** A value shaped like `s`; `leafHostility` is the weight of a hostile leaf against 10 valid ones. */
export function valueFor (s: JsonSchema, ctx: GenContext, name = '', leafHostility = 1): fc.Arbitrary<unknown> {
  const valid = validFor(s, ctx, name, leafHostility)
  if (leafHostility === 0) return valid
  const hostile: fc.Arbitrary<unknown> = isNumeric(s) ? hostileNumber(s) : isString(s) ? hostileString(s.maxLength) : wrongType
  return fc.oneof({ weight: 10, arbitrary: valid }, { weight: leafHostility, arbitrary: hostile }, { weight: Math.ceil(leafHostility / 2), arbitrary: wrongType })
}

const typeOf = (s: JsonSchema): string | undefined => Array.isArray(s.type) ? s.type.find(t => t !== 'null') : s.type
const isNumeric = (s: JsonSchema): boolean => typeOf(s) === 'integer' || typeOf(s) === 'number'
const isString = (s: JsonSchema): boolean => typeOf(s) === 'string'

function validFor (s: JsonSchema, ctx: GenContext, name: string, h: number): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const)
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum)
  const union = s.anyOf ?? s.oneOf
  if (Array.isArray(union) && union.length > 0) return fc.oneof(...union.map(u => validFor(u, ctx, name, h)))
  if (Array.isArray(s.allOf) && s.allOf.length > 0) return validFor(Object.assign({}, ...s.allOf) as JsonSchema, ctx, name, h)
  if (Array.isArray(s.type)) {
    const types = s.type
    return fc.oneof(...types.map(t => t === 'null' ? fc.constant(null) : validFor({ ...s, type: t }, ctx, name, h)))
  }
  switch (s.type) {
    case 'string': return stringArb(s, name, ctx)
    case 'integer': {
      const { min, max } = numberBounds(s)
      return fc.oneof({ weight: 4, arbitrary: fc.integer({ min, max: Math.max(min, Math.min(max, min + 50)) }) }, fc.integer({ min, max }), fc.constantFrom(min, max))
    }
    case 'number': {
      const { min, max } = numberBounds(s)
      return fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
    }
    case 'boolean': return fc.boolean()
    case 'null': return fc.constant(null)
    case 'array': {
      const item = s.items ?? {}
      const minItems = s.minItems ?? 0
      const maxItems = Math.max(minItems, Math.min(s.maxItems ?? 3, 3))
      return fc.array(valueFor(item, ctx, name, h), { minLength: minItems, maxLength: maxItems })
    }
    case 'object': return objectFor(s, ctx, h)
  }
  // no type: anything
  return fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean(), fc.constant(null))
}

function objectFor (s: JsonSchema, ctx: GenContext, h: number): fc.Arbitrary<Record<string, unknown>> {
  const props = s.properties ?? {}
  const required = s.required ?? []
  const model: Record<string, fc.Arbitrary<unknown>> = {}
  for (const [k, sub] of Object.entries(props)) model[k] = valueFor(sub, ctx, k, h)
  const base = fc.record(model, { requiredKeys: required.filter(k => k in props) }) as fc.Arbitrary<Record<string, unknown>>
  if (h === 0) return base
  // now and then: a required field missing, or an unknown (possibly hostile) key
  return fc.tuple(base, fc.nat({ max: 19 }), fc.constantFrom(...(required.length > 0 ? required : [''])), hostileString(64)).map(([o, dice, req, key]) => {
    if (dice === 0 && req !== '') { const c = { ...o }; delete c[req]; return c }
    if (dice === 1) return { ...o, [key === '' ? 'unexpected' : key]: 1 }
    return o
  })
}

type Path = Array<string | number>
interface Spot { path: Path, value: unknown, schema: JsonSchema }

/** The schema branch that describes `value` (through anyOf / oneOf / type lists). */
function branchFor (s: JsonSchema, value: unknown): JsonSchema {
  const union = s.anyOf ?? s.oneOf
  if (!Array.isArray(union)) return s
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value
  return union.find(u => u.type === kind || (kind === 'integer' && u.type === 'number') || (typeof u.const === typeof value && u.const !== undefined) || (Array.isArray(u.enum) && u.enum.includes(value))) ?? union[0] ?? s
}

function spotsOf (value: unknown, s: JsonSchema, path: Path = [], out: Spot[] = []): Spot[] {
  const b = branchFor(s, value)
  out.push({ path, value, schema: b })
  if (Array.isArray(value)) value.forEach((v, i) => spotsOf(v, b.items ?? {}, [...path, i], out))
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) spotsOf(v, b.properties?.[k] ?? {}, [...path, k], out)
  }
  return out
}

function replaceAt (root: unknown, path: Path, make: (old: unknown) => unknown): unknown {
  if (path.length === 0) return make(root)
  const [head, ...rest] = path as [string | number, ...Path]
  if (Array.isArray(root)) return root.map((v, i) => i === head ? replaceAt(v, rest, make) : v)
  const o = root as Record<string, unknown>
  return { ...o, [head]: replaceAt(o[head], rest, make) }
}

const DROP = Symbol('drop')

/** One defect at one place of `spot`: a hostile value of its kind, a wrong type, a key dropped or added. */
function defectFor (spot: Spot): fc.Arbitrary<(old: unknown) => unknown> {
  const { value, schema } = spot
  const options: Array<fc.Arbitrary<(old: unknown) => unknown>> = [wrongType.map(w => () => w)]
  if (typeof value === 'string') options.push(hostileString(schema.maxLength).map(h => () => h), hostileString(schema.maxLength).map(h => () => h))
  if (typeof value === 'number') options.push(hostileNumber(schema).map(n => () => n), hostileNumber(schema).map(n => () => n))
  if (Array.isArray(value)) options.push(fc.constant((old: unknown) => [...(old as unknown[]), ...(old as unknown[]), ...(old as unknown[])]), fc.constant(() => []))
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value)
    if (keys.length > 0) options.push(fc.constantFrom(...keys).map(k => (old: unknown) => { const c = { ...(old as Record<string, unknown>) }; c[k] = DROP; return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== DROP)) }))
    options.push(hostileString(64).map(k => (old: unknown) => ({ ...(old as Record<string, unknown>), [k === '' ? 'unexpected' : k]: 1 })))
  }
  return fc.oneof(...options)
}

/** A value valid against `s` except for exactly one defect somewhere in it (so the rest reaches the handler). */
export function withOneDefect (s: JsonSchema, ctx: GenContext): fc.Arbitrary<unknown> {
  return valueFor(s, ctx, '', 0).chain(valid => {
    const spots = spotsOf(valid, s)
    return fc.nat({ max: spots.length - 1 }).chain(i => {
      const spot = spots[i] as Spot
      return defectFor(spot).map(make => replaceAt(valid, spot.path, make))
    })
  })
}

/**
 * Percent-encodes any JavaScript string for a URL, including what encodeURIComponent refuses: a
 * lone surrogate becomes the three bytes a lax encoder would produce (invalid UTF-8 on the wire).
 */
export function encodeLoose (text: string): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    const next = text.charCodeAt(i + 1)
    if (c >= 0xD800 && c <= 0xDBFF && next >= 0xDC00 && next <= 0xDFFF) {
      out += encodeURIComponent(text.slice(i, i + 2)); i++
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      out += [0xE0 | (c >> 12), 0x80 | ((c >> 6) & 0x3F), 0x80 | (c & 0x3F)].map(b => '%' + b.toString(16).toUpperCase()).join('')
    } else {
      out += encodeURIComponent(text[i] as string)
    }
  }
  return out
}
