// Documents (PRODUCT.md §8, DATA.md): the metadata row of every uploaded file, and the PostgreSQL
// storage backend's own tables. The bytes live behind a storage key (src/domains/documents/storage.ts):
// `document_blobs` + `document_chunks` for the default PostgreSQL backend (the file in chunks of a
// few hundred KiB, written as the upload streams in, never held in memory whole), or a file under
// DOCUMENT_DIR for the filesystem backend.
//
// Every stored object is, at any time, either referenced by a `documents` row or listed in
// `document_staging`: an upload is listed there before its first byte is written, and the row
// leaves the list in the same transaction that inserts its document (or when a failed upload is
// cleaned up). What a crash leaves behind is therefore always listed, and a sweep removes it.
//
// The purchase-order and transfer columns that reference documents get partial indexes: "may this
// caller read this document" looks for an order or transfer the document is attached to.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE documents (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id uuid NOT NULL REFERENCES organizations (id),
      uploaded_by uuid NOT NULL REFERENCES users (id),
      type text NOT NULL CHECK (type IN ('DELIVERY_NOTE', 'SIGNED_DELIVERY_NOTE', 'INVOICE', 'CERTIFICATE', 'PHOTO', 'OTHER')),
      media_type text NOT NULL CHECK (media_type IN ('application/pdf', 'image/png', 'image/jpeg')),
      -- the configured limit (DOCUMENT_MAX_BYTES) is enforced while the upload streams; this is its ceiling
      size_bytes bigint NOT NULL CHECK (size_bytes BETWEEN 1 AND 1073741824),
      sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      file_name text CHECK (length(file_name) BETWEEN 1 AND 255),
      storage text NOT NULL CHECK (storage IN ('pg', 'fs')),
      storage_key text NOT NULL CHECK (length(storage_key) BETWEEN 1 AND 200),
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT documents_storage_key UNIQUE (storage, storage_key)
    );
    CREATE INDEX documents_organization ON documents (organization_id, created_at DESC, id DESC);

    CREATE TABLE document_staging (
      storage text NOT NULL CHECK (storage IN ('pg', 'fs')),
      key text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (storage, key)
    );
    CREATE INDEX document_staging_created ON document_staging (created_at);

    -- PostgreSQL storage backend: size and sha256 are NULL while the blob is being written
    CREATE TABLE document_blobs (
      key uuid PRIMARY KEY,
      chunk_size integer NOT NULL CHECK (chunk_size > 0),
      size_bytes bigint CHECK (size_bytes >= 0),
      sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE document_chunks (
      blob_key uuid NOT NULL REFERENCES document_blobs (key) ON DELETE CASCADE,
      seq integer NOT NULL CHECK (seq >= 0),
      data bytea NOT NULL,
      PRIMARY KEY (blob_key, seq)
    );
    -- PDF, PNG and JPEG are compressed already: TOAST stores the chunks without trying again
    ALTER TABLE document_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

    CREATE INDEX purchase_orders_delivery_note_doc ON purchase_orders (delivery_note_doc_id) WHERE delivery_note_doc_id IS NOT NULL;
    CREATE INDEX purchase_orders_signed_note_doc ON purchase_orders (signed_note_doc_id) WHERE signed_note_doc_id IS NOT NULL;
    CREATE INDEX transfers_delivery_note_doc ON transfers (delivery_note_doc_id) WHERE delivery_note_doc_id IS NOT NULL;
    CREATE INDEX transfers_signed_note_doc ON transfers (signed_note_doc_id) WHERE signed_note_doc_id IS NOT NULL;
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS purchase_orders_delivery_note_doc, purchase_orders_signed_note_doc, transfers_delivery_note_doc, transfers_signed_note_doc;
    DROP TABLE IF EXISTS document_chunks, document_blobs, document_staging, documents;
  `.execute(db)
}
