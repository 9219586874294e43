// Graceful draining before a shutdown. Closing an HTTP server destroys its idle keep-alive
// sockets, and a client that sent a request on one at that instant sees a connection reset: a
// failed request the service never answered. So a shutdown first drains: readiness answers 503
// (load balancers stop routing here), every response carries `Connection: close` (each client's
// socket closes cleanly after the answer it is reading, and its next request opens a new
// connection, to another instance behind a load balancer), requests keep being served, and only
// when no client socket is left, or after SHUTDOWN_DRAIN_MS, does the app close — by then the
// remaining sockets are ones no client used during the whole window. Requests that still arrive
// during the close itself are answered with a 503 problem, Retry-After and Connection: close
// (instead of Fastify's own return503OnClosing body, which is not a problem document).
import type { IncomingMessage, ServerResponse } from 'node:http'
import net, { type Socket } from 'node:net'
import fp from 'fastify-plugin'
import { AppError } from '../lib/problems.js'
import { sendProblem } from './errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** true from the start of a drain: readiness is 503 and responses close their connection */
    draining: () => boolean
    /** drains client connections for at most `maxMs`; resolves when none is left or time is up */
    drain: (maxMs: number) => Promise<{ ms: number, socketsLeft: number }>
  }
}

export default fp(async function drainPlugin (app) {
  let draining = false
  const sockets = new Set<Socket>()
  let onEmpty: (() => void) | undefined
  const busy = new Set<Socket>()
  app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket
    busy.add(socket)
    res.once('close', () => busy.delete(socket))
  })
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => {
      sockets.delete(socket)
      if (sockets.size === 0) onEmpty?.()
    })
  })

  /** resolves when no client socket is left, or after `ms` */
  const socketsGone = async (ms: number): Promise<void> => {
    if (sockets.size === 0 || ms <= 0) return
    let timer: NodeJS.Timeout | undefined
    await new Promise<void>(resolve => {
      onEmpty = resolve
      timer = setTimeout(resolve, ms)
    })
    clearTimeout(timer)
    onEmpty = undefined
  }

  app.decorate('draining', () => draining)
  app.decorate('drain', async (maxMs: number) => {
    const t0 = performance.now()
    draining = true
    // Idle keep-alive sockets carry no response to say `Connection: close` on: they are closed
    // at the end of the window, unless a request arrives on one first.
    await socketsGone(maxMs)
    // Stop accepting before anything is closed: http.Server#close would also destroy sockets
    // accepted a moment ago whose request has not been read yet (a reset for that client).
    // Those requests are read and answered (with Connection: close) in a short settle time.
    if (app.server.listening) net.Server.prototype.close.call(app.server)
    await socketsGone(Math.min(maxMs, 250))
    // What is left carries no request (a request in progress ends its connection when answered):
    // connections idle through the whole window, including ones that never sent a byte, which
    // http.Server#close would otherwise wait for.
    for (const socket of sockets) if (!busy.has(socket)) socket.destroy()
    return { ms: Math.round(performance.now() - t0), socketsLeft: sockets.size }
  })

  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onRequest', function (request, reply, done) {
    if (closing) {
      void reply.header('connection', 'close')
      sendProblem(reply, new AppError('SERVICE_UNAVAILABLE', 'The service is shutting down; retry on another instance', { retryAfterSeconds: 1 }))
      return
    }
    done()
  })

  // also while closing without a drain (app.close() alone): responses still in flight tell
  // keep-alive clients to hang up, or the close would wait for their idle sockets
  app.addHook('onSend', function (request, reply, payload, done) {
    if (draining || closing) void reply.header('connection', 'close')
    done(null, payload)
  })
}, { name: 'drain', dependencies: ['errors'] })
