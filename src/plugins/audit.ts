// Every POST/PUT/PATCH/DELETE must declare `config.audit` — `{ action, entity }`, or `{ skip }`
// with the reason it writes no generic event — or the app refuses to boot. Audited handlers run
// inside one transaction (`request.trx`): the change, its outbox events, its idempotency record and
// exactly one audit event commit or roll back together, so a failed mutation leaves no trace and a
// successful one leaves exactly one event. The Idempotency-Key protocol lives here too because it
// must be claimed and recorded in that same transaction.
import { createHash } from 'node:crypto'
import fp from 'fastify-plugin'
import { sql } from 'kysely'
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import { AppError } from '../lib/problems.js'
import { redactChanges } from '../domains/audit/audit.service.js'
import { DEFERRED_TO_COMMIT, literal } from '../db/index.js'
import type { AuditSpec } from '../lib/fastify-types.js'

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

interface StoredResponse { fingerprint: string, status: number, body: string | null }
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
    return async function auditedHandler (this: unknown, request: FastifyRequest, reply: FastifyReply) {
      const key = idempotencyKeyOf(request)
      if (key === undefined && requireKey) throw new AppError('IDEMPOTENCY_KEY_REQUIRED', 'This operation requires an Idempotency-Key header')
      const actor = request.actor
      const fingerprint = key !== undefined ? requestFingerprint(request) : ''
      const outcome: Outcome = await app.db.transaction().execute(async trx => {
        request.trx = trx
        try {
          if (key !== undefined && actor !== undefined) {
            // (sent together with BEGIN by the database client: one round trip)
            const claim = await sql<{ locked: boolean, fingerprint: string | null, responseStatus: number | null, responseBody: string | null }>`
              SELECT pg_try_advisory_xact_lock(hashtextextended(${actor.userId + ':' + key}, 7310)) AS locked,
                     k.request_fingerprint AS fingerprint, k.response_status, k.response_body
              FROM (SELECT 1) AS one
              LEFT JOIN idempotency_keys k ON k.user_id = ${actor.userId}::uuid AND k.key = ${key} AND k.expires_at > now()`.execute(trx)
            const row = claim.rows[0]
            if (row?.fingerprint !== null && row?.fingerprint !== undefined) {
              if (row.fingerprint !== fingerprint) throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request')
              return { kind: 'replay', stored: { fingerprint: row.fingerprint, status: row.responseStatus ?? 200, body: row.responseBody } }
            }
            if (row?.locked !== true) throw new AppError('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed; retry shortly', { retryAfterSeconds: 1 })
          }
          const value = await handler.call(this as never, request, reply)
          const ctx = request.audit
          const entityId = ctx?.entityId !== undefined ? ctx.entityId : ((value as { id?: unknown } | null)?.id ?? (request.params as { id?: unknown } | undefined)?.id ?? null)
          const changes = ctx?.changes !== undefined ? ctx.changes : redactChanges(request.body ?? null)
          const changesJson = changes === null ? null : JSON.stringify(changes)
          const ua = request.headers['user-agent']?.slice(0, 512) ?? null
          const event = `INSERT INTO audit_events (actor_user_id, actor_role, actor_org_id, action, entity_type, entity_id, request_id, idempotency_key, ip, user_agent, changes)
            VALUES (${literal(actor?.userId)}::uuid, ${literal(actor?.role)}, ${literal(actor?.organizationId)}::uuid, ${literal(ctx?.action ?? spec.action)}, ${literal(spec.entity)},
              ${literal(entityId === null ? null : String(entityId))}, ${literal(request.id)}, ${literal(key)}, ${literal(request.ip)}, ${literal(ua)}, ${literal(changesJson)}::jsonb)`
          // The audit event (and the idempotency record) travel with the COMMIT: one round trip.
          if (key !== undefined && actor !== undefined) {
            // Store the bytes the client receives: serialized now with the route's schema or the
            // audience serializer the handler chose, so a replay shows exactly this response.
            // No conflict is possible with a live record: the claim above holds this key's
            // advisory lock until commit and saw none; an expired one is replaced.
            const serialized = value === undefined || value === null ? null : String(reply.serialize(value))
            await sql.raw(`${DEFERRED_TO_COMMIT}${event};
              INSERT INTO idempotency_keys (user_id, key, request_fingerprint, method, path, status, response_status, response_body)
              VALUES (${literal(actor.userId)}::uuid, ${literal(key)}, ${literal(fingerprint)}, ${literal(request.method)}, ${literal(request.url.slice(0, 1000))}, 'DONE', ${literal(reply.statusCode)}, ${literal(serialized)})
              ON CONFLICT (user_id, key) DO UPDATE SET request_fingerprint = EXCLUDED.request_fingerprint, method = EXCLUDED.method, path = EXCLUDED.path,
                response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body, created_at = now(), expires_at = now() + interval '24 hours'
                WHERE idempotency_keys.expires_at <= now()`).execute(trx)
            return { kind: 'serialized', body: serialized }
          }
          await sql.raw(DEFERRED_TO_COMMIT + event).execute(trx)
          return { kind: 'result', value }
        } finally {
          request.trx = undefined
        }
      })
      if (outcome.kind === 'replay') {
        void reply.code(outcome.stored.status).header('idempotent-replayed', 'true')
        return sendSerialized(reply, outcome.stored.body)
      }
      if (outcome.kind === 'serialized') return sendSerialized(reply, outcome.body)
      return outcome.value
    }
  }
}, { name: 'audit', dependencies: ['rbac'] })
