// UUIDs are case-insensitive on input (RFC 9562 §4, formerly RFC 4122 §3): the `uuid` format
// accepts "ABCDEF01-…" as it accepts "abcdef01-…". The services compare ids as strings (the
// caller's own station, repeated lines, maps of known rows keyed by the database's lower-case
// text), so every request id is brought to the canonical lower case ONCE, while it is validated:
// - `withUuidCase(schema)` returns a copy of a request schema in which every `format: 'uuid'`
//   string also carries the `uuidLowerCase` keyword (the route's own schema objects — from which
//   the OpenAPI document and the serializers are built — are left as they are);
// - `addUuidCase(ajv)` defines that keyword: a modifying keyword that replaces, in the validated
//   data (params, querystring, body), a string that IS a UUID by its lower-case form. Anything
//   that is not a UUID is left untouched (a branch of a union that turns out not to match changes
//   nothing), and so is every string whose schema does not say uuid (passwords, notes, codes).
import type { Ajv, SchemaValidateFunction } from 'ajv'

type DataValidationCxt = Parameters<SchemaValidateFunction>[3]

export const UUID_LOWER_CASE_KEYWORD = 'uuidLowerCase'

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

/** Defines the `uuidLowerCase` keyword on an Ajv instance (see the file comment). */
export function addUuidCase (ajv: Ajv): Ajv {
  return ajv.addKeyword({
    keyword: UUID_LOWER_CASE_KEYWORD,
    modifying: true,
    schemaType: 'boolean',
    errors: false,
    validate: (on: boolean, data: unknown, _parent?: unknown, cxt?: DataValidationCxt): boolean => {
      if (on && typeof data === 'string' && UUID.test(data) && cxt?.parentData !== undefined) {
        const lower = data.toLowerCase()
        if (lower !== data) (cxt.parentData as Record<string | number, unknown>)[cxt.parentDataProperty] = lower
      }
      return true
    }
  })
}

// Data, not schemas: values under these keys are never rewritten.
const DATA_KEYS = new Set(['examples', 'example', 'default', 'const', 'enum'])
const NAME_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas'])

/** A copy of `schema` with `uuidLowerCase: true` next to every `format: 'uuid'` (see the file comment). */
export function withUuidCase<T> (schema: T): T {
  return rewrite(schema) as T
}

/** `names`: `node` maps property names to schemas (`properties`, `patternProperties`…), whose keys are not keywords. */
function rewrite (node: unknown, names = false): unknown {
  if (Array.isArray(node)) return node.map(n => rewrite(n))
  if (typeof node !== 'object' || node === null) return node
  // own enumerable keys, symbols included (TypeBox marks its schemas with symbols)
  const out: Record<string | symbol, unknown> = { ...node }
  for (const [key, value] of Object.entries(node)) {
    if ((names || !DATA_KEYS.has(key)) && typeof value === 'object' && value !== null) out[key] = rewrite(value, !names && NAME_MAPS.has(key))
  }
  if (names) return out
  if (out.format === 'uuid') out[UUID_LOWER_CASE_KEYWORD] = true
  return out
}
