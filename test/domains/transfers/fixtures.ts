// Shared fixtures for the transfer tests: a small network (a requesting station, a source station,
// an uninvolved station, platform staff of every role, a supplier), articles with stock at the
// source, and helpers that drive a transfer through the workflow over HTTP.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { expect } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import type { Role } from '../../../src/lib/permissions.js'
import { applyStockDeltas } from '../../../src/domains/stock/stock.service.js'
import { bearer, tokenFor } from '../../helpers/app.js'
import { createArticle, createDocument, createStation, createSupplier, createUser } from '../../helpers/factories.js'

export interface Party { id: string, userId: string, token: string, role: Role }

export async function stationParty (app: App): Promise<Party> {
  const s = await createStation(app.db)
  const u = await createUser(app.db, 'STATION', s.id)
  return { id: s.id, userId: u.userId, role: 'STATION', token: tokenFor(app, { role: 'STATION', userId: u.userId, organizationId: s.id }) }
}

/** The documents a station uploaded: the delivery note it ships with, the signed note it receives with. */
export interface StationDocs { deliveryNote: string, signedNote: string }

const docsOf = new Map<string, StationDocs>()

/** Uploads (as the station's user) the two notes its side of a transfer references; bodyFor() uses them. */
export async function stationDocs (app: App, station: Party): Promise<StationDocs> {
  const known = docsOf.get(station.id)
  if (known !== undefined) return known
  const docs = {
    deliveryNote: (await createDocument(app.db, { userId: station.userId, role: 'STATION', organizationId: station.id }, 'DELIVERY_NOTE')).id,
    signedNote: (await createDocument(app.db, { userId: station.userId, role: 'STATION', organizationId: station.id }, 'SIGNED_DELIVERY_NOTE')).id
  }
  docsOf.set(station.id, docs)
  return docs
}

function docsOfStation (stationId: string): StationDocs {
  const docs = docsOf.get(stationId)
  if (docs === undefined) throw new Error(`station ${stationId} has no documents: make them with stationDocs() (network() does for req and src)`)
  return docs
}

export async function staffParty (app: App, role: 'ADMIN' | 'MANAGER' | 'HANDLER'): Promise<Party> {
  const u = await createUser(app.db, role)
  return { id: u.organizationId, userId: u.userId, role, token: tokenFor(app, { role, userId: u.userId }) }
}

export async function supplierParty (app: App): Promise<Party> {
  const s = await createSupplier(app.db)
  const u = await createUser(app.db, 'SUPPLIER', s.id)
  return { id: s.id, userId: u.userId, role: 'SUPPLIER', token: tokenFor(app, { role: 'SUPPLIER', userId: u.userId, organizationId: s.id }) }
}

export interface Network {
  req: Party
  src: Party
  other: Party
  admin: Party
  manager: Party
  handler: Party
  supplier: Party
  articles: string[]
}

/** The parties and `articleCount` articles, each with `stock` units at the source station. */
export async function network (app: App, opts: { articleCount?: number, stock?: number } = {}): Promise<Network> {
  const [req, src, other] = [await stationParty(app), await stationParty(app), await stationParty(app)]
  const [admin, manager, handler] = [await staffParty(app, 'ADMIN'), await staffParty(app, 'MANAGER'), await staffParty(app, 'HANDLER')]
  const supplier = await supplierParty(app)
  const articles: string[] = []
  for (let i = 0; i < (opts.articleCount ?? 2); i++) articles.push((await createArticle(app.db)).id)
  if ((opts.stock ?? 0) > 0) await giveStock(app, src.id, articles, opts.stock ?? 0)
  await stationDocs(app, req)
  await stationDocs(app, src)
  return { req, src, other, admin, manager, handler, supplier, articles }
}

/** Opening stock through the stock service (an ADJUSTMENT movement per article), so Σ movements = quantity. */
export async function giveStock (app: App, stationId: string, articleIds: readonly string[], units: number): Promise<void> {
  const actor = { userId: randomUUID(), role: 'HANDLER' as const, organizationId: '00000000-0000-7000-8000-000000000001', organizationKind: 'PLATFORM' as const }
  await app.db.transaction().execute(async trx => {
    await applyStockDeltas(trx, actor, stationId, articleIds.map(articleId => ({ articleId, delta: units })), { reason: 'ADJUSTMENT', refType: 'TEST', refId: randomUUID() })
  })
}

export async function quantity (app: App, stationId: string, articleId: string): Promise<number> {
  const row = await app.db.selectFrom('stockLevels').select('quantity').where('stationId', '=', stationId).where('articleId', '=', articleId).executeTakeFirst()
  return row?.quantity ?? 0
}

/** For every (station, article) of these stations: quantity and Σ movements (invariant 8). */
export async function ledger (app: App, stationIds: readonly string[]): Promise<Array<{ stationId: string, articleId: string, quantity: number, moved: number }>> {
  const { rows } = await sql<{ stationId: string, articleId: string, quantity: number, moved: number }>`
    SELECT l.station_id, l.article_id, l.quantity,
      (SELECT coalesce(sum(m.delta), 0)::int FROM stock_movements m WHERE m.station_id = l.station_id AND m.article_id = l.article_id) AS moved
    FROM stock_levels l WHERE l.station_id = ANY(${stationIds}::uuid[]) ORDER BY 1, 2`.execute(app.db)
  return rows
}

export function expectLedgerBalanced (rows: Awaited<ReturnType<typeof ledger>>): void {
  for (const r of rows) {
    expect(r.quantity, `station ${r.stationId} article ${r.articleId}`).toBeGreaterThanOrEqual(0)
    expect(r.moved, `Σ movements of station ${r.stationId} article ${r.articleId}`).toBe(r.quantity)
  }
}

export async function createTransfer (app: App, token: string, body: object, headers: Record<string, string> = {}) {
  return await app.inject({ method: 'POST', url: '/v1/transfers', headers: { ...bearer(token), ...headers }, payload: body })
}

export async function act (app: App, token: string, id: string, verb: string, body: object = {}, headers: Record<string, string> = {}) {
  return await app.inject({ method: 'POST', url: `/v1/transfers/${id}/${verb}`, headers: { ...bearer(token), ...headers }, payload: body })
}

export async function get (app: App, token: string, url: string, headers: Record<string, string> = {}) {
  return await app.inject({ method: 'GET', url, headers: { ...bearer(token), ...headers } })
}

export interface TransferLine { id: string, articleId: string, unitsRequested: number, unitsGranted: number | null, unitsShipped: number | null, unitsReceived: number | null, unitsInTransit: number, unitsLost: number }
export interface TransferJson { id: string, number: string, status: string, version: number, requestingStationId: string, sourceStationId: string, lines: TransferLine[], totals: Record<string, number | null> }

/** A REQUESTED transfer from `n.req` to `n.src`, requested by the requesting station's user. */
export async function requested (app: App, n: Network, units: number | number[] = 10): Promise<TransferJson> {
  const per = Array.isArray(units) ? units : n.articles.map(() => units)
  const res = await createTransfer(app, n.req.token, { sourceStationId: n.src.id, lines: per.map((u, i) => ({ articleId: n.articles[i], units: u })), reason: 'peak week' })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

/**
 * A body for `verb` that is valid for `t` in the state the verb leaves (granted = requested,
 * received = shipped); ship references the source station's delivery note, receive the requesting
 * station's signed note (each uploaded by that station: its own, so it may reference it).
 */
export function bodyFor (verb: string, t: TransferJson): object {
  switch (verb) {
    case 'confirm': return { lines: t.lines.map(l => ({ lineId: l.id, unitsGranted: l.unitsRequested })) }
    case 'reject': return { reason: 'we need it ourselves' }
    case 'cancel': return { reason: 'found another way' }
    case 'prepare': return { note: 'truck booked' }
    case 'ship': return { deliveryNoteDocumentId: docsOfStation(t.sourceStationId).deliveryNote }
    case 'receive': return { signedDeliveryNoteDocumentId: docsOfStation(t.requestingStationId).signedNote, lines: t.lines.map(l => ({ lineId: l.id, unitsReceived: l.unitsShipped ?? 0 })) }
    case 'settle': return { settlementRef: `AV-${t.number}`, settlementAmount: '125.40' }
    default: return {}
  }
}

/** The verbs that take a REQUESTED transfer to each status. */
export const PATH_TO: Record<string, string[]> = {
  REQUESTED: [],
  CONFIRMED: ['confirm'],
  REJECTED: ['reject'],
  CANCELLED: ['cancel'],
  IN_PREPARATION: ['confirm', 'prepare'],
  SHIPPED: ['confirm', 'prepare', 'ship'],
  RECEIVED: ['confirm', 'prepare', 'ship', 'receive'],
  CLOSED: ['confirm', 'prepare', 'ship', 'receive', 'close'],
  SETTLED: ['confirm', 'prepare', 'ship', 'receive', 'close', 'settle'],
  ARCHIVED: ['confirm', 'prepare', 'ship', 'receive', 'close', 'settle', 'archive']
}

/** A transfer driven to `status` through the API by platform staff (acting for both stations). */
export async function transferIn (app: App, n: Network, status: string, units: number | number[] = 10): Promise<TransferJson> {
  let t = await requested(app, n, units)
  for (const verb of PATH_TO[status] ?? []) {
    const res = await act(app, n.handler.token, t.id, verb, bodyFor(verb, t))
    expect(res.statusCode, `${verb}: ${res.body}`).toBe(200)
    t = res.json()
  }
  expect(t.status).toBe(status)
  return t
}

/** The delivery note the network's source station uploaded (what its ship references). */
export const noteOf = (n: Network): string => docsOfStation(n.src.id).deliveryNote
/** The signed note the network's requesting station uploaded (what its receive references). */
export const signedNoteOf = (n: Network): string => docsOfStation(n.req.id).signedNote
