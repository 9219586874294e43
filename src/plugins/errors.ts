// Every error leaves the service as RFC 9457 problem details (application/problem+json) with a
// stable `code` and the request id. Catalogued AppErrors render as declared; Fastify's own errors
// (validation, body parsing, size, media type) and PostgreSQL errors are mapped here, in one
// place; anything else is a 500 that carries no internal detail. Unknown routes are 404 problems.
import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, PROBLEMS, problemType, type ProblemCode, type ProblemItem } from '../lib/problems.js'
import type { Problem } from '../lib/schemas.js'

interface PgLikeError { code?: string, constraint?: string, detail?: string, message?: string }

const CONNECTION_MESSAGES = ['timeout exceeded when trying to connect', 'Connection terminated', 'connect ECONNREFUSED', 'Client has encountered a connection error', 'Connection terminated unexpectedly', 'Cannot use a pool after calling end', 'Query read timeout']

/** Maps a PostgreSQL / pg driver error to a catalogued problem, or undefined if it is not one. */
export function mapDatabaseError (err: PgLikeError): AppError | undefined {
  const code = err.code
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    const constraint = err.constraint !== undefined ? ` (${err.constraint})` : ''
    switch (code) {
      case '23505': return new AppError('DUPLICATE', `A resource with the same unique key already exists${constraint}`)
      case '23503': return new AppError('REFERENCE_NOT_FOUND', `A referenced resource does not exist or is still in use${constraint}`)
      case '23514': return new AppError('CONSTRAINT_VIOLATED', `The change violates a data rule${constraint}`)
      case '23502': return new AppError('CONSTRAINT_VIOLATED', `A required value is missing${constraint}`)
      case '23P01': return new AppError('CONFLICT', `The change conflicts with an existing row${constraint}`)
      case '22003': return new AppError('CONSTRAINT_VIOLATED', 'A numeric value is out of range')
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
    return { pointer: pointer === '' ? '/' : pointer, code: `INVALID_${(v.keyword ?? 'value').toUpperCase()}`, detail: `${what}${pointer === '' ? '' : pointer + ' '}${v.message ?? 'is invalid'}`.trim() }
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
  const mapped = mapDatabaseError(err as PgLikeError)
  if (mapped !== undefined) return mapped
  return fromFastifyError(err as FastifyError)
}

export function problemBody (e: AppError, request: FastifyRequest): Problem {
  const body: Problem = {
    type: problemType(e.code),
    title: e.title,
    status: e.status,
    detail: e.message,
    instance: request.url.split('?')[0] ?? request.url,
    code: e.code,
    requestId: request.id
  }
  if (e.currentStatus !== undefined) body.currentStatus = e.currentStatus
  if (e.errors !== undefined) body.errors = e.errors
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

export default fp(async function errorsPlugin (app) {
  app.setErrorHandler(function (err, request, reply) {
    const e = toAppError(err)
    if (e.status >= 500) {
      request.log.error({ err, code: e.code }, 'request failed')
    } else if (e.code === 'CONCURRENT_UPDATE') {
      request.log.warn({ err }, 'serialization conflict')
    }
    return sendProblem(reply, e)
  })
  app.setNotFoundHandler(function (request, reply) {
    return sendProblem(reply, new AppError('ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0] ?? ''}`))
  })
}, { name: 'errors' })

export function problemCatalogueMarkdown (): string {
  const rows = (Object.keys(PROBLEMS) as ProblemCode[]).map(c => `| \`${c}\` | ${PROBLEMS[c].status} | ${PROBLEMS[c].title} |`)
  return ['| code | status | meaning |', '|---|---|---|', ...rows].join('\n')
}
