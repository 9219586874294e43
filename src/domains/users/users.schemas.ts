// Request and response schemas of the users domain. Responses never carry password hashes,
// failed-login counters or tokens: fast-json-stringify serializes only the fields listed here.
// Bodies list exactly the fields a caller may set, so anything else (organizationId on update,
// isActive, passwordHash, version…) is a 400, never silently applied.
import { Type } from '@sinclair/typebox'
import { DateTime, Int64, Nullable, Page, PageQuery, Text, Uuid, Version } from '../../lib/schemas.js'
import { Email, OrganizationKindSchema, PasswordInput, RoleSchema } from '../auth/auth.schemas.js'

const FullName = Type.String({ minLength: 1, maxLength: 200 })
const Phone = Type.Union([Type.String({ minLength: 1, maxLength: 40, pattern: '^[0-9+(). /-]+$' }), Type.Null()])

export const UserSchema = Type.Object({
  id: Uuid(),
  email: Text(254, { format: 'email' }),
  fullName: Text(200),
  phone: Nullable(Text(40)),
  role: RoleSchema,
  organizationId: Uuid(),
  organizationKind: OrganizationKindSchema,
  isActive: Type.Boolean(),
  lastLoginAt: Nullable(DateTime()),
  createdAt: DateTime(),
  updatedAt: DateTime(),
  version: Version({ description: 'Row version; the ETag of GET /v1/users/{id}' })
}, { $id: 'User', description: 'A user account' })

export const UserPage = Page(Type.Ref(UserSchema), { $id: 'UserPage', description: 'A page of users' })

/** The personal-data export lists at most this many sessions and audit events. */
export const PERSONAL_DATA_MAX_ROWS = 10_000

export const ListUsersQuerySchema = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 100, description: 'Case-insensitive substring of the email or full name' })),
  role: Type.Optional(RoleSchema),
  organizationId: Type.Optional(Uuid()),
  active: Type.Optional(Type.Boolean()),
  ...PageQuery
}, { additionalProperties: false })

export const CreateUserBody = Type.Object({
  email: Email(),
  fullName: FullName,
  phone: Type.Optional(Phone),
  role: RoleSchema,
  organizationId: Uuid({ description: 'PLATFORM organization for ADMIN/MANAGER/HANDLER, a station for STATION, a supplier for SUPPLIER' }),
  password: PasswordInput({ description: '12–128 characters, not a common password, not containing the email name' })
}, {
  additionalProperties: false,
  examples: [{ email: 'anne@st-anjou.example', fullName: 'Anne Martin', role: 'STATION', organizationId: '0192f0c4-5b7e-7a51-9d43-7c1e2f3a4b5c', password: 'a long and unusual passphrase' }]
})

export const UpdateUserBody = Type.Object({
  fullName: Type.Optional(FullName),
  phone: Type.Optional(Phone),
  email: Type.Optional(Email()),
  role: Type.Optional(RoleSchema)
}, { additionalProperties: false, minProperties: 1, examples: [{ fullName: 'Anne Martin-Leroy', phone: '+33 2 41 00 00 00' }, { role: 'MANAGER' }] })

const Org = Type.Object({ id: Uuid(), kind: OrganizationKindSchema, name: Text(200) })

export const PersonalDataSchema = Type.Object({
  profile: Type.Object({
    id: Uuid(),
    email: Text(254, { format: 'email' }),
    fullName: Text(200),
    phone: Nullable(Text(40)),
    role: RoleSchema,
    organizationId: Uuid(),
    organizationKind: OrganizationKindSchema,
    organization: Org,
    isActive: Type.Boolean(),
    lastLoginAt: Nullable(DateTime()),
    passwordChangedAt: DateTime(),
    createdAt: DateTime(),
    updatedAt: DateTime(),
    version: Version()
  }),
  sessions: Type.Array(Type.Object({
    id: Uuid(),
    familyId: Uuid(),
    createdAt: DateTime(),
    lastUsedAt: DateTime(),
    expiresAt: DateTime(),
    usedAt: Nullable(DateTime()),
    revokedAt: Nullable(DateTime()),
    ip: Nullable(Text(64)),
    userAgent: Nullable(Text(512))
  }), { maxItems: PERSONAL_DATA_MAX_ROWS, description: `The person's sessions, oldest first (at most ${PERSONAL_DATA_MAX_ROWS}: the latest ones)` }),
  sessionsTruncated: Type.Boolean({ description: `True when the person has more than ${PERSONAL_DATA_MAX_ROWS} sessions (the oldest are left out)` }),
  auditEvents: Type.Array(Type.Object({
    id: Int64(),
    occurredAt: DateTime(),
    action: Text(100),
    entityType: Text(64),
    entityId: Nullable(Text(200))
  }), { maxItems: PERSONAL_DATA_MAX_ROWS, description: 'Audit events where the person is the actor (identifiers and actions only)' }),
  auditEventsTruncated: Type.Boolean({ description: `True when the person has more than ${PERSONAL_DATA_MAX_ROWS} events; ask an ADMIN for a full extract of the audit trail` })
}, { $id: 'PersonalData', description: 'Everything the service holds about a person (GDPR access)' })
