// The documents a purchase order or a transfer references (PRODUCT.md §8, issue 14): the delivery
// note of a shipment and the signed note of a reception are rows of `documents`, enforced by the
// database too. The services check more (the caller may read it, the type fits: 422
// DOCUMENT_NOT_USABLE); the keys make a dangling reference impossible whatever writes the row, and
// keep a referenced document from being deleted (NO ACTION: documents are records).
//
// Databases written before documents existed hold ids that name nothing: ship and receive then
// accepted any UUID (the demo seed sent random ones; so may an integrator have). Those ids carry no
// file to recover, but they are what the caller sent and the orders' history shows them, so this
// migration changes no row. Each key is added NOT VALID — checked for every row written from now
// on (an UPDATE that leaves the column alone is not checked, so old orders keep moving through
// their workflow) — and then validated when no existing row violates it, which is the case on every
// database created after documents (fresh installs, the test template, the bench dataset whose
// orders reference no document). On an older database a key that does not validate stays NOT VALID
// with a NOTICE and a process warning at start; the dangling ids are listed by
//   SELECT id, delivery_note_doc_id, signed_note_doc_id FROM purchase_orders po
//   WHERE (po.delivery_note_doc_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = po.delivery_note_doc_id))
//      OR (po.signed_note_doc_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = po.signed_note_doc_id))
// (the same for transfers), and once they are dealt with (a demo database can simply be recreated)
// `ALTER TABLE … VALIDATE CONSTRAINT <name>` completes the key. Validating takes only a SHARE UPDATE
// EXCLUSIVE lock (reads and writes go on). The referencing columns have their partial indexes since
// 0009, so the check on a document's deletion is an index probe.
import { sql, type Kysely } from 'kysely'

const KEYS = [
  ['purchase_orders', 'delivery_note_doc_id', 'purchase_orders_delivery_note_doc_fk'],
  ['purchase_orders', 'signed_note_doc_id', 'purchase_orders_signed_note_doc_fk'],
  ['transfers', 'delivery_note_doc_id', 'transfers_delivery_note_doc_fk'],
  ['transfers', 'signed_note_doc_id', 'transfers_signed_note_doc_fk']
] as const

export async function up (db: Kysely<any>): Promise<void> {
  for (const [table, column, name] of KEYS) {
    await sql`ALTER TABLE ${sql.table(table)} ADD CONSTRAINT ${sql.id(name)} FOREIGN KEY (${sql.id(column)}) REFERENCES documents (id) NOT VALID`.execute(db)
    // a failed validation rolls back only its own block (a subtransaction): the key stays NOT VALID
    await sql.raw(`
      DO $$
      BEGIN
        ALTER TABLE ${table} VALIDATE CONSTRAINT ${name};
      EXCEPTION WHEN foreign_key_violation THEN
        RAISE NOTICE '${table}.${column} holds ids that are no document (written before documents existed): % stays NOT VALID; see db/migrations/0013-document-references.ts', '${name}';
      END
      $$`).execute(db)
  }
  // the NOTICE reaches no log: say it where the operator starting the service sees it
  const { rows } = await sql<{ name: string }>`SELECT conname AS name FROM pg_constraint WHERE conname = ANY(${KEYS.map(k => k[2])}::text[]) AND NOT convalidated ORDER BY 1`.execute(db)
  if (rows.length > 0) {
    process.emitWarning(`${rows.map(r => r.name).join(', ')} stay NOT VALID: rows written before documents existed reference ids that are no document (see db/migrations/0013-document-references.ts)`, { code: 'DOCUMENT_REFERENCES_NOT_VALID' })
  }
}

export async function down (db: Kysely<any>): Promise<void> {
  for (const [table, , name] of KEYS) {
    await sql`ALTER TABLE ${sql.table(table)} DROP CONSTRAINT IF EXISTS ${sql.id(name)}`.execute(db)
  }
}
