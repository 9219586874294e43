// What the demo seed steps share: the context threaded through them and the step signature.
// Steps (db/seed/steps/*.ts) import only from here; demo.ts imports the steps and runs them.
import type { Db } from '../../src/db/index.js'

export interface SeedContext {
  /** argon2 hash of the demo password, computed once for every demo account */
  passwordHash: string
  /** rows the steps created, by a readable key (`station:<CODE>`, `supplier:<slug>`, `user:<ROLE>`…) */
  ids: Record<string, string>
}

/** One domain's part of the demo dataset; runs inside the seed's transaction, adds its ids to ctx.ids. */
export type SeedStep = (db: Db, ctx: SeedContext) => Promise<void>
