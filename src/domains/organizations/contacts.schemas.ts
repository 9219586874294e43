// Contacts of a station or supplier: one view (they are only ever shown to staff and to the
// organization's own users), the request bodies and the route params.
import { Type, type Static } from '@sinclair/typebox'
import { Text, Uuid } from '../../lib/schemas.js'
import { Email, Name, Nullable, Phone, timestamps } from './shared.schemas.js'

export const Contact = Type.Object({
  id: Uuid(),
  organizationId: Uuid(),
  fullName: Text(200),
  position: Nullable(Text(100)),
  phone: Nullable(Text(30)),
  email: Nullable(Text(254, { format: 'email' })),
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

export const ContactParams = Type.Object({ id: Uuid(), contactId: Uuid() }, { additionalProperties: false })
