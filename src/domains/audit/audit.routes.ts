// The audit trail: the event list and the verification of its keyed hash chain (ADMIN, MANAGER).
import { Type } from '@sinclair/typebox'
import { defineRoute } from '../../lib/define-route.js'
import type { App } from '../../lib/route.js'
import { DateTime, Int64, Nullable, Page, PageQuery, StringEnum, Text, Uuid } from '../../lib/schemas.js'
import { AppError } from '../../lib/problems.js'
import { actorOf } from '../../lib/route.js'
import { listAuditEvents, MAX_UNSEALED_SECONDS, roleCanBypassAuditTriggers, verifyChain } from './audit.service.js'

const AuditEvent = Type.Object({
  id: Int64(),
  occurredAt: DateTime(),
  actorUserId: Nullable(Uuid()),
  actorRole: Nullable(Text(32)),
  actorOrgId: Nullable(Uuid()),
  action: Text(100, { description: 'entity.verb' }),
  entityType: Text(64),
  entityId: Nullable(Text(200)),
  requestId: Nullable(Text(128)),
  idempotencyKey: Nullable(Text(255)),
  ip: Nullable(Text(64)),
  userAgent: Nullable(Text(512)),
  changes: Type.Unknown({ description: 'Changed fields (secrets omitted, personal values recorded only as "[changed]")' })
}, { $id: 'AuditEvent', description: 'One event of the audit trail' })

const NullableInt = Nullable(Int64())
const ChainReport = Type.Object({
  ok: Type.Boolean({ description: 'Every link verifies, every event is sealed or queued, and none has waited too long' }),
  mode: StringEnum(['incremental', 'full'], { description: 'incremental: from the last verified seal (the default); full: from the first seal and the first event' }),
  sealedEvents: Int64({ description: 'Seals in the verified chain (1 … lastSeq)' }),
  unsealedEvents: Int64({ description: 'Events committed but not yet linked (sealing lags commits by about a second)' }),
  oldestUnsealedSeconds: Type.Number({ description: `How long the oldest unsealed event has waited; above ${MAX_UNSEALED_SECONDS} s the report is not ok` }),
  lastSeq: Int64(),
  lastHash: Text(128),
  lastKeyId: Nullable(Text(64), { description: 'The chain key id of the last verified seal' }),
  verifiedFromSeq: Int64({ description: 'Seals after this one were read (0 in a full verify)' }),
  examinedSeals: Int64(),
  checkedFromEventId: Int64({ description: 'Events with a larger id were checked for being sealed or queued' }),
  examinedEvents: Int64(),
  firstBroken: Nullable(Type.Object({ seq: NullableInt, eventId: NullableInt, reason: Text(500) }))
}, { $id: 'AuditChainReport', description: 'The result of verifying the audit chain' })

const AuditEventsQuery = Type.Object({
  entityType: Type.Optional(Type.String({ maxLength: 64 })),
  entityId: Type.Optional(Type.String({ maxLength: 64 })),
  actorUserId: Type.Optional(Uuid()),
  action: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
  to: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
  ...PageQuery
}, { additionalProperties: false })

const VerifyQuery = Type.Object({
  full: Type.Optional(Type.Boolean({ default: false })),
  anchor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}:[0-9a-f]{64}$', maxLength: 80, description: 'A chain head recorded outside the database, `seq:hash` (the sealer logs one, `auditChainHead`, after each batch): that seal must still be in the chain, unchanged — catches a chain cut back or re-sealed by the database owner.' }))
}, { additionalProperties: false })

export default async function auditRoutes (app: App): Promise<void> {
  app.addSchema(AuditEvent)
  app.addSchema(ChainReport)

  defineRoute(app, {
    method: 'GET',
    url: '/v1/audit-events',
    operationId: 'listAuditEvents',
    tag: 'audit',
    summary: 'List audit events',
    description: 'Newest first, keyset-paginated. ADMIN and MANAGER only. Filters: entity type and id, actor, action, time range [from, to).',
    access: 'audit:read',
    querystring: AuditEventsQuery,
    response: { 200: Page(Type.Ref(AuditEvent)) }
  }, async (request) => await listAuditEvents(app.db, request.query))

  defineRoute(app, {
    method: 'GET',
    url: '/v1/audit-events/verify',
    operationId: 'verifyAuditChain',
    tag: 'audit',
    summary: 'Verify the audit hash chain',
    description: 'Recomputes the keyed (HMAC-SHA256) chain from the last verified seal and reports the first broken link, if any; ' +
      'proves every event is sealed or queued for sealing, and reports the unsealed backlog (an event unsealed for more than ' +
      `${MAX_UNSEALED_SECONDS} s is not ok). \`full=true\` (ADMIN only) re-verifies everything from the first seal. ADMIN and MANAGER only.`,
    access: 'audit:read',
    querystring: VerifyQuery,
    response: { 200: Type.Ref(ChainReport) }
  }, async (request) => {
    const full = request.query.full === true
    if (full && actorOf(request).role !== 'ADMIN') throw new AppError('FORBIDDEN', 'A full verification is reserved to ADMIN')
    const anchor = request.query.anchor?.split(':')
    return await verifyChain(app.db, app.conf.auditChainKeys, { full, ...(anchor !== undefined ? { anchor: { seq: Number(anchor[0]), hash: anchor[1] as string } } : {}) })
  })

  // The service's role should not be able to switch the log's triggers off: production refuses
  // to start with such a role (unless DATABASE_PRIVILEGED_ROLE_OK says it is known and accepted);
  // elsewhere it is a warning.
  app.addHook('onReady', async () => {
    const privileged = await roleCanBypassAuditTriggers(app.db).catch(() => false)
    if (!privileged) return
    const message = 'the service connects to the database as a superuser or as the owner of the audit tables: it could disable their triggers. ' +
      'Make DATABASE_URL a restricted role and migrate with DATABASE_OWNER_URL (see README, operations)'
    if (app.conf.NODE_ENV === 'production' && !app.conf.DATABASE_PRIVILEGED_ROLE_OK) throw new Error(`${message}; or set DATABASE_PRIVILEGED_ROLE_OK=true to accept it`)
    app.log.warn(message)
  })
}
