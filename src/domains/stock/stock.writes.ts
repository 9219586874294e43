// Stock writes (PRODUCT.md §6, §2.1 "stock · adjust / count / thresholds"): adjustments,
// consumption declarations, inventory counts and thresholds. Platform staff write any station's
// stock, a STATION user only its own (another station: 404, like every row outside a scope).
// Quantities only ever move through `applyStockDeltas` / `applyStockCounts` (stock.service.ts):
// one movement per change in the same transaction, never below zero, all or nothing.
//
// Input rules, checked before anything is written:
// - each article at most once per body (400 VALIDATION_FAILED, a DUPLICATE_LINE item per repeated
//   line, src/lib/lines.ts): a count of the same article twice has no single meaning, so no body
//   merges lines;
// - every article exists (422 REFERENCE_NOT_FOUND) and is active (422 ARTICLE_INACTIVE) — except
//   that stock the station already holds of an article deactivated since can still be adjusted,
//   consumed and counted (it must be possible to write it off); no NEW level of an inactive article.
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import { uuidv7 } from '../../lib/ids.js'
import { emitEvents } from '../../lib/outbox.js'
import { isPlatformRole, type Actor } from '../../lib/permissions.js'
import { notFound, problem, type ProblemItem } from '../../lib/problems.js'
import { assertDistinctLines } from '../../lib/lines.js'
import { applyStockCounts, applyStockDeltas, stockLowEvent, type StockChange, type StockDeltaOptions, type StockReference } from './stock.service.js'
import { levelView } from './stock.reads.js'
import type { AdjustmentInput, ConsumptionInput, CountInput, StockLevelView, StockOperation, ThresholdsInput } from './stock.schemas.js'

/** 404 unless the caller may write this station's stock: staff any existing station, a station its own. */
export async function assertWriteScope (db: Db, actor: Actor, stationId: string): Promise<void> {
  if (actor.role === 'STATION' && actor.organizationId === stationId) return
  if (!isPlatformRole(actor.role)) throw notFound('Station')
  const row = await db.selectFrom('stations').select('id').where('id', '=', stationId).executeTakeFirst()
  if (row === undefined) throw notFound('Station')
}

/** 422 with a pointer per line whose article is unknown, or inactive without a level at the station (one query). */
async function assertArticles (db: Db, stationId: string, lines: ReadonlyArray<{ articleId: string }>): Promise<void> {
  const ids = lines.map(l => l.articleId)
  const rows = await db.selectFrom('articles as a')
    .select(eb => [
      'a.id',
      // an inactive article is acceptable only where the station already holds a level of it
      eb.or([
        eb('a.isActive', '=', true),
        eb.exists(eb.selectFrom('stockLevels as l').select('l.articleId').whereRef('l.articleId', '=', 'a.id').where('l.stationId', '=', stationId))
      ]).as('usable')
    ])
    .where(sql<boolean>`a.id = ANY(${ids}::uuid[])`)
    .execute()
  const found = new Map(rows.map(r => [r.id, r.usable]))
  const errors: ProblemItem[] = []
  let unknown = 0
  lines.forEach((l, i) => {
    const usable = found.get(l.articleId)
    if (usable === undefined) {
      unknown++
      errors.push({ pointer: `/lines/${i}/articleId`, code: 'REFERENCE_NOT_FOUND', detail: `line ${i}: no article ${l.articleId}` })
    } else if (!usable) {
      errors.push({ pointer: `/lines/${i}/articleId`, code: 'ARTICLE_INACTIVE', detail: `line ${i}: article ${l.articleId} is inactive and the station holds none of it` })
    }
  })
  if (errors.length === 0) return
  throw problem(unknown > 0 ? 'REFERENCE_NOT_FOUND' : 'ARTICLE_INACTIVE', `${errors.length} line(s) name an unknown or inactive article`, { errors })
}

async function checkLines (db: Db, actor: Actor, stationId: string, lines: ReadonlyArray<{ articleId: string }>): Promise<void> {
  await assertWriteScope(db, actor, stationId)
  assertDistinctLines(lines, l => l.articleId, i => `/lines/${i}/articleId`, 'one line per article')
  await assertArticles(db, stationId, lines)
}

/** INSUFFICIENT_STOCK's pointers: the line's field (lines name distinct articles: checkLines). */
function linePointers (lines: ReadonlyArray<{ articleId: string }>, field: string): StockDeltaOptions {
  const index = new Map(lines.map((l, i) => [l.articleId, i]))
  return { pointerOf: articleId => `/lines/${index.get(articleId) ?? 0}/${field}` }
}

/** The operation's answer: one change per line, in the order of the lines. */
function operation (stationId: string, ref: StockReference, lines: ReadonlyArray<{ articleId: string }>, changes: readonly StockChange[]): StockOperation {
  const byArticle = new Map(changes.map(c => [c.articleId, c]))
  return {
    refId: ref.refId,
    stationId,
    reason: ref.reason,
    changes: lines.map(l => {
      const c = byArticle.get(l.articleId) as StockChange
      return { articleId: l.articleId, delta: c.after - c.before, before: c.before, after: c.after, low: c.after <= c.alertThreshold, critical: c.after <= c.criticalThreshold, out: c.after === 0 }
    })
  }
}

/** Signed changes with a reason (breakage, found…): one ADJUSTMENT movement per line. */
export async function adjustStock (db: Db, actor: Actor, stationId: string, input: AdjustmentInput): Promise<StockOperation> {
  await checkLines(db, actor, stationId, input.lines)
  const ref: StockReference = { reason: 'ADJUSTMENT', refType: 'STOCK_ADJUSTMENT', refId: uuidv7() }
  const changes = await applyStockDeltas(db, actor, stationId, input.lines.map(l => ({ articleId: l.articleId, delta: l.delta })), ref, linePointers(input.lines, 'delta'))
  return operation(stationId, ref, input.lines, changes)
}

/** Units used by the station: one CONSUMPTION movement (−units) per line. */
export async function consumeStock (db: Db, actor: Actor, stationId: string, input: ConsumptionInput): Promise<StockOperation> {
  await checkLines(db, actor, stationId, input.lines)
  const ref: StockReference = { reason: 'CONSUMPTION', refType: 'STOCK_CONSUMPTION', refId: uuidv7() }
  const changes = await applyStockDeltas(db, actor, stationId, input.lines.map(l => ({ articleId: l.articleId, delta: -l.units })), ref, linePointers(input.lines, 'units'))
  return operation(stationId, ref, input.lines, changes)
}

/** An inventory count: each level set to the counted quantity, one COUNT movement per difference. */
export async function countStock (db: Db, actor: Actor, stationId: string, input: CountInput): Promise<StockOperation> {
  await checkLines(db, actor, stationId, input.lines)
  const ref: StockReference = { reason: 'COUNT', refType: 'STOCK_COUNT', refId: uuidv7() }
  const changes = await applyStockCounts(db, actor, stationId, input.lines.map(l => ({ articleId: l.articleId, counted: l.counted })), ref)
  return operation(stationId, ref, input.lines, changes)
}

interface Thresholds { alertThreshold: number, criticalThreshold: number }

/**
 * Sets a level's thresholds (either or both), creating the level at quantity 0 when the station
 * never had one. If-Match is checked against the level's version (0 for a level not yet written);
 * `If-Match: *` (`expected` '*') matches a stored level only — on a level never written there is
 * no current representation to match (RFC 9110 §13.1.1), so it is a 412 and nothing is created.
 * The resulting critical threshold must not exceed the alert threshold (422 THRESHOLDS_INVALID).
 * A raise that makes the level low (it was above the old alert threshold, it is at or below the
 * new one) emits `stock.low`, as a decrease crossing the threshold does.
 */
export async function setThresholds (db: Db, actor: Actor, stationId: string, articleId: string, input: ThresholdsInput, expected: number | '*' | undefined): Promise<{ before: Thresholds, after: Thresholds, level: StockLevelView }> {
  await assertWriteScope(db, actor, stationId)
  const article = await db.selectFrom('articles').select(['code', 'name', 'baseUnit', 'isActive']).where('id', '=', articleId).executeTakeFirst()
  if (article === undefined) throw notFound('Article')
  const shown = { stationId, articleId, articleCode: article.code, articleName: article.name, baseUnit: article.baseUnit }
  // (a second pass only when another request created the level between the lock and the insert)
  for (let attempt = 0; attempt < 2; attempt++) {
    const current = await db.selectFrom('stockLevels').select(['quantity', 'alertThreshold', 'criticalThreshold', 'version'])
      .where('stationId', '=', stationId).where('articleId', '=', articleId).forUpdate().executeTakeFirst()
    const version = current?.version ?? 0
    if (expected === '*' && current === undefined) throw problem('PRECONDITION_FAILED', 'If-Match: * — the station has no stored level of this article (If-Match "0" creates it)')
    if (typeof expected === 'number' && expected !== version) throw problem('PRECONDITION_FAILED', `If-Match "${expected}" does not match the current version ${version}`)
    const before = { alertThreshold: current?.alertThreshold ?? 0, criticalThreshold: current?.criticalThreshold ?? 0 }
    const after = { alertThreshold: input.alertThreshold ?? before.alertThreshold, criticalThreshold: input.criticalThreshold ?? before.criticalThreshold }
    if (after.criticalThreshold > after.alertThreshold) {
      throw problem('THRESHOLDS_INVALID', `The critical threshold (${after.criticalThreshold}) may not exceed the alert threshold (${after.alertThreshold})`, {
        errors: [{ pointer: input.criticalThreshold !== undefined ? '/criticalThreshold' : '/alertThreshold', code: 'THRESHOLDS_INVALID', detail: 'criticalThreshold must be ≤ alertThreshold' }]
      })
    }
    if (current === undefined) {
      if (!article.isActive) throw problem('ARTICLE_INACTIVE', 'The article is inactive and the station holds none of it')
      const created = await db.insertInto('stockLevels').values({ stationId, articleId, quantity: 0, ...after })
        .onConflict(oc => oc.columns(['stationId', 'articleId']).doNothing())
        .returning(['quantity', 'alertThreshold', 'criticalThreshold', 'version', 'updatedAt']).executeTakeFirst()
      if (created === undefined) continue
      // a level at 0 was already low under any thresholds: no crossing
      return { before, after, level: levelView(actor, { ...shown, ...created }) }
    }
    const updated = await db.updateTable('stockLevels')
      .set(eb => ({ ...after, version: eb('version', '+', 1), updatedAt: sql<Date>`now()` }))
      .where('stationId', '=', stationId).where('articleId', '=', articleId)
      .returning(['quantity', 'alertThreshold', 'criticalThreshold', 'version', 'updatedAt']).executeTakeFirstOrThrow()
    if (current.quantity > current.alertThreshold && updated.quantity <= updated.alertThreshold) {
      await emitEvents(db, [stockLowEvent(stationId, articleId, updated.quantity, updated.alertThreshold, updated.criticalThreshold)])
    }
    return { before, after, level: levelView(actor, { ...shown, ...updated }) }
  }
  throw problem('CONCURRENT_UPDATE', 'The level was created concurrently; retry the request')
}
