// Demo orders (filled in by the orders work).
import type { SeedContext } from '../demo.js'
import type { Db } from '../../../src/db/index.js'

export async function seedOrders (_db: Db, _ctx: SeedContext): Promise<void> {}
