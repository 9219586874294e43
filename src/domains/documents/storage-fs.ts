// Document storage in a directory (DOCUMENT_STORAGE=fs, DOCUMENT_DIR): one file per object, named
// by its key. A put writes `<key>.part` (created exclusively, mode 0600) as the bytes arrive,
// flushes it to disk and links it as `<key>` (never replacing an existing object): a reader never
// sees a partial object, and a failed put removes its part file before the error goes on. A crash mid-upload leaves a `.part` file
// (or an object no document references) that the documents service's staging sweep deletes.
import { link, mkdir, open, unlink, type FileHandle } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { checkKey, checkRange, Digest, newKey, ObjectNotFoundError, type ByteRange, type DocumentStorage, type StoredObject } from './storage.js'

const isMissing = (err: unknown): boolean => (err as { code?: string }).code === 'ENOENT'

export class FsStorage implements DocumentStorage {
  readonly name = 'fs' as const
  readonly #dir: string
  #ready: Promise<void> | undefined

  constructor (dir: string) {
    this.#dir = resolve(dir)
  }

  #path (key: string, part = false): string {
    return join(this.#dir, part ? `${checkKey(key)}.part` : checkKey(key))
  }

  async put (source: AsyncIterable<Uint8Array>, key: string = newKey()): Promise<StoredObject> {
    const part = this.#path(key, true)
    this.#ready ??= mkdir(this.#dir, { recursive: true, mode: 0o700 }).then(() => undefined, (err: unknown) => { this.#ready = undefined; throw err })
    await this.#ready
    const fh = await open(part, 'wx', 0o600)
    let unclosed: FileHandle | undefined = fh
    const digest = new Digest()
    try {
      for await (const piece of source) {
        digest.update(piece)
        let written = 0
        while (written < piece.length) written += (await fh.write(piece, written, piece.length - written)).bytesWritten
      }
      await fh.sync()
      unclosed = undefined
      await fh.close()
      // link, not rename: an existing object under this key is never replaced (EEXIST)
      await link(part, this.#path(key))
      // the object is complete from here: nothing below may fail the put (a stray part file goes with delete())
      await unlink(part).catch(() => {})
      await this.#syncDir()
      return { key, size: digest.size, sha256: digest.hex() }
    } catch (err) {
      await unclosed?.close().catch(() => {})
      await unlink(part).catch(() => {})
      throw err
    }
  }

  /** The new name is durable once the directory entry is flushed too (best effort where unsupported). */
  async #syncDir (): Promise<void> {
    let dir: FileHandle | undefined
    try {
      dir = await open(this.#dir, 'r')
      await dir.sync()
    } catch {
      // some filesystems refuse fsync on a directory: the data itself is flushed already
    } finally {
      await dir?.close().catch(() => {})
    }
  }

  async get (key: string, range?: ByteRange): Promise<Readable> {
    let fh: FileHandle
    try {
      fh = await open(this.#path(key), 'r')
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFoundError(key)
      throw err
    }
    try {
      const { size } = await fh.stat()
      if (size === 0) {
        await fh.close()
        return Readable.from([], { objectMode: false })
      }
      const { start, end } = checkRange(range, size) ?? { start: 0, end: size - 1 }
      return fh.createReadStream({ start, end, autoClose: true })
    } catch (err) {
      await fh.close().catch(() => {})
      throw err
    }
  }

  async delete (key: string): Promise<void> {
    for (const path of [this.#path(key), this.#path(key, true)]) {
      try {
        await unlink(path)
      } catch (err) {
        if (!isMissing(err)) throw err
      }
    }
  }
}
