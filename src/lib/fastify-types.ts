// Type augmentation for the route `config` every route declares and for what the cross-cutting
// plugins put on the request and the instance.
import type { Transaction } from 'kysely'
import type { Config } from '../config.js'
import type { Db } from '../db/index.js'
import type { Database } from '../db/schema.js'
import type { Access, Actor } from './permissions.js'

export interface AuditSpec {
  /** `entity.verb`, e.g. `purchase_order.ship` */
  action: string
  /** entity type, e.g. `purchase_order` */
  entity: string
}

export interface AuditSkip {
  /** why this mutation writes no generic audit event (e.g. login writes its own security events) */
  skip: string
}

export interface AuditContext {
  entityId?: string | null
  changes?: Record<string, unknown> | null
  /** replaces the route's declared action, e.g. a PATCH that deactivates */
  action?: string
}

export interface RouteEntry {
  method: string
  url: string
  access: Access
  audit: AuditSpec | AuditSkip | undefined
  idempotency: 'required' | undefined
  hidden: boolean
  hasBody: boolean
}

export interface TokenGuard {
  /** false until the revocation map was loaded once: protected routes and readiness answer 503 */
  readonly loaded: boolean
  /** epoch ms before which the user's access tokens are no longer valid; Infinity when inactive */
  validAfter: (userId: string) => number
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access
    audit?: AuditSpec | AuditSkip
    /** 'required' answers 400 without an Idempotency-Key header */
    idempotency?: 'required'
  }
  interface FastifyRequest {
    actor?: Actor
    trx?: Transaction<Database>
    audit?: AuditContext
  }
  interface FastifyInstance {
    db: Db
    conf: Config
    tokenGuard: TokenGuard
    /** every route with its declared access and audit (for the guard tests and the permission matrix) */
    routeTable: RouteEntry[]
  }
}

export {}
