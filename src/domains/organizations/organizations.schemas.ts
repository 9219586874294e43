// Request and response schemas of the organizations domain (stations, station groups, suppliers,
// supplier sites, contacts). What a party may see of another organization (PRODUCT.md §2.1) is a
// separate, smaller schema per audience — the brief views below — so a field of the full view can
// never leak through serialization, whatever a service returned.
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { DateTime, NonEmpty, Page, PageQuery, Text, Uuid } from '../../lib/schemas.js'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

const Country = Type.String({ pattern: '^[A-Z]{2}$', minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2 code', examples: ['FR'] })
const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 })
const Phone = Type.String({ pattern: '^[+0-9 ().-]{3,30}$', maxLength: 30, examples: ['+33 2 41 00 00 00'] })
const Website = Type.String({ format: 'uri', pattern: '^https?://', maxLength: 300 })
const Siret = Type.String({ pattern: '^[0-9]{14}$', minLength: 14, maxLength: 14, description: 'French SIRET, 14 digits; unique when given' })
const StationCode = Type.String({ pattern: '^[A-Z0-9][A-Z0-9_-]{1,39}$', minLength: 2, maxLength: 40, description: 'Upper-case letters, digits, - and _; unique; immutable once created', examples: ['ST-ANJOU'] })
const Name = NonEmpty(200)
const Query = Type.String({ minLength: 1, maxLength: 100, description: 'Case-insensitive substring of the name (and of the code for stations)' })
const ActiveFilter = Type.Boolean({ description: 'Only active (true) or inactive (false) rows' })

// ---- addresses -------------------------------------------------------------------------------

export const Address = Type.Object({
  line1: Nullable(Type.String()),
  line2: Nullable(Type.String()),
  postalCode: Nullable(Type.String()),
  city: Nullable(Type.String()),
  country: Type.String()
}, { additionalProperties: false })

/** Every field optional: on create a missing field is null (country FR); on update it is kept. */
export const AddressInput = Type.Object({
  line1: Type.Optional(Nullable(Text(200))),
  line2: Type.Optional(Nullable(Text(200))),
  postalCode: Type.Optional(Nullable(Text(20))),
  city: Type.Optional(Nullable(Text(100))),
  country: Type.Optional(Country)
}, { additionalProperties: false })
export type AddressInputT = Static<typeof AddressInput>

const timestamps = { version: Type.Integer({ minimum: 1, description: 'Row version; the ETag' }), createdAt: DateTime(), updatedAt: DateTime() }

// ---- station groups --------------------------------------------------------------------------

export const StationGroup = Type.Object({
  id: Uuid(),
  name: Type.String(),
  description: Nullable(Type.String()),
  isActive: Type.Boolean(),
  ...timestamps
}, { additionalProperties: false, description: 'Station group (platform staff view)' })
export type StationGroupT = Static<typeof StationGroup>

export const StationGroupBrief = Type.Object({ id: Uuid(), name: Type.String() }, { additionalProperties: false, description: 'Station group as a station user sees it' })

export const CreateStationGroupBody = Type.Object({
  name: Name,
  description: Type.Optional(Nullable(Text(1000)))
}, { additionalProperties: false, examples: [{ name: 'Coopérative Val de Loire', description: 'Stations of Anjou and Touraine' }] })
export type CreateStationGroupInput = Static<typeof CreateStationGroupBody>

export const UpdateStationGroupBody = Type.Object({
  name: Type.Optional(Name),
  description: Type.Optional(Nullable(Text(1000)))
}, { additionalProperties: false, minProperties: 1, examples: [{ description: 'Stations of the Loire valley' }] })
export type UpdateStationGroupInput = Static<typeof UpdateStationGroupBody>

export const StationGroupListQuery = Type.Object({ ...PageQuery, q: Type.Optional(Query), active: Type.Optional(ActiveFilter) }, { additionalProperties: false })
export type StationGroupListQueryT = Static<typeof StationGroupListQuery>

// ---- stations --------------------------------------------------------------------------------

export const Station = Type.Object({
  id: Uuid(),
  code: Type.String(),
  name: Type.String(),
  groupId: Nullable(Uuid()),
  address: Address,
  phone: Nullable(Type.String()),
  email: Nullable(Type.String()),
  isActive: Type.Boolean(),
  ...timestamps
}, { additionalProperties: false, description: 'Station (platform staff, or the station\'s own users)' })
export type StationT = Static<typeof Station>

/** Another station as a station user sees it: names and codes only. */
export const StationBriefForStation = Type.Object({ id: Uuid(), code: Type.String(), name: Type.String() }, { additionalProperties: false, description: 'Station as another station sees it' })
export type StationBriefT = Static<typeof StationBriefForStation>
/** A station as a supplier user sees it: names only. */
export const StationBriefForSupplier = Type.Object({ id: Uuid(), name: Type.String() }, { additionalProperties: false, description: 'Station as a supplier sees it' })

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

// ---- supplier sites --------------------------------------------------------------------------

export const SupplierSite = Type.Object({
  id: Uuid(),
  supplierId: Uuid(),
  name: Type.String(),
  address: Address,
  isPrimary: Type.Boolean(),
  ...timestamps
}, { additionalProperties: false, description: 'Supplier site (platform staff, or the supplier\'s own users)' })
export type SupplierSiteT = Static<typeof SupplierSite>

export const SupplierSiteBrief = Type.Object({ id: Uuid(), name: Type.String() }, { additionalProperties: false, description: 'Supplier site as a station sees it' })

export const SiteInput = Type.Object({
  name: Name,
  isPrimary: Type.Optional(Type.Boolean({ description: 'Exactly one site of a supplier is primary; making this one primary demotes the current one' })),
  address: Type.Optional(AddressInput)
}, { additionalProperties: false, examples: [{ name: 'Usine principale', isPrimary: true, address: { line1: 'ZI des Landes', postalCode: '49100', city: 'Angers', country: 'FR' } }] })
export type SiteInputT = Static<typeof SiteInput>

export const UpdateSiteBody = Type.Object({
  name: Type.Optional(Name),
  isPrimary: Type.Optional(Type.Boolean({ description: 'true makes this the primary site (the previous one is demoted in the same transaction); false is refused on the primary site' })),
  address: Type.Optional(AddressInput)
}, { additionalProperties: false, minProperties: 1, examples: [{ isPrimary: true }] })
export type UpdateSiteInput = Static<typeof UpdateSiteBody>

// ---- suppliers -------------------------------------------------------------------------------

export const Supplier = Type.Object({
  id: Uuid(),
  name: Type.String(),
  siret: Nullable(Type.String()),
  email: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  website: Nullable(Type.String()),
  address: Address,
  isActive: Type.Boolean(),
  ...timestamps,
  sites: Type.Array(SupplierSite, { description: 'All sites, the primary one first' })
}, { additionalProperties: false, description: 'Supplier (platform staff, or the supplier\'s own users)' })
export type SupplierT = Static<typeof Supplier>

export const SupplierBrief = Type.Object({ id: Uuid(), name: Type.String() }, { additionalProperties: false, description: 'Supplier as a station sees it' })
export type SupplierBriefT = Static<typeof SupplierBrief>

export const CreateSupplierBody = Type.Object({
  name: Name,
  siret: Type.Optional(Nullable(Siret)),
  email: Type.Optional(Nullable(Email)),
  phone: Type.Optional(Nullable(Phone)),
  website: Type.Optional(Nullable(Website)),
  address: Type.Optional(AddressInput),
  sites: Type.Array(SiteInput, { minItems: 1, maxItems: 50, description: 'At least one; exactly one primary (a single site is primary by default)' })
}, {
  additionalProperties: false,
  examples: [{ name: 'Cartonnerie du Val', siret: '12345678900011', email: 'orders@cdv.example', sites: [{ name: 'Usine principale', isPrimary: true, address: { city: 'Saumur', postalCode: '49400', country: 'FR' } }] }]
})
export type CreateSupplierInput = Static<typeof CreateSupplierBody>

export const UpdateSupplierBody = Type.Object({
  name: Type.Optional(Name),
  siret: Type.Optional(Nullable(Siret)),
  email: Type.Optional(Nullable(Email)),
  phone: Type.Optional(Nullable(Phone)),
  website: Type.Optional(Nullable(Website)),
  address: Type.Optional(AddressInput)
}, { additionalProperties: false, minProperties: 1, examples: [{ email: 'commandes@cdv.example', website: 'https://cdv.example' }] })
export type UpdateSupplierInput = Static<typeof UpdateSupplierBody>

export const SupplierListQuery = Type.Object({ ...PageQuery, q: Type.Optional(Query), active: Type.Optional(ActiveFilter) }, { additionalProperties: false })
export type SupplierListQueryT = Static<typeof SupplierListQuery>

// ---- contacts --------------------------------------------------------------------------------

export const Contact = Type.Object({
  id: Uuid(),
  organizationId: Uuid(),
  fullName: Type.String(),
  position: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  email: Nullable(Type.String()),
  isPrimary: Type.Boolean(),
  ...timestamps
}, { additionalProperties: false, description: 'Contact person of a station or supplier' })
export type ContactT = Static<typeof Contact>

export const CreateContactBody = Type.Object({
  fullName: Name,
  position: Type.Optional(Nullable(Text(100))),
  phone: Type.Optional(Nullable(Phone)),
  email: Type.Optional(Nullable(Email)),
  isPrimary: Type.Optional(Type.Boolean({ description: 'At most one primary contact per organization; making this one primary demotes the current one' }))
}, { additionalProperties: false, examples: [{ fullName: 'Claire Moreau', position: 'Responsable logistique', phone: '+33 2 41 00 00 01', email: 'logistique@st-anjou.example', isPrimary: true }] })
export type CreateContactInput = Static<typeof CreateContactBody>

export const UpdateContactBody = Type.Object({
  fullName: Type.Optional(Name),
  position: Type.Optional(Nullable(Text(100))),
  phone: Type.Optional(Nullable(Phone)),
  email: Type.Optional(Nullable(Email)),
  isPrimary: Type.Optional(Type.Boolean())
}, { additionalProperties: false, minProperties: 1, examples: [{ position: 'Directrice', isPrimary: true }] })
export type UpdateContactInput = Static<typeof UpdateContactBody>

// ---- params, queries and bodies shared by several routes ---------------------------------------

export const ListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })
export type ListQueryT = Static<typeof ListQuery>
export const SiteParams = Type.Object({ id: Uuid(), siteId: Uuid() }, { additionalProperties: false })
export const ContactParams = Type.Object({ id: Uuid(), contactId: Uuid() }, { additionalProperties: false })

export const ActivationBody = Type.Object({
  reason: Type.Optional(Text(500, { description: 'Recorded in the audit trail' }))
}, { additionalProperties: false, examples: [{ reason: 'Site closed for the season' }] })

export const IfNoneMatchHeaders = Type.Object({
  'if-none-match': Type.Optional(Type.String({ maxLength: 200, description: 'ETag from a previous read; 304 when unchanged' }))
})

export { Page }
