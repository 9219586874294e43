// Suppliers and their sites: the full views (platform staff and the supplier's own users), the
// brief views a station user gets, and the request bodies, params and list query.
import { Type, type Static } from '@sinclair/typebox'
import { PageQuery, Text, Uuid } from '../../lib/schemas.js'
import { ActiveFilter, Address, AddressInput, Email, Name, Nullable, Phone, Query, timestamps } from './shared.schemas.js'

const Website = Type.String({ format: 'uri', pattern: '^https?://', maxLength: 300 })
const Siret = Type.String({ pattern: '^[0-9]{14}$', minLength: 14, maxLength: 14, description: 'French SIRET, 14 digits; unique when given' })

// ---- supplier sites --------------------------------------------------------------------------

/** A supplier has at most this many sites (on creation and when adding one). */
export const MAX_SITES = 50

export const SupplierSite = Type.Object({
  id: Uuid(),
  supplierId: Uuid(),
  name: Text(200),
  address: Address,
  isPrimary: Type.Boolean(),
  ...timestamps
}, { additionalProperties: false, description: 'Supplier site (platform staff, or the supplier\'s own users)' })
export type SupplierSiteT = Static<typeof SupplierSite>

export const SupplierSiteBrief = Type.Object({ id: Uuid(), name: Text(200) }, { additionalProperties: false, description: 'Supplier site as a station sees it' })

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

export const SiteParams = Type.Object({ id: Uuid(), siteId: Uuid() }, { additionalProperties: false })

// ---- suppliers -------------------------------------------------------------------------------

export const Supplier = Type.Object({
  id: Uuid(),
  name: Text(200),
  siret: Nullable(Text(14)),
  email: Nullable(Text(254, { format: 'email' })),
  phone: Nullable(Text(30)),
  website: Nullable(Text(300)),
  address: Address,
  isActive: Type.Boolean(),
  ...timestamps,
  sites: Type.Array(SupplierSite, { maxItems: MAX_SITES, description: 'All sites, the primary one first' })
}, { additionalProperties: false, description: 'Supplier (platform staff, or the supplier\'s own users)' })
export type SupplierT = Static<typeof Supplier>

export const SupplierBrief = Type.Object({ id: Uuid(), name: Text(200) }, { additionalProperties: false, description: 'Supplier as a station sees it' })
export type SupplierBriefT = Static<typeof SupplierBrief>

export const CreateSupplierBody = Type.Object({
  name: Name,
  siret: Type.Optional(Nullable(Siret)),
  email: Type.Optional(Nullable(Email)),
  phone: Type.Optional(Nullable(Phone)),
  website: Type.Optional(Nullable(Website)),
  address: Type.Optional(AddressInput),
  sites: Type.Array(SiteInput, { minItems: 1, maxItems: MAX_SITES, description: 'At least one; exactly one primary (a single site is primary by default)' })
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
