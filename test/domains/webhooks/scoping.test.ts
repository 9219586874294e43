// Each organization receives only the events about its own rows (PRODUCT.md §10, §14.9): a supplier
// its purchase orders and contracts, a station its orders, transfers and stock alerts, platform
// staff everything. The events are produced by the real workflows (checkout, every purchase-order
// and transfer step, contract transitions, the expiry sweep, a threshold that makes a level low),
// dispatched, and then checked per event type: whom the emitting domain addressed, whom the feed
// lists it for (outbox_recipients), which subscriptions got a delivery, and which callers read it
// in GET /v1/events — the parties and platform staff, never an uninvolved station or supplier.
// No worker runs: the deliveries are created and never sent (the URLs are public addresses that
// nothing contacts).
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expireContracts } from '../../../src/domains/contracts/contracts.service.js'
import { EVENT_TYPES } from '../../../src/domains/events/events.catalogue.js'
import { dispatchOutbox } from '../../../src/domains/webhooks/dispatcher.js'
import { PLATFORM_ORGANIZATION_ID, type Role } from '../../../src/lib/permissions.js'
import type { App } from '../../../src/lib/route.js'
import { bearer, createTestApp } from '../../helpers/app.js'
import { createContract, uniq } from '../../helpers/factories.js'
import { TINY_PDF, uploadForm } from '../../helpers/multipart.js'
import { Scene } from '../../helpers/route-requests.js'
import { clearWebhooks } from './fixtures.js'

const FAR = '2099-06-30'

let app: App
let a: Scene
let b: Scene
let c: Scene
let outsider: Scene
const subscriptionOf = new Map<string, string>() // organization → subscription
let events: Array<{ id: number, type: string, organizationIds: string[], payload: Record<string, string> }> = []

async function call (scene: Scene, role: Role, method: 'POST' | 'PATCH', url: string, payload: object, status = 200): Promise<Record<string, unknown>> {
  const res = await app.inject({ method, url, headers: bearer(scene.callers[role].token), payload })
  if (res.statusCode !== status) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`)
  return res.json()
}

/** Who must receive an event, from what it is about (its payload). */
function parties (type: string, p: Record<string, string>): string[] {
  if (type.startsWith('purchase_order.')) return [p.stationId!, p.supplierId!]
  if (type === 'master_order.created') return [p.stationId!]
  if (type.startsWith('contract.')) return [p.supplierId!]
  if (type.startsWith('transfer.')) return [p.requestingStationId!, p.sourceStationId!]
  if (type === 'stock.low') return [p.stationId!]
  throw new Error(`no rule for ${type}`)
}

/** A document uploaded by the scene's HANDLER (staff may attach it to anyone's order or transfer). */
async function document (scene: Scene, type: 'DELIVERY_NOTE' | 'SIGNED_DELIVERY_NOTE'): Promise<string> {
  const form = uploadForm(type, TINY_PDF)
  const res = await app.inject({ method: 'POST', url: '/v1/documents', headers: { ...bearer(scene.callers.HANDLER.token), ...form.headers }, payload: form.payload })
  if (res.statusCode !== 201) throw new Error(`document: ${res.body}`)
  return (res.json() as { id: string }).id
}

/** The scene's station orders its article from its supplier; the purchase order goes through `verbs`. */
async function order (scene: Scene, verbs: Array<[string, Role]>): Promise<void> {
  await call(scene, 'STATION', 'POST', `/v1/stations/${scene.stationId}/cart/lines`, { articleId: scene.articleId, supplierId: scene.supplierId, packs: 5, desiredDeliveryDate: FAR }, 201)
  const res = await app.inject({ method: 'POST', url: `/v1/stations/${scene.stationId}/cart/checkout`, headers: { ...bearer(scene.callers.STATION.token), 'idempotency-key': uniq() }, payload: {} })
  if (res.statusCode !== 201) throw new Error(`checkout: ${res.body}`)
  const po = (res.json() as { purchaseOrders: Array<{ id: string, lines: Array<{ id: string }> }> }).purchaseOrders[0]!
  const lineIds = po.lines.map(l => l.id)
  for (const [verb, role] of verbs) {
    const body: Record<string, object> = {
      confirm: { lines: lineIds.map(lineId => ({ lineId, confirmedDeliveryDate: FAR })) },
      decline: { reason: 'out of stock' },
      cancel: { reason: 'ordered twice' },
      ship: { carrier: 'Geodis', trackingNumber: 'T-1', deliveryNoteDocumentId: await document(scene, 'DELIVERY_NOTE') },
      receive: { signedDeliveryNoteDocumentId: await document(scene, 'SIGNED_DELIVERY_NOTE'), lines: lineIds.map(lineId => ({ lineId, packsReceived: 5 })) },
      invoice: { invoiceNumber: `INV-${uniq()}`, invoiceDate: FAR }
    }
    await call(scene, role, 'POST', `/v1/purchase-orders/${po.id}/${verb}`, body[verb] ?? {})
  }
}

async function transfer (requesting: Scene, source: Scene, verbs: string[]): Promise<void> {
  await sql`WITH l AS (INSERT INTO stock_levels (station_id, article_id, quantity) VALUES (${source.stationId}::uuid, ${requesting.articleId}::uuid, 50)
      ON CONFLICT (station_id, article_id) DO UPDATE SET quantity = stock_levels.quantity + 50 RETURNING station_id, article_id)
    INSERT INTO stock_movements (station_id, article_id, delta, reason) SELECT station_id, article_id, 50, 'ADJUSTMENT' FROM l`.execute(app.db)
  const t = await call(requesting, 'HANDLER', 'POST', '/v1/transfers', { requestingStationId: requesting.stationId, sourceStationId: source.stationId, lines: [{ articleId: requesting.articleId, units: 5 }] }, 201) as { id: string, lines: Array<{ id: string }> }
  const lineIds = t.lines.map(l => l.id)
  for (const verb of verbs) {
    const bodies: Record<string, object> = {
      confirm: { lines: lineIds.map(lineId => ({ lineId, unitsGranted: 5 })) },
      reject: { reason: 'not now' },
      ship: verb === 'ship' ? { deliveryNoteDocumentId: await document(requesting, 'DELIVERY_NOTE') } : {},
      receive: verb === 'receive' ? { signedDeliveryNoteDocumentId: await document(requesting, 'SIGNED_DELIVERY_NOTE'), lines: lineIds.map(lineId => ({ lineId, unitsReceived: 5 })) } : {},
      settle: { settlementRef: 'AV-1', settlementAmount: '10.00' }
    }
    await call(requesting, 'HANDLER', 'POST', `/v1/transfers/${t.id}/${verb}`, bodies[verb] ?? {})
  }
}

beforeAll(async () => {
  await clearWebhooks()
  app = await createTestApp()
  ;[a, b, c, outsider] = await Promise.all([Scene.create(app), Scene.create(app), Scene.create(app), Scene.create(app)])
  // every station and supplier (the outsider's too) and the platform subscribe to everything
  for (const [scene, role] of [a, b, c, outsider].flatMap(s => [[s, 'STATION'], [s, 'SUPPLIER']] as Array<[Scene, Role]>).concat([[a, 'ADMIN']])) {
    const w = await call(scene, role, 'POST', '/v1/webhooks', { url: 'https://203.0.114.10/hooks', events: [...EVENT_TYPES] }, 201) as { id: string, organizationId: string }
    subscriptionOf.set(w.organizationId, w.id)
  }
  const before = (await sql<{ id: number }>`SELECT coalesce(max(id), 0)::bigint AS id FROM outbox_events`.execute(app.db)).rows[0]!.id

  // purchase orders: the whole lifecycle on a's, declined on b's, cancelled on c's
  await order(a, ['confirm', 'ship', 'receive', 'close', 'invoice', 'archive'].map(v => [v, 'HANDLER'] as [string, Role]))
  await order(b, [['decline', 'SUPPLIER']])
  await order(c, [['cancel', 'STATION']])
  // contracts of a's supplier: approved, suspended, resumed, renewed, terminated; b's expires
  const draft = await createContract(app.db, a.supplierId, [{ articleId: a.articleId, packPrice: '9.0000' }], { status: 'DRAFT', validFrom: '2030-01-01', validUntil: '2030-12-31' })
  await call(a, 'ADMIN', 'POST', `/v1/contracts/${draft.id}/approve`, {})
  await call(a, 'MANAGER', 'POST', `/v1/contracts/${draft.id}/suspend`, { reason: 'audit' })
  await call(a, 'MANAGER', 'POST', `/v1/contracts/${draft.id}/resume`, {})
  await call(a, 'MANAGER', 'POST', `/v1/contracts/${draft.id}/renew`, {}, 201)
  await call(a, 'MANAGER', 'POST', `/v1/contracts/${draft.id}/terminate`, { reason: 'replaced' })
  await createContract(app.db, b.supplierId, [{ articleId: b.articleId, packPrice: '9.0000' }], { status: 'ACTIVE', validFrom: '2020-01-01', validUntil: '2020-12-31' })
  await expireContracts(app.db)
  // transfers between a (requesting) and c (source): through every step, rejected, cancelled
  await transfer(a, c, ['confirm', 'prepare', 'ship', 'receive', 'close', 'settle', 'archive'])
  await transfer(a, c, ['reject'])
  await transfer(c, a, ['cancel'])
  // a threshold raised above b's level of 50: stock.low
  await sql`WITH l AS (INSERT INTO stock_levels (station_id, article_id, quantity) VALUES (${b.stationId}::uuid, ${b.articleId}::uuid, 50) RETURNING station_id, article_id)
    INSERT INTO stock_movements (station_id, article_id, delta, reason) SELECT station_id, article_id, 50, 'ADJUSTMENT' FROM l`.execute(app.db)
  await call(b, 'STATION', 'PATCH', `/v1/stations/${b.stationId}/stock/${b.articleId}`, { alertThreshold: 100, criticalThreshold: 10 })

  await dispatchOutbox(app.db)
  const ours = [a, b, c].flatMap(s => [s.stationId, s.supplierId])
  events = (await sql<{ id: number, type: string, organizationIds: string[], payload: Record<string, string> }>`
    SELECT id, type, organization_ids, payload FROM outbox_events WHERE id > ${before} AND organization_ids && ${ours}::uuid[] ORDER BY id`.execute(app.db)).rows
}, 120_000)

afterAll(async () => {
  await sql`DELETE FROM webhook_subscriptions`.execute(app.db)
  await app?.close()
})

describe.each(EVENT_TYPES.filter(t => t !== 'webhook.disabled'))('%s', (type) => {
  it('reaches exactly its parties (and platform staff), by webhook and in the feed', async () => {
    const mine = events.filter(e => e.type === type)
    expect(mine.length, `the workflows produced no ${type}`).toBeGreaterThan(0)
    for (const e of mine) {
      const expected = [...new Set(parties(type, e.payload))].sort()
      // addressed by the emitting domain
      expect([...e.organizationIds].sort()).toEqual(expected)
      // listed in the feed for them only
      const recipients = await sql<{ org: string }>`SELECT r.organization_id AS org FROM outbox_recipients r JOIN outbox_events x ON x.seq = r.seq WHERE x.id = ${e.id}`.execute(app.db)
      expect(recipients.rows.map(r => r.org).sort()).toEqual(expected)
      // a delivery for their subscriptions and the platform's, none for anyone else's
      const delivered = await sql<{ org: string }>`SELECT s.organization_id AS org FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE d.event_id = ${e.id}`.execute(app.db)
      expect(delivered.rows.map(r => r.org).sort()).toEqual([...expected, PLATFORM_ORGANIZATION_ID].sort())
    }
    // the feed, as each caller reads it
    const readers: Array<[Scene, Role]> = [a, b, c, outsider].flatMap(s => [[s, 'STATION'], [s, 'SUPPLIER']] as Array<[Scene, Role]>)
    for (const [scene, role] of readers) {
      const res = await app.inject({ method: 'GET', url: `/v1/events?type=${type}&limit=200`, headers: bearer(scene.callers[role].token) })
      expect(res.statusCode, res.body).toBe(200)
      const seen = new Set((res.json().items as Array<{ id: number }>).map(i => i.id))
      const org = scene.callers[role].organizationId
      for (const e of mine) expect(seen.has(e.id), `${role} of ${org} reading ${type} ${e.id}`).toBe(e.organizationIds.includes(org))
    }
    for (const role of ['ADMIN', 'MANAGER', 'HANDLER'] as const) {
      const res = await app.inject({ method: 'GET', url: `/v1/events?type=${type}&limit=200&after=${Math.min(...await seqs(mine)) - 1}`, headers: bearer(a.callers[role].token) })
      const seen = new Set((res.json().items as Array<{ id: number }>).map(i => i.id))
      for (const e of mine) expect(seen.has(e.id), `${role} reading ${type} ${e.id}`).toBe(true)
    }
  })
})

async function seqs (rows: Array<{ id: number }>): Promise<number[]> {
  const r = await sql<{ seq: number }>`SELECT seq FROM outbox_events WHERE id = ANY(${rows.map(x => x.id)}::bigint[])`.execute(app.db)
  return r.rows.map(x => x.seq)
}

describe('the catalogue', () => {
  it('is exactly what the workflows emit (and webhook.disabled, emitted by the delivery worker)', () => {
    expect([...new Set(events.map(e => e.type))].sort()).toEqual(EVENT_TYPES.filter(t => t !== 'webhook.disabled').sort())
  })
})

describe('the uninvolved organizations', () => {
  it('got no delivery and read none of these events', async () => {
    for (const org of [outsider.stationId, outsider.supplierId]) {
      const n = await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = ${subscriptionOf.get(org)!}::uuid`.execute(app.db)
      expect(n.rows[0]!.n).toBe(0)
    }
    for (const role of ['STATION', 'SUPPLIER'] as const) {
      const res = await app.inject({ method: 'GET', url: '/v1/events?limit=200', headers: bearer(outsider.callers[role].token) })
      expect(res.json().items).toEqual([])
    }
  })
})
