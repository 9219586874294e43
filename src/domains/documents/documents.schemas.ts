// Documents (PRODUCT.md §8): the metadata view, the multipart upload form as the OpenAPI document
// describes it, and the content responses (the stored media type, not JSON).
import { Type, type Static } from '@sinclair/typebox'
import type { Readable } from 'node:stream'
import { DateTime, Int64, Nullable, StringEnum, Text, Uuid } from '../../lib/schemas.js'

export const DOCUMENT_TYPES = ['DELIVERY_NOTE', 'SIGNED_DELIVERY_NOTE', 'INVOICE', 'CERTIFICATE', 'PHOTO', 'OTHER'] as const
export type DocumentType = typeof DOCUMENT_TYPES[number]
export const MEDIA_TYPES = ['application/pdf', 'image/png', 'image/jpeg'] as const
export type MediaType = typeof MEDIA_TYPES[number]

export const DocumentTypeSchema = StringEnum(DOCUMENT_TYPES, { description: 'What the document is' })
export const MediaTypeSchema = StringEnum(MEDIA_TYPES, { description: 'Decided from the content (magic bytes), never from the file name or the declared type' })
/** The largest content the database holds (its CHECK; DOCUMENT_MAX_BYTES, 10 MiB by default, is the configured limit). */
const MAX_CONTENT_BYTES = 1_073_741_824
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', maxLength: 64, description: 'SHA-256 of the content, lowercase hex' })

export const DocumentSchema = Type.Object({
  id: Uuid(),
  type: DocumentTypeSchema,
  mediaType: MediaTypeSchema,
  sizeBytes: Int64({ minimum: 1, maximum: MAX_CONTENT_BYTES }),
  sha256: Sha256,
  fileName: Nullable(Text(255), { description: 'The uploaded file name, without any path; null when none was sent' }),
  organizationId: Uuid({ description: "The uploader's organization" }),
  uploadedBy: Uuid({ description: 'The uploading user' }),
  createdAt: DateTime()
}, { $id: 'Document', additionalProperties: false })
export type DocumentView = Static<typeof DocumentSchema>

/** The form fields; `file` becomes the SHA-256 of its content once stored (what the idempotency fingerprint sees). */
export const UploadFormSchema = Type.Object({
  type: DocumentTypeSchema,
  file: Type.String({ format: 'binary', maxLength: MAX_CONTENT_BYTES, description: 'The file: PDF, PNG or JPEG (checked by content), at most DOCUMENT_MAX_BYTES (10 MiB by default). Send `type` before `file`: an invalid type is then refused before any byte is stored.' })
}, { additionalProperties: false, required: ['type', 'file'] })
export type UploadForm = Static<typeof UploadFormSchema>

/** The request body: multipart/form-data only (Fastify validates it per content type; other types are 415). */
export const UploadBody = Type.Unsafe<UploadForm>({
  content: { 'multipart/form-data': { schema: UploadFormSchema } }
})

const Binary = Type.String({ format: 'binary', maxLength: MAX_CONTENT_BYTES })
const HEADERS = {
  ETag: Type.String({ maxLength: 66, pattern: '^"[0-9a-f]{64}"$', description: 'The quoted SHA-256 of the content (strong)' }),
  'Content-Disposition': Type.String({ maxLength: 4096, description: 'attachment; filename="…" (ASCII fallback); filename*=UTF-8\'\'… (the stored name)' }),
  'Content-Length': Int64({ maximum: MAX_CONTENT_BYTES, description: 'Bytes in this answer' }),
  'Accept-Ranges': Type.String({ enum: ['bytes'], description: 'bytes' })
}
const content = (description: string, headers: Record<string, unknown>) => Type.Unsafe<Readable>({
  description,
  headers,
  content: Object.fromEntries(MEDIA_TYPES.map(m => [m, { schema: Binary }]))
})

export const ContentResponses = {
  200: content('The content, with the stored media type', HEADERS),
  206: content('The requested byte range', { ...HEADERS, 'Content-Range': Type.String({ maxLength: 100, pattern: '^bytes [0-9]+-[0-9]+/[0-9]+$', description: 'bytes start-end/size' }) })
}
