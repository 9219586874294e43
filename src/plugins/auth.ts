// Access-token verification, the hottest path of the service. HS256 only (the algorithm is
// pinned, `alg: none` and others are refused), issuer, audience and a `typ: access` claim are
// checked, and the rbac hook keeps verified tokens in a bounded map so a repeated token costs a lookup.
//
// Revocation without a database read per request: every instance keeps, per user, the instant
// before which tokens are no longer valid (password change, logout everywhere) or Infinity for a
// deactivated user. PostgreSQL tells every instance at once through LISTEN/NOTIFY (a trigger on
// users), and the map is reloaded after every reconnect so nothing is missed while disconnected.
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
  validAfter (userId: string): number { return this.#after.get(userId) ?? -Infinity }
  set (userId: string, value: number): void {
    if (value === -Infinity) this.#after.delete(userId)
    else this.#after.set(userId, value)
  }

  replaceAll (entries: Array<[string, number]>): void {
    this.#after.clear()
    for (const [k, v] of entries) this.set(k, v)
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

async function loadGuard (app: FastifyInstance, guard: MemoryTokenGuard): Promise<void> {
  const windowSeconds = app.conf.ACCESS_TOKEN_TTL_SECONDS + 60
  const rows = await sql<{ id: string, isActive: boolean, afterMs: number | null }>`
    SELECT id, is_active, CASE WHEN tokens_valid_after = '-infinity' THEN NULL
      ELSE floor(extract(epoch FROM tokens_valid_after) * 1000)::bigint END AS after_ms
    FROM users
    WHERE NOT is_active OR tokens_valid_after > now() - make_interval(secs => ${windowSeconds})`.execute(app.db)
  guard.replaceAll(rows.rows.map(r => [r.id, r.isActive ? (r.afterMs ?? -Infinity) : Infinity]))
}

function startListener (app: FastifyInstance, guard: MemoryTokenGuard, connectionString: string): { stop: () => Promise<void>, loaded: Promise<void> } {
  let markLoaded: () => void = () => {}
  const loaded = new Promise<void>(resolve => { markLoaded = resolve })
  let client: pg.Client | undefined
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const connect = async (): Promise<void> => {
    if (stopped) return
    const c = new pg.Client({ connectionString, application_name: 'gestion-emballages-api:listen' })
    c.on('error', () => { /* handled by 'end' */ })
    c.on('end', () => {
      if (client === c) client = undefined
      if (!stopped) timer = setTimeout(() => { void connect() }, 500)
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
      await loadGuard(app, guard)
      markLoaded()
    } catch (err) {
      app.log.warn({ err }, 'token listener could not connect; retrying')
      c.removeAllListeners('end')
      await c.end().catch(() => {})
      if (!stopped) timer = setTimeout(() => { void connect() }, 1000)
    }
  }
  void connect()
  const stop = async (): Promise<void> => {
    stopped = true
    if (timer !== undefined) clearTimeout(timer)
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
    // from starting (every route needing data answers 503 until it is back).
    const listener = startListener(app, guard, opts.connectionString)
    stop = listener.stop
    let timer: NodeJS.Timeout | undefined
    await Promise.race([listener.loaded, new Promise<void>(resolve => { timer = setTimeout(resolve, app.conf.DATABASE_CONNECT_TIMEOUT_MS) })])
    clearTimeout(timer)
  })
  app.addHook('onClose', async () => { await stop?.() })
}, { name: 'auth', dependencies: ['errors'] })

/** Signs an access token for a user; the only place access tokens are made. */
export function signAccessToken (app: FastifyInstance, actor: Actor): string {
  const claims: AccessClaims = { sub: actor.userId, role: actor.role, org: actor.organizationId, kind: actor.organizationKind, typ: 'access', ms: Date.now() }
  return app.jwt.sign(claims)
}
