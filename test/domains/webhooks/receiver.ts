// A webhook receiver on loopback, as an integrator would write one: it records every request
// (headers, raw body, when it started and ended) and answers what the test scripts — a status,
// a delay, a redirect, a large body — by default 204. Verification uses the standardwebhooks
// package, the reference implementation a receiver would use.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

export interface Received {
  path: string
  headers: Record<string, string>
  body: string
  startedAt: number
  endedAt?: number
  host: string
}

export interface Plan { status?: number, delayMs?: number, body?: string, headers?: Record<string, string> }

export class Receiver {
  readonly requests: Received[] = []
  /** what to answer per path, given the request and how many came to that path before it (default 204) */
  readonly plans = new Map<string, (req: Received, nth: number) => Plan>()
  /** requests in flight now, and the most at once, per path and webhook-id (one subscription's message) */
  readonly inFlight = new Map<string, number>()
  maxConcurrentPerId = 0
  readonly #server: http.Server
  #waiters: Array<() => void> = []

  private constructor (server: http.Server) { this.#server = server }

  static async start (): Promise<Receiver> {
    const server = http.createServer()
    const receiver = new Receiver(server)
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => { void receiver.handle(req, res, Buffer.concat(chunks).toString('utf8')) })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    return receiver
  }

  get port (): number { return (this.#server.address() as AddressInfo).port }
  url (path = '/hook'): string { return `http://127.0.0.1:${this.port}${path}` }

  private async handle (req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v
    const r: Received = { path: req.url ?? '', headers, body, startedAt: Date.now(), host: req.headers.host ?? '' }
    const nth = this.at(r.path).length
    this.requests.push(r)
    const id = `${r.path}|${headers['webhook-id'] ?? ''}`
    const now = (this.inFlight.get(id) ?? 0) + 1
    this.inFlight.set(id, now)
    this.maxConcurrentPerId = Math.max(this.maxConcurrentPerId, now)
    const plan = this.plans.get(r.path)?.(r, nth) ?? { status: 204 }
    if (plan.delayMs !== undefined) await new Promise(resolve => setTimeout(resolve, plan.delayMs))
    this.inFlight.set(id, (this.inFlight.get(id) ?? 1) - 1)
    r.endedAt = Date.now()
    if (!res.destroyed) {
      res.writeHead(plan.status ?? 204, plan.headers ?? {})
      res.end(plan.body ?? '')
    }
    for (const w of this.#waiters.splice(0)) w()
  }

  /** Waits until `predicate` holds over the requests (checked after each one), or fails after `ms`. */
  async waitFor (predicate: (requests: Received[]) => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms
    while (!predicate(this.requests)) {
      if (Date.now() > deadline) throw new Error(`receiver: condition not met within ${ms} ms (${this.requests.length} requests)`)
      await new Promise<void>(resolve => { this.#waiters.push(resolve); setTimeout(resolve, 50) })
    }
  }

  ids (path?: string): string[] { return this.requests.filter(r => path === undefined || r.path === path).map(r => r.headers['webhook-id'] ?? '') }
  at (path: string): Received[] { return this.requests.filter(r => r.path === path) }

  async close (): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>(resolve => this.#server.close(() => resolve()))
  }
}

/** What a receiver does with each request: true when the signature verifies under `secret`. */
export function verifies (secret: string, r: Received): boolean {
  try {
    new Webhook(secret).verify(r.body, { 'webhook-id': r.headers['webhook-id'] ?? '', 'webhook-timestamp': r.headers['webhook-timestamp'] ?? '', 'webhook-signature': r.headers['webhook-signature'] ?? '' })
    return true
  } catch {
    return false
  }
}
