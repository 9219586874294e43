// Applies the ordered migrations with Kysely's Migrator. The Migrator holds a PostgreSQL advisory
// lock while it runs, so several instances starting at once apply each migration exactly once.
import { Migrator, type MigrationProvider } from 'kysely'
import { migrations } from '../../db/migrations/index.js'
import type { Db } from './index.js'

const provider: MigrationProvider = { getMigrations: async () => migrations }

export function createMigrator (db: Db): Migrator {
  return new Migrator({ db, provider })
}

export async function migrateToLatest (db: Db): Promise<string[]> {
  const { error, results } = await createMigrator(db).migrateToLatest()
  if (error !== undefined) {
    const failed = results?.find(r => r.status === 'Error')
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${String((error as Error).message ?? error)}`, { cause: error })
  }
  return (results ?? []).filter(r => r.status === 'Success').map(r => r.migrationName)
}

export const latestMigration = Object.keys(migrations).sort().at(-1) ?? ''

/** True when every known migration has been applied (used by the readiness probe). */
export async function migrationsCurrent (db: Db): Promise<boolean> {
  const all = await createMigrator(db).getMigrations()
  return all.every(m => m.executedAt !== undefined)
}
