// The demo seed's orders: built through the ordering services on a database of their own, they
// must satisfy the invariants the rest of the suite proves (derived master status, Σ PO totals,
// Σ movements = stock, caps consistent with the non-cancelled PO lines).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { sql } from 'kysely'
import { createDb, type DbHandle } from '../../../src/db/index.js'
import { seedDemo } from '../../../db/seed/demo.js'
import { deriveMasterStatus } from '../../../src/domains/orders/master-status.js'
import { addTotals } from '../../../src/lib/money.js'
import { createDatabaseFromTemplate } from '../../helpers/db.js'
import type { PurchaseOrderStatus } from '../../../src/db/schema.js'

let handle: DbHandle
beforeAll(async () => {
  const url = await createDatabaseFromTemplate(`${inject('dbPrefix')}_orders_seed`)
  handle = createDb({ connectionString: url, poolSize: 2, statementTimeoutMs: 60_000, connectTimeoutMs: 10_000 })
  await seedDemo(handle.db)
})
afterAll(async () => { await handle.destroy() })

describe('demo orders', () => {
  it('exist in various states and respect the invariants', async () => {
    const db = handle.db
    const mos = await db.selectFrom('masterOrders').selectAll().execute()
    const pos = await db.selectFrom('purchaseOrders').selectAll().execute()
    expect(mos).toHaveLength(5)
    expect(pos).toHaveLength(8)
    const statuses = new Set(pos.map(p => p.status))
    for (const s of ['PLACED', 'CONFIRMED', 'SHIPPED', 'CLOSED', 'ARCHIVED', 'CANCELLED', 'DECLINED']) expect(statuses.has(s as PurchaseOrderStatus), s).toBe(true)
    for (const mo of mos) {
      const children = pos.filter(p => p.masterOrderId === mo.id)
      expect(mo.status).toBe(deriveMasterStatus(children.map(c => c.status)))
      const station = addTotals(children.map(c => ({ net: c.stationNet, vat: c.stationVat, gross: c.stationGross })))
      expect([mo.stationNet, mo.stationVat, mo.stationGross]).toEqual([station.net, station.vat, station.gross])
    }
    const drift = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM stock_levels l
      WHERE l.quantity <> (SELECT coalesce(sum(delta), 0) FROM stock_movements m WHERE m.station_id = l.station_id AND m.article_id = l.article_id)`.execute(db)
    expect(drift.rows[0]?.n).toBe(0)
    expect((await db.selectFrom('stockMovements').select('id').execute()).length).toBeGreaterThan(0)
    // ordered packs of every contract line = packs on its live PO lines (closed ones count what was received)
    const caps = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM contract_lines cl
      WHERE cl.ordered_packs <> (
        SELECT coalesce(sum(CASE WHEN po.status IN ('CLOSED', 'INVOICED', 'ARCHIVED') THEN least(pl.packs_ordered, coalesce(pl.packs_received, 0)) ELSE pl.packs_ordered END), 0)
        FROM purchase_order_lines pl JOIN purchase_orders po ON po.id = pl.purchase_order_id
        WHERE pl.contract_line_id = cl.id AND po.status NOT IN ('CANCELLED', 'DECLINED'))`.execute(db)
    expect(caps.rows[0]?.n).toBe(0)
  })

  it('shipped orders reference the delivery note their supplier uploaded, received ones the signed note of their station: real PDFs', async () => {
    const { rows } = await sql<{ number: string, status: string, note: string | null, noteType: string | null, noteOrg: string | null, signed: string | null, signedType: string | null, signedOrg: string | null, stationId: string, supplierId: string }>`
      SELECT po.number, po.status, po.station_id, po.supplier_id,
        n.id AS note, n.type AS note_type, n.organization_id AS note_org, s.id AS signed, s.type AS signed_type, s.organization_id AS signed_org
      FROM purchase_orders po LEFT JOIN documents n ON n.id = po.delivery_note_doc_id LEFT JOIN documents s ON s.id = po.signed_note_doc_id
      WHERE po.shipped_at IS NOT NULL`.execute(handle.db)
    expect(rows.length).toBeGreaterThanOrEqual(3)
    for (const r of rows) {
      expect(r, r.number).toMatchObject({ noteType: 'DELIVERY_NOTE', noteOrg: r.supplierId })
      if (r.status !== 'SHIPPED') expect(r, r.number).toMatchObject({ signedType: 'SIGNED_DELIVERY_NOTE', signedOrg: r.stationId })
    }
    const docs = await sql<{ head: string, size: number, sizeBytes: number, sha256: string, digest: string }>`
      SELECT convert_from(substring(c.data FROM 1 FOR 5), 'LATIN1') AS head, length(c.data) AS size, d.size_bytes, d.sha256, encode(sha256(c.data), 'hex') AS digest
      FROM documents d JOIN document_chunks c ON c.blob_key = d.storage_key::uuid AND c.seq = 0 WHERE d.storage = 'pg'`.execute(handle.db)
    expect(docs.rows.length).toBeGreaterThanOrEqual(rows.length)
    for (const d of docs.rows) expect(d).toMatchObject({ head: '%PDF-', size: d.sizeBytes, sha256: d.digest })
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM document_staging`.execute(handle.db)).rows[0]?.n).toBe(0)
  })
})
