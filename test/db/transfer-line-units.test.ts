// Migration 0015: a transfer line's units only narrow along the workflow — granted ≤ requested,
// shipped ≤ granted, received ≤ shipped, and a later figure only once the earlier one is set —
// enforced by the database (three CHECKs on transfer_lines) as well as by the transitions (422
// GRANTED_EXCEEDS_REQUESTED / RECEIVED_EXCEEDS_SHIPPED, test/domains/transfers/). No row should
// violate them: every figure ever written went through those checks. On a database where one does
// (written by hand, an import) the migration changes no row: that constraint stays NOT VALID
// (every new write is still checked) with a process warning, the others are validated.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { sql } from 'kysely'
import { createDb, type DbHandle } from '../../src/db/index.js'
import { down, up } from '../../db/migrations/0015-transfer-line-units.js'
import { createDatabaseFromTemplate } from '../helpers/db.js'
import { createArticle, createStation, uniq } from '../helpers/factories.js'

let h: DbHandle
beforeAll(async () => {
  const url = await createDatabaseFromTemplate(`${inject('dbPrefix')}_transfer_units`)
  h = createDb({ connectionString: url, poolSize: 2, statementTimeoutMs: 30_000, connectTimeoutMs: 10_000 })
})
afterAll(async () => { await h.destroy() })

const NAMES = ['transfer_lines_granted_within_requested', 'transfer_lines_received_within_shipped', 'transfer_lines_shipped_within_granted']

async function constraints (): Promise<Record<string, boolean>> {
  const { rows } = await sql<{ name: string, valid: boolean }>`SELECT conname AS name, convalidated AS valid FROM pg_constraint WHERE conname = ANY(${NAMES}::text[]) ORDER BY 1`.execute(h.db)
  return Object.fromEntries(rows.map(r => [r.name, r.valid]))
}

type Units = [requested: number, granted: number | null, shipped: number | null, received: number | null]

/** A transfer with one line of these units; the line's id. */
async function line ([requested, granted, shipped, received]: Units): Promise<string> {
  const [a, b, article] = [await createStation(h.db), await createStation(h.db), await createArticle(h.db)]
  const [transferId, lineId] = [randomUUID(), randomUUID()]
  await sql`
    WITH t AS (INSERT INTO transfers (id, number, requesting_station_id, source_station_id, status) VALUES (${transferId}::uuid, ${uniq('TR-T-')}, ${a.id}::uuid, ${b.id}::uuid, 'SHIPPED'))
    INSERT INTO transfer_lines (id, transfer_id, article_id, units_requested, units_granted, units_shipped, units_received)
    VALUES (${lineId}::uuid, ${transferId}::uuid, ${article.id}::uuid, ${requested}, ${granted}, ${shipped}, ${received})`.execute(h.db)
  return lineId
}

async function units (id: string): Promise<Units> {
  const { rows } = await sql<{ r: number, g: number | null, s: number | null, v: number | null }>`
    SELECT units_requested AS r, units_granted AS g, units_shipped AS s, units_received AS v FROM transfer_lines WHERE id = ${id}::uuid`.execute(h.db)
  const x = rows[0] as { r: number, g: number | null, s: number | null, v: number | null }
  return [x.r, x.g, x.s, x.v]
}

describe('migration 0015 (transfer line units narrow along the workflow)', () => {
  it('the database refuses a line granting more than requested, shipping more than granted or receiving more than shipped, inserted or updated', async () => {
    // every stage of a line that respects them
    for (const ok of [[5, null, null, null], [5, 5, null, null], [5, 3, 3, null], [5, 3, 3, 2], [5, 0, 0, 0]] as Units[]) await line(ok)
    await expect(line([5, 6, null, null])).rejects.toThrow(/transfer_lines_granted_within_requested/)
    await expect(line([5, 3, 4, null])).rejects.toThrow(/transfer_lines_shipped_within_granted/)
    await expect(line([5, null, 1, null])).rejects.toThrow(/transfer_lines_shipped_within_granted/)
    await expect(line([5, 3, 3, 4])).rejects.toThrow(/transfer_lines_received_within_shipped/)
    await expect(line([5, 3, null, 1])).rejects.toThrow(/transfer_lines_received_within_shipped/)
    const id = await line([5, 3, 3, 2])
    await expect(sql`UPDATE transfer_lines SET units_granted = 6 WHERE id = ${id}::uuid`.execute(h.db)).rejects.toThrow(/transfer_lines_granted_within_requested/)
    await expect(sql`UPDATE transfer_lines SET units_shipped = 4 WHERE id = ${id}::uuid`.execute(h.db)).rejects.toThrow(/transfer_lines_shipped_within_granted/)
    await expect(sql`UPDATE transfer_lines SET units_received = 4 WHERE id = ${id}::uuid`.execute(h.db)).rejects.toThrow(/transfer_lines_received_within_shipped/)
    await expect(sql`UPDATE transfer_lines SET units_shipped = 1 WHERE id = ${id}::uuid`.execute(h.db)).rejects.toThrow(/transfer_lines_received_within_shipped/)
    expect(await units(id)).toEqual([5, 3, 3, 2])
  })

  it('on a fresh database all three are validated', async () => {
    expect(await constraints()).toEqual(Object.fromEntries(NAMES.map(n => [n, true])))
  })

  it('over rows that violate one: changes no row, leaves that one NOT VALID yet enforced on new writes (a warning names it), validates the others', async () => {
    await down(h.db)
    expect(await constraints()).toEqual({})
    const bad = await line([5, 3, 3, 4])
    const fine = await line([5, 3, 3, 3])
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    await up(h.db)
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^transfer_lines_received_within_shipped stays NOT VALID/), { code: 'TRANSFER_LINE_UNITS_NOT_VALID' })
    warn.mockRestore()
    expect(await constraints()).toEqual({ transfer_lines_granted_within_requested: true, transfer_lines_received_within_shipped: false, transfer_lines_shipped_within_granted: true })
    expect(await units(bad)).toEqual([5, 3, 3, 4])
    expect(await units(fine)).toEqual([5, 3, 3, 3])
    await expect(line([5, 3, 3, 4])).rejects.toThrow(/transfer_lines_received_within_shipped/)
    await expect(sql`UPDATE transfer_lines SET units_received = 5 WHERE id = ${fine}::uuid`.execute(h.db)).rejects.toThrow(/transfer_lines_received_within_shipped/)
    // once the row is dealt with, VALIDATE completes it
    await sql`UPDATE transfer_lines SET units_received = 3 WHERE id = ${bad}::uuid`.execute(h.db)
    await sql`ALTER TABLE transfer_lines VALIDATE CONSTRAINT transfer_lines_received_within_shipped`.execute(h.db)
    expect(await constraints()).toEqual(Object.fromEntries(NAMES.map(n => [n, true])))
  })

  it('on a database without such rows it warns about nothing', async () => {
    await down(h.db)
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    await up(h.db)
    expect(warn).not.toHaveBeenCalled()
    warn.mockRestore()
    expect(await constraints()).toEqual(Object.fromEntries(NAMES.map(n => [n, true])))
  })
})
