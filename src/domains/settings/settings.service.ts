// Platform settings: a single row (the table's primary key is the constant `true`).
import type { Db } from '../../db/index.js'
import type { Actor } from '../../lib/permissions.js'
import { problem } from '../../lib/problems.js'
import type { Settings, SettingsPatch } from './settings.schemas.js'

const COLUMNS = ['defaultFeePct', 'allowCatalogFallback', 'receivingTolerancePct', 'lockoutThreshold', 'lockoutMinutes', 'rateLimitPerMinute', 'version', 'updatedAt'] as const

export async function getSettings (db: Db): Promise<Settings> {
  return await db.selectFrom('settings').select(COLUMNS).executeTakeFirstOrThrow()
}

/**
 * Applies any subset of the fields. `expectedVersion` (If-Match) is checked in the UPDATE itself so
 * two concurrent admins cannot silently overwrite each other.
 */
export async function updateSettings (db: Db, actor: Actor, input: SettingsPatch, expectedVersion?: number): Promise<{ before: Settings, after: Settings }> {
  const before = await db.selectFrom('settings').select(COLUMNS).forUpdate().executeTakeFirstOrThrow()
  if (expectedVersion !== undefined && expectedVersion !== before.version) {
    throw problem('PRECONDITION_FAILED', `If-Match "${expectedVersion}" does not match the current ETag "${before.version}"`)
  }
  const after = await db.updateTable('settings')
    .set(eb => ({ ...input, version: eb('version', '+', 1), updatedAt: new Date(), updatedBy: actor.userId }))
    .returning(COLUMNS)
    .executeTakeFirstOrThrow()
  return { before, after }
}
