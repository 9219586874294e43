// The documents service below the routes: the check the order and transfer workflows will call
// (assertDocumentUsable), the staging list and its sweep, and the filesystem backend behind the API.
import { createHash, randomUUID } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import type { Actor } from '../../../src/lib/permissions.js'
import { AppError } from '../../../src/lib/problems.js'
import {
  assertDocumentUsable, cleanFileName, createDocument, createStorages, requestedRange, sniffMediaType, stageUpload, sweepStaging
} from '../../../src/domains/documents/documents.service.js'
import { createTestApp, expectProblem } from '../../helpers/app.js'
import { pdfOfSize, TINY_JPEG, TINY_PDF, TINY_PNG } from '../../helpers/multipart.js'
import { bareOrder, bareTransfer, party, read, storedCounts, upload, uploaded, type Party } from './fixtures.js'

let app: App
let station: Party
beforeAll(async () => {
  app = await createTestApp()
  station = await party(app, 'STATION')
})
afterAll(async () => { await app.close() })

const actorOf = (p: Party): Actor => ({ userId: p.userId, role: p.role, organizationId: p.organizationId, organizationKind: p.role === 'STATION' ? 'STATION' : p.role === 'SUPPLIER' ? 'SUPPLIER' : 'PLATFORM' })

async function refusal (p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(AppError)
  return err as AppError
}

describe('assertDocumentUsable', () => {
  it('passes for a readable document of the expected type (one type or a list)', async () => {
    const doc = await uploaded(app, station, { type: 'SIGNED_DELIVERY_NOTE' })
    expect((await assertDocumentUsable(app.db, actorOf(station), doc.id, 'SIGNED_DELIVERY_NOTE')).id).toBe(doc.id)
    expect((await assertDocumentUsable(app.db, actorOf(station), doc.id, ['DELIVERY_NOTE', 'SIGNED_DELIVERY_NOTE'])).type).toBe('SIGNED_DELIVERY_NOTE')
    const staff = await party(app, 'HANDLER')
    expect((await assertDocumentUsable(app.db, actorOf(staff), doc.id, 'SIGNED_DELIVERY_NOTE')).id).toBe(doc.id)
  })

  it('422 DOCUMENT_NOT_USABLE at the pointer: unknown id, not a UUID, another tenant\'s document (same answer), wrong type', async () => {
    const doc = await uploaded(app, station, { type: 'INVOICE' })
    const other = await party(app, 'SUPPLIER')
    const missing = await refusal(assertDocumentUsable(app.db, actorOf(station), randomUUID(), 'DELIVERY_NOTE', '/deliveryNoteDocumentId'))
    expect(missing.code).toBe('DOCUMENT_NOT_USABLE')
    expect(missing.status).toBe(422)
    expect(missing.errors?.[0]?.pointer).toBe('/deliveryNoteDocumentId')
    expect((await refusal(assertDocumentUsable(app.db, actorOf(station), 'not-a-uuid', 'DELIVERY_NOTE'))).code).toBe('DOCUMENT_NOT_USABLE')
    const foreign = await refusal(assertDocumentUsable(app.db, actorOf(other), doc.id, 'INVOICE', '/deliveryNoteDocumentId'))
    // no existence oracle: another tenant's document reads exactly like a missing one
    expect({ ...foreign, message: foreign.message }).toEqual({ ...missing, message: missing.message })
    const wrong = await refusal(assertDocumentUsable(app.db, actorOf(station), doc.id, 'DELIVERY_NOTE'))
    expect(wrong.code).toBe('DOCUMENT_NOT_USABLE')
    expect(wrong.message).toContain('INVOICE')
  })

  it('a party of the order (or transfer) it is attached to may use it', async () => {
    const supplier = await party(app, 'SUPPLIER')
    const note = await uploaded(app, supplier, { type: 'DELIVERY_NOTE' })
    const poId = await bareOrder(app, station.organizationId, supplier.organizationId)
    await refusal(assertDocumentUsable(app.db, actorOf(station), note.id, 'DELIVERY_NOTE'))
    await sql`UPDATE purchase_orders SET delivery_note_doc_id = ${note.id}::uuid WHERE id = ${poId}::uuid`.execute(app.db)
    expect((await assertDocumentUsable(app.db, actorOf(station), note.id, 'DELIVERY_NOTE')).id).toBe(note.id)

    const source = await party(app, 'STATION')
    const tNote = await uploaded(app, source, { type: 'DELIVERY_NOTE' })
    const transferId = await bareTransfer(app, station.organizationId, source.organizationId)
    await sql`UPDATE transfers SET delivery_note_doc_id = ${tNote.id}::uuid WHERE id = ${transferId}::uuid`.execute(app.db)
    expect((await assertDocumentUsable(app.db, actorOf(station), tNote.id, 'DELIVERY_NOTE')).id).toBe(tNote.id)
  })
})

describe('staging', () => {
  it('an upload not attached yet is listed; the sweep removes it (bytes and listing) once older than the TTL, never a fresh one', async () => {
    const storages = createStorages(app.db, app.conf)
    const before = await storedCounts(app)
    const old = await stageUpload(app.db, storages.active, Readable.from([pdfOfSize(600_000)]), { fileName: 'old.pdf', maxBytes: 10_000_000 })
    const fresh = await stageUpload(app.db, storages.active, Readable.from([TINY_PNG]), { fileName: null, maxBytes: 10_000_000 })
    expect(fresh.mediaType).toBe('image/png')
    expect((await storedCounts(app)).staging).toBe(before.staging + 2)
    await sql`UPDATE document_staging SET created_at = now() - interval '8 hours' WHERE key = ${old.key}`.execute(app.db)
    expect(await sweepStaging(app.db, storages)).toBe(1)
    const after = await storedCounts(app)
    expect(after.staging).toBe(before.staging + 1)
    expect(after.blobs).toBe(before.blobs + 1)
    expect(after.chunks).toBe(before.chunks + 1)
    // the fresh one can still be attached; the swept one cannot
    await app.db.transaction().execute(async trx => {
      expect((await createDocument(trx, actorOf(station), fresh, 'PHOTO')).mediaType).toBe('image/png')
    })
    expect((await storedCounts(app)).staging).toBe(before.staging)
    const gone = await refusal(app.db.transaction().execute(async trx => await createDocument(trx, actorOf(station), old, 'INVOICE')))
    expect(gone.code).toBe('CONFLICT')
  })

  it('an upload older than the TTL is no longer attached (so the sweep can never take a document\'s bytes)', async () => {
    const storages = createStorages(app.db, app.conf)
    const staged = await stageUpload(app.db, storages.active, Readable.from([TINY_JPEG]), { fileName: null, maxBytes: 1000 })
    await sql`UPDATE document_staging SET created_at = now() - interval '6 hours 1 minute' WHERE key = ${staged.key}`.execute(app.db)
    const err = await refusal(app.db.transaction().execute(async trx => await createDocument(trx, actorOf(station), staged, 'PHOTO')))
    expect(err.code).toBe('CONFLICT')
    // not swept yet (the sweep waits an hour more), then swept
    expect(await sweepStaging(app.db, storages)).toBe(0)
    await sql`UPDATE document_staging SET created_at = now() - interval '7 hours 1 minute' WHERE key = ${staged.key}`.execute(app.db)
    expect(await sweepStaging(app.db, storages)).toBe(1)
  })

  it('a failed stage leaves nothing, not even its listing', async () => {
    const storages = createStorages(app.db, app.conf)
    const before = await storedCounts(app)
    for (const [data, code] of [[Buffer.from('plain text, long enough'), 'UNSUPPORTED_MEDIA_TYPE'], [pdfOfSize(5000), 'PAYLOAD_TOO_LARGE']] as const) {
      const err = await refusal(stageUpload(app.db, storages.active, Readable.from([data.subarray(0, 3), data.subarray(3)]), { fileName: null, maxBytes: 4000 }))
      expect(err.code).toBe(code)
    }
    expect(await storedCounts(app)).toEqual(before)
  })
})

describe('filesystem backend behind the API', () => {
  let fsApp: App
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ge-docs-api-'))
    fsApp = await createTestApp({ DOCUMENT_STORAGE: 'fs', DOCUMENT_DIR: dir, DOCUMENT_MAX_BYTES: 100_000 })
  })
  afterAll(async () => {
    await fsApp.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('uploads go to files named by key; content, ranges and ETag as with PostgreSQL; refusals leave no file', async () => {
    const data = pdfOfSize(70_000)
    const res = await upload(fsApp, station, { data })
    expect(res.statusCode, res.body).toBe(201)
    const doc = res.json()
    const row = await fsApp.db.selectFrom('documents').select(['storage', 'storageKey']).where('id', '=', doc.id).executeTakeFirstOrThrow()
    expect(row.storage).toBe('fs')
    expect(await readdir(dir)).toEqual([row.storageKey])
    const back = await read(fsApp, station, `/v1/documents/${doc.id as string}/content`)
    expect(back.rawPayload.equals(data)).toBe(true)
    expect(back.headers.etag).toBe(`"${createHash('sha256').update(data).digest('hex')}"`)
    const part = await read(fsApp, station, `/v1/documents/${doc.id as string}/content`, { range: 'bytes=65536-65545' })
    expect(part.statusCode).toBe(206)
    expect(part.rawPayload.equals(data.subarray(65_536, 65_546))).toBe(true)

    expectProblem(await upload(fsApp, station, { data: pdfOfSize(150_000) }), 413, 'PAYLOAD_TOO_LARGE')
    expectProblem(await upload(fsApp, station, { data: Buffer.from('not a pdf at all') }), 415, 'UNSUPPORTED_MEDIA_TYPE')
    expect(await readdir(dir)).toEqual([row.storageKey])
  })

  it('documents stored in PostgreSQL before the switch stay readable', async () => {
    const doc = await uploaded(app, station, { data: TINY_PDF })
    const res = await read(fsApp, station, `/v1/documents/${doc.id}/content`)
    expect(res.statusCode).toBe(200)
    expect(res.rawPayload.equals(TINY_PDF)).toBe(true)
  })
})

describe('pure pieces', () => {
  it('sniffs PDF, PNG and JPEG by their magic bytes only', () => {
    expect(sniffMediaType(TINY_PDF)).toBe('application/pdf')
    expect(sniffMediaType(TINY_PNG)).toBe('image/png')
    expect(sniffMediaType(TINY_JPEG)).toBe('image/jpeg')
    for (const head of ['GIF89a', '<svg', '%PDF', 'PK\u0003\u0004', '\u00ef\u00bb\u00bf%PDF-', '']) expect(sniffMediaType(Buffer.from(head, 'latin1'))).toBeUndefined()
  })

  it('cleans file names', () => {
    expect(cleanFileName(undefined)).toBeNull()
    expect(cleanFileName('  ')).toBeNull()
    expect(cleanFileName('a/b\\c.pdf')).toBe('c.pdf')
    expect(cleanFileName('..')).toBeNull()
    expect(cleanFileName('x\u0000y\u001b.pdf')).toBe('xy.pdf')
    expect(cleanFileName('é'.repeat(300))).toHaveLength(255)
    expect(cleanFileName('\ud800a.pdf')).toBe('\ufffda.pdf')
  })

  it('reads Range headers per RFC 9110', () => {
    const etag = '"abc"'
    expect(requestedRange(undefined, 100, undefined, etag)).toBeUndefined()
    expect(requestedRange('bytes=0-0', 100, undefined, etag)).toEqual({ start: 0, end: 0 })
    expect(requestedRange('bytes=90-200', 100, undefined, etag)).toEqual({ start: 90, end: 99 })
    expect(requestedRange('bytes=-10', 100, undefined, etag)).toEqual({ start: 90, end: 99 })
    expect(requestedRange('bytes=100-', 100, undefined, etag)).toBe('unsatisfiable')
    expect(requestedRange('bytes=-0', 100, undefined, etag)).toBe('unsatisfiable')
    expect(requestedRange('bytes=5-1', 100, undefined, etag)).toBeUndefined()
    expect(requestedRange('bytes=1-2,4-5', 100, undefined, etag)).toBeUndefined()
    expect(requestedRange('bytes=9999999999999999-', 100, undefined, etag)).toBeUndefined()
    expect(requestedRange('bytes=0-1', 100, '"abc"', etag)).toEqual({ start: 0, end: 1 })
    expect(requestedRange('bytes=0-1', 100, 'Wed, 21 Oct 2015 07:28:00 GMT', etag)).toBeUndefined()
  })
})
