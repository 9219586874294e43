// multipart/form-data bodies for tests (the upload route), built byte by byte so a test controls
// field order, file names and declared types exactly. And tiny real files of each accepted type.
import { randomBytes } from 'node:crypto'

export type FormPart =
  | { name: string, value: string }
  | { name: string, filename?: string, contentType?: string, data: Buffer }

/** A multipart body and its Content-Type header. */
export function multipartBody (parts: FormPart[], boundary = `----test${randomBytes(8).toString('hex')}`): { payload: Buffer, contentType: string } {
  const chunks: Buffer[] = []
  for (const p of parts) {
    if ('value' in p) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`))
    } else {
      const filename = p.filename === undefined ? '' : `; filename="${p.filename}"`
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${filename}\r\nContent-Type: ${p.contentType ?? 'application/octet-stream'}\r\n\r\n`), p.data, Buffer.from('\r\n'))
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` }
}

/** The usual upload form: type first, then the file. */
export function uploadForm (type: string, data: Buffer, filename = 'note.pdf', contentType = 'application/pdf'): { payload: Buffer, headers: Record<string, string> } {
  const { payload, contentType: ct } = multipartBody([{ name: 'type', value: type }, { name: 'file', filename, contentType, data }])
  return { payload, headers: { 'content-type': ct } }
}

/** A minimal well-formed PDF (one empty page). */
export const TINY_PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
  '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n', 'latin1')

/** A 1×1 PNG. */
export const TINY_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64')

/** A 1×1 baseline JPEG. */
export const TINY_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////' +
  'wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=', 'base64')

/** A PDF header followed by `size` bytes in all of random content: big uploads that are still "PDF" by content. */
export function pdfOfSize (size: number): Buffer {
  const body = randomBytes(size)
  Buffer.from('%PDF-1.7\n').copy(body)
  return body
}
