// The typed client (clients/typescript: openapi-typescript types of the document, openapi-fetch)
// drives the whole order flow against the service listening on a random port — sign-in → cart →
// checkout → confirm → ship → receive — as an integrator would. Type-checked by tsc with the rest
// of the tests: a path, parameter, body or answer field that the document no longer has is a
// compile error here, and the committed types are held to the document by `npm run lint:openapi`.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiClient, type ApiClient, type Schema } from '../../clients/typescript/client.js'
import type { App } from '../../src/lib/route.js'
import { createTestApp } from '../helpers/app.js'
import { TINY_PDF } from '../helpers/multipart.js'
import { DELIVERY_DATE, listen, orderParties, type OrderParties } from './fixture.js'

let app: App
let baseUrl: string
let parties: OrderParties

beforeAll(async () => {
  app = await createTestApp()
  parties = await orderParties(app)
  baseUrl = await listen(app)
}, 120_000)
afterAll(async () => { await app?.close() })

/** A client signed in as `who`. */
async function signedIn (who: { email: string, password: string }): Promise<ApiClient> {
  const api = createApiClient(baseUrl)
  const { data, error, response } = await api.POST('/v1/auth/login', { body: who })
  expect(response.status, JSON.stringify(error)).toBe(200)
  api.setToken(data?.accessToken)
  return api
}

/** Uploads a tiny PDF: the multipart body is built by the serializer (`file` names the file). */
async function upload (api: ApiClient, type: 'DELIVERY_NOTE' | 'SIGNED_DELIVERY_NOTE'): Promise<string> {
  const { data, response } = await api.POST('/v1/documents', {
    body: { type, file: 'note.pdf' },
    bodySerializer (body) {
      const form = new FormData()
      form.append('type', body.type)
      form.append('file', new Blob([new Uint8Array(TINY_PDF)], { type: 'application/pdf' }), body.file)
      return form
    }
  })
  expect(response.status).toBe(201)
  expect(response.headers.get('location')).toBe(`/v1/documents/${data?.id ?? ''}`)
  return data?.id ?? ''
}

describe('the typed client (openapi-typescript + openapi-fetch)', () => {
  it('drives sign-in → cart → checkout → confirm → ship → receive', async () => {
    const { stationId, supplierId, articleId } = parties
    const station = await signedIn(parties.station)
    const supplier = await signedIn(parties.supplier)

    const me = await station.GET('/v1/me')
    expect(me.data?.organizationId).toBe(stationId)

    // the cart: add a line, change it
    const path = { stationId }
    const added = await station.POST('/v1/stations/{stationId}/cart/lines', { params: { path }, body: { articleId, supplierId, packs: 8, desiredDeliveryDate: DELIVERY_DATE } })
    expect(added.response.status).toBe(201)
    const lineId = added.data?.lines[0]?.id ?? ''
    expect(added.response.headers.get('location')).toBe(`/v1/stations/${stationId}/cart/lines/${lineId}`)
    const changed = await station.PATCH('/v1/stations/{stationId}/cart/lines/{lineId}', { params: { path: { stationId, lineId } }, body: { packs: 10 } })
    expect(changed.data?.lines[0]?.packs).toBe(10)
    expect(changed.data?.totals.currency).toBe('EUR')

    // checkout (Idempotency-Key required), then the master order and its purchase order
    const checkout = await station.POST('/v1/stations/{stationId}/cart/checkout', { params: { path, header: { 'idempotency-key': randomUUID() } }, body: {} })
    expect(checkout.response.status, JSON.stringify(checkout.error)).toBe(201)
    const mo = checkout.data
    expect(mo?.status).toBe('PLACED')
    expect(checkout.response.headers.get('location')).toBe(`/v1/master-orders/${mo?.id ?? ''}`)
    const po = mo?.purchaseOrders[0]
    const poId = po?.id ?? ''
    const lines = po?.lines ?? []
    expect(lines).toHaveLength(1)

    const listed = await supplier.GET('/v1/purchase-orders', { params: { query: { status: 'PLACED', include: 'lines' } } })
    expect(listed.data?.items.map(p => p.id)).toContain(poId)

    // the supplier confirms (If-Match from its read) and ships with a delivery note
    const read = await supplier.GET('/v1/purchase-orders/{id}', { params: { path: { id: poId } } })
    const etag = read.response.headers.get('etag') ?? ''
    const confirmed = await supplier.POST('/v1/purchase-orders/{id}/confirm', {
      params: { path: { id: poId }, header: { 'if-match': etag } },
      body: { lines: lines.map(l => ({ lineId: l.id, confirmedDeliveryDate: DELIVERY_DATE })) }
    })
    expect(confirmed.data?.status).toBe('CONFIRMED')
    const note = await upload(supplier, 'DELIVERY_NOTE')
    const shipped = await supplier.POST('/v1/purchase-orders/{id}/ship', { params: { path: { id: poId } }, body: { carrier: 'Geodis', trackingNumber: 'GEO-42', deliveryNoteDocumentId: note } })
    expect(shipped.data?.status).toBe('SHIPPED')

    // the station receives everything with its signed note
    const signed = await upload(station, 'SIGNED_DELIVERY_NOTE')
    const received = await station.POST('/v1/purchase-orders/{id}/receive', { params: { path: { id: poId } }, body: { signedDeliveryNoteDocumentId: signed, lines: lines.map(l => ({ lineId: l.id, packsReceived: l.packs })) } })
    expect(received.response.status, JSON.stringify(received.error)).toBe(200)
    expect(received.data?.status).toBe('RECEIVED')

    const stock = await station.GET('/v1/stations/{stationId}/stock/{articleId}', { params: { path: { stationId, articleId } } })
    expect(stock.data?.quantity).toBe(10 * 100)
  })

  it('reads problems as typed errors', async () => {
    const station = await signedIn(parties.station)
    const missing = await station.GET('/v1/purchase-orders/{id}', { params: { path: { id: randomUUID() } } })
    expect(missing.response.status).toBe(404)
    expect(missing.response.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    const problem: Schema<'Problem'> | undefined = missing.error
    expect(problem?.code).toBe('NOT_FOUND')

    const anonymous = createApiClient(baseUrl)
    const refused = await anonymous.GET('/v1/me')
    expect(refused.response.status).toBe(401)
    expect(refused.error?.code).toBe('UNAUTHENTICATED')
  })
})
