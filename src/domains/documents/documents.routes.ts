// Documents (PRODUCT.md §8, API.md): multipart upload, metadata, and the content streamed back with
// ETag, conditional GET and byte ranges.
//
// The upload is received in a preValidation hook, before the audited handler opens its
// transaction: the file streams into the storage (staged, see documents.service.ts) while no
// database connection or transaction is held for the request, and the request body becomes
// `{ type, file: <SHA-256 of the content> }`. That is what the audit plugin's Idempotency-Key
// fingerprint sees (a multipart body is a stream it cannot hash): a retry with the same key and the
// same type and content replays the first answer, another type or content is 422
// IDEMPOTENCY_KEY_REUSED. The handler then attaches the staged upload in the audited transaction;
// an onSend hook discards it whenever no document was committed (validation error, replay,
// conflict, failed transaction), before the answer leaves.
//
// @fastify/multipart lives in a child context holding only the upload route: its content-type
// parser and hooks stay off every other route (which keep answering 415 to multipart bodies).
import fp from 'fastify-plugin'
import multipart from '@fastify/multipart'
import { Type } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { App } from '../../lib/route.js'
import { defineRoute } from '../../lib/define-route.js'
import { actorOf, dbOf, etagOf, withEtag } from '../../lib/route.js'
import { AppError } from '../../lib/problems.js'
import { IdParams } from '../../lib/schemas.js'
import { ContentResponses, DOCUMENT_TYPES, DocumentSchema, UploadBody, type DocumentType } from './documents.schemas.js'
import {
  cleanFileName, contentDisposition, contentEtag, createDocument, createStorages, discardUpload, getDocument, noneMatch,
  requestedRange, stageUpload, STAGING_TTL_MS, sweepStaging, viewOf, type StagedUpload
} from './documents.service.js'

const isDocumentType = (v: string): v is DocumentType => (DOCUMENT_TYPES as readonly string[]).includes(v)

function invalidForm (pointer: string, code: string, detail: string): AppError {
  return new AppError('VALIDATION_FAILED', `Invalid body: ${pointer} ${detail}`, { errors: [{ pointer, code, detail }] })
}

/** Errors of the multipart parser itself (limits, malformed framing) in API words. */
function formError (err: unknown): unknown {
  if (err instanceof AppError) return err
  const e = err as { code?: string, statusCode?: number }
  switch (e.code) {
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
    case 'FST_FILES_LIMIT': return invalidForm('/', 'INVALID_FORM', 'must have exactly the fields type and file')
    case 'FST_PROTO_VIOLATION': return invalidForm('/', 'INVALID_FORM', 'has a forbidden field name')
  }
  if (typeof e.statusCode === 'number' && e.statusCode < 500) return err
  return new AppError('MALFORMED_REQUEST', 'The multipart body ended early or is malformed')
}

interface Upload { staged: StagedUpload, attached: boolean }

async function documentsRoutes (app: App): Promise<void> {
  app.addSchema(DocumentSchema)
  const DocumentRef = Type.Ref(DocumentSchema)
  const storages = createStorages(app.db, app.conf)
  const maxBytes = app.conf.DOCUMENT_MAX_BYTES
  const uploads = new WeakMap<FastifyRequest, Upload>()

  app.jobs.add({ name: 'documents-staging-sweep', intervalMs: 15 * 60_000, run: async () => await sweepStaging(app.db, storages) })

  /** Reads the form: `type` (checked as soon as it arrives) and one `file`, streamed into the storage. */
  async function receiveUpload (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!request.isMultipart()) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data with the fields type and file')
    let type: DocumentType | undefined
    let staged: StagedUpload | undefined
    try {
      const parts = request.parts({ limits: { fields: 3, files: 2, parts: 5, fieldNameSize: 100, fieldSize: 200, headerPairs: 50, fileSize: maxBytes + 1 } })
      for (;;) {
        let next: IteratorResult<Awaited<ReturnType<typeof parts.next>>['value']>
        try {
          next = await parts.next()
        } catch (err) {
          throw formError(err)
        }
        if (next.done === true) break
        const part = next.value
        if (part.type === 'field') {
          if (part.fieldname !== 'type') throw invalidForm(`/${part.fieldname}`, 'INVALID_ADDITIONALPROPERTIES', 'is not a field of this form (type, file)')
          if (type !== undefined) throw invalidForm('/type', 'INVALID_FORM', 'must be sent once')
          const value = String(part.value)
          if (!isDocumentType(value)) throw invalidForm('/type', 'INVALID_ENUM', `must be one of ${DOCUMENT_TYPES.join(', ')}`)
          type = value
          continue
        }
        if (part.fieldname !== 'file' || staged !== undefined) {
          part.file.destroy()
          throw part.fieldname !== 'file'
            ? invalidForm(`/${part.fieldname}`, 'INVALID_ADDITIONALPROPERTIES', 'is not a field of this form (type, file)')
            : invalidForm('/file', 'INVALID_FORM', 'must be sent once')
        }
        staged = await stageUpload(app.db, storages.active, part.file, { fileName: cleanFileName(part.filename), maxBytes })
      }
      if (type === undefined) throw invalidForm('/type', 'INVALID_REQUIRED', "must have required property 'type'")
      if (staged === undefined) throw invalidForm('/file', 'INVALID_REQUIRED', "must have required property 'file'")
    } catch (err) {
      if (staged !== undefined) await discardUpload(app.db, storages.of(staged.storage), staged.key).catch(e => { request.log.warn({ err: e }, 'staged upload not discarded; the sweep will') })
      // the rest of the body was not read: the connection cannot carry another request
      if (!request.raw.readableEnded) void reply.header('connection', 'close')
      throw err
    }
    uploads.set(request, { staged, attached: false })
    request.body = { type, file: staged.sha256 }
  }

  await app.register(async function uploadRoute (child: App) {
    await child.register(multipart, { throwFileSizeLimit: false })
    child.addHook('preValidation', receiveUpload)
    // whenever no document was committed for the staged bytes, they go before the answer does
    child.addHook('onSend', async (request, reply, payload) => {
      const upload = uploads.get(request)
      if (upload === undefined) return payload
      uploads.delete(request)
      const kept = upload.attached && reply.statusCode === 201 && !reply.hasHeader('idempotent-replayed')
      if (!kept) {
        await discardUpload(app.db, storages.of(upload.staged.storage), upload.staged.key)
          .catch(err => { request.log.warn({ err }, 'staged upload not discarded; the sweep will') })
      }
      return payload
    })

    defineRoute(child, {
      method: 'POST',
      url: '/v1/documents',
      operationId: 'uploadDocument',
      tag: 'documents',
      summary: 'Upload a document',
      description: `Every role. multipart/form-data with the fields \`type\` and \`file\` (send \`type\` first). The media type is decided from the content: PDF, PNG or JPEG, anything else 415 UNSUPPORTED_MEDIA_TYPE; larger than DOCUMENT_MAX_BYTES (10 MiB by default) 413, with nothing stored. The document belongs to the caller's organization; its SHA-256 is computed while it streams in. Idempotency-Key: the fingerprint is the type and the SHA-256 of the content. A staged upload not attached within ${STAGING_TTL_MS / 3600_000} h is discarded.`,
      access: 'documents:upload',
      audit: { action: 'document.upload', entity: 'document' },
      body: UploadBody,
      response: { 201: DocumentRef }
    }, async (request, reply) => {
      const upload = uploads.get(request)
      if (upload === undefined) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send multipart/form-data with the fields type and file')
      const doc = await createDocument(dbOf(request), actorOf(request), upload.staged, request.body.type)
      upload.attached = true
      request.audit = { entityId: doc.id, changes: { type: doc.type, mediaType: doc.mediaType, sizeBytes: doc.sizeBytes, sha256: doc.sha256, fileName: doc.fileName } }
      void reply.code(201).header('location', `/v1/documents/${doc.id}`).header('etag', etagOf(1, doc.sha256))
      return doc
    })
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/documents/:id',
    operationId: 'getDocument',
    tag: 'documents',
    summary: 'Read a document\'s metadata',
    description: 'Every role, for the documents it may read: its own organization\'s uploads, and those attached to a purchase order (its station and supplier) or a transfer (both stations) it is a party of; platform staff read all. Any other id is 404. Returns an ETag; documents never change.',
    access: 'documents:read',
    params: IdParams,
    notModified: true,
    response: { 200: DocumentRef }
  }, async (request, reply) => {
    const doc = await getDocument(app.db, actorOf(request), request.params.id)
    if (withEtag(request, reply, 1, doc.sha256)) return null
    return viewOf(doc)
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/documents/:id/content',
    operationId: 'getDocumentContent',
    tag: 'documents',
    summary: 'Download a document',
    description: 'Same access as the metadata (404 otherwise). Streams the content with the stored media type, `Content-Disposition: attachment` (the file name in `filename*`), `X-Content-Type-Options: nosniff`, `ETag` = the quoted SHA-256 (If-None-Match → 304) and `Accept-Ranges: bytes`: `Range: bytes=a-b`, `a-` or `-n` → 206 with `Content-Range` (one range; several are answered with the whole content), a range starting beyond the end → 416 with `Content-Range: bytes */size`; `If-Range` with the ETag.',
    access: 'documents:read',
    params: IdParams,
    headers: Type.Object({
      range: Type.Optional(Type.String({ maxLength: 100, description: 'bytes=start-end, bytes=start- or bytes=-suffixLength' })),
      'if-range': Type.Optional(Type.String({ maxLength: 100, description: 'The ETag: the Range applies only while it matches' }))
    }),
    notModified: true,
    response: ContentResponses
  }, async (request, reply) => {
    const doc = await getDocument(app.db, actorOf(request), request.params.id)
    const etag = contentEtag(doc.sha256)
    void reply.header('etag', etag).header('accept-ranges', 'bytes').header('cache-control', 'private, no-cache').header('x-content-type-options', 'nosniff')
    if (noneMatch(request.headers['if-none-match'], etag)) {
      void reply.code(304)
      return null
    }
    const ifRange = request.headers['if-range']
    const range = requestedRange(request.headers.range, doc.sizeBytes, Array.isArray(ifRange) ? ifRange[0] : ifRange, etag)
    if (range === 'unsatisfiable') {
      throw new AppError('RANGE_NOT_SATISFIABLE', `The document has ${doc.sizeBytes} bytes`, { headers: { 'content-range': `bytes */${doc.sizeBytes}` } })
    }
    const stream = await storages.of(doc.storage).get(doc.storageKey, range)
    void reply.type(doc.mediaType).header('content-disposition', contentDisposition(doc))
    if (range === undefined) {
      void reply.header('content-length', doc.sizeBytes)
    } else {
      void reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${doc.sizeBytes}`).header('content-length', range.end - range.start + 1)
    }
    return stream
  })
}

// Registered without encapsulation like the other domains (shared schemas stay on the app's
// validator); the upload route has its own child context (see above).
export default fp(documentsRoutes, { name: 'documents-routes' })
