// The finishing pass over the generated OpenAPI document (@fastify/swagger's transformObject):
// what every operation shares and no route should restate. It declares the response headers a
// client may rely on (X-Request-Id everywhere; RateLimit-* on rate-limited answers; Retry-After on
// 429 and 503; Access-Control-Allow-Origin for allowed origins; Location on 201; ETag on versioned representations; Idempotent-Replayed on audited
// writes), serves problem responses as application/problem+json, names success responses
// ("Default Response" otherwise), marks a request body whose fields are all optional as optional,
// keeps 401 only where an operation can answer it, lists only the tags operations use, and states
// the servers' audience (x-internal: false).

type Json = Record<string, unknown>

interface Response { description?: string, headers?: Record<string, unknown>, content?: Record<string, { schema?: Json }> }
interface Parameter { in?: string, name?: string }
interface Operation {
  summary?: string
  description?: string
  security?: unknown[]
  parameters?: Parameter[]
  requestBody?: { required?: boolean, content?: Record<string, { schema?: Json }> }
  responses?: Record<string, Response>
  tags?: string[]
}
export interface OpenApiDocument {
  paths?: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, Json>, headers?: Record<string, unknown> }
  tags?: Array<{ name: string }>
  servers?: Json[]
}

const METHODS = new Set(['get', 'head', 'post', 'put', 'patch', 'delete', 'options', 'trace'])
const PROBLEM_REF = '#/components/schemas/Problem'

/** Reusable response headers (components.headers); names as the service sends them. */
export const RESPONSE_HEADERS = {
  'X-Request-Id': { description: 'The request id (the client\'s own when it is a safe token of ≤ 128 [A-Za-z0-9._-], else generated); quoted in logs and problem details', schema: { type: 'string', maxLength: 128, pattern: '^[A-Za-z0-9._-]+$' } },
  'RateLimit-Limit': { description: 'Requests allowed per window for this caller (IETF draft RateLimit headers; sent when rate limiting is enabled)', schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 2147483647 } },
  'RateLimit-Remaining': { description: 'Requests left in the current window', schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 2147483647 } },
  'RateLimit-Reset': { description: 'Seconds until the window resets', schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 2147483647 } },
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 2147483647 } },
  Location: { description: 'URL path of the created resource', schema: { type: 'string', format: 'uri-reference', maxLength: 2048 } },
  ETag: { description: 'Version of the representation: send it as If-None-Match (304 when unchanged) or If-Match (412 when stale)', schema: { type: 'string', maxLength: 80, pattern: '^(W/)?"[\\x21\\x23-\\x7E]*"$' } },
  'Access-Control-Allow-Origin': { description: 'Sent when the request\'s Origin is in the CORS_ORIGINS allow-list (none by default)', schema: { type: 'string', maxLength: 2048 } },
  'Idempotent-Replayed': { description: '`true` when this answer is the stored one of an earlier request with the same Idempotency-Key', schema: { type: 'string', enum: ['true'] } }
} as const

type HeaderName = keyof typeof RESPONSE_HEADERS
const ref = (name: HeaderName) => ({ $ref: `#/components/headers/${name}` })

const STATUS_TEXT: Record<string, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content', 206: 'Partial content', 304: 'Not modified' }
const AUDIENCE: Array<[RegExp, string]> = [[/Platform(View|Page)?$/, 'platform staff'], [/Supplier(View|Page)?$/, 'the supplier'], [/Station(View|Page)?$/, 'stations']]

const refName = (schema: Json | undefined): string | undefined =>
  typeof schema?.$ref === 'string' ? schema.$ref.replace('#/components/schemas/', '') : undefined

/** A schema with `$ref`s (one level of anyOf) resolved against the components. */
function branches (doc: OpenApiDocument, schema: Json | undefined): Json[] {
  if (schema === undefined) return []
  const any = (schema.anyOf ?? schema.oneOf) as Json[] | undefined
  if (Array.isArray(any)) return any.flatMap(s => branches(doc, s))
  const name = refName(schema)
  if (name !== undefined) return [doc.components?.schemas?.[name] ?? {}]
  return [schema]
}

const hasVersion = (doc: OpenApiDocument, schema: Json | undefined): boolean =>
  branches(doc, schema).some(s => typeof s.properties === 'object' && s.properties !== null && 'version' in s.properties)

/** "Default Response" replaced: the schema's description, the audience views, or the operation's summary. */
function describe (doc: OpenApiDocument, op: Operation, status: string, res: Response): string {
  const schema = res.content?.['application/json']?.schema
  const name = refName(schema)
  const component = name === undefined ? undefined : doc.components?.schemas?.[name]
  if (typeof component?.description === 'string') return component.description
  const any = (schema?.anyOf ?? schema?.oneOf) as Json[] | undefined
  if (Array.isArray(any) && any.every(s => refName(s) !== undefined)) {
    const views = any.map(s => {
      const n = refName(s) as string
      const who = AUDIENCE.find(([re]) => re.test(n))?.[1]
      return who === undefined ? n : `${n} (${who})`
    })
    return `${STATUS_TEXT[status] ?? status}: ${op.summary ?? ''} — the caller's view: ${views.join(', ')}`
  }
  return `${STATUS_TEXT[status] ?? status}: ${op.summary ?? 'done'}`
}

function problemJson (res: Response): void {
  const json = res.content?.['application/json']
  if (json?.schema?.$ref === PROBLEM_REF && res.content !== undefined) {
    res.content = { 'application/problem+json': json, ...Object.fromEntries(Object.entries(res.content).filter(([k]) => k !== 'application/json')) }
  }
}

function requiresNothing (doc: OpenApiDocument, schema: Json | undefined): boolean {
  const [s, ...rest] = branches(doc, schema)
  return s !== undefined && rest.length === 0 && s.type === 'object' && (!Array.isArray(s.required) || s.required.length === 0)
}

function shapeOperation (doc: OpenApiDocument, path: string, op: Operation): void {
  const responses = op.responses ?? {}
  const isPublic = Array.isArray(op.security) && op.security.length === 0
  // a public operation can answer 401 only when it takes a credential, and says so
  if (isPublic && !/\b401\b/.test(op.description ?? '')) delete responses['401']
  const rateLimited = !path.startsWith('/health') && path !== '/metrics'
  if (!rateLimited) delete responses['429']
  const conditional = responses['304'] !== undefined || (op.parameters ?? []).some(p => p.in === 'header' && p.name === 'if-match')
  const idempotent = (op.parameters ?? []).some(p => p.in === 'header' && p.name === 'idempotency-key')

  // every operation names its 500 (routes outside defineRoute declare only 5XX)
  if (responses['5XX'] !== undefined && responses['500'] === undefined) {
    responses['500'] = { description: 'Unexpected error; quote the requestId when reporting it', content: responses['5XX'].content }
  }
  for (const [status, res] of Object.entries(responses)) {
    problemJson(res)
    const success = /^2/.test(status)
    if (success && (res.description === undefined || res.description === 'Default Response')) res.description = describe(doc, op, status, res)
    const headers: Record<string, unknown> = { ...(res.headers ?? {}) }
    const add = (name: HeaderName) => { if (!Object.keys(headers).some(h => h.toLowerCase() === name.toLowerCase())) headers[name] = ref(name) }
    add('X-Request-Id')
    add('Access-Control-Allow-Origin')
    if (rateLimited && (success || /^4/.test(status))) { add('RateLimit-Limit'); add('RateLimit-Remaining'); add('RateLimit-Reset') }
    if (status === '429' || status === '5XX' || status === '503') add('Retry-After')
    if (status === '201') add('Location')
    const body = res.content?.['application/json']?.schema
    if ((status === '304' && conditional) || ((status === '200' || status === '201') && (conditional || hasVersion(doc, body)))) add('ETag')
    if (success && idempotent) add('Idempotent-Replayed')
    res.headers = headers
  }
  const body = op.requestBody?.content?.['application/json']?.schema
  if (op.requestBody !== undefined && requiresNothing(doc, body)) op.requestBody.required = false
}

/** Applies the shared shape to every operation of the document (in place) and returns it. */
export function shapeDocument<T extends OpenApiDocument> (doc: T): T {
  // the audience of every server: an API for integrators, not an internal one
  if (doc.servers !== undefined) doc.servers = doc.servers.map(server => ({ ...server, 'x-internal': false }))
  doc.components = { ...(doc.components ?? {}), headers: { ...(doc.components?.headers ?? {}), ...RESPONSE_HEADERS } }
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(ops)) if (METHODS.has(method)) shapeOperation(doc, path, op)
  }
  const used = new Set(Object.values(doc.paths ?? {}).flatMap(ops => Object.values(ops).flatMap(op => op.tags ?? [])))
  if (doc.tags !== undefined) doc.tags = doc.tags.filter(t => used.has(t.name))
  return doc
}
