// Access-token verification, the hottest path of the service. HS256 only (the algorithm is
// pinned, `alg: none` and others are refused), issuer, audience and a `typ: access` claim are
// checked, and the rbac hook keeps verified tokens in a bounded map so a repeated token costs a lookup.
//
// Revocation without a database read per request: every instance keeps, per user, the instant
// before which tokens are no longer valid (password change, logout everywhere) or Infinity for a
// deactivated user. PostgreSQL tells every instance at once through LISTEN/NOTIFY (a trigger on
// users), and the map is reloaded after every reconnect so nothing is missed while disconnected
// (notices received during a reload win over its snapshot). Until the first load has completed the
// guard reports `loaded: false`: protected routes and readiness answer 503.
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import pg from 'pg'
import { sql } from 'kysely'
import type { FastifyInstance } from 'fastify'
import type { Actor, OrganizationKind, Role } from '../lib/permissions.js'
import type { TokenGuard } from '../lib/fastify-types.js'

export interface AccessClaims {
  sub: string
  role: Role
  org: string
  kind: OrganizationKind
  typ: 'access'
  /** issue instant in epoch milliseconds (iat has only second precision) */
  ms: number
}

export class MemoryTokenGuard implements TokenGuard {
  readonly #after = new Map<string, number>()
  /** notices received while a load runs, per load: they are newer than (or equal to) its snapshot */
  readonly #recorders = new Set<Map<string, number>>()
  #loaded = false

  /** false until the first complete load: until then no token can be checked for revocation */
  get loaded (): boolean { return this.#loaded }

  validAfter (userId: string): number { return this.#after.get(userId) ?? -Infinity }

  /** Applies a revocation notice (LISTEN/NOTIFY): the newest value for the user. */
  set (userId: string, value: number): void {
    for (const r of this.#recorders) r.set(userId, value)
    this.#put(userId, value)
  }

  /**
   * Replaces the map with a fresh snapshot from the database. Notices that arrive while the
   * snapshot is read are kept over it: PostgreSQL delivers notices in commit order on the listening
   * connection, which LISTENs before the load starts, so the last notice received for a user during
   * the load is at least as new as the snapshot's row (a revocation is never undone by a reload).
   */
  async reload (read: () => Promise<Array<[string, number]>>): Promise<void> {
    const notices = new Map<string, number>()
    this.#recorders.add(notices)
    try {
      const entries = await read()
      this.#after.clear()
      for (const [k, v] of entries) this.#put(k, v)
      for (const [k, v] of notices) this.#put(k, v)
      this.#loaded = true
    } finally {
      this.#recorders.delete(notices)
    }
  }

  #put (userId: string, value: number): void {
    if (value === -Infinity) this.#after.delete(userId)
    else this.#after.set(userId, value)
  }
}

export function parseTokenNotice (payload: string): [string, number] | undefined {
  const i = payload.indexOf(':')
  if (i <= 0) return undefined
  const id = payload.slice(0, i)
  const v = payload.slice(i + 1)
  if (v === 'inactive') return [id, Infinity]
  const n = Number(v)
  return Number.isFinite(n) ? [id, n] : (v === '-Infinity' || v.startsWith('-') ? [id, -Infinity] : undefined)
}

async function readRevocations (app: FastifyInstance): Promise<Array<[string, number]>> {
  const windowSeconds = app.conf.ACCESS_TOKEN_TTL_SECONDS + 60
  const rows = await sql<{ id: string, isActive: boolean, afterMs: number | null }>`
    SELECT id, is_active, CASE WHEN tokens_valid_after = '-infinity' THEN NULL
      ELSE floor(extract(epoch FROM tokens_valid_after) * 1000)::bigint END AS after_ms
    FROM users
    WHERE NOT is_active OR tokens_valid_after > now() - make_interval(secs => ${windowSeconds})`.execute(app.db)
  return rows.rows.map(r => [r.id, r.isActive ? (r.afterMs ?? -Infinity) : Infinity])
}

function startListener (app: FastifyInstance, guard: MemoryTokenGuard, connectionString: string): { stop: () => Promise<void>, loaded: Promise<void> } {
  let markLoaded: () => void = () => {}
  const loaded = new Promise<void>(resolve => { markLoaded = resolve })
  let client: pg.Client | undefined
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  // Reconnects quickly (the service must be whole again within about a second of the database's
  // return), with a bounded connect (a blackholed network must not hang it) and one warning per
  // outage rather than one per attempt.
  let failures = 0
  // A network that silently drops packets leaves a LISTEN connection open and deaf; a heartbeat
  // with a deadline notices within seconds and reconnects (and reloads the map).
  let heartbeat: NodeJS.Timeout | undefined
  const HEARTBEAT_MS = 10_000
  const startHeartbeat = (c: pg.Client): void => {
    clearInterval(heartbeat)
    heartbeat = setInterval(() => {
      const deadline = setTimeout(() => { c.connection.stream.destroy() }, HEARTBEAT_MS / 2)
      c.query('SELECT 1').catch(() => {}).finally(() => { clearTimeout(deadline) })
    }, HEARTBEAT_MS)
    heartbeat.unref()
  }
  const connect = async (): Promise<void> => {
    if (stopped) return
    const c = new pg.Client({ connectionString, application_name: 'gestion-emballages-api:listen', connectionTimeoutMillis: app.conf.DATABASE_CONNECT_TIMEOUT_MS, keepAlive: true })
    c.on('error', () => { /* handled by 'end' */ })
    c.on('end', () => {
      if (client === c) { client = undefined; clearInterval(heartbeat) }
      if (!stopped) timer = setTimeout(() => { void connect() }, 100)
    })
    c.on('notification', msg => {
      const parsed = parseTokenNotice(msg.payload ?? '')
      if (parsed !== undefined) guard.set(parsed[0], parsed[1])
    })
    try {
      await c.connect()
      await c.query('LISTEN user_tokens')
      client = c
      if (stopped) { await c.end(); return }
      startHeartbeat(c)
      await guard.reload(async () => await readRevocations(app))
      if (failures > 0) app.log.info({ attempts: failures }, 'token listener reconnected')
      failures = 0
      markLoaded()
    } catch (err) {
      if (failures++ === 0) app.log.warn({ err }, 'token listener could not connect; retrying every 250 ms')
      c.removeAllListeners('end')
      await c.end().catch(() => {})
      if (!stopped) timer = setTimeout(() => { void connect() }, 250)
    }
  }
  void connect()
  const stop = async (): Promise<void> => {
    stopped = true
    if (timer !== undefined) clearTimeout(timer)
    clearInterval(heartbeat)
    const c = client
    client = undefined
    if (c !== undefined) await c.end().catch(() => {})
  }
  return { stop, loaded }
}

export interface AuthOptions { connectionString: string }

export default fp<AuthOptions>(async function authPlugin (app, opts) {
  const conf = app.conf
  await app.register(fastifyJwt, {
    secret: conf.jwtSecret,
    sign: { algorithm: 'HS256', iss: conf.JWT_ISSUER, aud: conf.JWT_AUDIENCE, expiresIn: conf.ACCESS_TOKEN_TTL_SECONDS },
    verify: { algorithms: ['HS256'], allowedIss: conf.JWT_ISSUER, allowedAud: conf.JWT_AUDIENCE, requiredClaims: ['sub', 'exp', 'iat', 'typ', 'iss', 'aud'] }
  })
  const guard = new MemoryTokenGuard()
  app.decorate('tokenGuard', guard)
  let stop: (() => Promise<void>) | undefined
  app.addHook('onReady', async () => {
    // The listener loads the map once connected and after every reconnect. Boot waits for the
    // first load, but only briefly: a database that is down at boot must not keep the service
    // from starting. Until the first load completes, /health/ready answers 503 and protected
    // routes answer 503 (rbac checks guard.loaded): an empty map would accept revoked tokens.
    const listener = startListener(app, guard, opts.connectionString)
    stop = listener.stop
    let timer: NodeJS.Timeout | undefined
    await Promise.race([listener.loaded, new Promise<void>(resolve => { timer = setTimeout(resolve, app.conf.DATABASE_CONNECT_TIMEOUT_MS) })])
    clearTimeout(timer)
    if (!guard.loaded) app.log.warn('token revocation map not loaded yet: protected routes answer 503 until it is')
  })
  app.addHook('onClose', async () => { await stop?.() })
}, { name: 'auth', dependencies: ['errors'] })

/** Signs an access token for a user; the only place access tokens are made. */
export function signAccessToken (app: FastifyInstance, actor: Actor, issuedMs: number = Date.now()): string {
  const claims: AccessClaims = { sub: actor.userId, role: actor.role, org: actor.organizationId, kind: actor.organizationKind, typ: 'access', ms: issuedMs }
  return app.jwt.sign(claims)
}
