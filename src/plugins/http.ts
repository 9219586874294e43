// Request ids, security headers and load shedding. Request ids: a client's X-Request-Id is kept
// when it is a safe token (≤ 128 of [A-Za-z0-9._-]), otherwise one is generated; it is echoed on
// every response and appears in every log line and audit event. Security headers are set with one
// cheap hook instead of a full helmet (which halved simple-route throughput when measured): nosniff
// everywhere, no-store on API responses, and a strict CSP only on /docs.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import underPressure from '@fastify/under-pressure'
import { AppError } from '../lib/problems.js'
import { problemBody } from './errors.js'

const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/

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
    if (body === '' || (typeof body === 'string' && body.trim() === '')) { done(null, undefined); return }
    parseJson(request, body as string, done)
  })

  // While closing, responses still in flight tell keep-alive clients to hang up, otherwise the
  // server would wait for their idle sockets (up to the keep-alive timeout) before exiting.
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', function (_request, reply, payload, done) {
    if (closing) void reply.header('connection', 'close')
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
      // runtime contract, wider than its declared type)
      pressureHandler: ((request: FastifyRequest, reply: FastifyReply) => {
        if (Date.now() < sheddingFrom) return undefined
        const e = new AppError('SERVICE_UNAVAILABLE', 'The service is overloaded; retry shortly', { retryAfterSeconds: 2 })
        void reply.code(503).header('retry-after', '2').type('application/problem+json; charset=utf-8').serializer(JSON.stringify)
        return problemBody(e, request)
      }) as never
    })
  }
}, { name: 'http', dependencies: ['errors'] })
