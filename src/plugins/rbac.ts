// Default deny, enforced at boot: every route must declare `config.access` ('public' or a
// `resource:verb` permission), otherwise the app refuses to start. Protected routes get an
// onRequest hook that verifies the bearer token (401) and the role's permission (403) before the
// body is even parsed. Row scope is not decided here: services filter by organization and answer
// 404 outside the caller's scope.
//
// Fastify runs an onRoute hook only for routes registered after it, so buildApp registers this
// plugin before any other, and at onReady the router's route count must equal what the hook saw:
// a route that escaped the check (registered before this plugin) makes the app refuse to start.
// Only Swagger UI's own routes (/docs and /docs/…) may omit `access`: they serve static assets;
// and @fastify/cors's preflight route (OPTIONS *, src/plugins/cors.ts): preflights are answered in
// its onRequest hook, before authentication (browsers send none); its handler only answers 404.
// Until the token revocation map is loaded (src/plugins/auth.ts), protected routes answer 503.
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify'
import { can, type Permission } from '../lib/permissions.js'
import { AppError } from '../lib/problems.js'
import type { AccessClaims } from './auth.js'
import type { RouteEntry, TokenGuard } from '../lib/fastify-types.js'
import { isCorsPreflightRoute } from './cors.js'

/** Swagger UI's routes (registered by @fastify/swagger-ui under /docs) need no access declaration. */
export function isDocsRoute (url: string): boolean {
  return url === '/docs' || url.startsWith('/docs/')
}

/** How many method × path entries the router holds, from its own listing (HEAD included). */
function countRouterEntries (listing: string): number {
  let n = 0
  for (const m of listing.matchAll(/\(([A-Z]+(?:, [A-Z]+)*)\)$/gm)) n += (m[1] ?? '').split(', ').length
  return n
}

export default fp(async function rbacPlugin (app) {
  // Verified tokens by their exact text, until min(exp, 60 s) — a Map lookup instead of fast-jwt's
  // cache, which hashes every token with SHA-256 first (~3 % of a hot read's CPU). Only successful
  // verifications are kept, so a token is never accepted that fast-jwt would refuse (signature,
  // algorithm, issuer, audience, exp, nbf); revocation is checked on every request below.
  const verified = new Map<string, { claims: AccessClaims, until: number }>()
  const verify = (token: string): AccessClaims => {
    const now = Date.now()
    const hit = verified.get(token)
    if (hit !== undefined && hit.until > now) return hit.claims
    const claims = app.jwt.verify<AccessClaims>(token)
    if (verified.size >= 10_000) verified.delete(verified.keys().next().value as string)
    verified.set(token, { claims, until: Math.min(Number((claims as { exp?: number }).exp) * 1000, now + 60_000) })
    return claims
  }
  // read at onReady: this plugin is registered before the auth plugin that provides them
  let guard: TokenGuard | undefined

  function makeHook (permission: Permission): onRequestHookHandler {
    return function authorize (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
      const header = request.headers.authorization
      if (header === undefined || header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ') {
        done(new AppError('UNAUTHENTICATED', 'Send Authorization: Bearer <access token>'))
        return
      }
      let claims: AccessClaims
      try {
        claims = verify(header.slice(7))
      } catch {
        done(new AppError('INVALID_TOKEN', 'The access token is invalid or expired'))
        return
      }
      // fast-jwt checks exp and nbf but not an iat in the future; allow one minute of clock skew
      const notBefore = Date.now() + 60_000
      if (guard?.loaded !== true) {
        done(new AppError('SERVICE_UNAVAILABLE', 'The token revocation list is not loaded yet', { retryAfterSeconds: 2 }))
        return
      }
      if (claims.typ !== 'access' || typeof claims.ms !== 'number' || claims.ms > notBefore || Number((claims as { iat?: number }).iat) * 1000 > notBefore || guard.validAfter(claims.sub) > claims.ms) {
        done(new AppError('INVALID_TOKEN', 'The access token is invalid or has been revoked'))
        return
      }
      request.actor = { userId: claims.sub, role: claims.role, organizationId: claims.org, organizationKind: claims.kind }
      if (!can(claims.role, permission)) {
        done(new AppError('FORBIDDEN', `Role ${claims.role} may not ${permission.replace(':', ' ')}`))
        return
      }
      done()
    }
  }

  const table: RouteEntry[] = []
  app.decorate('routeTable', table)

  let checked = 0
  app.addHook('onRoute', route => {
    const access = route.config?.access
    for (const method of ([] as string[]).concat(route.method)) {
      checked++
      if (method !== 'HEAD') table.push({ method, url: route.url, access: access ?? 'public', audit: route.config?.audit, idempotency: route.config?.idempotency, hidden: route.schema?.hide === true, hasBody: route.schema?.body !== undefined })
    }
    if (access === undefined) {
      if (isDocsRoute(route.url) || isCorsPreflightRoute(route)) return
      throw new Error(`Route ${String(route.method)} ${route.url} declares no config.access (default deny)`)
    }
    if (access === 'public') return
    const hook = makeHook(access)
    const existing = route.onRequest
    route.onRequest = existing === undefined ? [hook] : [hook, ...(Array.isArray(existing) ? existing : [existing])]
  })

  app.addHook('onReady', async () => {
    if (!app.hasDecorator('tokenGuard') || !app.hasDecorator('jwt')) throw new Error('rbac needs the auth plugin (tokenGuard, jwt)')
    guard = app.tokenGuard
    const inRouter = countRouterEntries(app.printRoutes({ commonPrefix: false }))
    if (inRouter !== checked) {
      throw new Error(`${inRouter - checked} route(s) were registered before the rbac plugin and escaped the access check (default deny); register rbac first\n${app.printRoutes({ commonPrefix: false })}`)
    }
  })
}, { name: 'rbac' })
