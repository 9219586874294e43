// GET /v1/purchase-orders/:id and the PO list answer with JSON written by PostgreSQL in the caller's
// view (orders.sql.ts, "JSON in the caller's view"), while mutations and master orders
// still serialize the object view with the audience's fast-json-stringify serializer. Both paths
// must say the same thing: for every audience and POs in every state (nulls, invoice amounts,
// shipped, free text that needs escaping, contract lines, no lines), the SQL-built JSON parses to
// exactly what the serializer writes for the object view — and neither shows a party the other
// party's prices (PRODUCT.md §2.2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import type { App } from '../../../src/lib/route.js'
import { audienceOf } from '../../../src/lib/audience.js'
import { kindForRole, PLATFORM_ORGANIZATION_ID, type Actor, type Role } from '../../../src/lib/permissions.js'
import { getPurchaseOrder, getPurchaseOrderJson, listPurchaseOrdersJson } from '../../../src/domains/orders/orders.reads.js'
import type { PurchaseOrderView } from '../../../src/domains/orders/orders.views.js'
import { purchaseOrderPageViews, purchaseOrderViews } from '../../../src/domains/orders/orders.serializers.js'
import { createTestApp, tokenFor } from '../../helpers/app.js'
import { createContract } from '../../helpers/factories.js'
import { PATH_TO, addLine, advance, checkout, get, keysDeep, offeredArticle, placeOrder, staff, station, supplier, type Party, type PlacedOrder } from './fixtures.js'

const STATION_FORBIDDEN = ['supplierPackPrice', 'supplierLineNet', 'supplierTotals', 'invoicedSupplierTotals', 'feePct', 'marginNet', 'contractLineId']
const SUPPLIER_FORBIDDEN = ['stationPackPrice', 'lineNet', 'totals', 'invoicedTotals', 'feePct', 'marginNet', 'masterOrderId']
/** free text that JSON must escape: quotes, backslashes, control characters, non-ASCII, U+2028 */
const NASTY = 'Quote " back\\slash \n new\tline \r \b \f \u0001 \u001f é € 😀 </script> \u2028 \u007f'

let app: App
let h: Party
let st: Party, sup: Party
let other: PlacedOrder
const pos: Array<{ what: string, id: string }> = []
const actors: Array<{ what: string, actor: Actor, token: string }> = []

const actorOf = (role: Role, userId: string, organizationId: string = PLATFORM_ORGANIZATION_ID): Actor =>
  ({ role, userId, organizationId, organizationKind: kindForRole(role) })

beforeAll(async () => {
  app = await createTestApp()
  h = await staff(app, 'MANAGER')
  st = await station(app)
  sup = await supplier(app)
  const parties = { st, sup }
  for (const [state, path] of Object.entries(PATH_TO)) {
    const o = await placeOrder(app, [3, 5, 7], parties)
    await advance(app, h.token, o, path, [2, 5, 7])
    pos.push({ what: state, id: o.poId })
  }
  // free text everywhere a PO carries it
  const nasty = await placeOrder(app, [1, 2], parties)
  await advance(app, h.token, nasty, ['confirm', 'ship', 'receive', 'close', 'invoice'], [1, 2])
  await sql`UPDATE purchase_orders SET carrier = ${NASTY}, tracking_no = ${NASTY}, invoice_number = ${NASTY}, status_reason = ${NASTY} WHERE id = ${nasty.poId}::uuid`.execute(app.db)
  await sql`UPDATE purchase_order_lines SET article_code = ${NASTY}, article_name = ${NASTY}, supplier_ref = ${NASTY}, pack_label = ${NASTY}, discrepancy = ${NASTY} WHERE purchase_order_id = ${nasty.poId}::uuid`.execute(app.db)
  pos.push({ what: 'free text', id: nasty.poId })
  // half-written invoice amounts count as no invoice amounts (both paths answer null)
  const partial = await placeOrder(app, [4], parties)
  await sql`UPDATE purchase_orders SET invoiced_station_net = 1.00, invoiced_supplier_net = 2.00, invoiced_supplier_vat = 0.40 WHERE id = ${partial.poId}::uuid`.execute(app.db)
  pos.push({ what: 'partial invoice amounts', id: partial.poId })
  // a line priced by a contract (contractLineId, CONTRACT) next to a catalog line
  const x = await offeredArticle(app, sup.id, { unitsPerPack: 6 })
  const y = await offeredArticle(app, sup.id, { unitsPerPack: 12, vatRate: '5.50' })
  await createContract(app.db, sup.id, [{ articleId: x.articleId, packPrice: '3.1250', committedPacks: 100 }])
  for (const [articleId, packs] of [[x.articleId, 7], [y.articleId, 3]] as const) {
    const r = await addLine(app, st.token, st.id, { articleId, supplierId: sup.id, packs })
    if (r.statusCode !== 201) throw new Error(r.body)
  }
  const mo = (await checkout(app, st.token, st.id)).json()
  pos.push({ what: 'contract line', id: mo.purchaseOrders[0].id })
  // no lines at all (not reachable through the API, but both paths must still agree: [])
  const bare = await placeOrder(app, [1], parties)
  await sql`DELETE FROM purchase_order_lines WHERE purchase_order_id = ${bare.poId}::uuid`.execute(app.db)
  pos.push({ what: 'no lines', id: bare.poId })

  other = await placeOrder(app, [2])
  for (const role of ['ADMIN', 'MANAGER', 'HANDLER'] as const) {
    const userId = role === 'MANAGER' ? h.userId : (await staff(app, role)).userId
    actors.push({ what: role, actor: actorOf(role, userId), token: tokenFor(app, { role, userId }) })
  }
  actors.push({ what: 'STATION', actor: actorOf('STATION', st.userId, st.id), token: st.token })
  actors.push({ what: 'SUPPLIER', actor: actorOf('SUPPLIER', sup.userId, sup.id), token: sup.token })
})
afterAll(async () => { await app.close() })

/** The object path: the service's object view through the audience's serializer (as mutations answer). */
async function objectJson (actor: Actor, id: string): Promise<string> {
  return purchaseOrderViews.serialize(audienceOf(actor), await getPurchaseOrder(app.db, actor, id))
}

describe('PO JSON written by PostgreSQL', () => {
  it('parses to exactly what the audience serializer writes for the object view, for every audience and state', async () => {
    for (const { what: who, actor } of actors) {
      for (const { what, id } of pos) {
        const fromSql = await getPurchaseOrderJson(app.db, actor, id)
        const expected = await objectJson(actor, id)
        expect(JSON.parse(fromSql.body), `${who} reading the ${what} PO`).toStrictEqual(JSON.parse(expected))
        expect(fromSql.version).toBe(JSON.parse(expected).version)
      }
    }
  })

  it('writes compact JSON with the view\'s keys in the serializer\'s order', async () => {
    for (const { actor } of actors) {
      for (const { id } of pos) {
        const body = (await getPurchaseOrderJson(app.db, actor, id)).body
        const expected = await objectJson(actor, id)
        expect(JSON.stringify(JSON.parse(body))).toBe(body)
        expect(JSON.stringify(Object.keys(JSON.parse(body)))).toBe(JSON.stringify(Object.keys(JSON.parse(expected))))
      }
    }
    const nasty = pos.find(p => p.what === 'free text')?.id as string
    const po = JSON.parse((await getPurchaseOrderJson(app.db, actors[0]?.actor as Actor, nasty)).body)
    expect(po.carrier).toBe(NASTY)
    expect(po.lines[0].articleName).toBe(NASTY)
  })

  it('answers GET with that JSON as is, its ETag, 304 on If-None-Match, and 404 outside the caller\'s scope', async () => {
    for (const { what: who, actor, token } of actors) {
      for (const { id } of pos) {
        const r = await get(app, token, `/v1/purchase-orders/${id}`)
        expect(r.statusCode, who).toBe(200)
        expect(r.headers['content-type']).toBe('application/json; charset=utf-8')
        const fromSql = await getPurchaseOrderJson(app.db, actor, id)
        expect(r.body).toBe(fromSql.body)
        expect(r.headers.etag).toBe(`"${fromSql.version}"`)
        const again = await get(app, token, `/v1/purchase-orders/${id}`, { 'if-none-match': String(r.headers.etag) })
        expect(again.statusCode).toBe(304)
      }
    }
    for (const party of [other.st, other.sup]) {
      for (const { id } of pos) expect((await get(app, party.token, `/v1/purchase-orders/${id}`)).statusCode).toBe(404)
    }
    expect((await get(app, st.token, `/v1/purchase-orders/${other.poId}`)).statusCode).toBe(404)
    expect((await get(app, sup.token, `/v1/purchase-orders/${other.poId}`)).statusCode).toBe(404)
  })

  it('writes list pages, with and without lines, that parse to the page serializer\'s output, page after page', async () => {
    for (const { what: who, actor, token } of actors) {
      // staff see every station's POs: keep to this test's station. Filtering on two of station,
      // supplier and status takes the statement with LIMIT $n (see listText), one the other one.
      const audience = audienceOf(actor)
      const scopes = audience === 'platform'
        ? [`&stationId=${st.id}`, `&stationId=${st.id}&supplierId=${sup.id}`]
        : audience === 'station' ? ['', `&supplierId=${sup.id}`] : ['', `&stationId=${st.id}`]
      for (const [scope, include] of scopes.flatMap(sc => ['', '&include=lines'].map(i => [sc, i] as const))) {
        const seen: string[] = []
        let cursor: string | null = null
        do {
          const url = `/v1/purchase-orders?limit=4${scope}${include}${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
          const r = await get(app, token, url)
          expect(r.statusCode, `${who} ${url}`).toBe(200)
          expect(r.headers['content-type']).toBe('application/json; charset=utf-8')
          const page = JSON.parse(r.body) as { items: Array<{ id: string }>, nextCursor: string | null }
          const objects: PurchaseOrderView[] = []
          for (const item of page.items) {
            const po = await getPurchaseOrder(app.db, actor, item.id)
            objects.push(include === '' ? { ...po, lines: undefined } : po)
          }
          const expected = purchaseOrderPageViews.serialize(audienceOf(actor), { items: objects, nextCursor: page.nextCursor })
          expect(page, `${who} ${url}`).toStrictEqual(JSON.parse(expected))
          expect(page.items.length).toBeLessThanOrEqual(4)
          seen.push(...page.items.map(i => i.id))
          cursor = page.nextCursor
        } while (cursor !== null)
        // every PO of the scope exactly once, newest first
        expect(new Set(seen).size).toBe(seen.length)
        expect([...seen].sort()).toEqual(pos.map(p => p.id).sort())
      }
    }
  })

  it('answers an empty page and a last page without a cursor', async () => {
    const actor = actors.find(a => a.what === 'STATION')?.actor as Actor
    expect(await listPurchaseOrdersJson(app.db, actor, { supplierId: other.sup.id })).toBe('{"items":[],"nextCursor":null}')
    const all = JSON.parse(await listPurchaseOrdersJson(app.db, actor, { limit: pos.length }))
    expect(all.items).toHaveLength(pos.length)
    expect(all.nextCursor).toBeNull()
    const short = JSON.parse(await listPurchaseOrdersJson(app.db, actor, { limit: pos.length - 1 }))
    expect(short.items).toHaveLength(pos.length - 1)
    expect(short.nextCursor).toEqual(expect.any(String))
  })

  it('never shows a station the supplier\'s prices, nor a supplier the station\'s, in GET or list bodies', async () => {
    const cases: Array<[Party, string[]]> = [[st, STATION_FORBIDDEN], [sup, SUPPLIER_FORBIDDEN]]
    for (const [party, forbidden] of cases) {
      const bodies = [
        ...await Promise.all(pos.map(async p => (await get(app, party.token, `/v1/purchase-orders/${p.id}`)).body)),
        (await get(app, party.token, '/v1/purchase-orders?limit=200')).body,
        (await get(app, party.token, '/v1/purchase-orders?limit=200&include=lines')).body
      ]
      for (const body of bodies) {
        const keys = keysDeep(JSON.parse(body))
        for (const f of forbidden) expect(keys.has(f), `${party === st ? 'station' : 'supplier'} sees ${f}`).toBe(false)
        // and not as text either (a key can only be absent if its name is)
        for (const f of forbidden) expect(body.includes(`"${f}"`)).toBe(false)
      }
    }
    // the platform sees both sides
    const staffPo = JSON.parse((await get(app, h.token, `/v1/purchase-orders/${pos[0]?.id as string}`)).body)
    for (const f of ['totals', 'supplierTotals', 'marginNet', 'invoicedTotals', 'invoicedSupplierTotals', 'masterOrderId']) expect(staffPo).toHaveProperty(f)
    expect(staffPo.lines[0]).toMatchObject({ supplierPackPrice: expect.any(String), stationPackPrice: expect.any(String), feePct: expect.any(String) })
  })
})
