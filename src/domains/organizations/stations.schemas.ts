// Stations: the full view (platform staff and the station's own users), the brief views other
// parties get — a separate, smaller schema per audience, so a field of the full view can never
// leak through serialization (PRODUCT.md §2.1) — and the request bodies and list query.
import { Type, type Static } from '@sinclair/typebox'
import { PageQuery, Text, Uuid } from '../../lib/schemas.js'
import { ActiveFilter, Address, AddressInput, Email, Name, Nullable, Phone, Query, timestamps } from './shared.schemas.js'

const StationCode = Type.String({ pattern: '^[A-Z0-9][A-Z0-9_-]{1,39}$', minLength: 2, maxLength: 40, description: 'Upper-case letters, digits, - and _; unique; immutable once created', examples: ['ST-ANJOU'] })

export const Station = Type.Object({
  id: Uuid(),
  code: Text(40),
  name: Text(200),
  groupId: Nullable(Uuid()),
  address: Address,
  phone: Nullable(Text(30)),
  email: Nullable(Text(254, { format: 'email' })),
  isActive: Type.Boolean(),
  ...timestamps
}, { additionalProperties: false, description: 'Station (platform staff, or the station\'s own users)' })
export type StationT = Static<typeof Station>

/** Another station as a station user sees it: names and codes only. */
export const StationBriefForStation = Type.Object({ id: Uuid(), code: Text(40), name: Text(200) }, { additionalProperties: false, description: 'Station as another station sees it' })
export type StationBriefT = Static<typeof StationBriefForStation>
/** A station as a supplier user sees it: names only. */
export const StationBriefForSupplier = Type.Object({ id: Uuid(), name: Text(200) }, { additionalProperties: false, description: 'Station as a supplier sees it' })

export const CreateStationBody = Type.Object({
  code: StationCode,
  name: Name,
  groupId: Type.Optional(Nullable(Uuid())),
  address: Type.Optional(AddressInput),
  phone: Type.Optional(Nullable(Phone)),
  email: Type.Optional(Nullable(Email))
}, {
  additionalProperties: false,
  examples: [{ code: 'ST-ANJOU', name: 'Station Anjou', groupId: null, address: { line1: '12 route des Vergers', postalCode: '49000', city: 'Angers', country: 'FR' } }]
})
export type CreateStationInput = Static<typeof CreateStationBody>

export const UpdateStationBody = Type.Object({
  name: Type.Optional(Name),
  groupId: Type.Optional(Nullable(Uuid())),
  address: Type.Optional(AddressInput),
  phone: Type.Optional(Nullable(Phone)),
  email: Type.Optional(Nullable(Email))
}, { additionalProperties: false, minProperties: 1, examples: [{ phone: '+33 2 41 00 00 00', address: { city: 'Angers' } }] })
export type UpdateStationInput = Static<typeof UpdateStationBody>

export const StationListQuery = Type.Object({
  ...PageQuery,
  q: Type.Optional(Query),
  active: Type.Optional(ActiveFilter),
  groupId: Type.Optional(Uuid({ description: 'Only stations of this group' })),
  city: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Exact city, case-insensitive (platform staff only)' }))
}, { additionalProperties: false })
export type StationListQueryT = Static<typeof StationListQuery>
