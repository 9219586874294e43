// The database as Kysely sees it: one interface per migration group, composed here.
import type { CoreTables } from './tables/core.js'

export interface Database extends CoreTables {}
