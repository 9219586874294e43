// Request and response schemas of the users domain. Responses never carry password hashes,
// failed-login counters or tokens: fast-json-stringify serializes only the fields listed here.
// Bodies list exactly the fields a caller may set, so anything else (organizationId on update,
// isActive, passwordHash, version…) is a 400, never silently applied.
import { Type } from '@sinclair/typebox'
import { DateTime, Page, PageQuery, Uuid } from '../../lib/schemas.js'
import { Email, OrganizationKindSchema, PasswordInput, RoleSchema } from '../auth/auth.schemas.js'

const FullName = Type.String({ minLength: 1, maxLength: 200 })
const Phone = Type.Union([Type.String({ minLength: 1, maxLength: 40, pattern: '^[0-9+(). /-]+$' }), Type.Null()])

export const UserSchema = Type.Object({
  id: Uuid(),
  email: Type.String(),
  fullName: Type.String(),
  phone: Type.Union([Type.String(), Type.Null()]),
  role: RoleSchema,
  organizationId: Uuid(),
  organizationKind: OrganizationKindSchema,
  isActive: Type.Boolean(),
  lastLoginAt: Type.Union([DateTime(), Type.Null()]),
  createdAt: DateTime(),
  updatedAt: DateTime(),
  version: Type.Integer({ description: 'Row version; the ETag of GET /v1/users/{id}' })
}, { $id: 'User' })

export const UserPage = Page(Type.Ref(UserSchema), { $id: 'UserPage' })

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

const Org = Type.Object({ id: Uuid(), kind: OrganizationKindSchema, name: Type.String() })

export const PersonalDataSchema = Type.Object({
  profile: Type.Object({
    id: Uuid(),
    email: Type.String(),
    fullName: Type.String(),
    phone: Type.Union([Type.String(), Type.Null()]),
    role: RoleSchema,
    organizationId: Uuid(),
    organizationKind: OrganizationKindSchema,
    organization: Org,
    isActive: Type.Boolean(),
    lastLoginAt: Type.Union([DateTime(), Type.Null()]),
    passwordChangedAt: DateTime(),
    createdAt: DateTime(),
    updatedAt: DateTime(),
    version: Type.Integer()
  }),
  sessions: Type.Array(Type.Object({
    id: Uuid(),
    familyId: Uuid(),
    createdAt: DateTime(),
    lastUsedAt: DateTime(),
    expiresAt: DateTime(),
    usedAt: Type.Union([DateTime(), Type.Null()]),
    revokedAt: Type.Union([DateTime(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    userAgent: Type.Union([Type.String(), Type.Null()])
  })),
  auditEvents: Type.Array(Type.Object({
    id: Type.Integer(),
    occurredAt: DateTime(),
    action: Type.String(),
    entityType: Type.String(),
    entityId: Type.Union([Type.String(), Type.Null()])
  }), { description: 'Audit events where the person is the actor (identifiers and actions only)' }),
  auditEventsTruncated: Type.Boolean({ description: 'True when the person has more than 10 000 events; ask an ADMIN for a full extract of the audit trail' })
}, { $id: 'PersonalData' })
