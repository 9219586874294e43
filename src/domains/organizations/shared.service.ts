// What the organizations services share: the shapes they answer in, the role and version checks,
// the name keyset of their lists, address columns, partial updates, and the owner-row lock.
//
// Scope rules live in each service as `where` clauses: platform staff see every row in full; a
// station user sees active organizations in brief and its own station in full; a supplier user
// sees active stations in brief and its own supplier in full; anything else is a 404, never a 403.
// Role rules the permission table cannot express (a station may not edit its own station, a
// supplier may not rename itself) are 403s decided before any row is read, so they never reveal
// whether a row exists.
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import { decodeCursor } from '../../lib/cursor.js'
import { isPlatformRole, type Actor, type Role } from '../../lib/permissions.js'
import { notFound, problem } from '../../lib/problems.js'
import type { AddressInputT, AddressT } from './shared.schemas.js'

export interface PageOf<T> { items: T[], nextCursor: string | null }
/** A row in the view the caller may see: `full` for staff and the organization's own users. */
export type Viewed<F, B> = { full: true, value: F } | { full: false, value: B }
export interface Brief { id: string, name: string }
/** The row after an activation change, and what the audit event records of its cascade. */
export interface Cascade<T> { value: T, changes: Record<string, number | boolean> }

export const isStaff = (actor: Actor): boolean => isPlatformRole(actor.role)

export function requireRole (actor: Actor, roles: readonly Role[], what: string): void {
  if (!roles.includes(actor.role)) throw problem('FORBIDDEN', `Role ${actor.role} may not ${what}`)
}
export const ADMIN_MANAGER: readonly Role[] = ['ADMIN', 'MANAGER']
export const STAFF: readonly Role[] = ['ADMIN', 'MANAGER', 'HANDLER']

export function checkVersion (current: number, expected: number | undefined): void {
  if (expected !== undefined && expected !== current) throw problem('PRECONDITION_FAILED', `If-Match "${expected}" does not match the current ETag "${current}"`)
}

/** `%q%` for ILIKE with the pattern characters of q taken literally. */
export function contains (q: string): string {
  return `%${q.replace(/[\\%_]/g, m => '\\' + m)}%`
}

/** The (name, id) keyset of every list here; the cursor is HMAC-checked, the types re-checked anyway. */
export function nameCursor (cursor: string): [string, string] {
  const [name, id] = decodeCursor(cursor, 2)
  if (typeof name !== 'string' || typeof id !== 'string') throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
  return [name, id]
}

// ---- addresses -------------------------------------------------------------------------------

export interface AddressRow { addressLine1: string | null, addressLine2: string | null, postalCode: string | null, city: string | null, country: string }

export const addressOf = (r: AddressRow): AddressT => ({ line1: r.addressLine1, line2: r.addressLine2, postalCode: r.postalCode, city: r.city, country: r.country })

/** Column values of an address on create: a missing field is null, the country FR. */
export function addressValues (a: AddressInputT | undefined): AddressRow {
  return { addressLine1: a?.line1 ?? null, addressLine2: a?.line2 ?? null, postalCode: a?.postalCode ?? null, city: a?.city ?? null, country: a?.country ?? 'FR' }
}

/** Column values of an address on update: only the fields the client sent. */
export function addressPatch (a: AddressInputT | undefined): Partial<AddressRow> {
  if (a === undefined) return {}
  const out: Partial<AddressRow> = {}
  if (a.line1 !== undefined) out.addressLine1 = a.line1
  if (a.line2 !== undefined) out.addressLine2 = a.line2
  if (a.postalCode !== undefined) out.postalCode = a.postalCode
  if (a.city !== undefined) out.city = a.city
  if (a.country !== undefined) out.country = a.country
  return out
}

// ---- updates ---------------------------------------------------------------------------------

/** Copies the keys the client sent (undefined = not sent; null = clear). */
export function pick<T extends object, K extends keyof T> (input: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {}
  for (const k of keys) if (input[k] !== undefined) out[k] = input[k]
  return out
}

/** The columns every update sets besides the changed ones. */
export const bump = { version: sql<number>`version + 1`, updatedAt: sql<Date>`now()` }

/** Locks an organization row for the rest of the transaction; a missing row is a 404. */
export async function lockRow (db: Db, table: 'stationGroups' | 'stations' | 'suppliers', id: string, what: string): Promise<{ version: number, isActive: boolean }> {
  const row = await db.selectFrom(table).select(['version', 'isActive']).where('id', '=', id).forNoKeyUpdate().executeTakeFirst()
  if (row === undefined) throw notFound(what)
  return row
}
