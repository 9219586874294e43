// The database as Kysely sees it: one interface per migration group, composed here.
import type { CoreTables } from './tables/core.js'
import type { OrganizationTables } from './tables/organizations.js'
import type { CatalogTables } from './tables/catalog.js'
import type { OrderingTables } from './tables/ordering.js'

export interface Database extends CoreTables, OrganizationTables, CatalogTables, OrderingTables {}
