// Opaque, tamper-checked keyset cursors: base64url(JSON of the last row's sort key + id) plus an
// HMAC tag. A forged or truncated cursor is a 400, never a SQL error.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { problem } from './problems.js'

let key = 'cursor-key-unset'

export function setCursorKey (secret: string): void {
  key = createHmac('sha256', secret).update('cursor').digest('base64url')
}

function tag (payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url').slice(0, 22)
}

export type CursorValue = string | number | boolean | null

export function encodeCursor (values: readonly CursorValue[]): string {
  const payload = Buffer.from(JSON.stringify(values)).toString('base64url')
  return `${payload}.${tag(payload)}`
}

export function decodeCursor (cursor: string, arity: number): CursorValue[] {
  const dot = cursor.indexOf('.')
  const payload = cursor.slice(0, dot)
  const given = Buffer.from(cursor.slice(dot + 1))
  const expected = Buffer.from(tag(payload))
  if (dot <= 0 || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw problem('INVALID_CURSOR', 'The cursor is not one this service issued')
  }
  let values: unknown
  try { values = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) } catch { values = null }
  if (!Array.isArray(values) || values.length !== arity) throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
  return values as CursorValue[]
}

/** Builds `{ items, nextCursor }` from a page fetched with `limit + 1` rows. */
export function page<T> (rows: T[], limit: number, keyOf: (row: T) => CursorValue[]): { items: T[], nextCursor: string | null } {
  if (rows.length <= limit) return { items: rows, nextCursor: null }
  const items = rows.slice(0, limit)
  const last = items[items.length - 1] as T
  return { items, nextCursor: encodeCursor(keyOf(last)) }
}
