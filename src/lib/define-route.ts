// One shape for every route. A route states what it is (method, url, operationId, tag, summary,
// description), who may call it (`access`), what it records (`audit`, mandatory on a mutation at
// the type level and at boot), and its schemas; the helper adds what every route must carry and
// none should restate: the standard problem responses (`application/problem+json`: 4XX and 5XX,
// with 401, 429 and 500 named), the Idempotency-Key header on audited writes (required when
// `idempotency: 'required'`), If-Match when the route honours it, the 304 response when it answers
// conditional GETs. At run time it also
// - sets `Location` on a 201: `location(created, request)` when given, else the request path
//   followed by the created resource's `id` (POST /v1/articles → /v1/articles/<id>), before the
//   audit plugin stores the response, so an idempotent replay carries it too;
// - reads a missing body as `{}` when the body schema is an object without required fields
//   (action POSTs such as checkout or deactivate can be sent without a body or Content-Type);
// - ignores the query parameter `_` (the usual cache-busting parameter); any other parameter a
//   route does not declare stays a 400 naming it (a misspelt filter must not silently widen a list).
// The bearer security requirement, the "Permission:" line, the response descriptions and the
// response headers (X-Request-Id, RateLimit-*, Retry-After, ETag, Location, Idempotent-Replayed)
// are added to the OpenAPI document by plugins/openapi.ts.
// `rateLimit` (route config) and `preValidation` (a hook) pass through to Fastify as they are.
//
//   defineRoute(app, {
//     method: 'POST', url: '/v1/articles', operationId: 'createArticle', tag: 'catalog',
//     summary: 'Create an article', description: 'Platform staff. …',
//     access: 'articles:write', audit: { action: 'article.create', entity: 'article' },
//     body: ArticleCreateSchema, response: { 201: ArticleRef }
//   }, async (request, reply) => { … })
import { Type, type TObject, type TProperties, type TSchema } from '@sinclair/typebox'
import type {
  ContextConfigDefault, FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, preValidationHookHandler, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault,
  RouteGenericInterface, RouteHandlerMethod
} from 'fastify'
import type { RateLimitOptions } from '@fastify/rate-limit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AuditSkip, AuditSpec } from './fastify-types.js'
import type { Access } from './permissions.js'
import type { App } from './route.js'
import { missingBodyAsEmpty } from './empty-body.js'
import { AppError } from './problems.js'
import { ProblemRef } from './schemas.js'

const KEY = { minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' }
export const IdempotencyKeyHeader = Type.String({ ...KEY, description: '1–255 visible ASCII characters; retained 24 h per user. A retry with the same key and body replays the first answer (`Idempotent-Replayed: true`); the same key with another body is 422 IDEMPOTENCY_KEY_REUSED.' })
export const RequiredIdempotencyKeyHeader = Type.String({ ...KEY, description: 'Required: without it the answer is 400 IDEMPOTENCY_KEY_REQUIRED. 1–255 visible ASCII characters; retained 24 h per user. A retry with the same key and body replays the first answer (`Idempotent-Replayed: true`).' })
export const IfMatchHeader = Type.String({ maxLength: 64, description: 'ETag from a previous read; a stale one answers 412' })
export const NotModifiedResponse = Type.Null({ description: 'Not modified (If-None-Match matched the ETag)' })
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemRef } } })
/** Problem responses of every route, served as application/problem+json (plugins/errors.ts). */
export const StandardProblems = {
  401: problem('Not authenticated: no, invalid or expired bearer token (UNAUTHENTICATED, INVALID_TOKEN), or credentials refused'),
  429: problem('Too many requests (RATE_LIMITED, ACCOUNT_LOCKED); Retry-After says when to retry'),
  '4xx': problem('The request was refused: see `code` (the catalogue is in the API description)'),
  500: problem('Unexpected error; quote the requestId when reporting it'),
  '5xx': problem('The service or its database is unavailable (SERVICE_UNAVAILABLE, with Retry-After) or failed')
} as const

interface Common<P, Q, B, R> {
  url: string
  operationId: string
  tag: string
  summary: string
  /** Who may call it and what it changes; rendered in the OpenAPI document. */
  description: string
  access: Access
  params?: P
  querystring?: Q
  body?: B
  /** Success responses only: the problem responses are added. */
  response: R
  /** Extra request headers (Idempotency-Key and If-Match come from the flags below). */
  headers?: TObject
  /** The route honours If-Match (412 on a stale ETag). */
  ifMatch?: boolean
  /** The route answers 304 to a matching If-None-Match. */
  notModified?: boolean
  hide?: boolean
  /** Per-route rate limit (@fastify/rate-limit), on top of the global one when enabled. */
  rateLimit?: RateLimitOptions
  /** A preValidation hook (a missing body already reads as `{}` when no body field is required). */
  preValidation?: preValidationHookHandler
  /**
   * The URL of the resource a 201 created, for `Location` (default: the request path + `/` + the
   * result's `id`). Give it when the route is an action (checkout, renew) or returns a container.
   */
  location?: (created: unknown, request: FastifyRequest) => string | undefined
}

interface Read<P, Q, B, R> extends Common<P, Q, B, R> {
  method: 'GET' | 'HEAD'
  audit?: never
  idempotency?: never
}

interface Write<P, Q, B, R> extends Common<P, Q, B, R> {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** Every mutation is audited, or says why not. */
  audit: AuditSpec | AuditSkip
  /** 'required': 400 without an Idempotency-Key; otherwise the key is accepted on audited writes. */
  idempotency?: 'required'
}

export type RouteDefinition<P, Q, B, R> = Read<P, Q, B, R> | Write<P, Q, B, R>

// (a handler may always return null for a 304: withEtag() has sent it)
type Schema<P, Q, B, R> = { params: P, querystring: Q, body: B, response: R & { 304: typeof NotModifiedResponse } }
export type RouteHandler<P, Q, B, R> = RouteHandlerMethod<
RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, RouteGenericInterface, ContextConfigDefault,
Schema<P, Q, B, R>, TypeBoxTypeProvider, FastifyBaseLogger>

/**
 * preValidation of `idempotency: 'required'` routes: a missing key is 400 IDEMPOTENCY_KEY_REQUIRED
 * (its own code, as the audit plugin answers it), not a VALIDATION_FAILED on the required header.
 * It runs after authentication and RBAC (onRequest), before schema validation.
 */
function requireIdempotencyKey (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (request.headers['idempotency-key'] === undefined) done(new AppError('IDEMPOTENCY_KEY_REQUIRED', 'This operation requires an Idempotency-Key header'))
  else done()
}

/** The query parameter every route ignores: `_=<timestamp>` is how many clients bust caches. */
export const CACHE_BUSTER = '_'

function ignoreCacheBuster (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const query = request.query
  if (typeof query === 'object' && query !== null && CACHE_BUSTER in query) Reflect.deleteProperty(query, CACHE_BUSTER)
  done()
}

/** An object body schema none of whose fields is required: a request may then omit the body. */
export function bodyIsOptional (body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false
  const b = body as { type?: unknown, required?: unknown }
  return b.type === 'object' && (!Array.isArray(b.required) || b.required.length === 0)
}

function preValidationOf (def: RouteDefinition<unknown, unknown, unknown, unknown>): { preValidation?: preValidationHookHandler[] } {
  const hooks: preValidationHookHandler[] = []
  if (def.querystring !== undefined) hooks.push(ignoreCacheBuster)
  if (def.idempotency === 'required') hooks.push(requireIdempotencyKey)
  if (bodyIsOptional(def.body) && def.preValidation !== missingBodyAsEmpty) hooks.push(missingBodyAsEmpty)
  if (def.preValidation !== undefined) hooks.push(def.preValidation)
  return hooks.length === 0 ? {} : { preValidation: hooks }
}

/** The `id` of a created resource (a handler's result), when it has a string one. */
export function createdId (created: unknown): string | undefined {
  if (typeof created !== 'object' || created === null || !('id' in created)) return undefined
  return typeof created.id === 'string' ? created.id : undefined
}

function defaultLocation (created: unknown, request: FastifyRequest): string | undefined {
  const id = createdId(created)
  const path = (request.url.split('?')[0] ?? '').replace(/\/+$/, '')
  return id === undefined ? undefined : `${path}/${encodeURIComponent(id)}`
}

/**
 * Wraps the handler of a route that answers 201 so the answer carries `Location` (unless the
 * handler set one). Set inside the handler, before the audit plugin stores the response headers.
 */
function withLocation (handler: RouteHandlerMethod, locate: (created: unknown, request: FastifyRequest) => string | undefined): RouteHandlerMethod {
  return async function createdHandler (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
    const created: unknown = await handler.call(this, request, reply)
    if (reply.statusCode === 201 && !reply.sent && !reply.hasHeader('location')) {
      const url = locate(created, request)
      if (url !== undefined) void reply.header('location', url)
    }
    return created
  }
}

function headersOf (def: RouteDefinition<unknown, unknown, unknown, unknown>): TObject | undefined {
  const props: TProperties = { ...(def.headers?.properties ?? {}) }
  if (def.ifMatch === true) props['if-match'] = Type.Optional(IfMatchHeader)
  if (def.audit !== undefined && !('skip' in def.audit)) {
    // required: documented as such; a missing key is answered by requireIdempotencyKey first
    props['idempotency-key'] = def.idempotency === 'required' ? RequiredIdempotencyKeyHeader : Type.Optional(IdempotencyKeyHeader)
  }
  return Object.keys(props).length === 0 ? undefined : Type.Object(props)
}

/** Registers a route in the house shape (see the file comment). */
export function defineRoute<
  P extends TSchema | undefined = undefined,
  Q extends TSchema | undefined = undefined,
  B extends TSchema | undefined = undefined,
  const R extends Record<number, TSchema> = Record<number, TSchema>
> (app: App, def: RouteDefinition<P, Q, B, R>, handler: RouteHandler<P, Q, B, R>): void {
  const response: Record<string, unknown> = { ...def.response, ...(def.notModified === true ? { 304: NotModifiedResponse } : {}), ...StandardProblems }
  const schema: Record<string, unknown> = {
    tags: [def.tag],
    operationId: def.operationId,
    summary: def.summary,
    description: def.description,
    response
  }
  if (def.params !== undefined) schema.params = def.params
  if (def.querystring !== undefined) schema.querystring = def.querystring
  if (def.body !== undefined) schema.body = def.body
  const shape = def as RouteDefinition<unknown, unknown, unknown, unknown>
  const headers = headersOf(shape)
  if (headers !== undefined) schema.headers = headers
  if (def.hide === true) schema.hide = true
  const config = {
    access: def.access,
    ...(def.method === 'GET' || def.method === 'HEAD' ? {} : { audit: def.audit, ...(def.idempotency !== undefined ? { idempotency: def.idempotency } : {}) }),
    ...(def.rateLimit !== undefined ? { rateLimit: def.rateLimit } : {})
  }
  const base = handler as RouteHandlerMethod
  app.route({
    method: def.method,
    url: def.url,
    config,
    schema,
    ...preValidationOf(shape),
    handler: 201 in def.response ? withLocation(base, def.location ?? defaultLocation) : base
  })
}
