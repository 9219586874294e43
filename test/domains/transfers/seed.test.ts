// The demo seed's transfers: one in every status, each with the history of its path, the stock
// moves the workflow makes (TRANSFER_OUT = shipped at the source, TRANSFER_IN = received at the
// destination), and a ledger that still balances everywhere (Σ movements = quantity ≥ 0).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { sql } from 'kysely'
import { createDb, type DbHandle } from '../../../src/db/index.js'
import { seedDemo } from '../../../db/seed/demo.js'
import { createDatabaseFromTemplate } from '../../helpers/db.js'

let handle: DbHandle
beforeAll(async () => {
  const url = await createDatabaseFromTemplate(`${inject('dbPrefix')}_transfers_seed`)
  handle = createDb({ connectionString: url, poolSize: 2, statementTimeoutMs: 60_000, connectTimeoutMs: 10_000 })
  await seedDemo(handle.db)
})
afterAll(async () => { await handle.destroy() })

const ALL = ['REQUESTED', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'IN_PREPARATION', 'SHIPPED', 'RECEIVED', 'CLOSED', 'SETTLED', 'ARCHIVED']

describe('demo transfers', () => {
  it('one transfer in every status, between two different demo stations, numbered and with its history', async () => {
    const { rows } = await sql<{ status: string, number: string, events: string[], requesting: string, source: string }>`
      SELECT t.status, t.number, r.code AS requesting, s.code AS source,
        (SELECT array_agg(e.to_status ORDER BY e.id) FROM transfer_events e WHERE e.transfer_id = t.id) AS events
      FROM transfers t JOIN stations r ON r.id = t.requesting_station_id JOIN stations s ON s.id = t.source_station_id
      ORDER BY t.number`.execute(handle.db)
    expect(rows.map(r => r.status).sort()).toEqual([...ALL].sort())
    for (const r of rows) {
      expect(r.number).toMatch(/^TR-\d{4}-\d{6}$/)
      expect(r.requesting).not.toBe(r.source)
      expect(r.events[0]).toBe('REQUESTED')
      expect(r.events.at(-1)).toBe(r.status)
    }
    expect(rows.find(r => r.status === 'ARCHIVED')?.events).toEqual(['REQUESTED', 'CONFIRMED', 'IN_PREPARATION', 'SHIPPED', 'RECEIVED', 'CLOSED', 'SETTLED', 'ARCHIVED'])
  })

  it('stock: shipped units left the sources, received units reached the destinations, one loss, the ledger balances', async () => {
    const { rows } = await sql<{ status: string, shipped: number | null, received: number | null, out: number, in: number }>`
      SELECT t.status, sum(l.units_shipped)::int AS shipped, sum(l.units_received)::int AS received,
        coalesce((SELECT -sum(m.delta) FROM stock_movements m WHERE m.ref_id = t.id AND m.reason = 'TRANSFER_OUT' AND m.station_id = t.source_station_id), 0)::int AS out,
        coalesce((SELECT sum(m.delta) FROM stock_movements m WHERE m.ref_id = t.id AND m.reason = 'TRANSFER_IN' AND m.station_id = t.requesting_station_id), 0)::int AS in
      FROM transfers t JOIN transfer_lines l ON l.transfer_id = t.id GROUP BY t.id, t.status`.execute(handle.db)
    for (const r of rows) {
      expect(r.out, r.status).toBe(r.shipped ?? 0)
      expect(r.in, r.status).toBe(r.received ?? 0)
    }
    expect(rows.find(r => r.status === 'SHIPPED')).toMatchObject({ shipped: 250, received: null, in: 0 })
    expect(rows.find(r => r.status === 'RECEIVED')).toMatchObject({ shipped: 2400, received: 2350 })
    const ledger = await sql<{ quantity: number, sum: number | null }>`
      SELECT l.quantity, (SELECT sum(delta)::int FROM stock_movements m WHERE m.station_id = l.station_id AND m.article_id = l.article_id) AS sum
      FROM stock_levels l`.execute(handle.db)
    for (const r of ledger.rows) {
      expect(r.sum ?? 0).toBe(r.quantity)
      expect(r.quantity).toBeGreaterThanOrEqual(0)
    }
    const events = await sql<{ type: string }>`SELECT DISTINCT type FROM outbox_events WHERE type LIKE 'transfer.%' ORDER BY type`.execute(handle.db)
    expect(events.rows.map(e => e.type)).toEqual(['transfer.archived', 'transfer.cancelled', 'transfer.closed', 'transfer.confirmed', 'transfer.prepared', 'transfer.received', 'transfer.rejected', 'transfer.requested', 'transfer.settled', 'transfer.shipped'])
  })

  it('shipped transfers reference the delivery note of their source station, received ones the signed note of the requesting station', async () => {
    const { rows } = await sql<{ number: string, status: string, noteType: string | null, noteOrg: string | null, signedType: string | null, signedOrg: string | null, requesting: string, source: string }>`
      SELECT t.number, t.status, t.requesting_station_id AS requesting, t.source_station_id AS source,
        n.type AS note_type, n.organization_id AS note_org, s.type AS signed_type, s.organization_id AS signed_org
      FROM transfers t LEFT JOIN documents n ON n.id = t.delivery_note_doc_id LEFT JOIN documents s ON s.id = t.signed_note_doc_id
      WHERE t.shipped_at IS NOT NULL`.execute(handle.db)
    expect(rows.length).toBeGreaterThanOrEqual(5)
    for (const r of rows) {
      expect(r, r.number).toMatchObject({ noteType: 'DELIVERY_NOTE', noteOrg: r.source })
      if (r.status !== 'SHIPPED') expect(r, r.number).toMatchObject({ signedType: 'SIGNED_DELIVERY_NOTE', signedOrg: r.requesting })
    }
  })
})
