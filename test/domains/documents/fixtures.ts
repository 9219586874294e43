// Shared pieces of the document tests: parties, uploads through HTTP, bare orders and transfers to
// attach documents to, and what the storage tables hold.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import type { App } from '../../../src/lib/route.js'
import type { Role } from '../../../src/lib/permissions.js'
import { bearer, tokenFor } from '../../helpers/app.js'
import { createStation, createSupplier, createUser, uniq } from '../../helpers/factories.js'
import { TINY_PDF, uploadForm } from '../../helpers/multipart.js'

export interface Party { role: Role, userId: string, organizationId: string, token: string }

export async function party (app: App, role: Role, organizationId?: string): Promise<Party> {
  const org = organizationId ?? (role === 'STATION' ? (await createStation(app.db)).id : role === 'SUPPLIER' ? (await createSupplier(app.db)).id : undefined)
  const u = await createUser(app.db, role, org)
  return { role, userId: u.userId, organizationId: u.organizationId, token: tokenFor(app, u) }
}

export async function upload (app: App, who: Party, opts: { type?: string, data?: Buffer, filename?: string, contentType?: string, headers?: Record<string, string> } = {}) {
  const form = uploadForm(opts.type ?? 'DELIVERY_NOTE', opts.data ?? TINY_PDF, opts.filename, opts.contentType)
  return await app.inject({ method: 'POST', url: '/v1/documents', headers: { ...bearer(who.token), ...form.headers, ...opts.headers }, payload: form.payload })
}

export async function uploaded (app: App, who: Party, opts: Parameters<typeof upload>[2] = {}): Promise<{ id: string, sha256: string, sizeBytes: number, mediaType: string, type: string }> {
  const res = await upload(app, who, opts)
  if (res.statusCode !== 201) throw new Error(`upload: ${res.statusCode} ${res.body}`)
  return res.json()
}

export async function read (app: App, who: Party, url: string, headers: Record<string, string> = {}) {
  return await app.inject({ method: 'GET', url, headers: { ...bearer(who.token), ...headers } })
}

/** A bare purchase order of `stationId` with `supplierId` (and its cart and master order), no lines. */
export async function bareOrder (app: App, stationId: string, supplierId: string): Promise<string> {
  const [cartId, moId, poId] = [randomUUID(), randomUUID(), randomUUID()]
  await sql`
    WITH c AS (INSERT INTO carts (id, station_id, status) VALUES (${cartId}::uuid, ${stationId}::uuid, 'CHECKED_OUT')),
    mo AS (INSERT INTO master_orders (id, number, station_id, cart_id, supplier_count, supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross)
           VALUES (${moId}::uuid, ${uniq('MO-')}, ${stationId}::uuid, ${cartId}::uuid, 1, 0, 0, 0, 0, 0, 0))
    INSERT INTO purchase_orders (id, number, master_order_id, station_id, supplier_id, supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross)
    VALUES (${poId}::uuid, ${uniq('PO-')}, ${moId}::uuid, ${stationId}::uuid, ${supplierId}::uuid, 0, 0, 0, 0, 0, 0)`.execute(app.db)
  return poId
}

/** A bare transfer from `sourceStationId` to `requestingStationId`. */
export async function bareTransfer (app: App, requestingStationId: string, sourceStationId: string): Promise<string> {
  const id = randomUUID()
  await sql`INSERT INTO transfers (id, number, requesting_station_id, source_station_id) VALUES (${id}::uuid, ${uniq('TR-')}, ${requestingStationId}::uuid, ${sourceStationId}::uuid)`.execute(app.db)
  return id
}

export interface StoredCounts { documents: number, blobs: number, chunks: number, staging: number }

export async function storedCounts (app: App): Promise<StoredCounts> {
  const { rows } = await sql<StoredCounts>`SELECT
      (SELECT count(*) FROM documents)::int AS documents, (SELECT count(*) FROM document_blobs)::int AS blobs,
      (SELECT count(*) FROM document_chunks)::int AS chunks, (SELECT count(*) FROM document_staging)::int AS staging`.execute(app.db)
  return rows[0] as StoredCounts
}

/**
 * The storage invariant: every stored object (pg backend) is referenced by a document or listed in
 * document_staging (where the sweep finds it). Returns the objects that are neither.
 */
export async function unaccountedBlobs (app: App): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM document_blobs b
    WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.storage = 'pg' AND d.storage_key = b.key::text)
      AND NOT EXISTS (SELECT 1 FROM document_staging s WHERE s.storage = 'pg' AND s.key = b.key::text)`.execute(app.db)
  return rows[0]?.n ?? -1
}
