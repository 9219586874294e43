// A tiny round-robin HTTP load balancer for the cluster suite, doing what a real one does during a
// rolling restart (Kubernetes Service + kube-proxy/ingress, an AWS target group, HAProxy/nginx
// with active health checks):
// - it polls each backend's /health/ready (every `pollMs`) and routes only to backends whose last
//   answer was 200 — an instance that starts draining answers 503 and stops getting requests
//   within one poll;
// - a request whose connection to a backend is refused (nothing was sent: the backend has closed
//   its listener) is retried on the next backend, as nginx `proxy_next_upstream error` and HAProxy
//   `retry-on conn-failure` do; a connection lost after the request was sent is NOT retried for a
//   non-idempotent method (the backend may have acted on it): the client sees 502, and the suite
//   counts it as a failure;
// - hop-by-hop headers are not forwarded; X-Forwarded-For carries the client's address.
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Backend {
  name: string
  base: string
  ready: boolean
  /** requests answered through this backend */
  served: number
  agent: Agent
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length'])
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])

export class Balancer {
  readonly backends = new Map<string, Backend>()
  readonly counts = { requests: 0, retriedRefused: 0, retriedReset: 0, noBackend: 0, failed502: 0 }
  readonly #server: Server
  readonly #poll: NodeJS.Timeout
  #next = 0
  url = ''

  private constructor (pollMs: number) {
    this.#server = createServer((req, res) => { void this.#handle(req, res) })
    this.#server.keepAliveTimeout = 30_000
    this.#poll = setInterval(() => { void this.#check() }, pollMs)
  }

  static async start (pollMs = 100): Promise<Balancer> {
    const b = new Balancer(pollMs)
    await new Promise<void>(resolve => b.#server.listen(0, '127.0.0.1', resolve))
    b.url = `http://127.0.0.1:${(b.#server.address() as AddressInfo).port}`
    return b
  }

  /** Adds a backend (routed to once its readiness answers 200). */
  add (name: string, base: string): void {
    this.backends.set(name, { name, base, ready: false, served: 0, agent: new Agent({ keepAlive: true, maxSockets: 64 }) })
  }

  remove (name: string): void {
    this.backends.get(name)?.agent.destroy()
    this.backends.delete(name)
  }

  ready (): string[] { return [...this.backends.values()].filter(b => b.ready).map(b => b.name) }

  async #check (): Promise<void> {
    await Promise.all([...this.backends.values()].map(async b => {
      try {
        const r = await fetch(`${b.base}/health/ready`, { signal: AbortSignal.timeout(500) })
        await r.arrayBuffer()
        b.ready = r.status === 200
      } catch { b.ready = false }
    }))
  }

  #pick (exclude: Set<string>): Backend | undefined {
    const ready = [...this.backends.values()].filter(b => b.ready && !exclude.has(b.name))
    if (ready.length === 0) return undefined
    return ready[this.#next++ % ready.length]
  }

  async #handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counts.requests++
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks)
    const headers: Record<string, string | string[]> = {}
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v
    headers['x-forwarded-for'] ??= req.socket.remoteAddress ?? '127.0.0.1'
    if (body.length > 0) headers['content-length'] = String(body.length)
    const tried = new Set<string>()
    for (let attempt = 0; attempt < 6; attempt++) {
      let b = this.#pick(tried)
      if (b === undefined) {
        // every backend is draining or restarting: wait for one (a real balancer queues or 503s)
        await new Promise(resolve => setTimeout(resolve, 50))
        tried.clear()
        b = this.#pick(tried)
        if (b === undefined) continue
      }
      tried.add(b.name)
      const outcome = await this.#forward(b, req, res, headers, body)
      if (outcome === 'done') { b.served++; return }
      if (outcome === 'refused') { b.ready = false; this.counts.retriedRefused++; continue }
      if (outcome === 'reset-before-response' && IDEMPOTENT.has(req.method ?? 'GET')) { this.counts.retriedReset++; continue }
      break
    }
    if (!res.headersSent) {
      this.counts.failed502++
      res.writeHead(502, { 'content-type': 'application/problem+json', 'retry-after': '1' })
      res.end(JSON.stringify({ type: 'about:blank', title: 'Bad Gateway', status: 502, code: 'BAD_GATEWAY' }))
    } else res.destroy()
  }

  async #forward (b: Backend, req: IncomingMessage, res: ServerResponse, headers: Record<string, string | string[]>, body: Buffer): Promise<'done' | 'refused' | 'reset-before-response' | 'failed'> {
    return await new Promise(resolve => {
      const up = httpRequest(`${b.base}${req.url ?? '/'}`, { method: req.method, headers, agent: b.agent }, upRes => {
        const out: Record<string, string | string[]> = {}
        for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v
        const parts: Buffer[] = []
        upRes.on('data', (c: Buffer) => parts.push(c))
        upRes.on('end', () => {
          const payload = Buffer.concat(parts)
          out['content-length'] = String(payload.length)
          res.writeHead(upRes.statusCode ?? 502, out)
          res.end(payload)
          resolve('done')
        })
        upRes.on('error', () => { resolve('failed') })
        upRes.on('aborted', () => { resolve('failed') })
      })
      up.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED') resolve('refused')
        else if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'ECONNABORTED') resolve('reset-before-response')
        else resolve('failed')
      })
      up.setTimeout(30_000, () => { up.destroy(Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT' })) })
      up.end(body)
    })
  }

  async close (): Promise<void> {
    clearInterval(this.#poll)
    for (const b of this.backends.values()) b.agent.destroy()
    this.#server.closeAllConnections()
    await new Promise<void>(resolve => this.#server.close(() => { resolve() }))
  }
}
