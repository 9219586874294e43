// Where document bytes live. A storage keeps opaque objects under keys and knows nothing of
// documents: the documents table holds the metadata and the (storage, key) of each file. Every
// backend passes the same contract test (test/domains/documents/storage.contract.test.ts):
// - put() writes the bytes as the source yields them (never the whole object in memory), computes
//   the size and SHA-256 on the way, and either stores everything or — on any error, the source's
//   included (an upload over the limit, a client hanging up) — nothing, then rethrows;
// - get() streams the object, or an inclusive byte range of it, reading as the consumer reads;
// - delete() is idempotent.
// Backends: PostgreSQL (storage-pg.ts, the default: nothing else to run) and a directory
// (storage-fs.ts). An S3-compatible store would be a third implementation of this interface.
import { createHash, randomUUID, type Hash } from 'node:crypto'
import type { Readable } from 'node:stream'

export type StorageName = 'pg' | 'fs'

/** Inclusive byte offsets, as in a Range header: bytes start..end. */
export interface ByteRange { start: number, end: number }

export interface StoredObject { key: string, size: number, sha256: string }

export interface DocumentStorage {
  readonly name: StorageName
  /** Stores the bytes under `key` (a new random key by default): all of them, or none on error. */
  put: (source: AsyncIterable<Uint8Array>, key?: string) => Promise<StoredObject>
  /** The object's bytes (or `range` of them) as a stream; ObjectNotFoundError when there is no complete object. */
  get: (key: string, range?: ByteRange) => Promise<Readable>
  /** Removes the object, complete or partly written; nothing to remove is not an error. */
  delete: (key: string) => Promise<void>
}

export class ObjectNotFoundError extends Error {
  constructor (key: string) {
    super(`No stored object ${key}`)
    this.name = 'ObjectNotFoundError'
  }
}

const KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export const newKey = (): string => randomUUID()

/** Keys are UUIDs: nothing else reaches a query or a path (no traversal, no surprise). */
export function checkKey (key: string): string {
  if (!KEY.test(key)) throw new TypeError('storage key must be a lowercase UUID')
  return key
}

/** Validates a range against the object's size (a RangeError when it does not fit). */
export function checkRange (range: ByteRange | undefined, size: number): ByteRange | undefined {
  if (range === undefined) return undefined
  const { start, end } = range
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= size) {
    throw new RangeError(`byte range ${start}-${end} is outside an object of ${size} bytes`)
  }
  return range
}

/** Size and SHA-256 of the bytes seen so far. */
export class Digest {
  readonly #hash: Hash = createHash('sha256')
  size = 0
  update (piece: Uint8Array): void {
    this.#hash.update(piece)
    this.size += piece.length
  }

  hex (): string { return this.#hash.digest('hex') }
}
