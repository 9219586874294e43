// A request that succeeds for every route of the route table, for the guards that grow with the
// app (Content-Type on every answer, the access matrix). Each call gets a fresh scene — a
// station and a supplier with one user of every role, an article offered by the supplier — so a
// mutation never depends on, or spoils, what another call did. Routes are matched by method and
// path; a route added later without an entry here still gets a request: its ids are taken from
// the scene by the path segment before each parameter, its body is the OpenAPI example of its
// operation. Such a request may well be refused (a 4xx), which the guards still check for its
// problem format; the entries below exist so every current route is also called successfully.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import type { InjectOptions } from 'fastify'
import type { App } from '../../src/lib/route.js'
import { kindForRole, PLATFORM_ORGANIZATION_ID, ROLES, type Role } from '../../src/lib/permissions.js'
import { bearer, tokenFor } from './app.js'
import { createArticle, createContract, createStation, createUser, TEST_PASSWORD, testPasswordHash, uniq } from './factories.js'
import { TINY_PDF, uploadForm } from './multipart.js'

export type RouteEntry = App['routeTable'][number]

export interface Caller { role: Role, userId: string, organizationId: string, email: string, token: string }

const FAR = '2099-06-30'

/** The rows one call works on. Pieces that cost more than a few inserts are built on first use. */
export class Scene {
  readonly app: App
  readonly stationId: string
  readonly supplierId: string
  readonly groupId: string
  readonly articleId: string
  readonly offerId: string
  readonly callers: Record<Role, Caller>
  private readonly memo = new Map<string, Promise<unknown>>()

  private constructor (app: App, ids: { stationId: string, supplierId: string, groupId: string, articleId: string, offerId: string }, callers: Record<Role, Caller>) {
    this.app = app
    this.stationId = ids.stationId
    this.supplierId = ids.supplierId
    this.groupId = ids.groupId
    this.articleId = ids.articleId
    this.offerId = ids.offerId
    this.callers = callers
  }

  /** One statement (the matrix builds hundreds of scenes): group, station, supplier and its site, article, offer, a user of every role. */
  static async create (app: App): Promise<Scene> {
    const [groupId, stationId, supplierId, articleId, offerId] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()]
    const code = uniq('ST-')
    const hash = await testPasswordHash()
    const users = ROLES.map(role => ({ role, userId: randomUUID(), organizationId: role === 'STATION' ? stationId : role === 'SUPPLIER' ? supplierId : PLATFORM_ORGANIZATION_ID, kind: kindForRole(role), email: `${role.toLowerCase()}-${uniq().toLowerCase()}@scene.example` }))
    await sql`
      WITH g AS (INSERT INTO station_groups (id, name, is_active) VALUES (${groupId}::uuid, ${`Group ${code}`}, true)),
      o AS (INSERT INTO organizations (id, kind, name, is_active) VALUES (${stationId}::uuid, 'STATION', ${`Station ${code}`}, true), (${supplierId}::uuid, 'SUPPLIER', ${`Supplier ${code}`}, true)),
      st AS (INSERT INTO stations (id, code, name, group_id, address_line1, postal_code, city, is_active) VALUES (${stationId}::uuid, ${code}, ${`Station ${code}`}, ${groupId}::uuid, '1 rue des Vergers', '49000', 'Angers', true)),
      su AS (INSERT INTO suppliers (id, name, email, city, is_active) VALUES (${supplierId}::uuid, ${`Supplier ${code}`}, ${`orders-${code.toLowerCase()}@supplier.example`}, 'Nantes', true)),
      si AS (INSERT INTO supplier_sites (supplier_id, name, city, is_primary) VALUES (${supplierId}::uuid, 'Main plant', 'Nantes', true)),
      a AS (INSERT INTO articles (id, code, name, category, base_unit, vat_rate, is_active) VALUES (${articleId}::uuid, ${uniq('ART-')}, ${`Article ${code}`}, 'TRAY', 'piece', 20.00, true)),
      f AS (INSERT INTO offers (id, article_id, supplier_id, supplier_ref, pack_label, units_per_pack, catalog_pack_price, moq_packs, pack_multiple, lead_time_days, is_active)
            VALUES (${offerId}::uuid, ${articleId}::uuid, ${supplierId}::uuid, ${uniq('REF-')}, 'box of 10', 10, 10.0000, 1, 1, 0, true))
      INSERT INTO users (id, organization_id, organization_kind, email, full_name, role, password_hash, is_active)
      SELECT id, org, kind, email, 'Scene user', role, ${hash}, true
      FROM unnest(${users.map(u => u.userId)}::uuid[], ${users.map(u => u.organizationId)}::uuid[], ${users.map(u => u.kind)}::text[], ${users.map(u => u.email)}::text[], ${users.map(u => u.role)}::text[]) AS x(id, org, kind, email, role)`.execute(app.db)
    const callers = Object.fromEntries(users.map(u => [u.role, { role: u.role, userId: u.userId, organizationId: u.organizationId, email: u.email, token: tokenFor(app, { role: u.role, userId: u.userId, organizationId: u.organizationId }) }])) as Record<Role, Caller>
    return new Scene(app, { stationId, supplierId, groupId, articleId, offerId }, callers)
  }

  private once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.memo.get(key) as Promise<T> | undefined
    if (p === undefined) { p = make(); this.memo.set(key, p) }
    return p
  }

  /** A user of the scene's station that no caller is. */
  targetUser (): Promise<string> {
    return this.once('user', async () => (await createUser(this.app.db, 'STATION', this.stationId)).userId)
  }

  /** A second, non-primary site of the scene's supplier. */
  site (): Promise<string> {
    return this.once('site', async () => (await this.app.db.insertInto('supplierSites').values({ supplierId: this.supplierId, name: `Depot ${uniq()}`, addressLine1: null, addressLine2: null, postalCode: null, city: 'Nantes', isPrimary: false } as never).returning('id').executeTakeFirstOrThrow()).id)
  }

  /** A contact of the organization (the scene's station unless said otherwise). */
  contact (organizationId: string): Promise<string> {
    return this.once(`contact:${organizationId}`, async () => (await this.app.db.insertInto('contacts').values({ organizationId, fullName: 'Claire Moreau', position: null, phone: null, email: null } as never).returning('id').executeTakeFirstOrThrow()).id)
  }

  /** A contract of the scene's supplier pricing the scene's article, in `status`. */
  contract (status: 'DRAFT' | 'ACTIVE' | 'SUSPENDED'): Promise<string> {
    return this.once(`contract:${status}`, async () => (await createContract(this.app.db, this.supplierId, [{ articleId: this.articleId, packPrice: '9.5000' }], { status, validFrom: '2026-01-01', validUntil: '2099-12-31' })).id)
  }

  /** A line in the station's open cart (created through the API, as the station's user). */
  cartLine (): Promise<string> {
    return this.once('cartLine', async () => {
      const res = await this.inject({ method: 'POST', url: `/v1/stations/${this.stationId}/cart/lines`, headers: bearer(this.callers.STATION.token), payload: { articleId: this.articleId, supplierId: this.supplierId, packs: 5, desiredDeliveryDate: FAR } })
      if (res.statusCode !== 201) throw new Error(`cart line: ${res.body}`)
      return (res.json() as { lines: Array<{ id: string }> }).lines[0]?.id as string
    })
  }

  /** The station's master order with one purchase order of the scene's supplier, driven to `status` by platform staff. */
  purchaseOrder (status = 'PLACED'): Promise<{ moId: string, poId: string, lineIds: string[] }> {
    return this.once(`po:${status}`, async () => {
      await this.cartLine()
      const res = await this.inject({ method: 'POST', url: `/v1/stations/${this.stationId}/cart/checkout`, headers: { ...bearer(this.callers.STATION.token), 'idempotency-key': randomUUID() }, payload: {} })
      if (res.statusCode !== 201) throw new Error(`checkout: ${res.body}`)
      const mo = res.json() as { id: string, purchaseOrders: Array<{ id: string, lines: Array<{ id: string }> }> }
      const po = mo.purchaseOrders[0] as { id: string, lines: Array<{ id: string }> }
      const lineIds = po.lines.map(l => l.id)
      for (const verb of PATH_TO[status] ?? []) {
        const r = await this.inject({ method: 'POST', url: `/v1/purchase-orders/${po.id}/${verb}`, headers: bearer(this.callers.HANDLER.token), payload: transitionBody(verb, lineIds, await documentFor(this, this.callers.HANDLER, verb)) })
        if (r.statusCode !== 200) throw new Error(`${verb}: ${r.body}`)
      }
      return { moId: mo.id, poId: po.id, lineIds }
    })
  }

  /** A document the caller uploaded (its organization's: every caller may read its own), of `type`. */
  document (c: Caller, type = 'DELIVERY_NOTE'): Promise<string> {
    return this.once(`document:${c.userId}:${type}`, async () => {
      const form = uploadForm(type, TINY_PDF)
      const res = await this.inject({ method: 'POST', url: '/v1/documents', headers: { ...bearer(c.token), ...form.headers }, payload: form.payload })
      if (res.statusCode !== 201) throw new Error(`document: ${res.body}`)
      return (res.json() as { id: string }).id
    })
  }

  private async inject (opts: InjectOptions): Promise<Awaited<ReturnType<App['inject']>>> {
    return await this.app.inject(opts)
  }

  /** The scene's rows as another organization sees them: every shared row inactive (§2.1: someone else's inactive row is a 404). */
  async hideFromOthers (): Promise<void> {
    const db = this.app.db
    await sql`UPDATE organizations SET is_active = false WHERE id IN (${this.stationId}::uuid, ${this.supplierId}::uuid)`.execute(db)
    await sql`UPDATE stations SET is_active = false WHERE id = ${this.stationId}::uuid`.execute(db)
    await sql`UPDATE suppliers SET is_active = false WHERE id = ${this.supplierId}::uuid`.execute(db)
    await sql`UPDATE station_groups SET is_active = false WHERE id = ${this.groupId}::uuid`.execute(db)
    await sql`UPDATE offers SET is_active = false WHERE supplier_id = ${this.supplierId}::uuid`.execute(db)
    await sql`UPDATE articles SET is_active = false WHERE id = ${this.articleId}::uuid`.execute(db)
  }
}

/** The transitions that take a PLACED purchase order to each status. */
const PATH_TO: Record<string, string[]> = {
  PLACED: [],
  CONFIRMED: ['confirm'],
  SHIPPED: ['confirm', 'ship'],
  RECEIVED: ['confirm', 'ship', 'receive'],
  CLOSED: ['confirm', 'ship', 'receive', 'close'],
  INVOICED: ['confirm', 'ship', 'receive', 'close', 'invoice']
}

/** The document a ship (a delivery note) or a receive (a signed one) references: one the caller uploaded, so it may read it. */
async function documentFor (s: Scene, c: Caller, verb: string): Promise<string> {
  return verb === 'ship' ? await s.document(c, 'DELIVERY_NOTE') : verb === 'receive' ? await s.document(c, 'SIGNED_DELIVERY_NOTE') : ''
}

function transitionBody (verb: string, lineIds: string[], documentId: string): object {
  switch (verb) {
    case 'confirm': return { lines: lineIds.map(lineId => ({ lineId, confirmedDeliveryDate: FAR })) }
    case 'decline':
    case 'cancel': return { reason: 'access guard' }
    case 'ship': return { carrier: 'Geodis', trackingNumber: 'T-1', deliveryNoteDocumentId: documentId }
    case 'receive': return { signedDeliveryNoteDocumentId: documentId, lines: lineIds.map(lineId => ({ lineId, packsReceived: 5 })) }
    case 'invoice': return { invoiceNumber: `INV-${uniq()}`, invoiceDate: FAR }
    default: return {}
  }
}

interface Planned { params?: Record<string, string>, body?: unknown, headers?: Record<string, string>, query?: string }
type Recipe = (s: Scene, caller: Caller) => Promise<Planned>

/** The caller's own organization for a station or supplier user, else the scene's station. */
const orgOf = (s: Scene, c: Caller): string => c.role === 'STATION' || c.role === 'SUPPLIER' ? c.organizationId : s.stationId
const password = (): string => `an unusual passphrase ${uniq()}`

const poVerb = (status: string, verb: string): Recipe => async (s, c) => {
  const po = await s.purchaseOrder(status)
  return { params: { id: po.poId }, body: transitionBody(verb, po.lineIds, await documentFor(s, c, verb)) }
}

/** The transfer actions that take a REQUESTED transfer to each status (PRODUCT.md §6). */
const TRANSFER_PATH: Record<string, string[]> = {
  REQUESTED: [],
  CONFIRMED: ['confirm'],
  IN_PREPARATION: ['confirm', 'prepare'],
  SHIPPED: ['confirm', 'prepare', 'ship'],
  RECEIVED: ['confirm', 'prepare', 'ship', 'receive'],
  CLOSED: ['confirm', 'prepare', 'ship', 'receive', 'close'],
  SETTLED: ['confirm', 'prepare', 'ship', 'receive', 'close', 'settle']
}

function transferBody (verb: string, lineIds: string[], documentId: string): object {
  switch (verb) {
    case 'confirm': return { lines: lineIds.map(lineId => ({ lineId, unitsGranted: 5 })) }
    case 'reject': return { reason: 'access guard' }
    case 'ship': return { deliveryNoteDocumentId: documentId }
    case 'receive': return { signedDeliveryNoteDocumentId: documentId, lines: lineIds.map(lineId => ({ lineId, unitsReceived: 5 })) }
    case 'settle': return { settlementRef: `AV-${uniq()}`, settlementAmount: '10.00' }
    default: return {}
  }
}

/**
 * A transfer of 5 units of the scene's article between the scene's station and a new one, the
 * scene's station on `side` (the side whose step the station user will take), driven to `status`
 * by the scene's HANDLER; the source holds the units (a level with its balancing movement).
 */
async function sceneTransfer (s: Scene, status: string, side: 'source' | 'requesting'): Promise<{ id: string, lineIds: string[] }> {
  const peer = (await createStation(s.app.db)).id
  const [requestingStationId, sourceStationId] = side === 'source' ? [peer, s.stationId] : [s.stationId, peer]
  await sql`WITH l AS (INSERT INTO stock_levels (station_id, article_id, quantity) VALUES (${sourceStationId}::uuid, ${s.articleId}::uuid, 10) ON CONFLICT DO NOTHING RETURNING station_id, article_id)
    INSERT INTO stock_movements (station_id, article_id, delta, reason) SELECT station_id, article_id, 10, 'ADJUSTMENT' FROM l`.execute(s.app.db)
  const headers = bearer(s.callers.HANDLER.token)
  const res = await s.app.inject({ method: 'POST', url: '/v1/transfers', headers, payload: { requestingStationId, sourceStationId, lines: [{ articleId: s.articleId, units: 5 }] } })
  if (res.statusCode !== 201) throw new Error(`transfer: ${res.body}`)
  const t = res.json() as { id: string, lines: Array<{ id: string }> }
  const lineIds = t.lines.map(l => l.id)
  for (const verb of TRANSFER_PATH[status] ?? []) {
    const r = await s.app.inject({ method: 'POST', url: `/v1/transfers/${t.id}/${verb}`, headers, payload: transferBody(verb, lineIds, await documentFor(s, s.callers.HANDLER, verb)) })
    if (r.statusCode !== 200) throw new Error(`transfer ${verb}: ${r.body}`)
  }
  return { id: t.id, lineIds }
}

const transferVerb = (status: string, verb: string, side: 'source' | 'requesting'): Recipe => async (s, c) => {
  const t = await sceneTransfer(s, status, side)
  return { params: { id: t.id }, body: transferBody(verb, t.lineIds, await documentFor(s, c, verb)) }
}

const RECIPES: Record<string, Recipe> = {
  // auth and the caller
  'POST /v1/auth/login': async (_s, c) => ({ body: { email: c.email, password: TEST_PASSWORD } }),
  'POST /v1/auth/refresh': async (s, c) => ({ body: { refreshToken: await refreshTokenOf(s.app, c) } }),
  'POST /v1/auth/logout': async (s, c) => ({ body: { refreshToken: await refreshTokenOf(s.app, c) } }),
  'POST /v1/auth/logout-all': async () => ({ body: {} }),
  'POST /v1/auth/password-reset': async (_s, c) => ({ body: { email: c.email } }),
  // a reset token as the mailer would have sent it (only its SHA-256 is stored)
  'POST /v1/auth/password-reset/confirm': async (s, c) => {
    const token = randomBytes(32).toString('base64url')
    await sql`INSERT INTO password_reset_tokens (user_id, token_hash, expires_at) VALUES (${c.userId}::uuid, ${createHash('sha256').update(token).digest('hex')}, now() + interval '30 minutes')`.execute(s.app.db)
    return { body: { token, newPassword: password() } }
  },
  'POST /v1/me/password': async () => ({ body: { currentPassword: TEST_PASSWORD, newPassword: password() } }),
  // users
  'GET /v1/users/:id': async (s, c) => ({ params: { id: c.role === 'SUPPLIER' ? c.userId : await s.targetUser() } }),
  'GET /v1/users/:id/personal-data': async (_s, c) => ({ params: { id: c.userId } }),
  'POST /v1/users': async s => ({ body: { email: `new-${uniq().toLowerCase()}@test.example`, fullName: 'Anne Martin', role: 'STATION', organizationId: s.stationId, password: password() } }),
  'PATCH /v1/users/:id': async s => ({ params: { id: await s.targetUser() }, body: { fullName: 'Anne Martin-Leroy' } }),
  'POST /v1/users/:id/deactivate': async s => ({ params: { id: await s.targetUser() }, body: {} }),
  'POST /v1/users/:id/activate': async s => ({ params: { id: await s.targetUser() }, body: {} }),
  'POST /v1/users/:id/erase': async s => ({ params: { id: await s.targetUser() }, body: {} }),
  // organizations
  'POST /v1/stations': async () => ({ body: { code: uniq('ST-'), name: `Station ${uniq()}` } }),
  'PATCH /v1/stations/:id': async s => ({ params: { id: s.stationId }, body: { phone: '+33 2 41 00 00 00' } }),
  'POST /v1/station-groups': async () => ({ body: { name: `Group ${uniq()}` } }),
  'PATCH /v1/station-groups/:id': async s => ({ params: { id: s.groupId }, body: { description: 'Loire valley' } }),
  'POST /v1/suppliers': async () => ({ body: { name: `Supplier ${uniq()}`, sites: [{ name: 'Plant', isPrimary: true }] } }),
  'PATCH /v1/suppliers/:id': async s => ({ params: { id: s.supplierId }, body: { email: 'orders@supplier.example' } }),
  'POST /v1/suppliers/:id/sites': async s => ({ params: { id: s.supplierId }, body: { name: `Depot ${uniq()}` } }),
  'PATCH /v1/suppliers/:id/sites/:siteId': async s => ({ params: { id: s.supplierId, siteId: await s.site() }, body: { name: `Depot ${uniq()}` } }),
  'DELETE /v1/suppliers/:id/sites/:siteId': async s => ({ params: { id: s.supplierId, siteId: await s.site() } }),
  'GET /v1/organizations/:id/contacts': async (s, c) => ({ params: { id: orgOf(s, c) } }),
  'POST /v1/organizations/:id/contacts': async (s, c) => ({ params: { id: orgOf(s, c) }, body: { fullName: 'Claire Moreau' } }),
  'PATCH /v1/organizations/:id/contacts/:contactId': async (s, c) => ({ params: { id: orgOf(s, c), contactId: await s.contact(orgOf(s, c)) }, body: { position: 'Logistics' } }),
  'DELETE /v1/organizations/:id/contacts/:contactId': async (s, c) => ({ params: { id: orgOf(s, c), contactId: await s.contact(orgOf(s, c)) } }),
  // catalog
  'POST /v1/articles': async () => ({ body: { code: uniq('ART-'), name: 'Barquette', category: 'TRAY' } }),
  'PATCH /v1/articles/:id': async s => ({ params: { id: s.articleId }, body: { name: 'Barquette PET' } }),
  'POST /v1/offers': async s => ({ body: { articleId: (await createArticle(s.app.db)).id, supplierId: s.supplierId, supplierRef: uniq('REF-'), packLabel: 'box of 10', unitsPerPack: 10, catalogPackPrice: '5.0000' } }),
  'PATCH /v1/offers/:id': async s => ({ params: { id: s.offerId }, body: { catalogPackPrice: '11.0000' } }),
  // contracts
  'GET /v1/contracts/:id': async s => ({ params: { id: await s.contract('ACTIVE') } }),
  'GET /v1/contracts/:id/lines': async s => ({ params: { id: await s.contract('ACTIVE') } }),
  'POST /v1/contracts': async s => ({ body: { supplierId: s.supplierId, name: 'Framework', kind: 'ANNUAL', validFrom: '2027-01-01', validUntil: '2027-12-31' } }),
  'PATCH /v1/contracts/:id': async s => ({ params: { id: await s.contract('DRAFT') }, body: { name: 'Framework 2027' } }),
  'PUT /v1/contracts/:id/lines': async s => ({ params: { id: await s.contract('DRAFT') }, body: { lines: [{ articleId: s.articleId, packPrice: '9.0000' }] } }),
  'POST /v1/contracts/:id/approve': async s => ({ params: { id: await s.contract('DRAFT') }, body: {} }),
  'POST /v1/contracts/:id/suspend': async s => ({ params: { id: await s.contract('ACTIVE') }, body: { reason: 'dispute' } }),
  'POST /v1/contracts/:id/resume': async s => ({ params: { id: await s.contract('SUSPENDED') }, body: {} }),
  'POST /v1/contracts/:id/terminate': async s => ({ params: { id: await s.contract('ACTIVE') }, body: { reason: 'dispute' } }),
  'POST /v1/contracts/:id/renew': async s => ({ params: { id: await s.contract('ACTIVE') }, body: {} }),
  // settings: written back unchanged, other tests of this worker's database read them
  'PATCH /v1/settings': async () => ({ body: { defaultFeePct: '8.00' } }),
  // cart
  'POST /v1/stations/:stationId/cart/lines': async s => ({ params: { stationId: s.stationId }, body: { articleId: s.articleId, supplierId: s.supplierId, packs: 3, desiredDeliveryDate: FAR } }),
  'PATCH /v1/stations/:stationId/cart/lines/:lineId': async s => ({ params: { stationId: s.stationId, lineId: await s.cartLine() }, body: { packs: 7 } }),
  'DELETE /v1/stations/:stationId/cart/lines/:lineId': async s => ({ params: { stationId: s.stationId, lineId: await s.cartLine() } }),
  'POST /v1/stations/:stationId/cart/checkout': async s => { await s.cartLine(); return { params: { stationId: s.stationId }, body: {}, headers: { 'idempotency-key': randomUUID() } } },
  // forecasts and replenishment
  'PUT /v1/stations/:stationId/forecasts': async s => ({ params: { stationId: s.stationId }, body: { lines: [{ articleId: s.articleId, isoYear: 2026, isoWeek: 49, units: 120 }] } }),
  'POST /v1/stations/:stationId/replenishment/to-cart': async s => {
    // a stock level (empty: no movement owed) makes the article one of the station's
    await sql`INSERT INTO stock_levels (station_id, article_id, quantity) VALUES (${s.stationId}::uuid, ${s.articleId}::uuid, 0) ON CONFLICT DO NOTHING`.execute(s.app.db)
    return { params: { stationId: s.stationId }, body: { lines: [{ articleId: s.articleId, packs: 2 }] } }
  },
  // stock (a consumption needs units on hand: a level of 10 with its balancing movement)
  'GET /v1/stations/:stationId/stock/:articleId': async s => ({ params: { stationId: s.stationId, articleId: s.articleId } }),
  'POST /v1/stations/:stationId/stock/adjustments': async s => ({ params: { stationId: s.stationId }, body: { reason: 'access guard', lines: [{ articleId: s.articleId, delta: 5 }] } }),
  'POST /v1/stations/:stationId/stock/consumptions': async s => {
    await sql`WITH l AS (INSERT INTO stock_levels (station_id, article_id, quantity) VALUES (${s.stationId}::uuid, ${s.articleId}::uuid, 10) ON CONFLICT DO NOTHING RETURNING station_id, article_id)
      INSERT INTO stock_movements (station_id, article_id, delta, reason) SELECT station_id, article_id, 10, 'ADJUSTMENT' FROM l`.execute(s.app.db)
    return { params: { stationId: s.stationId }, body: { lines: [{ articleId: s.articleId, units: 1 }] } }
  },
  'POST /v1/stations/:stationId/stock/counts': async s => ({ params: { stationId: s.stationId }, body: { lines: [{ articleId: s.articleId, counted: 3 }] } }),
  'PATCH /v1/stations/:stationId/stock/:articleId': async s => ({ params: { stationId: s.stationId, articleId: s.articleId }, body: { alertThreshold: 10, criticalThreshold: 2 } }),
  // orders
  'GET /v1/master-orders/:id': async s => ({ params: { id: (await s.purchaseOrder()).moId } }),
  'POST /v1/purchase-orders/:id/confirm': poVerb('PLACED', 'confirm'),
  'POST /v1/purchase-orders/:id/decline': poVerb('PLACED', 'decline'),
  'POST /v1/purchase-orders/:id/cancel': poVerb('PLACED', 'cancel'),
  'POST /v1/purchase-orders/:id/ship': poVerb('CONFIRMED', 'ship'),
  'POST /v1/purchase-orders/:id/receive': poVerb('SHIPPED', 'receive'),
  'POST /v1/purchase-orders/:id/close': poVerb('RECEIVED', 'close'),
  'POST /v1/purchase-orders/:id/invoice': poVerb('CLOSED', 'invoice'),
  'POST /v1/purchase-orders/:id/archive': poVerb('INVOICED', 'archive'),
  // transfers: the scene's station on the side whose step it is
  'POST /v1/transfers': async (s, c) => ({ body: { ...(c.role === 'STATION' ? {} : { requestingStationId: s.stationId }), sourceStationId: (await createStation(s.app.db)).id, lines: [{ articleId: s.articleId, units: 5 }] } }),
  'POST /v1/transfers/:id/confirm': transferVerb('REQUESTED', 'confirm', 'source'),
  'POST /v1/transfers/:id/reject': transferVerb('REQUESTED', 'reject', 'source'),
  'POST /v1/transfers/:id/cancel': transferVerb('REQUESTED', 'cancel', 'requesting'),
  'POST /v1/transfers/:id/prepare': transferVerb('CONFIRMED', 'prepare', 'source'),
  'POST /v1/transfers/:id/ship': transferVerb('IN_PREPARATION', 'ship', 'source'),
  'POST /v1/transfers/:id/receive': transferVerb('SHIPPED', 'receive', 'requesting'),
  'POST /v1/transfers/:id/close': transferVerb('RECEIVED', 'close', 'requesting'),
  'POST /v1/transfers/:id/settle': transferVerb('CLOSED', 'settle', 'requesting'),
  'POST /v1/transfers/:id/archive': transferVerb('SETTLED', 'archive', 'requesting'),
  // documents: a multipart upload; reads of a document the caller's organization uploaded
  'POST /v1/documents': async () => { const form = uploadForm('DELIVERY_NOTE', TINY_PDF); return { body: form.payload, headers: form.headers } },
  'GET /v1/documents/:id': async (s, c) => ({ params: { id: await s.document(c) } }),
  'GET /v1/documents/:id/content': async (s, c) => ({ params: { id: await s.document(c) } }),
  // webhooks: a subscription of the caller's organization (a public address: no test runs a worker
  // that would send to it); the events stream as EventSource asks for it, for a second
  'POST /v1/webhooks': async () => ({ body: WEBHOOK }),
  'PATCH /v1/webhooks/:id': async (s, c) => ({ params: { id: await webhookOf(s, c) }, body: { description: 'ERP' } }),
  ...Object.fromEntries(['GET /v1/webhooks/:id', 'DELETE /v1/webhooks/:id', 'POST /v1/webhooks/:id/rotate-secret', 'GET /v1/webhooks/:id/deliveries']
    .map(k => [k, async (s: Scene, c: Caller) => ({ params: { id: await webhookOf(s, c) }, ...(k.startsWith('POST') ? { body: {} } : {}) })])),
  'POST /v1/webhooks/:id/deliveries/:deliveryId/replay': async (s, c) => {
    const id = await webhookOf(s, c)
    const { rows } = await sql<{ id: number }>`WITH e AS (INSERT INTO outbox_events (type, organization_ids, payload, dispatched_at) VALUES ('stock.low', ARRAY[${s.stationId}::uuid], '{}', now()) RETURNING id)
      INSERT INTO webhook_deliveries (subscription_id, event_id, attempt, trigger, status, series_started_at, scheduled_at) SELECT ${id}::uuid, e.id, 1, 'EVENT', 'FAILED', now(), now() FROM e RETURNING id`.execute(s.app.db)
    return { params: { id, deliveryId: String(rows[0]?.id) }, body: {} }
  },
  'GET /v1/events/stream': async () => ({ headers: { accept: 'text/event-stream' }, query: 'timeoutSeconds=1' })
}

const WEBHOOK = { url: 'https://203.0.114.10/hooks', events: ['stock.low'] }

async function webhookOf (s: Scene, c: Caller): Promise<string> {
  const res = await s.app.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(c.token), payload: WEBHOOK })
  if (res.statusCode !== 201) throw new Error(`webhook: ${res.body}`)
  return (res.json() as { id: string }).id
}

async function refreshTokenOf (app: App, c: Caller): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: c.email, password: TEST_PASSWORD } })
  return (res.json() as { refreshToken: string }).refreshToken
}

/** The scene's id for a path parameter, by the collection named just before it. */
async function idFor (s: Scene, url: string, param: string): Promise<string> {
  const before = url.slice(0, url.indexOf(`:${param}`)).split('/').filter(Boolean).at(-1) ?? ''
  switch (before) {
    case 'stations': return s.stationId
    case 'station-groups': return s.groupId
    case 'suppliers': return s.supplierId
    case 'organizations': return s.stationId
    case 'sites': return await s.site()
    case 'contacts': return await s.contact(s.stationId)
    case 'articles': return s.articleId
    case 'offers': return s.offerId
    case 'contracts': return await s.contract('ACTIVE')
    case 'users': return await s.targetUser()
    case 'lines': return await s.cartLine()
    case 'master-orders': return (await s.purchaseOrder()).moId
    case 'purchase-orders': return (await s.purchaseOrder()).poId
    case 'transfers': return (await sceneTransfer(s, 'REQUESTED', 'requesting')).id
    default: return randomUUID()
  }
}

export const routeKey = (r: { method: string, url: string }): string => `${r.method} ${r.url}`

/** Whether a route has a request known to succeed (the others get a derived one). */
export const hasRecipe = (r: RouteEntry): boolean => RECIPES[routeKey(r)] !== undefined

type OpenApiDoc = { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: { examples?: unknown[] } }> } }>> }

const documents = new WeakMap<App, OpenApiDoc>()

/** The OpenAPI example of the route's body (the document is built once per app: it is not cheap). */
function exampleBody (app: App, route: RouteEntry): unknown {
  let doc = documents.get(app)
  if (doc === undefined) { doc = app.swagger() as OpenApiDoc; documents.set(app, doc) }
  const op = doc.paths[route.url.replace(/:([A-Za-z]+)/g, '{$1}')]?.[route.method.toLowerCase()]
  return op?.requestBody?.content?.['application/json']?.schema?.examples?.[0] ?? {}
}

/** The request for `route` on `scene` as `caller` would send it (token included). */
export async function requestFor (app: App, route: RouteEntry, s: Scene, caller: Caller | undefined, opts: { realIds?: boolean } = {}): Promise<InjectOptions> {
  const real = opts.realIds ?? true
  const planned: Planned = real ? await (RECIPES[routeKey(route)] ?? (async () => ({})))(s, caller ?? s.callers.ADMIN) : {}
  let url = route.url
  for (const m of route.url.matchAll(/:([A-Za-z]+)/g)) {
    const name = m[1] as string
    url = url.replace(`:${name}`, planned.params?.[name] ?? (real ? await idFor(s, route.url, name) : randomUUID()))
  }
  let body = planned.body
  if (body === undefined && route.hasBody) body = real ? exampleBody(app, route) : {}
  return {
    method: route.method as InjectOptions['method'],
    url: planned.query === undefined ? url : `${url}?${planned.query}`,
    headers: { ...(caller !== undefined ? bearer(caller.token) : {}), ...planned.headers },
    ...(body !== undefined ? { payload: body as object } : {})
  }
}

/** The rows a request names in its path (and a named station's carts, stock, ledger and forecasts; a transfer's or order's history; a subscription's deliveries), as JSON, to prove a refusal changed nothing. */
export async function snapshotRows (app: App, url: string): Promise<unknown[]> {
  const ids = [...url.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)].map(m => m[0])
  if (ids.length === 0) return []
  const { rows } = await sql<{ t: string, row: unknown }>`
    SELECT 'organizations' AS t, to_jsonb(x) AS row FROM organizations x WHERE id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'stations', to_jsonb(x) FROM stations x WHERE id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'station_groups', to_jsonb(x) FROM station_groups x WHERE id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'suppliers', to_jsonb(x) FROM suppliers x WHERE id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'supplier_sites', to_jsonb(x) FROM supplier_sites x WHERE id = ANY(${ids}::uuid[]) OR supplier_id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'contacts', to_jsonb(x) FROM contacts x WHERE id = ANY(${ids}::uuid[]) OR organization_id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'users', to_jsonb(x) FROM users x WHERE id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'articles', to_jsonb(x) FROM articles x WHERE id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'offers', to_jsonb(x) FROM offers x WHERE id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'contracts', to_jsonb(x) FROM contracts x WHERE id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'contract_lines', to_jsonb(x) FROM contract_lines x WHERE contract_id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'carts', to_jsonb(x) FROM carts x WHERE id = ANY(${ids}::uuid[]) OR station_id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'cart_lines', to_jsonb(x) FROM cart_lines x WHERE id = ANY(${ids}::uuid[]) OR station_id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'master_orders', to_jsonb(x) FROM master_orders x WHERE id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'purchase_orders', to_jsonb(x) FROM purchase_orders x WHERE id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'purchase_order_lines', to_jsonb(x) FROM purchase_order_lines x WHERE purchase_order_id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'transfers', to_jsonb(x) FROM transfers x WHERE id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'transfer_lines', to_jsonb(x) FROM transfer_lines x WHERE transfer_id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'transfer_events', to_jsonb(x) FROM transfer_events x WHERE transfer_id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'purchase_order_events', to_jsonb(x) FROM purchase_order_events x WHERE purchase_order_id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'stock_levels', to_jsonb(x) FROM stock_levels x WHERE station_id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'stock_movements', to_jsonb(x) FROM stock_movements x WHERE station_id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'forecasts', to_jsonb(x) FROM forecasts x WHERE station_id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'documents', to_jsonb(x) FROM documents x WHERE id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'webhook_subscriptions', to_jsonb(x) FROM webhook_subscriptions x WHERE id = ANY(${ids}::uuid[])
    UNION ALL SELECT 'webhook_deliveries', to_jsonb(x) FROM webhook_deliveries x WHERE subscription_id = ANY(${ids}::uuid[])
    ORDER BY 1, 2`.execute(app.db)
  return rows
}
