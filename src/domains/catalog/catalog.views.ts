// Helpers shared by the catalog and contracts routes for audience views and audit diffs.
import { audienceOf, type AudienceSerializer } from '../../lib/audience.js'
import type { Actor } from '../../lib/permissions.js'

/**
 * The caller's view of a mutation's result as plain data: what the audit plugin stores for an
 * Idempotency-Key replay (served without the handler, hence without the view) must not hold
 * prices the caller may not see.
 */
export function viewOf<T> (views: AudienceSerializer, actor: Actor, value: T): T {
  return JSON.parse(views.serialize(audienceOf(actor), value)) as T
}

/** `{ field: { from, to } }` for the fields a PATCH sent. */
export function diffOf (body: object, before: object, after: object): Record<string, unknown> {
  const b = before as Record<string, unknown>
  const a = after as Record<string, unknown>
  const changes: Record<string, unknown> = {}
  for (const k of Object.keys(body)) changes[k] = { from: b[k] ?? null, to: a[k] ?? null }
  return changes
}
