// Migration 0013 on a database written before documents existed: order and transfer rows then held
// ids that name no document (ship and receive accepted any UUID). The migration changes no row: the
// key of a column holding such ids stays NOT VALID (every new write is checked, old rows keep moving
// through their workflow), the others are validated; once the dangling ids are dealt with,
// VALIDATE CONSTRAINT completes the key.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { sql } from 'kysely'
import { createDb, type DbHandle } from '../../src/db/index.js'
import { down, up } from '../../db/migrations/0013-document-references.js'
import { createDatabaseFromTemplate } from '../helpers/db.js'
import { createDocument, createStation, createSupplier, createUser, uniq } from '../helpers/factories.js'

let h: DbHandle
beforeAll(async () => {
  const url = await createDatabaseFromTemplate(`${inject('dbPrefix')}_doc_refs`)
  h = createDb({ connectionString: url, poolSize: 2, statementTimeoutMs: 30_000, connectTimeoutMs: 10_000 })
})
afterAll(async () => { await h.destroy() })

async function keys (): Promise<Record<string, boolean>> {
  const { rows } = await sql<{ name: string, valid: boolean }>`SELECT conname AS name, convalidated AS valid FROM pg_constraint WHERE conname LIKE '%\_doc\_fk' ORDER BY 1`.execute(h.db)
  return Object.fromEntries(rows.map(r => [r.name, r.valid]))
}

/** A bare purchase order (cart, master order, no lines) with `deliveryNote` as its delivery note id. */
async function orderWith (deliveryNote: string | null): Promise<string> {
  const [station, supplier] = [await createStation(h.db), await createSupplier(h.db)]
  const [cartId, moId, poId] = [randomUUID(), randomUUID(), randomUUID()]
  await sql`
    WITH c AS (INSERT INTO carts (id, station_id, status) VALUES (${cartId}::uuid, ${station.id}::uuid, 'CHECKED_OUT')),
    mo AS (INSERT INTO master_orders (id, number, station_id, cart_id, supplier_count, supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross)
           VALUES (${moId}::uuid, ${uniq('MO-')}, ${station.id}::uuid, ${cartId}::uuid, 1, 0, 0, 0, 0, 0, 0))
    INSERT INTO purchase_orders (id, number, master_order_id, station_id, supplier_id, status, delivery_note_doc_id, supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross)
    VALUES (${poId}::uuid, ${uniq('PO-')}, ${moId}::uuid, ${station.id}::uuid, ${supplier.id}::uuid, 'SHIPPED', ${deliveryNote}::uuid, 0, 0, 0, 0, 0, 0)`.execute(h.db)
  return poId
}

describe('migration 0013 (document foreign keys)', () => {
  it('on a fresh database all four keys are validated', async () => {
    expect(await keys()).toEqual({
      purchase_orders_delivery_note_doc_fk: true,
      purchase_orders_signed_note_doc_fk: true,
      transfers_delivery_note_doc_fk: true,
      transfers_signed_note_doc_fk: true
    })
  })

  it('over ids that name no document: changes no row, leaves that key NOT VALID yet enforced on new writes, validates the others; VALIDATE completes it once cleaned', async () => {
    await down(h.db)
    expect(await keys()).toEqual({})
    const legacy = randomUUID()
    const old = await orderWith(legacy)
    const supplier = await createSupplier(h.db)
    const uploader = await createUser(h.db, 'SUPPLIER', supplier.id)
    const real = (await createDocument(h.db, uploader, 'DELIVERY_NOTE')).id
    const fine = await orderWith(real)

    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    await up(h.db)
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^purchase_orders_delivery_note_doc_fk stay NOT VALID/), { code: 'DOCUMENT_REFERENCES_NOT_VALID' })
    warn.mockRestore()
    expect(await keys()).toEqual({
      purchase_orders_delivery_note_doc_fk: false,
      purchase_orders_signed_note_doc_fk: true,
      transfers_delivery_note_doc_fk: true,
      transfers_signed_note_doc_fk: true
    })
    const row = async (id: string) => (await sql<{ doc: string | null }>`SELECT delivery_note_doc_id AS doc FROM purchase_orders WHERE id = ${id}::uuid`.execute(h.db)).rows[0]?.doc
    expect(await row(old)).toBe(legacy)
    expect(await row(fine)).toBe(real)
    // the old order moves on (its reference untouched), a new dangling reference is refused
    await sql`UPDATE purchase_orders SET status = 'RECEIVED', version = version + 1 WHERE id = ${old}::uuid`.execute(h.db)
    await expect(orderWith(randomUUID())).rejects.toThrow(/purchase_orders_delivery_note_doc_fk/)
    await expect(sql`UPDATE purchase_orders SET delivery_note_doc_id = ${randomUUID()}::uuid WHERE id = ${fine}::uuid`.execute(h.db)).rejects.toThrow(/purchase_orders_delivery_note_doc_fk/)
    // a referenced document cannot be deleted
    await expect(sql`DELETE FROM documents WHERE id = ${real}::uuid`.execute(h.db)).rejects.toThrow(/purchase_orders_delivery_note_doc_fk/)

    await expect(sql`ALTER TABLE purchase_orders VALIDATE CONSTRAINT purchase_orders_delivery_note_doc_fk`.execute(h.db)).rejects.toThrow(/foreign key/)
    await sql`UPDATE purchase_orders SET delivery_note_doc_id = NULL WHERE id = ${old}::uuid`.execute(h.db)
    await sql`ALTER TABLE purchase_orders VALIDATE CONSTRAINT purchase_orders_delivery_note_doc_fk`.execute(h.db)
    expect(Object.values(await keys())).toEqual([true, true, true, true])
  })
})
