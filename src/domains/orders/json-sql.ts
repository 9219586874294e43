// SQL that writes a JSON object in the shape of a TypeBox response schema. Each object is one
// format() call whose template and arguments are generated from the schema (its keys, in its
// order), so a field outside the schema cannot appear, and a schema field without SQL, or written
// in a way its schema does not allow, fails when the text is built (at start-up). Values are what
// the object views serialize to: decimals as their text, dates as YYYY-MM-DD, timestamps as
// RFC 3339 UTC with truncated milliseconds (isoMs), free text escaped by PostgreSQL's JSON writer,
// nulls as null. (format() rather than to_json(row) or json_build_object(): the same compact JSON
// for a fraction of their cost in PostgreSQL.) The orders texts built with it: orders.sql.ts.
import type { TObject } from '@sinclair/typebox'

/**
 * How a value is written into JSON: `str` quoted as is (text that never needs escaping: uuids,
 * decimals, dates, formatted timestamps), `text` escaped by PostgreSQL, `num` bare, `json` already
 * JSON text.
 */
export type JsonKind = 'str' | 'text' | 'num' | 'json'
export interface JsonField { sql: string, as: JsonKind }
export const str = (sql: string): JsonField => ({ sql, as: 'str' })
export const text = (sql: string): JsonField => ({ sql, as: 'text' })
export const num = (sql: string): JsonField => ({ sql, as: 'num' })

/** A JSON text as a format() template and its arguments (nested objects inlined into the template). */
export interface JsonTemplate { template: string, args: string[] }
/** A field whose non-null JSON object may be inlined into its parent's template. */
export type NestedJsonField = JsonField & { inline?: JsonTemplate }

/** The keywords of a JSON schema the checks read (any schema is one). */
interface SchemaNode { type?: string, format?: string, pattern?: string, anyOf?: SchemaNode[], $ref?: string, items?: SchemaNode, [keyword: string]: unknown }

/** The properties of an object schema, as the nodes the checks below read. */
export const propertiesOf = (schema: TObject): Record<string, SchemaNode> => schema.properties

/** Refuses a field whose writing does not fit its schema (a number quoted, free text unescaped…). */
function checkField (schema: SchemaNode, f: JsonField, what: string): boolean {
  const variants = (schema.anyOf ?? [schema]).filter(v => v.type !== 'null')
  const nullable = variants.length < (schema.anyOf ?? [schema]).length
  const fits = variants.every(v => {
    switch (f.as) {
      case 'num': return v.type === 'integer' || v.type === 'number'
      case 'str': return v.type === 'string' && (v.format === 'uuid' || v.format === 'date' || v.format === 'date-time' || v.pattern !== undefined)
      case 'text': return v.type === 'string'
      case 'json': return v.type === 'object' || v.type === 'array' || v.$ref !== undefined
    }
    return false
  })
  if (!fits || variants.length === 0) throw new Error(`${what}: written as ${f.as}, which its schema does not allow`)
  return nullable
}

const sqlLiteral = (s: string): string => `'${s.replace(/'/g, "''")}'`

/** `schema`'s properties (but `omit`), in order, as a JSON object template. */
export function jsonObject (schema: TObject, fields: Readonly<Record<string, NestedJsonField>>, what: string, omit?: string): JsonTemplate {
  let template = '{'
  const args: string[] = []
  for (const [key, prop] of Object.entries(propertiesOf(schema))) {
    if (key === omit) continue
    const f = fields[key]
    if (f === undefined) throw new Error(`${what}: no SQL for the view field "${key}"`)
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(key)) throw new Error(`${what}: unexpected key ${key}`)
    template += `${template === '{' ? '' : ','}"${key}":`
    if (checkField(prop, f, `${what}.${key}`)) {
      // format() writes NULL as nothing: a nullable value is one expression, NULL or its JSON text
      template += '%s'
      args.push(`coalesce(${f.as === 'str' ? `'"' || ${f.sql} || '"'` : f.as === 'text' ? `to_json(${f.sql})::text` : `(${f.sql})::text`}, 'null')`)
    } else if (f.inline !== undefined) {
      template += f.inline.template
      args.push(...f.inline.args)
    } else {
      template += f.as === 'str' ? '"%s"' : '%s'
      args.push(f.as === 'text' ? `to_json(${f.sql})` : f.sql)
    }
  }
  return { template: template + '}', args }
}

/** One text expression writing a JSON template. */
export function formatSql (t: JsonTemplate): string {
  if (t.args.length > 99) throw new Error(`a JSON object of ${t.args.length} values does not fit one format() call`)
  return `format(${sqlLiteral(t.template.replace(/%(?!s)/g, '%%'))}, ${t.args.join(', ')})`
}
