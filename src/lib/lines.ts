// Bodies with lines (stock writes, transfer requests, forecasts): each names its key (an article,
// an article and a week) at most once. A repeated key is a malformed request — the body has no
// single meaning, whatever the database holds — so it is answered like a schema violation, before
// any business rule: 400 VALIDATION_FAILED with one DUPLICATE_LINE item per repeated line
// (API.md: 400 "schema validation (with errors[])", 422 "business rule violated").
import { problem, type ProblemItem } from './problems.js'

/** At most this many repeated lines are listed (the detail gives the total). */
const MAX_LISTED = 100

/**
 * 400 VALIDATION_FAILED unless every line has a distinct `keyOf(line)`; one DUPLICATE_LINE item
 * per line that repeats an earlier one, at `pointerOf(index)`. `what` names the rule ("one line
 * per article").
 */
export function assertDistinctLines<L> (lines: readonly L[], keyOf: (line: L) => string, pointerOf: (index: number) => string, what: string): void {
  const seen = new Map<string, number>()
  const errors: ProblemItem[] = []
  lines.forEach((line, i) => {
    const key = keyOf(line)
    const first = seen.get(key)
    if (first === undefined) seen.set(key, i)
    else errors.push({ pointer: pointerOf(i), code: 'DUPLICATE_LINE', detail: `line ${i} repeats line ${first}: ${what}` })
  })
  if (errors.length === 0) return
  const more = errors.length > MAX_LISTED ? ` (the first ${MAX_LISTED} are listed)` : ''
  throw problem('VALIDATION_FAILED', `${errors.length} line${errors.length === 1 ? '' : 's'} repeat${errors.length === 1 ? 's' : ''} an earlier line: ${what}${more}`, { errors: errors.slice(0, MAX_LISTED) })
}
