// Request ids, security headers and load shedding. Request ids: a client's X-Request-Id is kept
// when it is a safe token (≤ 128 of [A-Za-z0-9._-]), otherwise one is generated; it is echoed on
// every response and appears in every log line and audit event. Security headers are set with one
// cheap hook instead of a full helmet (which halved simple-route throughput when measured): nosniff
// everywhere, no-store on API responses, and a strict CSP only on /docs. Text that is not Unicode
// text PostgreSQL can store — a NUL character or a UTF-16 surrogate without its pair, which JSON
// escapes (`\u0000`, `\ud800`) and percent-encoding (`%00`) can smuggle in — is refused with a 400
// at the edge, in every body string, key, query parameter and path parameter, before validation
// and before any handler runs.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import underPressure from '@fastify/under-pressure'
import type { FastifyUnderPressureOptions } from '@fastify/under-pressure'
import { AppError } from '../lib/problems.js'
import { problemBody } from './errors.js'

const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/

// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const BAD_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
// the only ways a body decoded from UTF-8 can carry such text: the JSON escapes of NUL or a surrogate
const SUSPECT_JSON = /\\u(?:0000|[dD][89a-fA-F])/

const pointerToken = (key: string): string => key.replaceAll('~', '~0').replaceAll('/', '~1').replace(new RegExp(BAD_TEXT.source, 'g'), '\uFFFD')

/**
 * The JSON pointer of the first string (or object key) in `value` holding a NUL character or an
 * unpaired surrogate, or undefined. Iterative: a deeply nested body cannot overflow the stack.
 */
export function findMalformedText (value: unknown): string | undefined {
  const stack: Array<[unknown, string]> = [[value, '']]
  while (stack.length > 0) {
    const [v, pointer] = stack.pop() as [unknown, string]
    if (typeof v === 'string') {
      if (BAD_TEXT.test(v)) return pointer === '' ? '/' : pointer
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${pointer}/${i}`])
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        const p = `${pointer}/${pointerToken(k)}`
        if (BAD_TEXT.test(k)) return p
        stack.push([child, p])
      }
    }
  }
  return undefined
}

function malformedText (context: string, pointer: string): AppError {
  const detail = `${context === 'body' ? '' : context + ' '}${pointer} must not contain NUL characters or unpaired UTF-16 surrogates`
  return new AppError('VALIDATION_FAILED', `Invalid ${context}: ${detail}`, { errors: [{ pointer, code: 'INVALID_TEXT', detail }] })
}

export function genRequestId (req: IncomingMessage): string {
  const h = req.headers['x-request-id']
  if (typeof h === 'string' && SAFE_ID.test(h)) return h
  return randomUUID()
}

export default fp(async function httpPlugin (app) {
  app.addHook('onRequest', function (request, reply, done) {
    void reply.header('x-request-id', request.id)
    void reply.header('x-content-type-options', 'nosniff')
    if (request.url.startsWith('/v1/')) void reply.header('cache-control', 'no-store')
    done()
  })
  // Many clients send Content-Type: application/json on every request, including DELETEs and
  // action POSTs without a body. An empty body is "no body" (the route's schema then decides),
  // not malformed JSON; anything else goes through Fastify's hardened parser.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, function (request, body, done) {
    const text = body as string
    if (text === '' || text.trim() === '') { done(null, undefined); return }
    if (!SUSPECT_JSON.test(text)) { parseJson(request, text, done); return }
    parseJson(request, text, (err, value) => {
      if (err !== null) { done(err, undefined); return }
      const pointer = findMalformedText(value)
      if (pointer === undefined) done(null, value)
      else done(malformedText('body', pointer), undefined)
    })
  })

  // Query strings and path parameters are percent-decoded: only a `%` can bring NUL or a lone
  // surrogate into them, so requests without one pay a single string search.
  app.addHook('preValidation', function (request, _reply, done) {
    if (!request.url.includes('%')) { done(); return }
    const inQuery = findMalformedText(request.query)
    if (inQuery !== undefined) { done(malformedText('querystring', inQuery)); return }
    const inParams = findMalformedText(request.params)
    if (inParams !== undefined) { done(malformedText('params', inParams)); return }
    done()
  })

  // (Connection: close while draining or closing is the drain plugin's.)
  app.addHook('onSend', function (_request, reply, payload, done) {
    // a 304 has no body: no length or type of the `null` a handler returned with it
    if (reply.statusCode === 304) {
      reply.removeHeader('content-length')
      reply.removeHeader('content-type')
      done(null, null)
      return
    }
    done(null, payload)
  })

  const maxDelay = app.conf.MAX_EVENT_LOOP_DELAY_MS
  if (maxDelay > 0) {
    // The first samples after boot still hold the event-loop block of compiling every route
    // (under-pressure reads "no sample in the interval" as an infinite delay): shedding then would
    // answer 503 to the first requests of an idle, healthy process. Pressure counts from 2 s on.
    let sheddingFrom = Infinity
    app.addHook('onReady', async () => { sheddingFrom = Date.now() + 2000 })
    await app.register(underPressure, {
      maxEventLoopDelay: maxDelay,
      retryAfter: 2,
      exposeStatusRoute: false,
      // returning nothing lets the request through; returning a payload sends it (under-pressure's
      // runtime contract, wider than its declared `=> void | Promise<void>`: hence the one cast)
      pressureHandler: ((request: FastifyRequest, reply: FastifyReply) => {
        if (Date.now() < sheddingFrom) return undefined
        const e = new AppError('SERVICE_UNAVAILABLE', 'The service is overloaded; retry shortly', { retryAfterSeconds: 2 })
        void reply.code(503).header('retry-after', '2').type('application/problem+json; charset=utf-8').serializer(JSON.stringify)
        return problemBody(e, request)
      }) as FastifyUnderPressureOptions['pressureHandler']
    })
  }
}, { name: 'http', dependencies: ['errors'] })
