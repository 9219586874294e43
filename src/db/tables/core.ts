// Table types of the foundation migration (0001). Kysely sees camelCase names (CamelCasePlugin).
import type { ColumnType, Generated } from 'kysely'

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>
type Json = ColumnType<unknown, string | null, string | null>

export interface OrganizationsTable {
  id: Generated<string>
  kind: 'PLATFORM' | 'STATION' | 'SUPPLIER'
  name: string
  isActive: Generated<boolean>
  version: Generated<number>
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface UsersTable {
  id: Generated<string>
  organizationId: string
  organizationKind: 'PLATFORM' | 'STATION' | 'SUPPLIER'
  email: string
  fullName: string
  phone: string | null
  role: 'ADMIN' | 'MANAGER' | 'HANDLER' | 'STATION' | 'SUPPLIER'
  passwordHash: string
  isActive: Generated<boolean>
  failedLogins: Generated<number>
  lockedUntil: Date | null
  passwordChangedAt: Timestamp
  tokensValidAfter: Timestamp
  lastLoginAt: Date | null
  createdBy: string | null
  version: Generated<number>
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface SessionsTable {
  id: Generated<string>
  userId: string
  familyId: string
  refreshHash: string
  createdAt: Timestamp
  lastUsedAt: Timestamp
  expiresAt: Date | string
  usedAt: Date | null
  revokedAt: Date | null
  replacedBy: string | null
  ip: string | null
  userAgent: string | null
}

export interface AuditEventsTable {
  id: Generated<number>
  occurredAt: Timestamp
  actorUserId: string | null
  actorRole: string | null
  actorOrgId: string | null
  action: string
  entityType: string
  entityId: string | null
  requestId: string | null
  idempotencyKey: string | null
  ip: string | null
  userAgent: string | null
  changes: Json
}

export interface AuditSealsTable {
  seq: number
  eventId: number
  /** the chain key that made this link (0005) */
  keyId: string
  prevHash: string
  hash: string
  sealedAt: Timestamp
}

export interface AuditUnsealedTable { eventId: number }

/** 0005: where an incremental verify resumes (a single row, MAC'd under the chain key) */
export interface AuditVerifyCheckpointTable {
  id: Generated<boolean>
  seq: number
  hash: string
  eventHorizon: number
  keyId: string
  mac: string
  verifiedAt: Timestamp
}

export interface IdempotencyKeysTable {
  userId: string
  key: string
  requestFingerprint: string
  method: string
  path: string
  status: Generated<'IN_PROGRESS' | 'DONE'>
  responseStatus: number
  responseBody: string | null
  /** the response headers a replay repeats (etag, location) */
  responseHeaders: Record<string, string> | null
  createdAt: Timestamp
  expiresAt: Timestamp
}

export interface OutboxEventsTable {
  id: Generated<number>
  type: string
  organizationIds: ColumnType<string[], string[] | undefined, string[]>
  payload: Json
  createdAt: Timestamp
  dispatchedAt: Date | null
}

export interface CoreTables {
  organizations: OrganizationsTable
  users: UsersTable
  sessions: SessionsTable
  auditEvents: AuditEventsTable
  auditSeals: AuditSealsTable
  auditUnsealed: AuditUnsealedTable
  auditVerifyCheckpoint: AuditVerifyCheckpointTable
  idempotencyKeys: IdempotencyKeysTable
  outboxEvents: OutboxEventsTable
}
