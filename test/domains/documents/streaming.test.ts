// A 20 MB document over real HTTP (a listening server, a streaming client): the upload is written
// to PostgreSQL while it is still arriving — never held whole — and the download streams too.
// Proof by design, measured: the client pauses after 15 MB and the database must already hold
// most of it in chunks while the request is incomplete (an implementation that buffers the file
// would hold none), and the Buffers alive at that moment (after a collection) must be well under
// the 15 MB received; the figures are printed.
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import { sql } from 'kysely'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { CHUNK_BYTES } from '../../../src/domains/documents/storage-pg.js'
import { createTestApp } from '../../helpers/app.js'
import { party, storedCounts, type Party } from './fixtures.js'

const MB = 1024 * 1024
const SIZE = 20 * MB
const PIECE = 64 * 1024

let app: App
let base: string
let station: Party
beforeAll(async () => {
  app = await createTestApp({ DOCUMENT_MAX_BYTES: 32 * MB })
  await app.listen({ port: 0, host: '127.0.0.1' })
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  station = await party(app, 'STATION')
})
afterAll(async () => { await app.close() })

// Collections before each reading: what is measured is memory still held, not garbage of random
// test data waiting for a collection (two passes: ArrayBuffer memory is released after the first).
v8.setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
function liveBuffers (): number {
  gc()
  gc()
  return process.memoryUsage().arrayBuffers
}
const mb = (bytes: number): number => Math.round(bytes / MB * 10) / 10

async function chunksOfStagedUploads (): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM document_chunks c JOIN document_staging s ON s.storage = 'pg' AND s.key = c.blob_key::text`.execute(app.db)
  return rows[0]?.n ?? 0
}

it('a 20 MB upload is stored chunk by chunk while it arrives, and downloads as a stream', async () => {
  const boundary = `----stream${randomBytes(6).toString('hex')}`
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\nINVOICE\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n`)
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const hash = createHash('sha256')
  const before = await storedCounts(app)

  let stagedWhilePaused = 0
  let heldWhilePaused = 0
  const baseline = liveBuffers()
  const response = new Promise<{ status: number, body: string }>((resolve, reject) => {
    const req = http.request(`${base}/v1/documents`, { method: 'POST', headers: { authorization: `Bearer ${station.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` } }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    })
    req.on('error', reject)
    const write = async (b: Buffer): Promise<void> => { if (!req.write(b)) await new Promise(resolve => req.once('drain', resolve)) }
    void (async () => {
      await write(head)
      let sent = 0
      let paused = false
      while (sent < SIZE) {
        const piece = randomBytes(PIECE)
        if (sent === 0) Buffer.from('%PDF-1.7\n').copy(piece)
        hash.update(piece)
        await write(piece)
        sent += PIECE
        if (!paused && sent >= 15 * MB) {
          paused = true
          // the request is incomplete: what the server has received must already be in the database
          const deadline = Date.now() + 10_000
          let stored = 0
          while (Date.now() < deadline && (stored = await chunksOfStagedUploads()) < 50) await new Promise(resolve => setTimeout(resolve, 20))
          stagedWhilePaused = stored
          heldWhilePaused = liveBuffers() - baseline
        }
      }
      await write(tail)
      req.end()
    })().catch(reject)
  })
  const res = await response
  expect(res.status, res.body).toBe(201)
  const doc = JSON.parse(res.body) as { id: string, sha256: string, sizeBytes: number }
  const digest = hash.digest('hex')
  expect(doc.sizeBytes).toBe(SIZE)
  expect(doc.sha256).toBe(digest)
  // at 15 MB sent, at least 50 chunks (12.5 MB) were already rows in the database
  expect(stagedWhilePaused).toBeGreaterThanOrEqual(50)
  const after = await storedCounts(app)
  expect(after.chunks - before.chunks).toBe(SIZE / CHUNK_BYTES)
  expect(after.staging).toBe(0)

  // at that moment 15 MB had arrived: a server holding the file would keep at least that much alive
  console.log(`20 MB upload paused after 15 MB: ${stagedWhilePaused} chunks already stored, ${mb(heldWhilePaused)} MB of Buffers held by client and server together`)
  expect(heldWhilePaused).toBeLessThan(8 * MB)

  // download: streamed back, hashed as it arrives (the PostgreSQL storage's reads are pulled a
  // batch at a time: see the storage contract test)
  const down = await new Promise<{ status: number, sha: string, bytes: number, type: string | undefined }>((resolve, reject) => {
    http.get(`${base}/v1/documents/${doc.id}/content`, { headers: { authorization: `Bearer ${station.token}` } }, r => {
      const h = createHash('sha256')
      let bytes = 0
      r.on('data', (c: Buffer) => { h.update(c); bytes += c.length })
      r.on('end', () => { resolve({ status: r.statusCode ?? 0, sha: h.digest('hex'), bytes, type: r.headers['content-type'] }) })
      r.on('error', reject)
    }).on('error', reject)
  })
  expect(down).toEqual({ status: 200, sha: digest, bytes: SIZE, type: 'application/pdf' })
}, 120_000)

it('over the limit on a real connection: 413 with Connection: close, the rest of the body unread, nothing stored', async () => {
  const small = await createTestApp({ DOCUMENT_MAX_BYTES: MB })
  try {
    await small.listen({ port: 0, host: '127.0.0.1' })
    const url = `http://127.0.0.1:${(small.server.address() as AddressInfo).port}/v1/documents`
    const before = await storedCounts(small)
    const boundary = 'xxBOUNDARYxx'
    const res = await new Promise<{ status: number, connection: string | undefined, body: string }>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: { authorization: `Bearer ${station.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` } }, r => {
        let body = ''
        r.setEncoding('utf8')
        r.on('data', (c: string) => { body += c })
        r.on('end', () => { resolve({ status: r.statusCode ?? 0, connection: r.headers.connection, body }) })
      })
      // the server closes the connection while we still send: our write errors are expected
      req.on('error', err => { if (!/EPIPE|ECONNRESET/.test(String(err))) reject(err) })
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\nINVOICE\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n\r\n%PDF-1.7\n`)
      let sent = 0
      const pump = (): void => {
        while (sent < 16 * MB && !req.destroyed) {
          sent += PIECE
          if (!req.write(randomBytes(PIECE))) { req.once('drain', pump); return }
        }
        if (!req.destroyed) req.end(`\r\n--${boundary}--\r\n`)
      }
      pump()
    })
    expect(res.status, res.body).toBe(413)
    expect(res.connection).toBe('close')
    expect(JSON.parse(res.body).code).toBe('PAYLOAD_TOO_LARGE')
    expect(await storedCounts(small)).toEqual(before)
  } finally {
    await small.close()
  }
}, 60_000)
