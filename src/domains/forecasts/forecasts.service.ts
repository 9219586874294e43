// Weekly demand forecasts per (station, article, ISO week) and the suppliers' aggregated demand
// (PRODUCT.md §7). The bulk upsert is one statement whatever the number of lines (unnest arrays +
// INSERT … ON CONFLICT DO UPDATE), after a scope check: a constant number of round trips.
// Scope: a station user reads and writes its own station only (another station's is a 404), staff
// any existing station; a supplier reads only the aggregated demand of the articles it offers
// (active offers), its own (another supplier's is a 404) — never a per-station figure.
import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../../db/index.js'
import { decodeCursor, page } from '../../lib/cursor.js'
import type { Actor } from '../../lib/permissions.js'
import { notFound, problem, type ProblemItem } from '../../lib/problems.js'
import { assertDistinctLines } from '../../lib/lines.js'
import { assertStationInScope } from '../carts/carts.service.js'
import type { DemandView, ForecastLine, ForecastListInput, ForecastUpsertSummary, ForecastView } from './forecasts.schemas.js'

// ---- ISO 8601 weeks ----------------------------------------------------------------------------

export interface IsoWeek { year: number, week: number }

const DAY = 86_400_000

/** Weeks in an ISO year: 53 when 1 January is a Thursday, or a Wednesday in a leap year. */
export function isoWeeksInYear (year: number): number {
  const jan1 = new Date(Date.UTC(year, 0, 1)).getUTCDay() // 0 = Sunday
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  return jan1 === 4 || (leap && jan1 === 3) ? 53 : 52
}

/** The ISO week of a date (YYYY-MM-DD). */
export function isoWeekOf (date: string): IsoWeek {
  const d = new Date(`${date}T00:00:00.000Z`)
  const dow = (d.getUTCDay() + 6) % 7 // Monday = 0
  // the Thursday of the same week decides the year
  const thursday = new Date(d.getTime() + (3 - dow) * DAY)
  const year = thursday.getUTCFullYear()
  const jan1 = Date.UTC(year, 0, 1)
  return { year, week: 1 + Math.floor((thursday.getTime() - jan1) / DAY / 7) }
}

function mondayMs (w: IsoWeek): number {
  const jan4 = Date.UTC(w.year, 0, 4)
  const jan4dow = (new Date(jan4).getUTCDay() + 6) % 7
  return jan4 - jan4dow * DAY + (w.week - 1) * 7 * DAY
}

export function addWeeks (w: IsoWeek, n: number): IsoWeek {
  return isoWeekOf(new Date(mondayMs(w) + n * 7 * DAY).toISOString().slice(0, 10))
}

export const weekKey = (w: IsoWeek): string => `${w.year}-W${String(w.week).padStart(2, '0')}`

export function parseWeekKey (key: string): IsoWeek {
  const m = /^(\d{4})-W(\d{2})$/.exec(key)
  if (m === null) throw problem('VALIDATION_FAILED', `${key} is not an ISO week (YYYY-Www)`)
  return { year: Number(m[1]), week: Number(m[2]) }
}

const compareWeeks = (a: IsoWeek, b: IsoWeek): number => a.year !== b.year ? a.year - b.year : a.week - b.week

// ---- bulk upsert -------------------------------------------------------------------------------

/** At most this many line problems are listed (the detail gives the total). */
const MAX_LISTED_PROBLEMS = 100

function refuse (code: 'BUSINESS_RULE_VIOLATED' | 'REFERENCE_NOT_FOUND', what: string, errors: ProblemItem[]): never {
  const more = errors.length > MAX_LISTED_PROBLEMS ? ` (the first ${MAX_LISTED_PROBLEMS} are listed)` : ''
  throw problem(code, `${errors.length} line${errors.length === 1 ? '' : 's'} ${what}${more}; nothing was saved`, { errors: errors.slice(0, MAX_LISTED_PROBLEMS) })
}

/**
 * The business rule that needs no database: week 53 only in years that have one. (One line per
 * (article, week) is checked before, as a malformed body: 400 DUPLICATE_LINE, src/lib/lines.ts.)
 */
export function lineProblems (lines: readonly ForecastLine[]): ProblemItem[] {
  const errors: ProblemItem[] = []
  lines.forEach((l, i) => {
    if (l.isoWeek > isoWeeksInYear(l.isoYear)) {
      errors.push({ pointer: `/lines/${i}/isoWeek`, code: 'ISO_WEEK_OUT_OF_RANGE', detail: `ISO year ${l.isoYear} has 52 weeks; week 53 does not exist` })
    }
  })
  return errors
}

export interface UpsertRow { missing: number[] | null, inserted: number | null, updated: number | null }

/**
 * The upsert of sorted lines as one statement: unknown articles are returned (1-based positions)
 * and then nothing is written; unchanged rows are not touched. Exported for the bench's plan check.
 */
export function upsertStatement (stationId: string, userId: string, sorted: readonly ForecastLine[]): RawBuilder<UpsertRow> {
  return sql<UpsertRow>`
    WITH input AS (
      SELECT * FROM unnest(${sorted.map(l => l.articleId)}::uuid[], ${sorted.map(l => l.isoYear)}::int[], ${sorted.map(l => l.isoWeek)}::int[], ${sorted.map(l => l.units)}::int[])
        WITH ORDINALITY AS x(article_id, iso_year, iso_week, units, n)
    ), missing AS (
      SELECT n FROM input i WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = i.article_id)
    ), up AS (
      INSERT INTO forecasts AS f (station_id, article_id, iso_year, iso_week, units, updated_by, updated_at)
      SELECT ${stationId}::uuid, i.article_id, i.iso_year, i.iso_week, i.units, ${userId}::uuid, now()
      FROM input i
      WHERE NOT EXISTS (SELECT 1 FROM missing)
      ORDER BY i.n
      ON CONFLICT (station_id, article_id, iso_year, iso_week) DO UPDATE
        SET units = EXCLUDED.units, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at
        WHERE f.units IS DISTINCT FROM EXCLUDED.units
      RETURNING (xmax = 0) AS inserted
    )
    SELECT (SELECT array_agg(n::int ORDER BY n) FROM missing) AS missing,
           (SELECT count(*) FILTER (WHERE inserted) FROM up)::int AS inserted,
           (SELECT count(*) FILTER (WHERE NOT inserted) FROM up)::int AS updated`
}

/**
 * Upserts forecast lines for a station in one statement (plus the scope check): every article
 * must exist (422 REFERENCE_NOT_FOUND with a pointer per bad line, and nothing is written), an
 * (article, week) may appear once (400 VALIDATION_FAILED, DUPLICATE_LINE) and a week 53 must exist
 * in its year (422 BUSINESS_RULE_VIOLATED), both checked before any statement. Lines equal to what is stored are left untouched. Rows are
 * written in key order, so two concurrent upserts of overlapping lines lock them in the same
 * order and cannot deadlock.
 */
export async function upsertForecasts (db: Db, actor: Actor, stationId: string, lines: readonly ForecastLine[]): Promise<ForecastUpsertSummary> {
  await assertStationInScope(db, actor, stationId)
  assertDistinctLines(lines, l => `${l.articleId}:${l.isoYear}:${l.isoWeek}`, i => `/lines/${i}`, 'one line per article and ISO week')
  const invalid = lineProblems(lines)
  if (invalid.length > 0) refuse('BUSINESS_RULE_VIOLATED', 'cannot be saved', invalid)

  const order = lines.map((_, i) => i).sort((a, b) => {
    const x = lines[a] as ForecastLine
    const y = lines[b] as ForecastLine
    const ax = x.articleId.toLowerCase()
    const ay = y.articleId.toLowerCase()
    return ax < ay ? -1 : ax > ay ? 1 : x.isoYear - y.isoYear || x.isoWeek - y.isoWeek
  })
  const sorted = order.map(i => lines[i] as ForecastLine)
  const { rows } = await upsertStatement(stationId, actor.userId, sorted).execute(db)
  const r = rows[0]
  const missing = r?.missing ?? []
  if (missing.length > 0) {
    // ordinality n is 1-based over the sorted lines: back to the body's own indexes
    const bad = missing.map(n => order[n - 1] as number).sort((a, b) => a - b)
    refuse('REFERENCE_NOT_FOUND', 'name an article that does not exist', bad.map(i => ({ pointer: `/lines/${i}/articleId`, code: 'REFERENCE_NOT_FOUND', detail: 'no such article' })))
  }
  const inserted = r?.inserted ?? 0
  const updated = r?.updated ?? 0
  const weeks = sorted.map(l => ({ year: l.isoYear, week: l.isoWeek })).sort(compareWeeks)
  return {
    stationId,
    lines: lines.length,
    inserted,
    updated,
    unchanged: lines.length - inserted - updated,
    articles: new Set(sorted.map(l => l.articleId.toLowerCase())).size,
    fromWeek: weekKey(weeks[0] as IsoWeek),
    toWeek: weekKey(weeks[weeks.length - 1] as IsoWeek)
  }
}

// ---- reads -------------------------------------------------------------------------------------

interface WeekRange { from?: IsoWeek, to?: IsoWeek }

function rangeOf (input: { from?: string, to?: string }): WeekRange {
  return {
    ...(input.from !== undefined ? { from: parseWeekKey(input.from) } : {}),
    ...(input.to !== undefined ? { to: parseWeekKey(input.to) } : {})
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function cursorKey (cursor: string): [string, number, number] {
  const [a, y, w] = decodeCursor(cursor, 3)
  if (typeof a !== 'string' || !UUID.test(a) || typeof y !== 'number' || typeof w !== 'number' || !Number.isInteger(y) || !Number.isInteger(w)) {
    throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
  }
  return [a, y, w]
}

/**
 * A station's forecasts, ordered by (article, ISO year, ISO week) — the primary key's order, so a
 * page reads an index range whatever its depth. Filters: article, week range (inclusive).
 */
export async function listForecasts (db: Db, actor: Actor, stationId: string, input: ForecastListInput): Promise<{ items: ForecastView[], nextCursor: string | null }> {
  await assertStationInScope(db, actor, stationId)
  const limit = input.limit ?? 50
  const { from, to } = rangeOf(input)
  let q = db.selectFrom('forecasts as f').innerJoin('articles as a', 'a.id', 'f.articleId')
    .select(['f.articleId', 'a.code as articleCode', 'f.isoYear', 'f.isoWeek', 'f.units', 'f.updatedBy', 'f.updatedAt'])
    .where('f.stationId', '=', stationId)
  if (input.articleId !== undefined) q = q.where('f.articleId', '=', input.articleId)
  if (from !== undefined) q = q.where(sql<boolean>`(f.iso_year, f.iso_week) >= (${from.year}::int, ${from.week}::int)`)
  if (to !== undefined) q = q.where(sql<boolean>`(f.iso_year, f.iso_week) <= (${to.year}::int, ${to.week}::int)`)
  if (input.cursor !== undefined) {
    const [a, y, w] = cursorKey(input.cursor)
    q = q.where(sql<boolean>`(f.article_id, f.iso_year, f.iso_week) > (${a}::uuid, ${y}::int, ${w}::int)`)
  }
  const rows = await q.orderBy('f.articleId').orderBy('f.isoYear').orderBy('f.isoWeek').limit(limit + 1).execute()
  const { items, nextCursor } = page(rows, limit, r => [r.articleId, r.isoYear, r.isoWeek])
  return { items: items.map(r => ({ ...r, week: weekKey({ year: r.isoYear, week: r.isoWeek }) })), nextCursor }
}

/** A supplier reads its own demand; staff any existing supplier; nobody else (stations: 403 by RBAC). */
async function assertSupplierInScope (db: Db, actor: Actor, supplierId: string): Promise<void> {
  if (actor.role === 'SUPPLIER') {
    if (actor.organizationId !== supplierId) throw notFound('Supplier')
    return
  }
  if (actor.role === 'STATION') throw notFound('Supplier')
  const row = await db.selectFrom('suppliers').select('id').where('id', '=', supplierId).executeTakeFirst()
  if (row === undefined) throw notFound('Supplier')
}

interface DemandRow { articleId: string, articleCode: string, isoYear: number, isoWeek: number, units: number }

/**
 * Σ units over every station per (article, ISO week), for the articles the supplier offers
 * (active offers) only. The statement groups by article and week and selects no station column:
 * a per-station figure cannot come out of it. Keyset-paginated on (article, year, week).
 */
export async function listDemand (db: Db, actor: Actor, supplierId: string, input: ForecastListInput): Promise<{ items: DemandView[], nextCursor: string | null }> {
  await assertSupplierInScope(db, actor, supplierId)
  const limit = input.limit ?? 50
  const { from, to } = rangeOf(input)
  const after = input.cursor !== undefined ? cursorKey(input.cursor) : undefined
  const { rows } = await sql<DemandRow>`
    SELECT f.article_id, a.code AS article_code, f.iso_year, f.iso_week, sum(f.units)::int8 AS units
    FROM offers o
    JOIN articles a ON a.id = o.article_id
    JOIN forecasts f ON f.article_id = o.article_id
    WHERE o.supplier_id = ${supplierId}::uuid AND o.is_active
      ${input.articleId !== undefined ? sql`AND o.article_id = ${input.articleId}::uuid` : sql``}
      ${from !== undefined ? sql`AND (f.iso_year, f.iso_week) >= (${from.year}::int, ${from.week}::int)` : sql``}
      ${to !== undefined ? sql`AND (f.iso_year, f.iso_week) <= (${to.year}::int, ${to.week}::int)` : sql``}
      ${after !== undefined ? sql`AND (f.article_id, f.iso_year, f.iso_week) > (${after[0]}::uuid, ${after[1]}::int, ${after[2]}::int)` : sql``}
    GROUP BY f.article_id, a.code, f.iso_year, f.iso_week
    ORDER BY f.article_id, f.iso_year, f.iso_week
    LIMIT ${limit + 1}`.execute(db)
  const { items, nextCursor } = page(rows, limit, r => [r.articleId, r.isoYear, r.isoWeek])
  return { items: items.map(r => ({ ...r, week: weekKey({ year: r.isoYear, week: r.isoWeek }) })), nextCursor }
}
