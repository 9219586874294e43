// Station groups: the full view (platform staff), the brief view a station user gets, and the
// request bodies and list query.
import { Type, type Static } from '@sinclair/typebox'
import { PageQuery, Text, Uuid } from '../../lib/schemas.js'
import { ActiveFilter, Name, Nullable, Query, timestamps } from './shared.schemas.js'

export const StationGroup = Type.Object({
  id: Uuid(),
  name: Text(200),
  description: Nullable(Text(1000)),
  isActive: Type.Boolean(),
  ...timestamps
}, { additionalProperties: false, description: 'Station group (platform staff view)' })
export type StationGroupT = Static<typeof StationGroup>

export const StationGroupBrief = Type.Object({ id: Uuid(), name: Text(200) }, { additionalProperties: false, description: 'Station group as a station user sees it' })

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
