// The constant SQL texts of the orders hot reads (src/domains/orders/orders.sql.ts, run through
// rawRows and prepared once per connection), kept as .sql files so that a change to one shows up
// in review as a SQL diff. The PO list has one text per query shape (scope and filters present);
// the snapshots cover every branch of its builder, and every other shape is checked for its
// parameters. Regenerate after an intended change:
//   npx vitest run test/domains/orders/sql-texts.test.ts -u
import { readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { LIST, listText, LOCKED_LINES_JSON, PO_BY_ID_TEXTS, PO_JSON_BY_ID, POS_OF_MASTER } from '../../../src/domains/orders/orders.sql.js'

type Flag = keyof typeof LIST
const FLAGS = Object.keys(LIST).filter((k): k is Flag => k in LIST)
const shapeOf = (flags: readonly Flag[]): number => flags.reduce((s, f) => s | LIST[f], 0)
const listName = (flags: readonly Flag[]): string => ['po-list', ...(flags.length === 0 ? ['platform'] : flags.map(f => f.toLowerCase().replaceAll('_', '-')))].join('.')

/** List shapes whose texts are snapshotted: each scope, lines, cursor, and both plan styles (one equality: generic plan; two or more: LIMIT $n). */
const LIST_SHAPES: ReadonlyArray<readonly Flag[]> = [
  [],
  ['LINES', 'CURSOR'],
  ['STATION_SCOPE'],
  ['STATION_SCOPE', 'STATUS'],
  ['SUPPLIER_SCOPE', 'LINES'],
  ['SUPPLIER_SCOPE', 'STATION', 'FROM', 'TO'],
  ['STATION', 'SUPPLIER', 'STATUS', 'FROM', 'TO', 'CURSOR', 'LINES']
]

const STATEMENTS: Readonly<Record<string, string>> = {
  'po-by-id.platform': PO_BY_ID_TEXTS.platform,
  'po-by-id.station': PO_BY_ID_TEXTS.station,
  'po-by-id.supplier': PO_BY_ID_TEXTS.supplier,
  'po-json-by-id.platform': PO_JSON_BY_ID.platform,
  'po-json-by-id.station': PO_JSON_BY_ID.station,
  'po-json-by-id.supplier': PO_JSON_BY_ID.supplier,
  'pos-of-master': POS_OF_MASTER,
  'po-locked-lines': LOCKED_LINES_JSON,
  ...Object.fromEntries(LIST_SHAPES.map(flags => [listName(flags), listText(shapeOf(flags))]))
}

/** The parameters a list shape takes: one per scope or filter, two for the cursor, the limit last. */
const paramsOf = (shape: number): number => 1 + FLAGS.reduce((n, f) => n + ((shape & LIST[f]) === 0 || f === 'LINES' ? 0 : f === 'CURSOR' ? 2 : 1), 0)

describe('orders statements', () => {
  for (const [name, text] of Object.entries(STATEMENTS)) {
    it(`${name} is the reviewed SQL text`, async () => {
      await expect(`${text}\n`).toMatchFileSnapshot(`./__snapshots__/${name}.sql`)
    })
  }

  it('has no snapshot left over from a statement that is gone', () => {
    const files = readdirSync(new URL('./__snapshots__/', import.meta.url)).filter(f => f.endsWith('.sql'))
    expect(files.sort()).toEqual(Object.keys(STATEMENTS).map(n => `${n}.sql`).sort())
  })

  it('builds every list shape with its parameters numbered $1…$n in order, the limit last', () => {
    let shapes = 0
    for (let shape = 0; shape <= shapeOf(FLAGS); shape++) {
      if ((shape & LIST.STATION_SCOPE) !== 0 && (shape & LIST.SUPPLIER_SCOPE) !== 0) continue // one caller, one scope
      const text = listText(shape)
      const used = [...new Set([...text.matchAll(/\$(\d+)/g)].map(m => Number(m[1])))].sort((a, b) => a - b)
      const n = paramsOf(shape)
      expect(used, `shape ${shape}`).toEqual(Array.from({ length: n }, (_, i) => i + 1))
      expect(text, `shape ${shape}`).toContain(`$${n}::int`)
      shapes++
    }
    expect(shapes).toBe(384)
  })
})
