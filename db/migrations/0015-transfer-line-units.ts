// A transfer line's units only narrow along the workflow (PRODUCT.md §6): the source grants at most
// what was requested, ships exactly what it granted, and the destination receives at most what was
// shipped — and each figure exists only once the one before it does (nothing ships before a grant,
// nothing is received before a shipment). The transitions already refuse anything else (422
// GRANTED_EXCEEDS_REQUESTED / RECEIVED_EXCEEDS_SHIPPED, checked against the figures read at the
// version their guarded UPDATE requires); these CHECKs make it hold whatever writes the row (a
// script, an import, a future code path), so "shipped − received" (in transit / lost) is never
// negative and no report ever sees more leave a station than was granted.
//
// No row should violate them: every figure ever written went through those checks. Should a
// database hold some anyway, the migration changes no row — the figures are the history of a real
// movement of goods, and stock movements were written from them, so no rewrite would be right —
// and does not refuse to start: each constraint is added NOT VALID (every row written from now on
// is checked) and then validated unless existing rows violate it; then it stays NOT VALID with a
// NOTICE and a process warning naming it. The lines in question are listed by
//   SELECT id, transfer_id, units_requested, units_granted, units_shipped, units_received FROM transfer_lines
//   WHERE units_granted > units_requested
//      OR (units_shipped IS NOT NULL AND (units_granted IS NULL OR units_shipped > units_granted))
//      OR (units_received IS NOT NULL AND (units_shipped IS NULL OR units_received > units_shipped))
// and, once they are dealt with, `ALTER TABLE transfer_lines VALIDATE CONSTRAINT <name>` completes
// it (a SHARE UPDATE EXCLUSIVE lock: reads and writes go on). Validating is one scan of
// transfer_lines inside the migration's transaction.
import { sql, type Kysely } from 'kysely'

const CHECKS = [
  ['transfer_lines_granted_within_requested', 'units_granted <= units_requested'],
  ['transfer_lines_shipped_within_granted', 'units_shipped IS NULL OR (units_granted IS NOT NULL AND units_shipped <= units_granted)'],
  ['transfer_lines_received_within_shipped', 'units_received IS NULL OR (units_shipped IS NOT NULL AND units_received <= units_shipped)']
] as const

export async function up (db: Kysely<any>): Promise<void> {
  for (const [name, check] of CHECKS) {
    await sql.raw(`ALTER TABLE transfer_lines ADD CONSTRAINT ${name} CHECK (${check}) NOT VALID`).execute(db)
    // a failed validation rolls back only its own block (a subtransaction): the constraint stays NOT VALID
    await sql.raw(`
      DO $$
      BEGIN
        ALTER TABLE transfer_lines VALIDATE CONSTRAINT ${name};
      EXCEPTION WHEN check_violation THEN
        RAISE NOTICE 'transfer_lines holds rows that violate %: it stays NOT VALID (new writes are checked); see db/migrations/0015-transfer-line-units.ts', '${name}';
      END
      $$`).execute(db)
  }
  // the NOTICE reaches no log: say it where the operator starting the service sees it
  const { rows } = await sql<{ name: string }>`SELECT conname AS name FROM pg_constraint WHERE conname = ANY(${CHECKS.map(c => c[0])}::text[]) AND NOT convalidated ORDER BY 1`.execute(db)
  if (rows.length > 0) {
    process.emitWarning(`${rows.map(r => r.name).join(', ')} stay${rows.length === 1 ? 's' : ''} NOT VALID: transfer lines written before it violate it (see db/migrations/0015-transfer-line-units.ts)`, { code: 'TRANSFER_LINE_UNITS_NOT_VALID' })
  }
}

export async function down (db: Kysely<any>): Promise<void> {
  for (const [name] of CHECKS) await sql.raw(`ALTER TABLE transfer_lines DROP CONSTRAINT IF EXISTS ${name}`).execute(db)
}
