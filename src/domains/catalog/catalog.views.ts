// Helpers shared by the catalog and contracts routes for audience views and audit diffs.
import type { AudienceSerializer } from '../../lib/audience.js'
import type { Actor } from '../../lib/permissions.js'

/**
 * A mutation's result for the caller. The route has already chosen the caller's serializer
 * (views.use); the audit plugin serializes with it and stores those bytes for Idempotency-Key
 * replays, so nothing needs projecting here — this only asserts that a view was chosen.
 */
export function viewOf<T> (views: AudienceSerializer, _actor: Actor, value: T): T {
  void views
  return value
}

/** `{ field: { from, to } }` for the fields a PATCH sent. */
export function diffOf (body: object, before: object, after: object): Record<string, unknown> {
  const b = before as Record<string, unknown>
  const a = after as Record<string, unknown>
  const changes: Record<string, unknown> = {}
  for (const k of Object.keys(body)) changes[k] = { from: b[k] ?? null, to: a[k] ?? null }
  return changes
}
