// The DocumentStorage contract (src/domains/documents/storage.ts), one suite run against every
// backend: PostgreSQL (with small chunks, so ranges cross many chunk boundaries, and with the
// default chunk size) and a directory. Each backend also says what it holds for a key, so "nothing
// stored" is checked below the interface too.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { sql, type KyselyPlugin } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type DbHandle } from '../../../src/db/index.js'
import { ObjectNotFoundError, type DocumentStorage } from '../../../src/domains/documents/storage.js'
import { FsStorage } from '../../../src/domains/documents/storage-fs.js'
import { CHUNK_BYTES, PgStorage } from '../../../src/domains/documents/storage-pg.js'
import { testDatabaseUrl } from '../../helpers/db.js'

let handle: DbHandle
let dir: string
beforeAll(async () => {
  handle = createDb({ connectionString: await testDatabaseUrl(), poolSize: 6, statementTimeoutMs: 10_000, connectTimeoutMs: 5000 })
  dir = await mkdtemp(join(tmpdir(), 'ge-documents-'))
})
afterAll(async () => {
  await handle.destroy()
  await rm(dir, { recursive: true, force: true })
})

interface Backend {
  storage: () => DocumentStorage
  /** what the backend holds for the key, below the interface (rows, files) */
  leftovers: (key: string) => Promise<number>
}

const pgLeftovers = async (key: string): Promise<number> => {
  const { rows } = await sql<{ n: number }>`SELECT (SELECT count(*) FROM document_blobs WHERE key = ${key}::uuid) + (SELECT count(*) FROM document_chunks WHERE blob_key = ${key}::uuid) AS n`.execute(handle.db)
  return Number(rows[0]?.n)
}

const BACKENDS: Array<[string, Backend]> = [
  ['pg, 1000-byte chunks', { storage: () => new PgStorage(handle.db, { chunkBytes: 1000 }), leftovers: pgLeftovers }],
  ['pg, default chunks', { storage: () => new PgStorage(handle.db), leftovers: pgLeftovers }],
  ['fs', { storage: () => new FsStorage(join(dir, 'store')), leftovers: async key => (await readdir(join(dir, 'store')).catch(() => [])).filter(f => f.startsWith(key)).length }]
]

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** The bytes in pieces of irregular sizes, as a network would deliver them. */
async function * pieces (data: Buffer, opts: { failAfter?: number } = {}): AsyncGenerator<Buffer> {
  let at = 0
  let i = 0
  while (at < data.length) {
    if (opts.failAfter !== undefined && at >= opts.failAfter) throw new Error('client went away')
    const n = [1, 7, 333, 4096, 65_536, 100_003][i++ % 6] as number
    yield data.subarray(at, at + n)
    at += n
  }
}

async function drain (stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const p of stream) parts.push(p as Buffer)
  return Buffer.concat(parts)
}

describe.each(BACKENDS)('DocumentStorage contract: %s', (_name, backend) => {
  let storage: DocumentStorage
  beforeAll(() => { storage = backend.storage() })

  it('put stores the bytes under a fresh key with their size and SHA-256; get returns them identical', async () => {
    const data = randomBytes(CHUNK_BYTES + 54_321)
    const stored = await storage.put(pieces(data))
    expect(stored).toEqual({ key: expect.stringMatching(/^[0-9a-f-]{36}$/), size: data.length, sha256: sha256(data) })
    expect((await drain(await storage.get(stored.key))).equals(data)).toBe(true)
  })

  it('get streams any inclusive byte range exactly (first, last, single bytes, across chunk boundaries)', async () => {
    const data = randomBytes(25_000)
    const { key } = await storage.put(pieces(data))
    const ranges: Array<[number, number]> = [[0, 0], [0, 999], [999, 1000], [1000, 1999], [24_999, 24_999], [0, 24_999], [123, 20_456]]
    for (let i = 0; i < 30; i++) {
      const a = Math.floor(Math.random() * data.length)
      ranges.push([a, a + Math.floor(Math.random() * (data.length - a))])
    }
    for (const [start, end] of ranges) {
      const got = await drain(await storage.get(key, { start, end }))
      expect(got.equals(data.subarray(start, end + 1)), `${start}-${end}`).toBe(true)
    }
  })

  it('an empty object is stored and read back empty', async () => {
    const { key, size, sha256: digest } = await storage.put(pieces(Buffer.alloc(0)))
    expect(size).toBe(0)
    expect(digest).toBe(sha256(Buffer.alloc(0)))
    expect((await drain(await storage.get(key))).length).toBe(0)
  })

  it('a source that fails mid-way: put rethrows its error and nothing is stored', async () => {
    const key = randomUUID()
    await expect(storage.put(pieces(randomBytes(300_000), { failAfter: 150_000 }), key)).rejects.toThrow('client went away')
    await expect(storage.get(key)).rejects.toBeInstanceOf(ObjectNotFoundError)
    expect(await backend.leftovers(key)).toBe(0)
  })

  it('a put under an existing key fails and leaves the existing object intact', async () => {
    const data = randomBytes(5000)
    const { key } = await storage.put(pieces(data))
    await expect(storage.put(pieces(randomBytes(7000)), key)).rejects.toThrow()
    expect((await drain(await storage.get(key))).equals(data)).toBe(true)
  })

  it('delete removes the object; deleting again or an unknown key is not an error', async () => {
    const { key } = await storage.put(pieces(randomBytes(3000)))
    await storage.delete(key)
    await expect(storage.get(key)).rejects.toBeInstanceOf(ObjectNotFoundError)
    expect(await backend.leftovers(key)).toBe(0)
    await storage.delete(key)
    await storage.delete(randomUUID())
  })

  it('refuses keys that are not UUIDs (no path or query tricks) and ranges outside the object', async () => {
    for (const key of ['../etc/passwd', 'A0000000-0000-0000-0000-000000000000', '', 'x']) {
      await expect(storage.get(key)).rejects.toBeInstanceOf(TypeError)
      await expect(storage.delete(key)).rejects.toBeInstanceOf(TypeError)
      await expect(storage.put(pieces(Buffer.from('x')), key)).rejects.toBeInstanceOf(TypeError)
    }
    const { key } = await storage.put(pieces(randomBytes(100)))
    for (const range of [{ start: 0, end: 100 }, { start: 50, end: 49 }, { start: -1, end: 5 }, { start: 100, end: 100 }]) {
      await expect(storage.get(key, range)).rejects.toBeInstanceOf(RangeError)
    }
  })

  it('20 concurrent puts and reads: every object intact', async () => {
    const datas = Array.from({ length: 20 }, (_, i) => randomBytes(10_000 + i * 3001))
    const stored = await Promise.all(datas.map(async d => await storage.put(pieces(d))))
    const back = await Promise.all(stored.map(async s => await drain(await storage.get(s.key))))
    back.forEach((b, i) => { expect(sha256(b)).toBe(stored[i]?.sha256) })
    expect(new Set(stored.map(s => s.key)).size).toBe(20)
  })

  it('a reader that stops early releases what it holds (the rest is never read)', async () => {
    const { key } = await storage.put(pieces(randomBytes(CHUNK_BYTES * 2 + 1)))
    const stream = await storage.get(key)
    const it = stream[Symbol.asyncIterator]()
    expect(((await it.next()).value as Buffer).length).toBeGreaterThan(0)
    await it.return?.()
    expect(stream.destroyed).toBe(true)
    // the object is still whole
    expect((await drain(await storage.get(key))).length).toBe(CHUNK_BYTES * 2 + 1)
  })
})

describe('PgStorage specifics', () => {
  /** Counts the statements a storage sends. */
  function counted (): { storage: PgStorage, statements: () => number } {
    let n = 0
    const plugin: KyselyPlugin = {
      transformQuery: args => { n++; return args.node },
      transformResult: async args => args.result
    }
    return { storage: new PgStorage(handle.db.withPlugin(plugin), { chunkBytes: 1000 }), statements: () => n }
  }

  it('reads are pulled: a reader that takes one piece has caused a couple of queries, not one per chunk', async () => {
    const data = randomBytes(40_000)
    const { storage, statements } = counted()
    const { key } = await storage.put(pieces(data))
    const atStart = statements()
    const stream = await storage.get(key)
    const it = stream[Symbol.asyncIterator]()
    await it.next()
    await new Promise(resolve => setTimeout(resolve, 200))
    // the blob row, the batch being read and at most one batch ahead (40 chunks would be 20 batches)
    expect(statements() - atStart).toBeLessThanOrEqual(3)
    const rest: Buffer[] = []
    for (let next = await it.next(); next.done !== true; next = await it.next()) rest.push(next.value as Buffer)
    expect(statements() - atStart).toBe(1 + 20)
  })

  it('writes one statement per chunk as the bytes arrive, never one holding the whole object', async () => {
    const { storage, statements } = counted()
    const before = statements()
    let storedWhenHalfSent = -1
    async function * source (): AsyncGenerator<Buffer> {
      for (let i = 0; i < 40; i++) {
        if (i === 20) storedWhenHalfSent = statements() - before
        yield randomBytes(1000)
      }
    }
    await storage.put(source())
    // the blob row and the first 20 chunks are written before the 21st piece is even asked for
    expect(storedWhenHalfSent).toBeGreaterThanOrEqual(20)
    expect(statements() - before).toBe(1 + 40 + 1)
  })

  it('refuses to work inside a transaction (one connection held for a whole upload)', async () => {
    await handle.db.transaction().execute(async trx => {
      expect(() => new PgStorage(trx)).toThrow(TypeError)
    })
  })
})
