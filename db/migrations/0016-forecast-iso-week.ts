// A forecast's ISO week exists (PRODUCT.md §7, DATA.md: iso_week 1–53): week 53 only in the ISO
// years that have one. The upsert already refuses it (422 ISO_WEEK_OUT_OF_RANGE, before any
// statement); this CHECK makes it hold whatever writes the row (a script, an import, the bench
// generator, a future code path), so a forecast is never stored for a week no date falls in —
// a week nothing reads (the replenishment walks the weeks of real dates) and a supplier's demand
// would still list.
//
// An ISO year has 53 weeks exactly when its 28 December is in week 53 (28 December always falls in
// the year's last ISO week). `extract(week FROM date)` and `make_date` are immutable, and the test
// compares the expression with the service's isoWeeksInYear() over the column's whole range
// (2000–2999). Evaluated only for week 53 rows (the OR stops at iso_week <= 52 otherwise).
//
// No row should violate it: every forecast went through that check. Should a database hold some
// anyway, the migration changes no row (a forecast is what a station entered) and does not refuse
// to start: the constraint is added NOT VALID (every row written from now on is checked), then
// validated unless existing rows violate it; then it stays NOT VALID with a NOTICE and a process
// warning. The rows are listed by
//   SELECT * FROM forecasts WHERE iso_week = 53 AND extract(week FROM make_date(iso_year, 12, 28)) <> 53
// and, once dealt with (moved to week 1 of the next year, or deleted),
// `ALTER TABLE forecasts VALIDATE CONSTRAINT forecasts_iso_week_exists` completes it (a SHARE
// UPDATE EXCLUSIVE lock: reads and writes go on). Validating is one scan of forecasts inside the
// migration's transaction.
import { sql, type Kysely } from 'kysely'

const NAME = 'forecasts_iso_week_exists'

export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw(`ALTER TABLE forecasts ADD CONSTRAINT ${NAME} CHECK (iso_week <= 52 OR extract(week FROM make_date(iso_year, 12, 28)) = 53) NOT VALID`).execute(db)
  // a failed validation rolls back only its own block (a subtransaction): the constraint stays NOT VALID
  await sql.raw(`
    DO $$
    BEGIN
      ALTER TABLE forecasts VALIDATE CONSTRAINT ${NAME};
    EXCEPTION WHEN check_violation THEN
      RAISE NOTICE 'forecasts holds a week 53 of a year without one: % stays NOT VALID (new writes are checked); see db/migrations/0016-forecast-iso-week.ts', '${NAME}';
    END
    $$`).execute(db)
  // the NOTICE reaches no log: say it where the operator starting the service sees it
  const { rows } = await sql<{ valid: boolean }>`SELECT convalidated AS valid FROM pg_constraint WHERE conname = ${NAME}`.execute(db)
  if (rows[0]?.valid === false) {
    process.emitWarning(`${NAME} stays NOT VALID: forecasts written before it hold a week 53 of a year without one (see db/migrations/0016-forecast-iso-week.ts)`, { code: 'FORECAST_ISO_WEEK_NOT_VALID' })
  }
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw(`ALTER TABLE forecasts DROP CONSTRAINT IF EXISTS ${NAME}`).execute(db)
}
