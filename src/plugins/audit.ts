// Every POST/PUT/PATCH/DELETE must declare `config.audit` — `{ action, entity }`, or `{ skip }`
// with the reason it writes no generic event — or the app refuses to boot. Audited handlers run
// inside one transaction (`request.trx`): the change, its outbox events, its idempotency record and
// exactly one audit event commit or roll back together, so a failed mutation leaves no trace and a
// successful one leaves exactly one event. The Idempotency-Key protocol lives here too because it
// must be claimed and recorded in that same transaction.
import { createHash } from 'node:crypto'
import fp from 'fastify-plugin'
import { sql, type RawBuilder } from 'kysely'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import { AppError } from '../lib/problems.js'
import { redactChanges } from '../domains/audit/audit.service.js'
import { writeWithCommit } from '../db/index.js'
import type { AuditSpec } from '../lib/fastify-types.js'

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

interface StoredResponse { fingerprint: string, status: number, body: string | null, headers: Record<string, string> }
type Outcome = { kind: 'result', value: unknown } | { kind: 'serialized', body: string | null } | { kind: 'replay', stored: StoredResponse }

function canonicalJson (v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null'
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']'
  return '{' + Object.keys(v as object).sort().map(k => JSON.stringify(k) + ':' + canonicalJson((v as Record<string, unknown>)[k])).join(',') + '}'
}

export function requestFingerprint (request: FastifyRequest): string {
  const path = request.url.split('?')[0] ?? request.url
  return createHash('sha256').update(`${request.method} ${path}\n`).update(canonicalJson(request.body ?? null)).digest('base64url')
}

function idempotencyKeyOf (request: FastifyRequest): string | undefined {
  const raw = request.headers['idempotency-key']
  if (raw === undefined) return undefined
  const key = Array.isArray(raw) ? raw[0] : raw
  if (key === undefined || key.length < 1 || key.length > 255 || !/^[\x21-\x7E]+$/.test(key)) {
    throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be 1–255 visible ASCII characters', { errors: [{ pointer: '/headers/idempotency-key', code: 'INVALID_FORMAT', detail: 'must be 1–255 visible ASCII characters' }] })
  }
  return key
}

export interface ClaimRow { locked: boolean, fingerprint: string | null, responseStatus: number | null, responseBody: string | null, responseHeaders: Record<string, string> | null }

/**
 * Claims an Idempotency-Key for this transaction: takes the key's advisory lock (held until
 * commit) and reads its stored response. The read must happen in a snapshot taken after the lock:
 * `idempotency_claim` is a VOLATILE function, so its read sees a first request that committed
 * while this statement was starting (a plain SELECT would read the statement's older snapshot,
 * see no record and run the request a second time).
 */
export function idempotencyClaim (userId: string, key: string): RawBuilder<ClaimRow> {
  return sql<ClaimRow>`SELECT locked, fingerprint, response_status, response_body, response_headers FROM idempotency_claim(${userId}::uuid, ${key})`
}

/** Headers of a response that describe it and must come back identical on a replay. */
const REPLAYED_HEADERS = ['etag', 'location', 'content-location', 'last-modified'] as const

function replayedHeaders (reply: FastifyReply): Record<string, string> | null {
  let out: Record<string, string> | null = null
  for (const name of REPLAYED_HEADERS) {
    const v = reply.getHeader(name)
    if (v !== undefined) (out ??= {})[name] = String(v)
  }
  return out
}

const identity = (payload: unknown): string => payload as string

/** Sends an already-serialized JSON body as is (no second serialization by any serializer). */
function sendSerialized (reply: FastifyReply, body: string | null): string | null {
  if (body === null) return null
  void reply.type('application/json; charset=utf-8').serializer(identity)
  return body
}

export default fp(async function auditPlugin (app) {
  app.addHook('onRoute', route => {
    const methods = ([] as string[]).concat(route.method)
    if (!methods.some(m => MUTATING.has(m))) return
    const audit = route.config?.audit
    if (audit === undefined) throw new Error(`Mutation ${methods.join(',')} ${route.url} declares no config.audit`)
    if ('skip' in audit) {
      if (typeof audit.skip !== 'string' || audit.skip.length < 3) throw new Error(`Mutation ${route.url}: audit.skip needs a reason`)
      return
    }
    if (!/^[a-z_]+\.[a-z_]+$/.test(audit.action)) throw new Error(`Mutation ${route.url}: audit action must be entity.verb`)
    const requireKey = route.config?.idempotency === 'required'
    route.handler = wrapHandler(route.handler as RouteHandlerMethod, audit, requireKey)
  })

  function wrapHandler (handler: RouteHandlerMethod, spec: AuditSpec, requireKey: boolean): RouteHandlerMethod {
    return async function auditedHandler (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const key = idempotencyKeyOf(request)
      if (key === undefined && requireKey) throw new AppError('IDEMPOTENCY_KEY_REQUIRED', 'This operation requires an Idempotency-Key header')
      const actor = request.actor
      const fingerprint = key !== undefined ? requestFingerprint(request) : ''
      const outcome: Outcome = await app.db.transaction().execute(async trx => {
        request.trx = trx
        try {
          if (key !== undefined && actor !== undefined) {
            // (sent together with BEGIN by the database client: one round trip)
            const claim = await idempotencyClaim(actor.userId, key).execute(trx)
            const row = claim.rows[0]
            if (row?.locked !== true) throw new AppError('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed; retry shortly', { retryAfterSeconds: 1 })
            if (row.fingerprint !== null) {
              if (row.fingerprint !== fingerprint) throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request')
              return { kind: 'replay', stored: { fingerprint: row.fingerprint, status: row.responseStatus ?? 200, body: row.responseBody, headers: row.responseHeaders ?? {} } }
            }
          }
          const value = await handler.call(this, request, reply)
          const ctx = request.audit
          const entityId = ctx?.entityId !== undefined ? ctx.entityId : ((value as { id?: unknown } | null)?.id ?? (request.params as { id?: unknown } | undefined)?.id ?? null)
          const changes = ctx?.changes !== undefined ? ctx.changes : redactChanges(request.body ?? null)
          const changesJson = changes === null ? null : JSON.stringify(changes)
          const ua = request.headers['user-agent']?.slice(0, 512) ?? null
          // The audit event (and the idempotency record) travel with the COMMIT: one round trip.
          // Constant texts with real parameters: prepared once per connection (named), not parsed
          // and planned again on every request as a text with the values written into it was.
          const event = sql`INSERT INTO audit_events (actor_user_id, actor_role, actor_org_id, action, entity_type, entity_id, request_id, idempotency_key, ip, user_agent, changes)
            VALUES (${actor?.userId ?? null}::uuid, ${actor?.role ?? null}, ${actor?.organizationId ?? null}::uuid, ${ctx?.action ?? spec.action}, ${spec.entity},
              ${entityId === null ? null : String(entityId)}, ${request.id}, ${key ?? null}, ${request.ip}, ${ua}, ${changesJson}::jsonb)`
          await writeWithCommit(trx, event)
          if (key !== undefined && actor !== undefined) {
            // Store the bytes the client receives: serialized now with the route's schema or the
            // audience serializer the handler chose, so a replay shows exactly this response.
            // The claim holds this key's advisory lock until commit, saw no live record and removed
            // an expired one: a conflict here means the protocol is broken, and the plain INSERT
            // makes it fail the transaction loudly instead of silently storing nothing.
            const serialized = value === undefined || value === null ? null : String(reply.serialize(value))
            const headers = replayedHeaders(reply)
            await writeWithCommit(trx, sql`INSERT INTO idempotency_keys (user_id, key, request_fingerprint, method, path, status, response_status, response_body, response_headers)
              VALUES (${actor.userId}::uuid, ${key}, ${fingerprint}, ${request.method}, ${request.url.slice(0, 1000)}, 'DONE', ${reply.statusCode}::int, ${serialized},
                ${headers === null ? null : JSON.stringify(headers)}::jsonb)`)
            return { kind: 'serialized', body: serialized }
          }
          return { kind: 'result', value }
        } finally {
          request.trx = undefined
        }
      })
      if (outcome.kind === 'replay') {
        void reply.code(outcome.stored.status).headers(outcome.stored.headers).header('idempotent-replayed', 'true')
        return sendSerialized(reply, outcome.stored.body)
      }
      if (outcome.kind === 'serialized') return sendSerialized(reply, outcome.body)
      return outcome.value
    }
  }
}, { name: 'audit', dependencies: ['rbac'] })
