// Shared by the catalog and contracts routes: the audit diff of a PATCH.

/** `{ field: { from, to } }` for the fields a PATCH sent. */
export function diffOf (body: object, before: object, after: object): Record<string, unknown> {
  const b = before as Record<string, unknown>
  const a = after as Record<string, unknown>
  const changes: Record<string, unknown> = {}
  for (const k of Object.keys(body)) changes[k] = { from: b[k] ?? null, to: a[k] ?? null }
  return changes
}
