// The default document storage: the bytes in PostgreSQL, so a deployment has nothing else to run,
// back up or secure. An object is a `document_blobs` row and its `document_chunks` (bytea of
// CHUNK_BYTES each, the last one shorter).
//
// Writing: the blob row first, then each chunk as soon as the upload has delivered that many bytes
// — one INSERT per chunk, each its own statement on a pooled connection held only while it runs:
// a slow client never holds a connection (nor a transaction) between two chunks, so uploads cannot
// starve the pool, and memory holds at most about one chunk per upload. None of these statements
// rides on the client's BEGIN/COMMIT pipelining (src/db/index.ts): they run on the pool, outside
// any transaction, and are awaited one by one — none is DEFERRED_TO_COMMIT, which would keep every
// chunk in memory until a COMMIT. The blob gets its size and hash when the last chunk is in
// (complete); any failure deletes the blob (its chunks cascade) before the error goes on. A crash
// mid-upload leaves a blob that the documents service's staging sweep removes.
//
// Reading: the blob's chunk size gives the chunks a byte range covers; they are fetched a few at a
// time as the consumer reads (a Readable that pulls), so a download holds at most a few chunks.
import { Readable } from 'node:stream'
import type { Db } from '../../db/index.js'
import { checkKey, checkRange, Digest, newKey, ObjectNotFoundError, type ByteRange, type DocumentStorage, type StoredObject } from './storage.js'

export const CHUNK_BYTES = 256 * 1024
/** Chunks fetched per query while reading. */
const READ_BATCH = 2

export class PgStorage implements DocumentStorage {
  readonly name = 'pg' as const
  readonly #db: Db
  readonly #chunkBytes: number

  constructor (db: Db, opts: { chunkBytes?: number } = {}) {
    // a transaction would hold one connection for the whole upload and lose every chunk with it
    if (db.isTransaction) throw new TypeError('PgStorage works on the pool, never inside a transaction')
    this.#db = db
    this.#chunkBytes = opts.chunkBytes ?? CHUNK_BYTES
  }

  async put (source: AsyncIterable<Uint8Array>, key: string = newKey()): Promise<StoredObject> {
    checkKey(key)
    const db = this.#db
    const size = this.#chunkBytes
    await db.insertInto('documentBlobs').values({ key, chunkSize: size }).execute()
    const digest = new Digest()
    let pending: Buffer[] = []
    let pendingBytes = 0
    let seq = 0
    const write = async (data: Buffer): Promise<void> => {
      await db.insertInto('documentChunks').values({ blobKey: key, seq, data }).execute()
      seq++
    }
    try {
      for await (const piece of source) {
        if (piece.length === 0) continue
        digest.update(piece)
        pending.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength))
        pendingBytes += piece.length
        while (pendingBytes >= size) {
          const all = pending.length === 1 ? pending[0] as Buffer : Buffer.concat(pending, pendingBytes)
          await write(all.subarray(0, size))
          const rest = all.subarray(size)
          pending = rest.length > 0 ? [rest] : []
          pendingBytes = rest.length
        }
      }
      if (pendingBytes > 0) await write(Buffer.concat(pending, pendingBytes))
      pending = []
      const sha256 = digest.hex()
      await db.updateTable('documentBlobs').set({ sizeBytes: digest.size, sha256 }).where('key', '=', key).execute()
      return { key, size: digest.size, sha256 }
    } catch (err) {
      await this.delete(key).catch(() => {})
      throw err
    }
  }

  async get (key: string, range?: ByteRange): Promise<Readable> {
    checkKey(key)
    const blob = await this.#db.selectFrom('documentBlobs').select(['chunkSize', 'sizeBytes']).where('key', '=', key).executeTakeFirst()
    if (blob === undefined || blob.sizeBytes === null) throw new ObjectNotFoundError(key)
    const total = blob.sizeBytes
    const chunk = blob.chunkSize
    if (total === 0) return Readable.from([], { objectMode: false })
    const { start, end } = checkRange(range, total) ?? { start: 0, end: total - 1 }
    const first = Math.floor(start / chunk)
    const last = Math.floor(end / chunk)
    const db = this.#db
    async function * bytes (): AsyncGenerator<Buffer> {
      for (let from = first; from <= last; from += READ_BATCH) {
        const to = Math.min(last, from + READ_BATCH - 1)
        const rows = await db.selectFrom('documentChunks').select(['seq', 'data'])
          .where('blobKey', '=', key).where('seq', '>=', from).where('seq', '<=', to).orderBy('seq').execute()
        if (rows.length !== to - from + 1) throw new Error(`stored object ${key} is missing chunks ${from}–${to}`)
        for (const row of rows) {
          const offset = row.seq * chunk
          const lo = Math.max(start - offset, 0)
          const hi = Math.min(end - offset + 1, row.data.length)
          if (hi > lo) yield row.data.subarray(lo, hi)
        }
      }
    }
    // one chunk read ahead at most
    return Readable.from(bytes(), { objectMode: false, highWaterMark: chunk })
  }

  async delete (key: string): Promise<void> {
    checkKey(key)
    await this.#db.deleteFrom('documentBlobs').where('key', '=', key).execute()
  }
}
