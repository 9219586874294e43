// Request and response schemas of sign-in, sessions and the caller. No response schema has a
// password hash, and refresh tokens appear only in the token responses that issue them.
import { Type } from '@sinclair/typebox'
import { ROLES } from '../../lib/permissions.js'
import { DateTime, Int32, Nullable, StringEnum, Text, Uuid, Version } from '../../lib/schemas.js'

export const RoleSchema = StringEnum(ROLES, { description: 'ADMIN, MANAGER, HANDLER (platform), STATION or SUPPLIER' })
export const OrganizationKindSchema = StringEnum(['PLATFORM', 'STATION', 'SUPPLIER'])

export const Email = (opts: Record<string, unknown> = {}) => Type.String({ format: 'email', minLength: 3, maxLength: 254, ...opts })
/** Password inputs: the policy (12–128 characters, not common) answers 422 WEAK_PASSWORD; the schema only caps the size. */
export const PasswordInput = (opts: Record<string, unknown> = {}) => Type.String({ minLength: 1, maxLength: 512, ...opts })
/** Opaque refresh and reset tokens: 43 base64url characters when issued by this service. */
export const OpaqueToken = (opts: Record<string, unknown> = {}) => Type.String({ minLength: 16, maxLength: 256, pattern: '^[A-Za-z0-9_-]+$', ...opts })

export const LoginBody = Type.Object({
  email: Email(),
  password: PasswordInput()
}, { additionalProperties: false, examples: [{ email: 'ops@bluewhale.example', password: 'demo-packaging-2026' }] })

export const RefreshBody = Type.Object({
  refreshToken: OpaqueToken()
}, { additionalProperties: false, examples: [{ refreshToken: 'q2i0Y1m3Xb7kPz9Lw4Rt8Vn1Hc6Jd5Fs0Ga2Qe3Mu7Yo' }] })

export const SessionUserSchema = Type.Object({
  id: Uuid(),
  email: Text(254, { format: 'email' }),
  fullName: Text(200),
  role: RoleSchema,
  organizationId: Uuid()
}, { $id: 'SessionUser', description: 'The signed-in user' })

export const TokenResponse = Type.Object({
  accessToken: Type.String({ maxLength: 4096, pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$', description: 'JWT (HS256) to send as Authorization: Bearer' }),
  refreshToken: Type.String({ maxLength: 256, pattern: '^[A-Za-z0-9_-]+$', description: 'Opaque, single-use; rotate it with POST /v1/auth/refresh' }),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Int32({ minimum: 1, description: 'Access-token lifetime in seconds' }),
  user: Type.Ref(SessionUserSchema)
}, { $id: 'TokenResponse', description: 'A session: a short-lived access token and a single-use refresh token' })

export const MeSchema = Type.Object({
  id: Uuid(),
  email: Text(254, { format: 'email' }),
  fullName: Text(200),
  phone: Nullable(Text(40)),
  role: RoleSchema,
  organizationId: Uuid(),
  organization: Type.Object({ id: Uuid(), kind: OrganizationKindSchema, name: Text(200) }),
  isActive: Type.Boolean(),
  lastLoginAt: Nullable(DateTime()),
  passwordChangedAt: DateTime(),
  createdAt: DateTime(),
  version: Version()
}, { $id: 'Me', description: 'The caller, with their organization' })

export const ChangePasswordBody = Type.Object({
  currentPassword: PasswordInput(),
  newPassword: PasswordInput({ description: '12–128 characters, not a common password, not containing the email name' }),
  refreshToken: Type.Optional(OpaqueToken({ description: "This device's refresh token: its session is kept, every other session is revoked" }))
}, { additionalProperties: false, examples: [{ currentPassword: 'my old long passphrase', newPassword: 'a new and much longer passphrase' }] })

export const ResetRequestBody = Type.Object({
  email: Email()
}, { additionalProperties: false, examples: [{ email: 'anne@st-anjou.example' }] })

export const ResetConfirmBody = Type.Object({
  token: OpaqueToken(),
  newPassword: PasswordInput({ description: '12–128 characters, not a common password, not containing the email name' })
}, { additionalProperties: false, examples: [{ token: 'Zk1vT8pQ2wXr5Lm9Nc3Bd7Hf0Js4Ky6Ga1Ve8Ru2Wo5Ti', newPassword: 'a new and much longer passphrase' }] })

export const Accepted = Type.Object({ message: Text(500) }, { $id: 'Accepted', description: 'Accepted: the request will be processed' })
