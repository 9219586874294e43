// Schemas every organizations resource uses: the field formats, the address, the version and
// timestamps of a row, the plain list query, and the optional body of activate / deactivate.
import { Type, type Static } from '@sinclair/typebox'
import { DateTime, NonEmpty, Nullable, PageQuery, Text, Version } from '../../lib/schemas.js'

export { Nullable }

const Country = Type.String({ pattern: '^[A-Z]{2}$', minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2 code', examples: ['FR'] })
export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 })
export const Phone = Type.String({ pattern: '^[+0-9 ().-]{3,30}$', maxLength: 30, examples: ['+33 2 41 00 00 00'] })
export const Name = NonEmpty(200)
export const Query = Type.String({ minLength: 1, maxLength: 100, description: 'Case-insensitive substring of the name (and of the code for stations)' })
export const ActiveFilter = Type.Boolean({ description: 'Only active (true) or inactive (false) rows' })

// ---- addresses -------------------------------------------------------------------------------

export const Address = Type.Object({
  line1: Nullable(Text(200)),
  line2: Nullable(Text(200)),
  postalCode: Nullable(Text(20)),
  city: Nullable(Text(100)),
  country: Country
}, { additionalProperties: false })
export type AddressT = Static<typeof Address>

/** Every field optional: on create a missing field is null (country FR); on update it is kept. */
export const AddressInput = Type.Object({
  line1: Type.Optional(Nullable(Text(200))),
  line2: Type.Optional(Nullable(Text(200))),
  postalCode: Type.Optional(Nullable(Text(20))),
  city: Type.Optional(Nullable(Text(100))),
  country: Type.Optional(Country)
}, { additionalProperties: false })
export type AddressInputT = Static<typeof AddressInput>

export const timestamps = { version: Version(), createdAt: DateTime(), updatedAt: DateTime() }

// ---- queries, bodies and headers shared by several routes --------------------------------------

export const ListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })
export type ListQueryT = Static<typeof ListQuery>

export const ActivationBody = Type.Object({
  reason: Type.Optional(Text(500, { description: 'Recorded in the audit trail' }))
}, { additionalProperties: false, examples: [{ reason: 'Site closed for the season' }] })

export const IfNoneMatchHeaders = Type.Object({
  'if-none-match': Type.Optional(Type.String({ maxLength: 200, description: 'ETag from a previous read; 304 when unchanged' }))
})
