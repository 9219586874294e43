// Documents through HTTP (PRODUCT.md §8, API.md): upload by content type with a size limit and
// nothing stored on any refusal, the content streamed back identical with ETag, 304 and byte
// ranges, and read access across tenants.
import { createHash, randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { bearer, countAudit, createTestApp, expectProblem } from '../../helpers/app.js'
import { multipartBody, pdfOfSize, TINY_JPEG, TINY_PDF, TINY_PNG, uploadForm } from '../../helpers/multipart.js'
import { CHUNK_BYTES } from '../../../src/domains/documents/storage-pg.js'
import { bareOrder, bareTransfer, party, read, storedCounts, unaccountedBlobs, upload, uploaded, type Party } from './fixtures.js'

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

let app: App
let station: Party
beforeAll(async () => {
  app = await createTestApp()
  station = await party(app, 'STATION')
})
afterAll(async () => { await app.close() })

describe('upload', () => {
  it.each([
    ['a PDF', TINY_PDF, 'application/pdf', 'delivery note.pdf', 'application/pdf'],
    ['a PNG sent as octet-stream with no extension', TINY_PNG, 'image/png', 'scan', 'application/octet-stream'],
    ['a JPEG named .pdf', TINY_JPEG, 'image/jpeg', 'photo.pdf', 'application/pdf']
  ])('%s: 201 with the media type of its content, its size and SHA-256; audited; the content comes back identical', async (_what, data, mediaType, filename, declared) => {
    const audits = await countAudit(app, { action: 'document.upload' })
    const res = await upload(app, station, { type: 'DELIVERY_NOTE', data, filename, contentType: declared })
    expect(res.statusCode, res.body).toBe(201)
    const doc = res.json()
    expect(doc).toEqual({
      id: expect.any(String),
      type: 'DELIVERY_NOTE',
      mediaType,
      sizeBytes: data.length,
      sha256: sha256(data),
      fileName: filename,
      organizationId: station.organizationId,
      uploadedBy: station.userId,
      createdAt: expect.any(String)
    })
    expect(res.headers.location).toBe(`/v1/documents/${doc.id}`)
    expect(await countAudit(app, { action: 'document.upload' })).toBe(audits + 1)
    const event = await app.db.selectFrom('auditEvents').select(['entityType', 'entityId', 'changes']).where('action', '=', 'document.upload').orderBy('id', 'desc').executeTakeFirstOrThrow()
    expect(event).toMatchObject({ entityType: 'document', entityId: doc.id, changes: { type: 'DELIVERY_NOTE', mediaType, sizeBytes: data.length, sha256: sha256(data) } })

    const meta = await read(app, station, `/v1/documents/${doc.id}`)
    expect(meta.statusCode).toBe(200)
    expect(meta.json()).toEqual(doc)

    const content = await read(app, station, `/v1/documents/${doc.id}/content`)
    expect(content.statusCode).toBe(200)
    expect(content.rawPayload.equals(data)).toBe(true)
    expect(content.headers['content-type']).toBe(mediaType)
    expect(content.headers['content-length']).toBe(String(data.length))
    expect(content.headers.etag).toBe(`"${sha256(data)}"`)
    expect(content.headers['x-content-type-options']).toBe('nosniff')
    expect(content.headers['accept-ranges']).toBe('bytes')
    expect(content.headers['content-disposition']).toMatch(/^attachment; filename="[^"]+"; filename\*=UTF-8''/)
    // nothing left on the staging list
    expect((await storedCounts(app)).staging).toBe(0)
  })

  it('every document type of §8 is accepted; the type may come after the file', async () => {
    for (const type of ['DELIVERY_NOTE', 'SIGNED_DELIVERY_NOTE', 'INVOICE', 'CERTIFICATE', 'PHOTO', 'OTHER']) {
      const { payload, contentType } = multipartBody([{ name: 'file', filename: 'x.png', contentType: 'image/png', data: TINY_PNG }, { name: 'type', value: type }])
      const res = await app.inject({ method: 'POST', url: '/v1/documents', headers: { ...bearer(station.token), 'content-type': contentType }, payload })
      expect(res.statusCode, res.body).toBe(201)
      expect(res.json().type).toBe(type)
    }
  })

  it('keeps the file name without its path or control characters; the download names it safely (RFC 6266 / 8187)', async () => {
    const doc = await uploaded(app, station, { filename: 'scans/Bon de livraison n°12; é\u202e\u0007.pdf' })
    const meta = (await read(app, station, `/v1/documents/${doc.id}`)).json()
    expect(meta.fileName).toBe('Bon de livraison n°12; é.pdf')
    const res = await read(app, station, `/v1/documents/${doc.id}/content`)
    expect(res.headers['content-disposition']).toBe("attachment; filename=\"Bon de livraison n_12_ e.pdf\"; filename*=UTF-8''Bon%20de%20livraison%20n%C2%B012%3B%20%C3%A9.pdf")

    // nothing left of the name: the download is named after the document
    const { payload, contentType } = multipartBody([{ name: 'type', value: 'PHOTO' }, { name: 'file', data: TINY_JPEG, filename: '../' }])
    const noName = await app.inject({ method: 'POST', url: '/v1/documents', headers: { ...bearer(station.token), 'content-type': contentType }, payload })
    expect(noName.statusCode, noName.body).toBe(201)
    const id = noName.json().id as string
    expect(noName.json().fileName).toBeNull()
    const dl = await read(app, station, `/v1/documents/${id}/content`)
    expect(dl.headers['content-disposition']).toBe(`attachment; filename="document-${id}.jpg"; filename*=UTF-8''document-${id}.jpg`)
  })

  it('415 for a text file named .pdf, an empty file, JSON or no body; nothing is stored', async () => {
    const before = await storedCounts(app)
    const audits = await countAudit(app)
    const text = await upload(app, station, { data: Buffer.from('Bon de livraison\nqty 12\n'), filename: 'note.pdf', contentType: 'application/pdf' })
    expectProblem(text, 415, 'UNSUPPORTED_MEDIA_TYPE')
    // a PDF signature that does not start the file is not a PDF
    expectProblem(await upload(app, station, { data: Buffer.concat([Buffer.from(' '), TINY_PDF]) }), 415, 'UNSUPPORTED_MEDIA_TYPE')
    expectProblem(await upload(app, station, { data: Buffer.alloc(0) }), 415, 'UNSUPPORTED_MEDIA_TYPE')
    expectProblem(await upload(app, station, { data: Buffer.from('%PD') }), 415, 'UNSUPPORTED_MEDIA_TYPE')
    const json = await app.inject({ method: 'POST', url: '/v1/documents', headers: bearer(station.token), payload: { type: 'INVOICE', file: TINY_PDF.toString('base64') } })
    expectProblem(json, 415, 'UNSUPPORTED_MEDIA_TYPE')
    expectProblem(await app.inject({ method: 'POST', url: '/v1/documents', headers: bearer(station.token) }), 415, 'UNSUPPORTED_MEDIA_TYPE')
    expect(await storedCounts(app)).toEqual(before)
    expect(await countAudit(app)).toBe(audits)
  })

  it('400 for an invalid, missing, repeated or unknown field, before or after the file; nothing is stored', async () => {
    const before = await storedCounts(app)
    const post = async (parts: Parameters<typeof multipartBody>[0]) => {
      const { payload, contentType } = multipartBody(parts)
      return await app.inject({ method: 'POST', url: '/v1/documents', headers: { ...bearer(station.token), 'content-type': contentType }, payload })
    }
    const file = { name: 'file', filename: 'a.pdf', data: TINY_PDF }
    const cases: Array<[Parameters<typeof multipartBody>[0], string]> = [
      [[{ name: 'type', value: 'RECEIPT' }, file], '/type'],
      [[file, { name: 'type', value: 'delivery_note' }], '/type'],
      [[file], '/type'],
      [[{ name: 'type', value: 'INVOICE' }], '/file'],
      [[{ name: 'type', value: 'INVOICE' }, { name: 'type', value: 'INVOICE' }, file], '/type'],
      [[{ name: 'type', value: 'INVOICE' }, file, file], '/file'],
      [[{ name: 'type', value: 'INVOICE' }, file, { name: 'note', value: 'x' }], '/note'],
      [[{ name: 'type', value: 'INVOICE' }, { name: 'attachment', filename: 'a.pdf', data: TINY_PDF }], '/attachment']
    ]
    for (const [parts, pointer] of cases) {
      const body = expectProblem(await post(parts), 400, 'VALIDATION_FAILED')
      expect((body.errors as Array<{ pointer: string }>)[0]?.pointer).toBe(pointer)
    }
    expect(await storedCounts(app)).toEqual(before)
  })

  it('400 for a malformed multipart body (no boundary, truncated); nothing is stored', async () => {
    const before = await storedCounts(app)
    const noBoundary = await app.inject({ method: 'POST', url: '/v1/documents', headers: { ...bearer(station.token), 'content-type': 'multipart/form-data' }, payload: 'x' })
    expect(noBoundary.statusCode).toBe(400)
    expectProblem(noBoundary, 400)
    const { payload, contentType } = multipartBody([{ name: 'type', value: 'INVOICE' }, { name: 'file', filename: 'big.pdf', data: pdfOfSize(100_000) }])
    const truncated = await app.inject({ method: 'POST', url: '/v1/documents', headers: { ...bearer(station.token), 'content-type': contentType }, payload: payload.subarray(0, 60_000) })
    expectProblem(truncated, 400)
    expect(await storedCounts(app)).toEqual(before)
  })

  it('401 without a token, before the body is read', async () => {
    const form = uploadForm('INVOICE', TINY_PDF)
    expectProblem(await app.inject({ method: 'POST', url: '/v1/documents', headers: form.headers, payload: form.payload }), 401, 'UNAUTHENTICATED')
  })

  it('Idempotency-Key: the same type and content replays the first answer; other content or type is 422; nothing extra is stored', async () => {
    const key = randomUUID()
    const first = await upload(app, station, { type: 'INVOICE', headers: { 'idempotency-key': key } })
    expect(first.statusCode).toBe(201)
    const after = await storedCounts(app)
    // the same bytes under another file name are the same request
    const replay = await upload(app, station, { type: 'INVOICE', filename: 'renamed.pdf', headers: { 'idempotency-key': key } })
    expect(replay.statusCode).toBe(201)
    expect(replay.headers['idempotent-replayed']).toBe('true')
    expect(replay.json()).toEqual(first.json())
    expect(replay.headers.location).toBe(first.headers.location)
    expectProblem(await upload(app, station, { type: 'INVOICE', data: TINY_PNG, headers: { 'idempotency-key': key } }), 422, 'IDEMPOTENCY_KEY_REUSED')
    expectProblem(await upload(app, station, { type: 'OTHER', headers: { 'idempotency-key': key } }), 422, 'IDEMPOTENCY_KEY_REUSED')
    expect(await storedCounts(app)).toEqual(after)
  })

  it('10 concurrent uploads under one Idempotency-Key: one document; the others replay it or are 409; nothing else stays stored', async () => {
    const before = await storedCounts(app)
    const key = randomUUID()
    const data = pdfOfSize(300_000)
    const results = await Promise.all(Array.from({ length: 10 }, async () => await upload(app, station, { type: 'INVOICE', data, headers: { 'idempotency-key': key } })))
    const created = results.filter(r => r.statusCode === 201)
    expect(created.length).toBeGreaterThanOrEqual(1)
    expect(new Set(created.map(r => r.json().id as string)).size).toBe(1)
    for (const r of results) if (r.statusCode !== 201) expectProblem(r, 409, 'IDEMPOTENCY_IN_PROGRESS')
    const after = await storedCounts(app)
    expect(after.documents).toBe(before.documents + 1)
    expect(after.blobs).toBe(before.blobs + 1)
    expect(after.chunks).toBe(before.chunks + Math.ceil(data.length / CHUNK_BYTES))
    expect(after.staging).toBe(0)
    expect(await unaccountedBlobs(app)).toBe(0)
  })

  it('50 concurrent uploads of different files: each one a document stored intact, or refused with nothing stored', async () => {
    const before = await storedCounts(app)
    const files = Array.from({ length: 50 }, (_, i) => pdfOfSize(1000 + i * 7919))
    const results = await Promise.all(files.map(async data => await upload(app, station, { data })))
    // on a loaded machine the pool may answer 503 (Retry-After) to some: they must leave nothing
    for (const r of results) if (r.statusCode !== 201) expectProblem(r, 503, 'SERVICE_UNAVAILABLE')
    const created = results.flatMap((r, i) => r.statusCode === 201 ? [{ id: r.json().id as string, data: files[i] as Buffer }] : [])
    expect(created.length).toBeGreaterThan(0)
    const downloads = await Promise.all(created.map(async c => await read(app, station, `/v1/documents/${c.id}/content`)))
    downloads.forEach((d, i) => { expect(sha256(d.rawPayload)).toBe(sha256(created[i]?.data as Buffer)) })
    const after = await storedCounts(app)
    expect(after.documents - before.documents).toBe(created.length)
    expect(after.blobs - before.blobs - (after.staging - before.staging)).toBe(created.length)
    expect(await unaccountedBlobs(app)).toBe(0)
  })
})

describe('size limit', () => {
  let small: App
  beforeAll(async () => { small = await createTestApp({ DOCUMENT_MAX_BYTES: 4096 }) })
  afterAll(async () => { await small.close() })

  it('413 as soon as the file exceeds DOCUMENT_MAX_BYTES, nothing stored; exactly the limit is accepted', async () => {
    const before = await storedCounts(small)
    const audits = await countAudit(small)
    const over = await upload(small, station, { data: pdfOfSize(4097) })
    expectProblem(over, 413, 'PAYLOAD_TOO_LARGE')
    expectProblem(await upload(small, station, { data: pdfOfSize(3_000_000) }), 413, 'PAYLOAD_TOO_LARGE')
    expect(await storedCounts(small)).toEqual(before)
    expect(await countAudit(small)).toBe(audits)
    const exact = await upload(small, station, { data: pdfOfSize(4096) })
    expect(exact.statusCode, exact.body).toBe(201)
    expect(exact.json().sizeBytes).toBe(4096)
  })
})

describe('content', () => {
  let doc: { id: string, sha256: string }
  let data: Buffer
  beforeAll(async () => {
    // three chunks and a bit: ranges cross chunk boundaries
    data = pdfOfSize(CHUNK_BYTES * 3 + 12_345)
    doc = await uploaded(app, station, { data })
  })
  const url = (): string => `/v1/documents/${doc.id}/content`

  it('streams a multi-chunk document back identical', async () => {
    const res = await read(app, station, url())
    expect(res.statusCode).toBe(200)
    expect(sha256(res.rawPayload)).toBe(doc.sha256)
    expect(sha256(data)).toBe(doc.sha256)
  })

  it('HEAD answers the headers of the content without it', async () => {
    const res = await app.inject({ method: 'HEAD', url: url(), headers: bearer(station.token) })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-length']).toBe(String(data.length))
    expect(res.headers['content-type']).toBe('application/pdf')
    expect(res.rawPayload.length).toBe(0)
  })

  it('ETag = quoted SHA-256; If-None-Match answers 304 (content and metadata)', async () => {
    const etag = `"${doc.sha256}"`
    for (const inm of [etag, `W/${etag}`, `"x", ${etag}`, '*']) {
      const res = await read(app, station, url(), { 'if-none-match': inm })
      expect(res.statusCode).toBe(304)
      expect(res.rawPayload.length).toBe(0)
      expect(res.headers.etag).toBe(etag)
    }
    expect((await read(app, station, url(), { 'if-none-match': '"other"' })).statusCode).toBe(200)
    const meta = await read(app, station, `/v1/documents/${doc.id}`)
    expect((await read(app, station, `/v1/documents/${doc.id}`, { 'if-none-match': String(meta.headers.etag) })).statusCode).toBe(304)
  })

  it('Range → 206 with Content-Range, the exact bytes, across chunk boundaries', async () => {
    const size = data.length
    const cases: Array<[string, number, number]> = [
      ['bytes=0-9', 0, 9],
      [`bytes=${CHUNK_BYTES - 5}-${CHUNK_BYTES + 4}`, CHUNK_BYTES - 5, CHUNK_BYTES + 4],
      [`bytes=${CHUNK_BYTES}-${3 * CHUNK_BYTES}`, CHUNK_BYTES, 3 * CHUNK_BYTES],
      ['bytes=100-', 100, size - 1],
      ['bytes=-500', size - 500, size - 1],
      [`bytes=-${size + 10}`, 0, size - 1],
      [`bytes=${size - 1}-${size + 100}`, size - 1, size - 1]
    ]
    for (const [range, start, end] of cases) {
      const res = await read(app, station, url(), { range })
      expect(res.statusCode, range).toBe(206)
      expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`)
      expect(res.headers['content-length']).toBe(String(end - start + 1))
      expect(res.rawPayload.equals(data.subarray(start, end + 1)), range).toBe(true)
    }
  })

  it('416 with Content-Range: bytes */size for a range past the end; ignored Range forms answer 200', async () => {
    const size = data.length
    for (const range of [`bytes=${size}-`, `bytes=${size + 5}-${size + 10}`, 'bytes=-0']) {
      const res = await read(app, station, url(), { range })
      expectProblem(res, 416, 'RANGE_NOT_SATISFIABLE')
      expect(res.headers['content-range']).toBe(`bytes */${size}`)
    }
    for (const range of ['bytes=0-1,5-6', 'items=0-1', 'bytes=5-2', 'bytes=x-']) {
      const res = await read(app, station, url(), { range })
      expect(res.statusCode, range).toBe(200)
      expect(res.rawPayload.length).toBe(size)
    }
    // If-Range: the range applies only while the ETag matches
    expect((await read(app, station, url(), { range: 'bytes=0-9', 'if-range': `"${doc.sha256}"` })).statusCode).toBe(206)
    expect((await read(app, station, url(), { range: 'bytes=0-9', 'if-range': '"stale"' })).statusCode).toBe(200)
  })
})

describe('read access', () => {
  it('the uploader\'s organization and platform staff read it; anyone else gets 404 on both routes', async () => {
    const doc = await uploaded(app, station)
    const colleague = await party(app, 'STATION', station.organizationId)
    const readers = [colleague, ...await Promise.all((['ADMIN', 'MANAGER', 'HANDLER'] as const).map(async r => await party(app, r)))]
    const others = [await party(app, 'STATION'), await party(app, 'SUPPLIER')]
    for (const who of readers) {
      expect((await read(app, who, `/v1/documents/${doc.id}`)).statusCode).toBe(200)
      expect((await read(app, who, `/v1/documents/${doc.id}/content`)).statusCode).toBe(200)
    }
    for (const who of others) {
      expectProblem(await read(app, who, `/v1/documents/${doc.id}`), 404, 'NOT_FOUND')
      expectProblem(await read(app, who, `/v1/documents/${doc.id}/content`), 404, 'NOT_FOUND')
    }
    expectProblem(await read(app, station, `/v1/documents/${randomUUID()}`), 404, 'NOT_FOUND')
  })

  it('the station and supplier of a purchase order it is attached to read it; other parties still 404', async () => {
    const supplier = await party(app, 'SUPPLIER')
    const note = await uploaded(app, supplier, { type: 'DELIVERY_NOTE' })
    const signed = await uploaded(app, station, { type: 'SIGNED_DELIVERY_NOTE' })
    const poId = await bareOrder(app, station.organizationId, supplier.organizationId)
    const outsider = await party(app, 'SUPPLIER')
    expectProblem(await read(app, station, `/v1/documents/${note.id}`), 404)
    expectProblem(await read(app, supplier, `/v1/documents/${signed.id}`), 404)

    await sql`UPDATE purchase_orders SET delivery_note_doc_id = ${note.id}::uuid, signed_note_doc_id = ${signed.id}::uuid WHERE id = ${poId}::uuid`.execute(app.db)
    for (const [who, id] of [[station, note.id], [supplier, signed.id]] as const) {
      expect((await read(app, who, `/v1/documents/${id}`)).statusCode).toBe(200)
      expect((await read(app, who, `/v1/documents/${id}/content`)).statusCode).toBe(200)
    }
    expectProblem(await read(app, outsider, `/v1/documents/${note.id}`), 404)
    expectProblem(await read(app, outsider, `/v1/documents/${signed.id}/content`), 404)
  })

  it('both stations of a transfer it is attached to read it; a third station still 404', async () => {
    const source = await party(app, 'STATION')
    const note = await uploaded(app, source, { type: 'DELIVERY_NOTE' })
    const signed = await uploaded(app, station, { type: 'SIGNED_DELIVERY_NOTE' })
    const transferId = await bareTransfer(app, station.organizationId, source.organizationId)
    const third = await party(app, 'STATION')
    expectProblem(await read(app, station, `/v1/documents/${note.id}`), 404)
    await sql`UPDATE transfers SET delivery_note_doc_id = ${note.id}::uuid, signed_note_doc_id = ${signed.id}::uuid WHERE id = ${transferId}::uuid`.execute(app.db)
    for (const who of [station, source]) {
      for (const id of [note.id, signed.id]) expect((await read(app, who, `/v1/documents/${id}/content`)).statusCode).toBe(200)
    }
    expectProblem(await read(app, third, `/v1/documents/${note.id}`), 404)
  })
})
