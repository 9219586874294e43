// Shared fixtures for the cart and order tests: a station with its user, suppliers with their
// users, articles with offers, and helpers to fill a cart and check it out through HTTP.
import { randomUUID } from 'node:crypto'
import type { App } from '../../../src/lib/route.js'
import { bearer, tokenFor } from '../../helpers/app.js'
import { createArticle, createOffer, createStation, createSupplier, createUser } from '../../helpers/factories.js'

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
