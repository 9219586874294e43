// Demo organizations (filled in by the organizations work).
import type { SeedContext } from '../demo.js'
import type { Db } from '../../../src/db/index.js'

export async function seedOrganizations (_db: Db, _ctx: SeedContext): Promise<void> {}
