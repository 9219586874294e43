// The audit diff of a PATCH, shared by the domains whose updates answer { before, after }.

/** `{ field: { from, to } }` for the fields a PATCH sent. */
export function diffOf (body: object, before: object, after: object): Record<string, unknown> {
  const b = before as Record<string, unknown>
  const a = after as Record<string, unknown>
  const changes: Record<string, unknown> = {}
  for (const k of Object.keys(body)) changes[k] = { from: b[k] ?? null, to: a[k] ?? null }
  return changes
}
