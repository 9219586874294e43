// Every error leaves the service as RFC 9457 problem details (application/problem+json) with a
// stable `code` and the request id. Catalogued AppErrors render as declared; Fastify's own errors
// (validation, body parsing, size, media type) and PostgreSQL errors are mapped here, in one
// place; anything else is a 500 that carries no internal detail. Unknown routes are 404 problems.
import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, PROBLEMS, problemType, type ProblemCode, type ProblemItem } from '../lib/problems.js'
import { DATE_PATTERN, PROBLEM_LIMITS, type Problem } from '../lib/schemas.js'

interface PgLikeError { code?: string, constraint?: string, column?: string, detail?: string, message?: string }

const CONNECTION_MESSAGES = ['timeout exceeded when trying to connect', 'Connection terminated', 'connect ECONNREFUSED', 'Client has encountered a connection error', 'Client was closed and is not queryable', 'Connection terminated unexpectedly', 'Cannot use a pool after calling end', 'Query read timeout', 'timeout expired']

const camel = (column: string): string => column.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())

/**
 * The columns of a unique or foreign key, in API words, from PostgreSQL's error detail
 * (`Key (station_id, article_id)=(…) already exists.`, `Key (lower(email::text))=(…)`): "stationId
 * and articleId". Undefined when the detail has another shape. Constraint and table names never
 * leave the service; nor do the key's values.
 */
export function keyFieldsOf (detail: string | undefined): string | undefined {
  const m = /^Key \((.+?)\)=\(/.exec(detail ?? '')
  if (m?.[1] === undefined) return undefined
  const names = m[1].split(',').map(part => /^(?:lower\()?([a-z][a-z0-9_]*)(?:::[a-z ]+)?\)?$/.exec(part.trim())?.[1])
  if (names.some(n => n === undefined)) return undefined
  return (names as string[]).map(camel).join(' and ')
}

/** Class 22 (data exception): a value PostgreSQL refuses; validation should have stopped it first. */
function dataException (code: string): AppError {
  switch (code) {
    case '22003': return new AppError('CONSTRAINT_VIOLATED', 'A numeric value is out of range')
    case '22021':
    case '22P05': return new AppError('VALIDATION_FAILED', 'A text value contains a character that cannot be stored (NUL or an unpaired surrogate)')
    case '22007':
    case '22008':
    case '22009': return new AppError('VALIDATION_FAILED', 'A date or time value is malformed or out of range')
    case '22001': return new AppError('VALIDATION_FAILED', 'A text value is too long')
    case '22P02': return new AppError('VALIDATION_FAILED', 'A value has an invalid format')
  }
  return new AppError('VALIDATION_FAILED', 'A value is not acceptable')
}

/** Maps a PostgreSQL / pg driver error to a catalogued problem, or undefined if it is not one. */
/** Socket errors of a lost database connection (checked first: `EPIPE` also looks like a SQLSTATE). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ECONNABORTED', 'EAI_AGAIN'])

export function mapDatabaseError (err: PgLikeError): AppError | undefined {
  const code = err.code
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable', { retryAfterSeconds: 2 })
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    if (code.startsWith('22')) return dataException(code)
    switch (code) {
      case '23505': {
        const fields = keyFieldsOf(err.detail)
        return new AppError('DUPLICATE', fields === undefined ? 'A resource with the same unique key already exists' : `A resource with the same ${fields} already exists`)
      }
      case '23503': {
        if (err.detail?.includes('is still referenced') === true) return new AppError('REFERENCE_NOT_FOUND', 'The resource is still in use by other records')
        const fields = keyFieldsOf(err.detail)
        return new AppError('REFERENCE_NOT_FOUND', fields === undefined ? 'A referenced resource does not exist or is still in use' : `The resource referenced by ${fields} does not exist`)
      }
      case '23514': return new AppError('CONSTRAINT_VIOLATED', 'The change violates a data rule')
      case '23502': return new AppError('CONSTRAINT_VIOLATED', err.column === undefined ? 'A required value is missing' : `A required value is missing: ${camel(err.column)}`)
      case '23P01': return new AppError('CONFLICT', 'The change conflicts with an existing row')
      case '40001':
      case '40P01': return new AppError('CONCURRENT_UPDATE', 'The change raced with another one; retry the request')
      case '55P03': return new AppError('CONCURRENT_UPDATE', 'The resource is locked by another request; retry the request')
      case '57014': return new AppError('SERVICE_UNAVAILABLE', 'The database took too long to answer', { retryAfterSeconds: 1 })
      case '53300':
      case '57P01':
      case '57P02':
      case '57P03': return new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable', { retryAfterSeconds: 2 })
    }
    if (code.startsWith('08')) return new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable', { retryAfterSeconds: 2 })
    return undefined
  }
  const message = err.message ?? ''
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE' || CONNECTION_MESSAGES.some(m => message.includes(m))) {
    return new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable', { retryAfterSeconds: 2 })
  }
  return undefined
}

interface AjvError { instancePath?: string, keyword?: string, message?: string, params?: Record<string, unknown> }

function validationItems (err: FastifyError): ProblemItem[] {
  const context = (err as { validationContext?: string }).validationContext ?? 'body'
  const items = ((err as { validation?: AjvError[] }).validation ?? []).map(v => {
    let pointer = v.instancePath ?? ''
    const params = v.params ?? {}
    if (v.keyword === 'required' && typeof params.missingProperty === 'string') pointer += `/${params.missingProperty}`
    if (v.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') pointer += `/${params.additionalProperty}`
    const what = context === 'body' ? '' : `${context} `
    // an undeclared query parameter: named as such (the error handler lists the accepted ones)
    if (context === 'querystring' && v.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      return { pointer, code: 'UNKNOWN_PARAMETER', detail: `unknown query parameter ${JSON.stringify(params.additionalProperty)}` }
    }
    const message = v.keyword === 'pattern' && params.pattern === DATE_PATTERN ? 'must be a date from 1900-01-01 to 2999-12-31' : v.message ?? 'is invalid'
    return { pointer: pointer === '' ? '/' : pointer, code: `INVALID_${(v.keyword ?? 'value').toUpperCase()}`, detail: `${what}${pointer === '' ? '' : pointer + ' '}${message}`.trim() }
  })
  return items.slice(0, 50)
}

function fromFastifyError (err: FastifyError): AppError {
  if ((err as { validation?: unknown }).validation !== undefined) {
    const items = validationItems(err)
    const context = (err as { validationContext?: string }).validationContext ?? 'body'
    return new AppError('VALIDATION_FAILED', `Invalid ${context}: ${items.map(i => i.detail).join('; ')}`, { errors: items })
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new AppError('PAYLOAD_TOO_LARGE', 'The request body exceeds the size limit')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send application/json')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return new AppError('VALIDATION_FAILED', 'Invalid Content-Length')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return new AppError('MALFORMED_JSON', 'The body is empty; send a JSON document (at least {})')
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return new AppError('MALFORMED_JSON', 'The body is not valid JSON')
  }
  if (err.statusCode === 429) return new AppError('RATE_LIMITED', err.message)
  if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message))) return new AppError('MALFORMED_JSON', 'The body is not valid JSON')
  if (err.statusCode === 413) return new AppError('PAYLOAD_TOO_LARGE', 'The request body exceeds the size limit')
  if (err.statusCode === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE', err.message)
  if (err.statusCode === 404) return new AppError('NOT_FOUND', 'Not found')
  if (err.statusCode === 503) return new AppError('SERVICE_UNAVAILABLE', 'The service is temporarily unavailable', { retryAfterSeconds: 2 })
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new AppError('VALIDATION_FAILED', err.message)
  return new AppError('INTERNAL_ERROR', 'An unexpected error occurred; quote the request id when reporting it')
}

export function toAppError (err: unknown): AppError {
  if (err instanceof AppError) return err
  // a client that hung up while sending its body: its socket error is not the database's
  const e = err as { code?: string, message?: string, statusCode?: number }
  if (e.statusCode === 400 && (e.code === 'ECONNRESET' || e.code === 'ECONNABORTED' || e.message === 'aborted')) {
    return new AppError('MALFORMED_REQUEST', 'The request body was not received completely (the client closed the connection)')
  }
  const mapped = mapDatabaseError(err as PgLikeError)
  if (mapped !== undefined) return mapped
  return fromFastifyError(err as FastifyError)
}

/** Texts of a problem are clipped to the lengths its schema documents (a path or a detail can echo long input). */
const clip = (text: string, max: number): string => text.length <= max ? text : `${text.slice(0, max - 1)}…`

export function problemBody (e: AppError, request: FastifyRequest): Problem {
  const body: Problem = {
    type: problemType(e.code),
    title: e.title,
    status: e.status,
    detail: clip(e.message, PROBLEM_LIMITS.detail),
    instance: clip(request.url.split('?')[0] ?? request.url, PROBLEM_LIMITS.instance),
    code: e.code,
    requestId: request.id
  }
  if (e.currentStatus !== undefined) body.currentStatus = e.currentStatus
  if (e.errors !== undefined) {
    body.errors = e.errors.slice(0, PROBLEM_LIMITS.items).map(i => ({ pointer: clip(i.pointer, PROBLEM_LIMITS.pointer), code: i.code, detail: clip(i.detail, PROBLEM_LIMITS.itemDetail) }))
  }
  return body
}

export function sendProblem (reply: FastifyReply, e: AppError): FastifyReply {
  // a handler may have chosen an audience serializer before failing; problems are plain JSON
  void reply.serializer(JSON.stringify)
  if (e.headers !== undefined) void reply.headers(e.headers)
  if (e.status === 401) void reply.header('www-authenticate', e.code === 'INVALID_TOKEN' ? 'Bearer realm="gestion-emballages", error="invalid_token"' : 'Bearer realm="gestion-emballages"')
  if (e.status === 503 && !reply.hasHeader('retry-after')) void reply.header('retry-after', '2')
  return reply.code(e.status).type('application/problem+json; charset=utf-8').send(problemBody(e, reply.request))
}

/**
 * Fastify's `frameworkErrors`: errors the router raises before any route or hook runs (a path
 * that is not valid percent-encoding, a path parameter longer than the router allows).
 */
export function frameworkErrorHandler (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const e = err.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? new AppError('URI_TOO_LONG', 'A path segment is longer than any identifier this API accepts')
    : err.code === 'FST_ERR_BAD_URL'
      ? new AppError('MALFORMED_REQUEST', 'The URL path is not valid percent-encoded UTF-8')
      : toAppError(err)
  void reply.header('x-request-id', request.id).header('x-content-type-options', 'nosniff')
  sendProblem(reply, e)
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused the request (headers or request line
 * too large, malformed HTTP, request timeout) so there is no request object; the answer is written
 * to the socket, still as problem details with a request id, and the connection is closed.
 */
export function clientErrorHandler (this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const e = err.code === 'HPE_HEADER_OVERFLOW'
    ? new AppError('HEADER_FIELDS_TOO_LARGE', 'The request line and headers exceed the size limit')
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new AppError('REQUEST_TIMEOUT', 'The request did not arrive in time')
      : new AppError('MALFORMED_REQUEST', 'The HTTP request is malformed')
  const requestId = randomUUID()
  const body: Problem = { type: problemType(e.code), title: e.title, status: e.status, detail: e.message, code: e.code, requestId }
  const text = JSON.stringify(body)
  this.log.debug({ err: err.message, code: err.code, requestId }, 'client error')
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}\r\nContent-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
      `X-Request-Id: ${requestId}\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${text}`)
  }
  socket.destroy(err)
}

/**
 * The methods registered for each route pattern, and the ones a concrete path allows: a `:param`
 * segment matches one non-empty segment, a `*` segment the rest of the path; a trailing slash is ignored, as the
 * router does (`ignoreTrailingSlash`).
 */
export class RouteMethods {
  private readonly patterns = new Map<string, { re: RegExp, methods: Set<string> }>()

  add (url: string, method: string | string[]): void {
    // a catch-all (the CORS preflight route, OPTIONS *) says nothing about which paths exist
    if (url === '*' || url === '/*') return
    let entry = this.patterns.get(url)
    if (entry === undefined) {
      const source = url.replace(/\/+$/, '').split('/').map(segment =>
        segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('/')
      entry = { re: new RegExp(`^${source}/?$`), methods: new Set() }
      this.patterns.set(url, entry)
    }
    for (const m of ([] as string[]).concat(method)) if (m.toUpperCase() !== 'OPTIONS') entry.methods.add(m.toUpperCase())
  }

  allowed (path: string): string[] {
    const methods = new Set<string>()
    for (const { re, methods: ms } of this.patterns.values()) if (re.test(path)) for (const m of ms) methods.add(m)
    return [...methods].sort()
  }
}

/** The query parameters a route declares (its querystring schema's properties). */
function declaredParameters (request: FastifyRequest): string[] {
  const schema = request.routeOptions.schema?.querystring as { properties?: Record<string, unknown> } | undefined
  return Object.keys(schema?.properties ?? {})
}

/**
 * An undeclared query parameter is a 400 that says which ones the operation accepts (and that `_`,
 * the cache-busting parameter, is ignored), so a misspelt filter is found at once.
 */
function withAcceptedParameters (e: AppError, request: FastifyRequest): AppError {
  if (e.errors?.some(i => i.code === 'UNKNOWN_PARAMETER') !== true) return e
  const accepted = declaredParameters(request)
  const unknown = e.errors.filter(i => i.code === 'UNKNOWN_PARAMETER').map(i => i.pointer.slice(1))
  return new AppError('VALIDATION_FAILED', `Unknown query parameter ${unknown.map(u => JSON.stringify(u)).join(', ')}: this operation accepts ${accepted.length === 0 ? 'none' : accepted.join(', ')} (and ignores \`_\`)`, { errors: e.errors })
}

const isDataException = (err: unknown): boolean => typeof (err as PgLikeError).code === 'string' && /^22[0-9A-Z]{3}$/.test((err as PgLikeError).code ?? '')

export default fp(async function errorsPlugin (app) {
  app.setErrorHandler(function (err, request, reply) {
    const e = withAcceptedParameters(toAppError(err), request)
    if (e.status >= 500) {
      request.log.error({ err, code: e.code }, 'request failed')
    } else if (e.code === 'CONCURRENT_UPDATE') {
      request.log.warn({ err }, 'serialization conflict')
    } else if (isDataException(err)) {
      // the backstop worked, but validation should have refused this value at the edge
      request.log.warn({ err }, 'the database refused a value that passed validation')
    }
    return sendProblem(reply, e)
  })
  // A known path with another method is 405 with Allow (RFC 9110 §15.5.6), not a 404: the
  // not-found handler matches the path against every registered route's pattern. OPTIONS is left
  // to CORS (plugins/cors.ts): a preflight it does not answer stays a 404, as for any path.
  const routes = new RouteMethods()
  app.addHook('onRoute', route => { routes.add(route.url, route.method) })
  app.setNotFoundHandler(function (request, reply) {
    const path = request.url.split('?')[0] ?? ''
    const allowed = request.method === 'OPTIONS' ? [] : routes.allowed(path)
    if (allowed.length > 0) {
      void reply.header('allow', allowed.join(', '))
      return sendProblem(reply, new AppError('METHOD_NOT_ALLOWED', `${request.method} is not supported on ${path}; allowed: ${allowed.join(', ')}`))
    }
    return sendProblem(reply, new AppError('ROUTE_NOT_FOUND', `No route ${request.method} ${path}`))
  })
}, { name: 'errors' })

export function problemCatalogueMarkdown (): string {
  const rows = (Object.keys(PROBLEMS) as ProblemCode[]).map(c => `| \`${c}\` | ${PROBLEMS[c].status} | ${PROBLEMS[c].title} |`)
  return ['| code | status | meaning |', '|---|---|---|', ...rows].join('\n')
}
