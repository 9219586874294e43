// HS256 access tokens made and checked with node:crypto. Signing mirrors src/plugins/auth.ts
// signAccessToken (claims sub, role, org, kind, typ 'access', ms; iss, aud, iat, exp as @fastify/jwt
// adds them), so a harness-signed token is indistinguishable from a login token to the service.
// Verification is the ceiling server's: a minimal but correct check (header, signature, exp, nbf,
// iss, aud, typ) — no cache, so the ceiling pays the HMAC on every request.
import { createHmac, timingSafeEqual } from 'node:crypto'

export interface TokenSettings { secret: string, issuer: string, audience: string, ttlSeconds: number }

export interface AccessClaims {
  sub: string
  role: string
  org: string
  kind: string
  typ: 'access'
  ms: number
  iat: number
  exp: number
  iss: string
  aud: string
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

export function signAccessToken (s: TokenSettings, user: { id: string, role: string, organizationId: string, organizationKind: string }): string {
  const now = Date.now()
  const claims: AccessClaims = {
    sub: user.id,
    role: user.role,
    org: user.organizationId,
    kind: user.organizationKind,
    typ: 'access',
    ms: now,
    iat: Math.floor(now / 1000),
    exp: Math.floor(now / 1000) + s.ttlSeconds,
    iss: s.issuer,
    aud: s.audience
  }
  const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  return `${body}.${createHmac('sha256', s.secret).update(body).digest('base64url')}`
}

export type VerifyResult = { ok: true, claims: AccessClaims } | { ok: false, reason: string }

export function makeVerifier (s: { secret: string, issuer: string, audience: string }): (token: string) => VerifyResult {
  const key = Buffer.from(s.secret)
  return (token: string): VerifyResult => {
    const d1 = token.indexOf('.')
    const d2 = token.indexOf('.', d1 + 1)
    if (d1 <= 0 || d2 <= d1 + 1 || token.indexOf('.', d2 + 1) !== -1) return { ok: false, reason: 'malformed' }
    let header: { alg?: unknown }
    let claims: Partial<AccessClaims> & { nbf?: number }
    try {
      header = JSON.parse(Buffer.from(token.slice(0, d1), 'base64url').toString('utf8'))
      claims = JSON.parse(Buffer.from(token.slice(d1 + 1, d2), 'base64url').toString('utf8'))
    } catch { return { ok: false, reason: 'malformed' } }
    if (header.alg !== 'HS256') return { ok: false, reason: 'alg' }
    const expected = createHmac('sha256', key).update(token.slice(0, d2)).digest()
    const given = Buffer.from(token.slice(d2 + 1), 'base64url')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' }
    const nowS = Date.now() / 1000
    if (typeof claims.exp !== 'number' || claims.exp <= nowS) return { ok: false, reason: 'expired' }
    if (typeof claims.nbf === 'number' && claims.nbf > nowS) return { ok: false, reason: 'not yet valid' }
    if (claims.iss !== s.issuer) return { ok: false, reason: 'issuer' }
    const aud = claims.aud as unknown
    if (aud !== s.audience && !(Array.isArray(aud) && aud.includes(s.audience))) return { ok: false, reason: 'audience' }
    if (claims.typ !== 'access' || typeof claims.sub !== 'string') return { ok: false, reason: 'type' }
    return { ok: true, claims: claims as AccessClaims }
  }
}
