// CORS for browser applications on other origins: an allow-list from CORS_ORIGINS (comma-separated
// origins such as https://app.example.com, or `*`), none by default. Without it nothing is
// registered: no Access-Control-* header is ever sent, an OPTIONS preflight is a 404 like any
// unknown route, and requests pay nothing.
//
// With an allow-list (@fastify/cors, in an onRequest hook that runs before authentication):
// - a preflight from an allowed origin answers 204 with the methods, the request headers an
//   integrator sends (Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, …)
//   and a max-age, before any authentication (browsers send no Authorization on a preflight);
// - a preflight from any other origin is a 404 problem, exactly as without CORS (nothing about the
//   policy is revealed); a plain request from another origin is served without Access-Control-*
//   headers, so the browser keeps the response from the page;
// - responses to allowed origins expose the headers a client needs (ETag, Location,
//   Idempotent-Replayed, RateLimit-*, Retry-After, X-Request-Id, …) and every response carries
//   Vary: Origin so caches keep one copy per origin.
// No credentials mode: the API authenticates with bearer tokens, never cookies.
import fp from 'fastify-plugin'
import cors from '@fastify/cors'

export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-Match', 'If-None-Match', 'If-Range', 'Range', 'X-Request-Id']
export const CORS_EXPOSED_HEADERS = ['ETag', 'Location', 'Idempotent-Replayed', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After', 'X-Request-Id', 'Content-Disposition', 'Content-Range', 'Accept-Ranges']
export const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']
/** how long a browser may reuse a preflight answer (Chromium caps it at 2 h) */
export const CORS_MAX_AGE_SECONDS = 600

/** CORS_ORIGINS → the allowed origins ('*' for any), each normalised to its URL origin. */
export function parseCorsOrigins (value: string | undefined): string[] {
  if (value === undefined) return []
  return value.split(',').map(s => s.trim()).filter(s => s !== '').map(s => s === '*' ? '*' : new URL(s).origin)
}

/** The preflight route @fastify/cors registers (OPTIONS *): it answers only from its hook (see rbac). */
export function isCorsPreflightRoute (route: { method: string | string[], url: string }): boolean {
  return route.url === '*' && ([] as string[]).concat(route.method).every(m => m === 'OPTIONS')
}

export default fp(async function corsPlugin (app) {
  const origins = parseCorsOrigins(app.conf.CORS_ORIGINS)
  if (origins.length === 0) return
  const any = origins.includes('*')
  const allowed = new Set(origins)
  await app.register(cors, {
    // false for a request without Origin or from an origin not listed: no CORS headers, and a
    // preflight goes on to the route, which answers 404 (ROUTE_NOT_FOUND)
    origin: (origin, cb) => { cb(null, origin !== undefined && (any || allowed.has(origin))) },
    methods: CORS_METHODS,
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: CORS_MAX_AGE_SECONDS,
    credentials: false,
    // an OPTIONS from an allowed origin without Access-Control-Request-Method would otherwise get
    // a text/plain 400 (every error here is a problem document): it is answered as a preflight
    strictPreflight: false
  })
}, { name: 'cors', dependencies: ['rbac', 'http'] })
