// Demo catalog (filled in by the catalog work).
import type { SeedContext } from '../demo.js'
import type { Db } from '../../../src/db/index.js'

export async function seedCatalog (_db: Db, _ctx: SeedContext): Promise<void> {}
