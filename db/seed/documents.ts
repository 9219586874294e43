// Demo documents for the seed steps: small real PDFs (one A4 page saying what they are) that the
// demo orders and transfers reference, uploaded in the name of the organization that would upload
// them (the supplier's or the shipping station's delivery note, the receiving station's signed
// note), so every party reads them the way the API allows (PRODUCT.md §8).
//
// The storage's streaming writer works on the pool only — inside a transaction it would hold a
// connection for a whole upload — and the seed runs in one transaction. A demo file is well under
// one chunk, so its bytes go in one statement with the PostgreSQL backend's blob row and the
// staging listing (the layout of src/domains/documents/storage-pg.ts), and the documents service's
// createDocument() then claims it exactly as it claims an upload. Everything commits or rolls back
// with the seed.
import { createHash, randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import type { Db } from '../../src/db/index.js'
import type { Actor } from '../../src/lib/permissions.js'
import { createDocument } from '../../src/domains/documents/documents.service.js'
import type { DocumentType } from '../../src/domains/documents/documents.schemas.js'
import { CHUNK_BYTES } from '../../src/domains/documents/storage-pg.js'

/** PDF string literal text: Latin-1 only (the standard Helvetica with WinAnsiEncoding), escaped. */
const pdfText = (s: string): string => s.replace(/[^\x20-\x7e\xa0-\xff]/g, '?').replace(/[\\()]/g, c => `\\${c}`)

/** A valid one-page PDF (A4, Helvetica) with a title and a few lines of text, cross-reference table included. */
export function demoPdf (title: string, lines: readonly string[]): Buffer {
  const text = [`BT /F1 16 Tf 56 780 Td (${pdfText(title)}) Tj ET`, ...lines.map((l, i) => `BT /F1 11 Tf 56 ${748 - i * 16} Td (${pdfText(l)}) Tj ET`)].join('\n')
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    `<< /Length ${Buffer.byteLength(text, 'latin1')} >>\nstream\n${text}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>'
  ]
  let out = '%PDF-1.4\n'
  const offsets: number[] = []
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'))
    out += `${i + 1} 0 obj\n${body}\nendobj\n`
  })
  const xref = Buffer.byteLength(out, 'latin1')
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map(o => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(out, 'latin1')
}

/** Stores `bytes` as a document of `actor`'s organization, inside the seed's transaction; returns its id. */
export async function seedDocument (db: Db, actor: Actor, type: DocumentType, fileName: string, bytes: Buffer): Promise<string> {
  if (bytes.length === 0 || bytes.length > CHUNK_BYTES) throw new RangeError('a demo document is one chunk of the PostgreSQL storage')
  const key = randomUUID()
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  await sql`
    WITH s AS (INSERT INTO document_staging (storage, key) VALUES ('pg', ${key})),
    b AS (INSERT INTO document_blobs (key, chunk_size, size_bytes, sha256) VALUES (${key}::uuid, ${CHUNK_BYTES}, ${bytes.length}, ${sha256}) RETURNING key)
    INSERT INTO document_chunks (blob_key, seq, data) SELECT key, 0, ${bytes} FROM b`.execute(db)
  const doc = await createDocument(db, actor, { storage: 'pg', key, size: bytes.length, sha256, mediaType: 'application/pdf', fileName }, type)
  return doc.id
}
