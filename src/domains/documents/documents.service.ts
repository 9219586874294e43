// Documents (PRODUCT.md §8): upload, read access, the check the order and transfer workflows use,
// and the sweep of uploads that never became documents.
//
// An upload is staged, then attached:
// 1. stageUpload() lists a new storage key in `document_staging`, then streams the file into the
//    storage through inspected(): the media type is decided from the first bytes (PDF, PNG, JPEG;
//    anything else 415 before more is read) and the size is counted (413 the moment it exceeds the
//    limit). The storage computes the SHA-256 on the way. A failed upload leaves nothing stored.
// 2. createDocument() runs in the route's audited transaction: one statement takes the key off the
//    staging list and inserts the document. It commits with the audit event (and the idempotency
//    record) or not at all; when it does not, the route discards the staged object.
// Every stored object is therefore referenced by a document or on the staging list, and
// sweepStaging() removes what a crash left listed.
//
// Read access: the uploader's organization, platform staff, and the parties of a purchase order
// (its station and supplier) or a transfer (both stations) the document is attached to. Anyone
// else gets a 404, as if it did not exist.
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely'
import type { Config } from '../../config.js'
import type { Db } from '../../db/index.js'
import type { Database } from '../../db/schema.js'
import { isPlatformRole, type Actor } from '../../lib/permissions.js'
import { AppError, notFound, problem } from '../../lib/problems.js'
import type { DocumentType, DocumentView, MediaType } from './documents.schemas.js'
import { newKey, type ByteRange, type DocumentStorage, type StorageName } from './storage.js'
import { FsStorage } from './storage-fs.js'
import { PgStorage } from './storage-pg.js'

// ---- storages -------------------------------------------------------------------------------

export interface Storages {
  /** where new uploads go (DOCUMENT_STORAGE) */
  active: DocumentStorage
  /** the backend a stored document names (documents written before a switch stay readable) */
  of: (name: StorageName) => DocumentStorage
}

export function createStorages (db: Db, conf: Pick<Config, 'DOCUMENT_STORAGE' | 'DOCUMENT_DIR'>): Storages {
  const pg = new PgStorage(db)
  let fs: FsStorage | undefined
  const of = (name: StorageName): DocumentStorage => name === 'pg' ? pg : (fs ??= new FsStorage(conf.DOCUMENT_DIR))
  return { active: of(conf.DOCUMENT_STORAGE), of }
}

// ---- content inspection ---------------------------------------------------------------------

const SNIFF_BYTES = 8

/** The media type from the first bytes (magic numbers), or undefined for anything else. */
export function sniffMediaType (head: Uint8Array): MediaType | undefined {
  const at = (i: number): number | undefined => head[i]
  if (at(0) === 0x25 && at(1) === 0x50 && at(2) === 0x44 && at(3) === 0x46 && at(4) === 0x2d) return 'application/pdf' // %PDF-
  if ([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => at(i) === b)) return 'image/png'
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return 'image/jpeg'
  return undefined
}

const unsupported = (): AppError => new AppError('UNSUPPORTED_MEDIA_TYPE', 'The file is not a PDF, PNG or JPEG (decided from its content, not its name or declared type)')
export const tooLarge = (maxBytes: number): AppError => new AppError('PAYLOAD_TOO_LARGE', `The file exceeds the limit of ${maxBytes} bytes`)
const malformed = (): AppError => new AppError('MALFORMED_REQUEST', 'The multipart body ended early or is malformed')

function mediaTypeOf (head: Uint8Array): MediaType {
  const type = sniffMediaType(head)
  if (type === undefined) throw unsupported()
  return type
}

/** What inspected() found: the media type, once the first bytes have been seen. */
export interface Inspection { mediaType?: MediaType }

/**
 * Passes the source through, deciding the media type from its first bytes (415 for anything but
 * PDF, PNG or JPEG) and refusing it the moment it exceeds `maxBytes` (413). An error reading the
 * source (the client hung up, a malformed part) is the client's: 400 MALFORMED_REQUEST.
 */
export async function * inspected (source: AsyncIterable<Uint8Array>, maxBytes: number, out: Inspection): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]()
  let head: Buffer | undefined = Buffer.alloc(0)
  let total = 0
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array>
      try {
        next = await it.next()
      } catch (err) {
        throw err instanceof AppError ? err : malformed()
      }
      if (next.done === true) break
      const piece = next.value
      total += piece.length
      if (total > maxBytes) throw tooLarge(maxBytes)
      if (head === undefined) {
        yield piece
        continue
      }
      head = Buffer.concat([head, piece])
      if (head.length < SNIFF_BYTES) continue
      out.mediaType = mediaTypeOf(head)
      const first = head
      head = undefined
      yield first
    }
    if (head !== undefined) {
      // shorter than SNIFF_BYTES in all
      out.mediaType = mediaTypeOf(head)
      yield head
    }
  } finally {
    // stop the source when we stop early (an error, or the consumer gave up)
    await it.return?.()
  }
}

// ---- upload -----------------------------------------------------------------------------------

export interface StagedUpload {
  storage: StorageName
  key: string
  size: number
  sha256: string
  mediaType: MediaType
  fileName: string | null
}

/**
 * Streams a file into `storage` under a key listed in document_staging. On failure nothing stays
 * stored (the storage removes what it wrote) and the listing goes too — unless removing the bytes
 * failed, in which case the listing stays for the sweep.
 */
export async function stageUpload (db: Db, storage: DocumentStorage, source: AsyncIterable<Uint8Array>, opts: { fileName: string | null, maxBytes: number }): Promise<StagedUpload> {
  const key = newKey()
  await db.insertInto('documentStaging').values({ storage: storage.name, key }).execute()
  const found: Inspection = {}
  try {
    const stored = await storage.put(inspected(source, opts.maxBytes, found), key)
    if (found.mediaType === undefined) throw unsupported()
    return { storage: storage.name, key, size: stored.size, sha256: stored.sha256, mediaType: found.mediaType, fileName: opts.fileName }
  } catch (err) {
    await discardUpload(db, storage, key).catch(() => {})
    throw err
  }
}

/**
 * Removes a staged object and then its listing (idempotent) — but never the object of a document:
 * an upload's answer can be an error although its document committed (the connection carrying the
 * COMMIT failed after the server received it), and the route discards on any answer but a 201.
 * Then only the listing goes (there is none left: the commit took it). One probe of the unique
 * index documents (storage, storage_key). (A COMMIT the server is still writing when the probe
 * runs is not seen: the window is the server's commit time, not the client's timeout.)
 */
export async function discardUpload (db: Db, storage: DocumentStorage, key: string): Promise<void> {
  const attached = await db.selectFrom('documents').select('id').where('storage', '=', storage.name).where('storageKey', '=', key).executeTakeFirst()
  if (attached === undefined) await storage.delete(key)
  await db.deleteFrom('documentStaging').where('storage', '=', storage.name).where('key', '=', key).execute()
}

/** How long a staged upload may wait to be attached; the sweep leaves it alone for an hour more. */
export const STAGING_TTL_MS = 6 * 3600_000
const SWEEP_MARGIN_MS = 3600_000

const DOCUMENT_COLUMNS = ['id', 'type', 'mediaType', 'sizeBytes', 'sha256', 'fileName', 'organizationId', 'uploadedBy', 'createdAt'] as const

/**
 * Attaches a staged upload as a document of `actor`'s organization, in the caller's transaction:
 * the staging entry is taken (only while younger than STAGING_TTL_MS, so the sweep can never
 * delete the bytes of a document) and the row inserted in one statement.
 */
export async function createDocument (trx: Db, actor: Actor, staged: StagedUpload, type: DocumentType): Promise<DocumentView> {
  const ttlSeconds = STAGING_TTL_MS / 1000
  const { rows } = await sql<DocumentView>`
    WITH claimed AS (
      DELETE FROM document_staging
      WHERE storage = ${staged.storage} AND key = ${staged.key} AND created_at > now() - make_interval(secs => ${ttlSeconds})
      RETURNING key
    )
    INSERT INTO documents (organization_id, uploaded_by, type, media_type, size_bytes, sha256, file_name, storage, storage_key)
    SELECT ${actor.organizationId}::uuid, ${actor.userId}::uuid, ${type}, ${staged.mediaType}, ${staged.size}, ${staged.sha256}, ${staged.fileName}, ${staged.storage}, key
    FROM claimed
    RETURNING id, type, media_type, size_bytes, sha256, file_name, organization_id, uploaded_by, created_at`.execute(trx)
  const doc = rows[0]
  if (doc === undefined) throw problem('CONFLICT', 'The upload took too long and was discarded; send it again')
  return doc
}

/** Removes staged uploads older than the TTL (and its margin): what a crash or a failed cleanup left. */
export async function sweepStaging (db: Db, storages: Storages, opts: { olderThanMs?: number, limit?: number } = {}): Promise<number> {
  const seconds = (opts.olderThanMs ?? STAGING_TTL_MS + SWEEP_MARGIN_MS) / 1000
  const stale = await db.selectFrom('documentStaging').select(['storage', 'key'])
    .where('createdAt', '<', sql<Date>`now() - make_interval(secs => ${seconds})`)
    .orderBy('createdAt').limit(opts.limit ?? 200).execute()
  for (const s of stale) await discardUpload(db, storages.of(s.storage), s.key)
  return stale.length
}

// ---- reading ----------------------------------------------------------------------------------

export interface StoredDocument extends DocumentView { storage: StorageName, storageKey: string }

type DocEb = ExpressionBuilder<Database & { d: Database['documents'] }, 'd'>

/** PRODUCT.md §2.1 "documents · read": own uploads, staff, and the parties of an order or transfer it is attached to. */
function readableBy (eb: DocEb, actor: Actor): Expression<SqlBool> {
  if (isPlatformRole(actor.role)) return sql<boolean>`true`
  const org = actor.organizationId
  return eb.or([
    eb('d.organizationId', '=', org),
    eb.exists(eb.selectFrom('purchaseOrders as po').select(sql`1`.as('one'))
      .where(e => e.or([e('po.deliveryNoteDocId', '=', e.ref('d.id')), e('po.signedNoteDocId', '=', e.ref('d.id'))]))
      .where(e => e.or([e('po.stationId', '=', org), e('po.supplierId', '=', org)]))),
    eb.exists(eb.selectFrom('transfers as t').select(sql`1`.as('one'))
      .where(e => e.or([e('t.deliveryNoteDocId', '=', e.ref('d.id')), e('t.signedNoteDocId', '=', e.ref('d.id'))]))
      .where(e => e.or([e('t.requestingStationId', '=', org), e('t.sourceStationId', '=', org)])))
  ])
}

/** The document if `actor` may read it, else undefined (absent and unreadable look the same). */
export async function findReadableDocument (db: Db, actor: Actor, id: string): Promise<StoredDocument | undefined> {
  return await db.selectFrom('documents as d')
    .select([...DOCUMENT_COLUMNS.map(c => `d.${c}` as const), 'd.storage', 'd.storageKey'])
    .where('d.id', '=', id)
    .where(eb => readableBy(eb, actor))
    .executeTakeFirst()
}

export async function getDocument (db: Db, actor: Actor, id: string): Promise<StoredDocument> {
  const doc = await findReadableDocument(db, actor, id)
  if (doc === undefined) throw notFound('Document')
  return doc
}

export function viewOf (doc: StoredDocument): DocumentView {
  const { storage: _storage, storageKey: _key, ...view } = doc
  return view
}

// ---- the check the workflows use ---------------------------------------------------------------

/**
 * A document a workflow step references (PRODUCT.md §8: "a PO shipment or reception, or a transfer
 * shipment or reception, references a document the caller may read"): its id as the body gave it,
 * the type the step needs, and the body field (for the problem's pointer).
 */
export interface DocumentReference {
  id: string
  type: DocumentType | readonly DocumentType[]
  pointer: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * A scalar subquery for a column of the statement a workflow already runs: the type of document
 * `documentId` when `actor` may read it, NULL when it does not exist or `actor` may not read it
 * (the two look the same). Give the column to checkDocumentReference(). A value that is not a
 * UUID is NULL without reaching SQL (no cast error).
 */
export function readableDocumentType (db: Db, actor: Actor, documentId: string): Expression<DocumentType | null> {
  if (!UUID.test(documentId)) return sql<DocumentType | null>`NULL::text`
  return db.selectFrom('documents as d').select('d.type').where('d.id', '=', documentId).where(eb => readableBy(eb, actor)).$asScalar()
}

function noUsableDocument (pointer: string): AppError {
  const detail = 'no document with this id that the caller may read'
  return problem('DOCUMENT_NOT_USABLE', `The referenced document does not exist or the caller may not read it (${pointer})`, { errors: [{ pointer, code: 'DOCUMENT_NOT_USABLE', detail }] })
}

/**
 * The verdict on what readableDocumentType() found (`found`: the type, or null): 422
 * DOCUMENT_NOT_USABLE at the reference's pointer when there is no document the caller may read —
 * missing, another tenant's and never uploaded give the identical answer, so the check is no
 * existence oracle — or when it is of another type (the caller may read it: its type is named).
 */
export function checkDocumentReference (found: DocumentType | null | undefined, ref: DocumentReference): void {
  const expected: readonly DocumentType[] = typeof ref.type === 'string' ? [ref.type] : ref.type
  const pointer = ref.pointer
  if (found === null || found === undefined) throw noUsableDocument(pointer)
  if (!expected.includes(found)) {
    const detail = `is a ${found}; expected ${expected.join(' or ')}`
    throw problem('DOCUMENT_NOT_USABLE', `The referenced document ${detail}`, { errors: [{ pointer, code: 'DOCUMENT_NOT_USABLE', detail }] })
  }
}

/**
 * The same check as a statement of its own: the document exists, `actor` may read it, and it is of
 * the expected type — otherwise 422 DOCUMENT_NOT_USABLE at `pointer` (see checkDocumentReference).
 * Run it in the workflow's transaction. Returns the document. The workflows fold the check into
 * the statement they run anyway (readableDocumentType); this is for everything else.
 */
export async function assertDocumentUsable (db: Db, actor: Actor, documentId: string, expectedType: DocumentType | readonly DocumentType[], pointer = '/documentId'): Promise<DocumentView> {
  const doc = UUID.test(documentId) ? await findReadableDocument(db, actor, documentId) : undefined
  if (doc === undefined) throw noUsableDocument(pointer)
  checkDocumentReference(doc.type, { id: documentId, type: expectedType, pointer })
  return viewOf(doc)
}

// ---- HTTP details of the content ------------------------------------------------------------

const EXTENSION: Record<MediaType, string> = { 'application/pdf': '.pdf', 'image/png': '.png', 'image/jpeg': '.jpg' }
// C0/C1 controls, and the bidirectional overrides that make "invoice‮fdp.exe" read as another name
// eslint-disable-next-line no-control-regex -- control characters are exactly what this removes
const UNSAFE_NAME = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** The uploaded file name as stored: no path, no control or bidi characters, ≤ 255 characters; null when nothing is left. */
export function cleanFileName (name: string | undefined): string | null {
  if (name === undefined) return null
  const base = name.split(/[\\/]/).at(-1) ?? ''
  const cleaned = base.replace(LONE_SURROGATE, '\uFFFD').replace(UNSAFE_NAME, '').normalize('NFC').trim()
  if (cleaned === '' || cleaned === '.' || cleaned === '..') return null
  return Array.from(cleaned).slice(0, 255).join('')
}

/** RFC 6266 attachment with an ASCII fallback `filename` and the exact name in `filename*` (RFC 8187). */
export function contentDisposition (doc: Pick<DocumentView, 'id' | 'fileName' | 'mediaType'>): string {
  const name = doc.fileName ?? `document-${doc.id}${EXTENSION[doc.mediaType]}`
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]|["\\%;]/g, '_')
  const encoded = encodeURIComponent(name).replace(/['()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`
}

/** The strong ETag of the content: its SHA-256, quoted. */
export const contentEtag = (sha256: string): string => `"${sha256}"`

/** If-None-Match matches (weak comparison, as RFC 9110 §13.1.2 wants for it). */
export function noneMatch (raw: string | string[] | undefined, etag: string): boolean {
  if (raw === undefined) return false
  const header = Array.isArray(raw) ? raw.join(',') : raw
  if (header.trim() === '*') return true
  return header.split(',').some(t => { const v = t.trim(); return v === etag || v === `W/${etag}` })
}

/**
 * The byte range a `Range` header asks for (RFC 9110 §14): undefined to send everything (no header,
 * a syntax this server ignores, several ranges, or an If-Range that no longer matches), or
 * 'unsatisfiable' (416). One range: `bytes=a-b`, `bytes=a-`, `bytes=-n`.
 */
export function requestedRange (header: string | undefined, size: number, ifRange: string | undefined, etag: string): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined
  // If-Range with our strong ETag only; a date or another tag: the representation may have changed
  if (ifRange !== undefined && ifRange.trim() !== etag) return undefined
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/i.exec(header.trim())
  if (m === null) return undefined
  const [, a = '', b = ''] = m
  if (a === '' && b === '') return undefined
  if (a === '') {
    const suffix = Number(b)
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(a)
  if (b !== '' && Number(b) < start) return undefined
  if (start >= size) return 'unsatisfiable'
  return { start, end: b === '' ? size - 1 : Math.min(Number(b), size - 1) }
}
