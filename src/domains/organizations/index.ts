// The organizations domain (API.md "Organizations and users"; PRODUCT.md §2, §2.1): one file set
// per resource — stations, station groups, suppliers with their sites, contacts — each
// `<resource>.routes.ts` (HTTP), `<resource>.service.ts` (scope rules and SQL) and
// `<resource>.schemas.ts` (request and response schemas), plus `shared.*` for what they all use.
// This plugin registers the four route sets, each in its own encapsulated context.
import type { App } from '../../lib/route.js'
import contactsRoutes from './contacts.routes.js'
import groupsRoutes from './groups.routes.js'
import stationsRoutes from './stations.routes.js'
import suppliersRoutes from './suppliers.routes.js'

export default async function organizationsRoutes (app: App): Promise<void> {
  await app.register(stationsRoutes)
  await app.register(groupsRoutes)
  await app.register(suppliersRoutes)
  await app.register(contactsRoutes)
}
