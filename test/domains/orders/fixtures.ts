// Shared fixtures for the cart and order tests: a station with its user, suppliers with their
// users, articles with offers, and helpers to fill a cart and check it out through HTTP.
import { randomUUID } from 'node:crypto'
import type { App } from '../../../src/lib/route.js'
import { bearer, tokenFor } from '../../helpers/app.js'
import { createArticle, createDocument, createOffer, createStation, createSupplier, createUser } from '../../helpers/factories.js'

export const FAR_DATE = '2099-06-30'

export interface Party { id: string, token: string, userId: string }

export async function station (app: App): Promise<Party> {
  const s = await createStation(app.db)
  const u = await createUser(app.db, 'STATION', s.id)
  return { id: s.id, userId: u.userId, token: tokenFor(app, { role: 'STATION', userId: u.userId, organizationId: s.id }) }
}

export async function supplier (app: App): Promise<Party> {
  const s = await createSupplier(app.db)
  const u = await createUser(app.db, 'SUPPLIER', s.id)
  return { id: s.id, userId: u.userId, token: tokenFor(app, { role: 'SUPPLIER', userId: u.userId, organizationId: s.id }) }
}

export async function staff (app: App, role: 'ADMIN' | 'MANAGER' | 'HANDLER' = 'HANDLER'): Promise<Party> {
  const u = await createUser(app.db, role)
  return { id: u.organizationId, userId: u.userId, token: tokenFor(app, { role, userId: u.userId }) }
}

export async function offeredArticle (app: App, supplierId: string, over: Parameters<typeof createOffer>[3] & { vatRate?: string } = {}): Promise<{ articleId: string, offerId: string }> {
  const a = await createArticle(app.db, { vatRate: over.vatRate ?? '20.00' })
  const o = await createOffer(app.db, a.id, supplierId, over)
  return { articleId: a.id, offerId: o.id }
}

export async function addLine (app: App, token: string, stationId: string, body: { articleId: string, supplierId: string, packs: number, desiredDeliveryDate?: string, note?: string | null }) {
  return await app.inject({
    method: 'POST',
    url: `/v1/stations/${stationId}/cart/lines`,
    headers: bearer(token),
    payload: { desiredDeliveryDate: FAR_DATE, ...body }
  })
}

export async function checkout (app: App, token: string, stationId: string, key: string = randomUUID(), body: object = {}) {
  return await app.inject({ method: 'POST', url: `/v1/stations/${stationId}/cart/checkout`, headers: { ...bearer(token), 'idempotency-key': key }, payload: body })
}

export async function act (app: App, token: string, poId: string, verb: string, body: object = {}, headers: Record<string, string> = {}) {
  return await app.inject({ method: 'POST', url: `/v1/purchase-orders/${poId}/${verb}`, headers: { ...bearer(token), ...headers }, payload: body })
}

export async function get (app: App, token: string, url: string, headers: Record<string, string> = {}) {
  return await app.inject({ method: 'GET', url, headers: { ...bearer(token), ...headers } })
}

export interface PlacedOrder {
  st: Party
  sup: Party
  moId: string
  poId: string
  lineIds: string[]
  articleIds: string[]
  /** the documents its ship and receive reference (advance() makes them when absent) */
  docs?: OrderDocs
}

/** What a PO's ship and receive reference: a DELIVERY_NOTE and a SIGNED_DELIVERY_NOTE. */
export interface OrderDocs { deliveryNote: string, signedNote: string }

const uploads = new Map<string, Promise<{ id: string }>>()

/** A document of `type` uploaded by `who` (once per user and type: a document may be referenced again). */
export async function documentOf (app: App, who: Party, role: 'STATION' | 'SUPPLIER' | 'HANDLER' | 'ADMIN' | 'MANAGER', type: 'DELIVERY_NOTE' | 'SIGNED_DELIVERY_NOTE' | 'INVOICE'): Promise<string> {
  const key = `${who.userId}:${type}`
  let doc = uploads.get(key)
  if (doc === undefined) {
    doc = createDocument(app.db, { userId: who.userId, role, organizationId: who.id }, type)
    uploads.set(key, doc)
  }
  return (await doc).id
}

/**
 * The supplier's delivery note and the station's signed note, as in real life: each side uploads
 * its own (and reads it), the other side may read it once the PO references it, staff read all.
 */
export async function orderDocs (app: App, st: Party, sup: Party): Promise<OrderDocs> {
  return { deliveryNote: await documentOf(app, sup, 'SUPPLIER', 'DELIVERY_NOTE'), signedNote: await documentOf(app, st, 'STATION', 'SIGNED_DELIVERY_NOTE') }
}

/** A station's checkout of `lines` packs from one supplier (catalog prices) → its one PO. */
export async function placeOrder (app: App, packs: number[] = [10], parties: { st?: Party, sup?: Party } = {}): Promise<PlacedOrder> {
  const st = parties.st ?? await station(app)
  const sup = parties.sup ?? await supplier(app)
  const articleIds: string[] = []
  for (const p of packs) {
    const { articleId } = await offeredArticle(app, sup.id, { unitsPerPack: 10 })
    articleIds.push(articleId)
    const r = await addLine(app, st.token, st.id, { articleId, supplierId: sup.id, packs: p })
    if (r.statusCode !== 201) throw new Error(r.body)
  }
  const res = await checkout(app, st.token, st.id)
  if (res.statusCode !== 201) throw new Error(res.body)
  const mo = res.json()
  const po = mo.purchaseOrders[0]
  return { st, sup, moId: mo.id, poId: po.id, lineIds: po.lines.map((l: { id: string }) => l.id), articleIds, docs: await orderDocs(app, st, sup) }
}

/** A valid body for `verb` on the order (ship and receive reference its documents). */
export function bodyFor (verb: string, o: { lineIds: string[], docs?: OrderDocs }, packs?: number[]): object {
  const docs = (): OrderDocs => {
    if (o.docs === undefined) throw new Error(`bodyFor('${verb}') needs the order's documents (placeOrder or orderDocs)`)
    return o.docs
  }
  switch (verb) {
    case 'confirm': return { lines: o.lineIds.map(lineId => ({ lineId, confirmedDeliveryDate: '2099-06-01' })) }
    case 'decline':
    case 'cancel': return { reason: 'test reason' }
    case 'ship': return { carrier: 'Geodis', trackingNumber: 'T-1', deliveryNoteDocumentId: docs().deliveryNote }
    case 'receive': return { signedDeliveryNoteDocumentId: docs().signedNote, lines: o.lineIds.map((lineId, i) => ({ lineId, packsReceived: packs?.[i] ?? 10 })) }
    case 'invoice': return { invoiceNumber: 'INV-1', invoiceDate: '2099-07-01' }
    default: return {}
  }
}

/** Drives a PO through `verbs` as platform staff; throws on the first failure. */
export async function advance (app: App, token: string, o: PlacedOrder, verbs: string[], packs?: number[]): Promise<void> {
  const docs = o.docs ?? (verbs.includes('ship') || verbs.includes('receive') ? await orderDocs(app, o.st, o.sup) : undefined)
  for (const verb of verbs) {
    const r = await act(app, token, o.poId, verb, bodyFor(verb, { lineIds: o.lineIds, docs }, packs))
    if (r.statusCode !== 200) throw new Error(`${verb}: ${r.body}`)
  }
}

/** Every key of a JSON value, at any depth. */
export function keysDeep (v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const x of v) keysDeep(x, out)
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) { out.add(k); keysDeep(x, out) }
  }
  return out
}

/** The transitions that take a PLACED purchase order to each status. */
export const PATH_TO: Record<string, string[]> = {
  PLACED: [],
  CONFIRMED: ['confirm'],
  SHIPPED: ['confirm', 'ship'],
  RECEIVED: ['confirm', 'ship', 'receive'],
  CLOSED: ['confirm', 'ship', 'receive', 'close'],
  INVOICED: ['confirm', 'ship', 'receive', 'close', 'invoice'],
  ARCHIVED: ['confirm', 'ship', 'receive', 'close', 'invoice', 'archive'],
  CANCELLED: ['cancel'],
  DECLINED: ['decline']
}

export interface MultiSupplierOrder {
  st: Party
  sups: Party[]
  mo: { id: string, purchaseOrders: Array<{ id: string, supplierId: string, lines: Array<{ id: string }> }> }
}

/** A station's master order over `suppliers` new suppliers, one 1-pack line each. */
export async function multiSupplierOrder (app: App, suppliers = 2): Promise<MultiSupplierOrder> {
  const st = await station(app)
  const sups: Party[] = []
  for (let i = 0; i < suppliers; i++) {
    const sup = await supplier(app)
    sups.push(sup)
    const { articleId } = await offeredArticle(app, sup.id)
    await addLine(app, st.token, st.id, { articleId, supplierId: sup.id, packs: 1 })
  }
  return { st, sups, mo: (await checkout(app, st.token, st.id)).json() }
}
