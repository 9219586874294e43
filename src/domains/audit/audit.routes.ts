import { Type } from '@sinclair/typebox'
import type { App } from '../../lib/route.js'
import { DateTime, Page, PageQuery, ProblemRef, Uuid } from '../../lib/schemas.js'
import { listAuditEvents, verifyChain } from './audit.service.js'

const AuditEvent = Type.Object({
  id: Type.Integer(),
  occurredAt: DateTime(),
  actorUserId: Type.Union([Uuid(), Type.Null()]),
  actorRole: Type.Union([Type.String(), Type.Null()]),
  actorOrgId: Type.Union([Uuid(), Type.Null()]),
  action: Type.String(),
  entityType: Type.String(),
  entityId: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  idempotencyKey: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  changes: Type.Unknown({ description: 'Changed fields (secrets omitted, personal values recorded only as "[changed]")' })
}, { $id: 'AuditEvent' })

const ChainReport = Type.Object({
  ok: Type.Boolean(),
  sealedEvents: Type.Integer(),
  unsealedEvents: Type.Integer({ description: 'Events committed but not yet linked (sealing lags commits by about a second)' }),
  lastSeq: Type.Integer(),
  lastHash: Type.String(),
  firstBroken: Type.Union([Type.Object({ seq: Type.Integer(), eventId: Type.Integer(), reason: Type.String() }), Type.Null()])
}, { $id: 'AuditChainReport' })

export default async function auditRoutes (app: App): Promise<void> {
  app.addSchema(AuditEvent)
  app.addSchema(ChainReport)
  app.get('/v1/audit-events', {
    config: { access: 'audit:read' },
    schema: {
      tags: ['audit'],
      operationId: 'listAuditEvents',
      summary: 'List audit events',
      description: 'Newest first, keyset-paginated. ADMIN and MANAGER only. Filters: entity type and id, actor, action, time range [from, to).',
      querystring: Type.Object({
        entityType: Type.Optional(Type.String({ maxLength: 64 })),
        entityId: Type.Optional(Type.String({ maxLength: 64 })),
        actorUserId: Type.Optional(Uuid()),
        action: Type.Optional(Type.String({ maxLength: 64 })),
        from: Type.Optional(Type.String({ format: 'date-time' })),
        to: Type.Optional(Type.String({ format: 'date-time' })),
        ...PageQuery
      }, { additionalProperties: false }),
      response: { 200: Page(Type.Ref(AuditEvent)), '4xx': ProblemRef, '5xx': ProblemRef }
    }
  }, async (request) => await listAuditEvents(app.db, request.query))

  app.get('/v1/audit-events/verify', {
    config: { access: 'audit:read' },
    schema: {
      tags: ['audit'],
      operationId: 'verifyAuditChain',
      summary: 'Verify the audit hash chain',
      description: 'Recomputes the SHA-256 chain over every sealed event in order and reports the first broken link, if any. ADMIN and MANAGER only.',
      response: { 200: Type.Ref(ChainReport), '4xx': ProblemRef, '5xx': ProblemRef }
    }
  }, async () => await verifyChain(app.db))
}
