// Sign-in, sessions, password change and reset, and the caller (PRODUCT.md §13). Public routes
// write their own security events (failed attempts must be recorded although the answer is an
// error), so they declare `audit: { skip }`; sign-in and reset are also limited per client IP on
// top of the per-address lockout. Cache-Control: no-store is set on every /v1 answer by the http plugin.
import { Type } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'
import { defineRoute } from '../../lib/define-route.js'
import { EmptyBody, missingBodyAsEmpty } from '../../lib/empty-body.js'
import type { App } from '../../lib/route.js'
import { actorOf, dbOf } from '../../lib/route.js'
import { NoContent } from '../../lib/schemas.js'
import { signAccessToken } from '../../plugins/auth.js'
import {
  Accepted, ChangePasswordBody, LoginBody, MeSchema, RefreshBody, ResetConfirmBody, ResetRequestBody, SessionUserSchema, TokenResponse
} from './auth.schemas.js'
import {
  changePassword, confirmPasswordReset, getDummyHash, getMe, login, logout, logoutEverywhere, refreshSession, requestPasswordReset, sweepLoginThrottles,
  type IssuedSession, type RequestContext
} from './auth.service.js'
import { purgeResetSecrets, resetDeliveryKey } from './reset-delivery.js'

/** Per-IP budgets (per minute) of the credential-guessing endpoints; applied when RATE_LIMIT_ENABLED. */
export const LOGIN_PER_IP_PER_MINUTE = 20
export const RESET_PER_IP_PER_MINUTE = 5

const ipLimit = (name: string, max: number) => ({ max, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `${name}:${req.ip}` })

function contextOf (request: FastifyRequest): RequestContext {
  return { requestId: request.id, ip: request.ip, userAgent: request.headers['user-agent'] ?? null }
}

export default async function authRoutes (app: App): Promise<void> {
  app.addSchema(SessionUserSchema)
  app.addSchema(TokenResponse)
  app.addSchema(MeSchema)
  app.addSchema(Accepted)
  // compute the dummy hash before the first unknown-email sign-in, so that one is not slower
  app.addHook('onReady', async () => { await getDummyHash() })
  const sealKey = resetDeliveryKey(app.conf.jwtSecret)
  // reset tokens leave the outbox once used or expired (at dispatch a trigger strips them);
  // lockout rows whose window and lock are over no longer count for anything
  app.jobs.add({
    name: 'auth-sweep',
    intervalMs: 60_000,
    run: async () => {
      await purgeResetSecrets(app.db)
      await sweepLoginThrottles(app.db)
    }
  })

  const tokens = (s: IssuedSession) => ({
    accessToken: signAccessToken(app, s.actor, s.issuedMs),
    refreshToken: s.refreshToken,
    tokenType: 'Bearer' as const,
    expiresIn: app.conf.ACCESS_TOKEN_TTL_SECONDS,
    user: s.user
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/auth/login',
    operationId: 'login',
    tag: 'auth',
    summary: 'Sign in with email and password',
    description: `Public. Returns a short-lived access token (JWT) and an opaque refresh token (single use, rotated by POST /v1/auth/refresh, valid at most ${app.conf.REFRESH_TOKEN_TTL_DAYS} days from sign-in). Creates a session; a user keeps at most 5 live sessions (the oldest is revoked). Wrong password, unknown email and inactive account all answer 401 INVALID_CREDENTIALS. Failed attempts count towards the lockout of the address, whether or not an account has it (settings: 5 within 15 min lock 15 min → 429 ACCOUNT_LOCKED with Retry-After; a password reset lifts it); sign-ins are also rate-limited per client IP (${LOGIN_PER_IP_PER_MINUTE}/min). Every attempt is audited.`,
    access: 'public',
    audit: { skip: 'writes its own security events (success, failure, lockout)' },
    rateLimit: ipLimit('login', LOGIN_PER_IP_PER_MINUTE),
    body: LoginBody,
    response: { 200: Type.Ref(TokenResponse) }
  }, async (request) => tokens(await login(app.db, request.body, contextOf(request), app.conf.REFRESH_TOKEN_TTL_DAYS)))

  defineRoute(app, {
    method: 'POST',
    url: '/v1/auth/refresh',
    operationId: 'refreshSession',
    tag: 'auth',
    summary: 'Rotate a refresh token',
    description: 'Public (the refresh token is the credential). Exchanges a live refresh token for a new access token and a new refresh token of the same session; the old one becomes unusable. Presenting an already-rotated token revokes the whole session and the user\'s access tokens (theft detection) and is audited. 401 REFRESH_TOKEN_INVALID for unknown, expired, revoked or reused tokens and for inactive users.',
    access: 'public',
    audit: { skip: 'writes its own security events (rotation, reuse)' },
    body: RefreshBody,
    response: { 200: Type.Ref(TokenResponse) }
  }, async (request) => tokens(await refreshSession(app.db, request.body.refreshToken, contextOf(request))))

  defineRoute(app, {
    method: 'POST',
    url: '/v1/auth/logout',
    operationId: 'logout',
    tag: 'auth',
    summary: 'End one session',
    description: 'Public (the refresh token is the credential). Revokes the session the refresh token belongs to. Always 204, also for unknown tokens. Access tokens already issued stay valid until they expire (use logout-all to end them at once).',
    access: 'public',
    audit: { skip: 'writes its own security event when a session is ended' },
    body: RefreshBody,
    response: { 204: NoContent }
  }, async (request, reply) => {
    await logout(app.db, request.body.refreshToken, contextOf(request))
    void reply.code(204)
    return null
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/auth/logout-all',
    operationId: 'logoutEverywhere',
    tag: 'auth',
    summary: 'End every session of the caller',
    description: 'Any signed-in user. Revokes all of the caller\'s sessions and makes every access token issued so far stop working on every instance within a second (including the one used for this call).',
    access: 'sessions:write',
    audit: { action: 'session.logout_all', entity: 'user' },
    body: EmptyBody,
    preValidation: missingBodyAsEmpty,
    response: { 204: NoContent }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const { revokedSessions } = await logoutEverywhere(dbOf(request), actor)
    request.audit = { entityId: actor.userId, changes: { revokedSessions } }
    void reply.code(204)
    return null
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/me',
    operationId: 'getMe',
    tag: 'auth',
    summary: 'The signed-in user',
    description: 'Any signed-in user: their profile, role and organization.',
    access: 'me:read',
    response: { 200: Type.Ref(MeSchema) }
  }, async (request) => await getMe(app.db, actorOf(request)))

  defineRoute(app, {
    method: 'POST',
    url: '/v1/me/password',
    operationId: 'changeMyPassword',
    tag: 'auth',
    summary: 'Change the caller\'s password',
    description: 'Any signed-in user, proving the current password (failures count towards the sign-in lockout; 422 CURRENT_PASSWORD_INCORRECT). The new password must follow the policy (422 WEAK_PASSWORD). Every access token issued before the change stops working on every instance within a second, and every session is revoked except the one whose refresh token is sent in `refreshToken` (refresh it to get a new access token). Audited.',
    access: 'me:write',
    audit: { skip: 'writes its own security events (change, failed proof, lockout)' },
    body: ChangePasswordBody,
    response: { 204: NoContent }
  }, async (request, reply) => {
    await changePassword(app.db, actorOf(request), request.body, contextOf(request))
    void reply.code(204)
    return null
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/auth/password-reset',
    operationId: 'requestPasswordReset',
    tag: 'auth',
    summary: 'Request a password reset',
    description: `Public. Always 202, whether or not the email belongs to an active account. For an active account, a single-use reset token valid 30 minutes is issued and handed to the mailer through the outbox event user.password_reset_requested (addressed to no organization, so no webhook ever receives it; the event holds the token sealed, only until it is delivered, used or expired); in development the token is also logged. Rate-limited per client IP (${RESET_PER_IP_PER_MINUTE}/min).`,
    access: 'public',
    audit: { skip: 'writes its own security event' },
    rateLimit: ipLimit('reset', RESET_PER_IP_PER_MINUTE),
    body: ResetRequestBody,
    response: { 202: Type.Ref(Accepted) }
  }, async (request, reply) => {
    const issued = await requestPasswordReset(app.db, request.body.email, contextOf(request), sealKey)
    if (issued !== null && app.conf.NODE_ENV === 'development') {
      // development only: lets a person finish the flow without a mailer (the message text, not a
      // field, because the logger redacts fields named token)
      request.log.info({ userId: issued.userId }, `password reset token (development only): ${issued.token}`)
    }
    void reply.code(202)
    return { message: 'If the address belongs to an active account, a reset link is on its way.' }
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/auth/password-reset/confirm',
    operationId: 'confirmPasswordReset',
    tag: 'auth',
    summary: 'Set a new password with a reset token',
    description: 'Public (the reset token is the credential). Sets the password (policy: 422 WEAK_PASSWORD, which leaves the token usable), consumes the token, revokes every session and every access token of the user, and lifts a sign-in lockout. 401 PASSWORD_RESET_TOKEN_INVALID for unknown, used or expired tokens. Audited.',
    access: 'public',
    audit: { skip: 'writes its own security event' },
    rateLimit: ipLimit('reset-confirm', RESET_PER_IP_PER_MINUTE * 2),
    body: ResetConfirmBody,
    response: { 204: NoContent }
  }, async (request, reply) => {
    await confirmPasswordReset(app.db, request.body, contextOf(request))
    void reply.code(204)
    return null
  })
}
