// Every migration, in order. Imported statically so the same list works from TypeScript sources
// (tests, tsx) and from the compiled build, with no directory scanning at runtime.
import type { Migration } from 'kysely'
import * as m0001 from './0001-foundation.js'

export const migrations: Record<string, Migration> = {
  '0001-foundation': m0001
}
