// Small helpers shared by every domain's routes.
import { createHash } from 'node:crypto'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Db } from '../db/index.js'
import type { Actor } from './permissions.js'
import { AppError } from './problems.js'

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>

/** The authenticated caller; protected routes always have one (the RBAC hook ran first). */
export function actorOf (request: FastifyRequest): Actor {
  const a = request.actor
  if (a === undefined) throw new AppError('UNAUTHENTICATED')
  return a
}

/** The mutation's transaction when inside an audited handler, else the pool. */
export function dbOf (request: FastifyRequest): Db {
  return (request.trx ?? request.server.db) as Db
}

/**
 * The ETag of a representation: the row version, plus a digest of the fields computed at read
 * time when there are any (a station's price of today, a contract's effective status), so a 304
 * never confirms a representation whose computed part has changed while the row has not.
 */
export function etagOf (version: number, derived?: string): string {
  if (derived === undefined) return `"${version}"`
  return `"${version}.${createHash('sha1').update(derived).digest('base64url').slice(0, 10)}"`
}

/** Honours If-Match: a mismatch is 412. Returns the expected version when one was sent. */
export function expectedVersion (request: FastifyRequest): number | undefined {
  const h = request.headers['if-match']
  if (h === undefined || h === '*') return undefined
  // strong comparison (RFC 9110 §13.1.1): a weak validator never matches If-Match
  const m = /^"(\d{1,9})(?:\.[A-Za-z0-9_-]{1,16})?"$/.exec(h.trim())
  if (m === null) throw new AppError('PRECONDITION_FAILED', 'If-Match does not match the current ETag')
  return Number(m[1])
}

export function checkVersion (request: FastifyRequest, current: number): void {
  const expected = expectedVersion(request)
  if (expected !== undefined && expected !== current) throw new AppError('PRECONDITION_FAILED', `If-Match ${String(request.headers['if-match'])} does not match the current ETag "${current}"`)
}

/** Sets ETag and answers 304 when If-None-Match matches; returns true when 304 was sent. */
export function withEtag (request: FastifyRequest, reply: FastifyReply, version: number, derived?: string): boolean {
  const tag = etagOf(version, derived)
  void reply.header('etag', tag)
  const inm = request.headers['if-none-match']
  if (inm !== undefined && (inm.trim() === '*' || inm.split(',').some(t => t.trim() === tag || t.trim() === `W/${tag}`))) {
    void reply.code(304)
    return true
  }
  return false
}
