// The parties of the end-to-end order flow the contract tests drive over HTTP: a station and its
// user, a supplier with an offer for an article and its user, an ADMIN, all signing in with
// TEST_PASSWORD.
import type { AddressInfo } from 'node:net'
import type { App } from '../../src/lib/route.js'
import { createArticle, createOffer, createStation, createSupplier, createUser, TEST_PASSWORD } from '../helpers/factories.js'
import { TINY_PDF } from '../helpers/multipart.js'

export interface OrderParties {
  stationId: string
  supplierId: string
  articleId: string
  offerId: string
  station: { email: string, password: string }
  supplier: { email: string, password: string }
  admin: { email: string, password: string }
}

export async function orderParties (app: App): Promise<OrderParties> {
  const station = await createStation(app.db)
  const supplier = await createSupplier(app.db)
  const article = await createArticle(app.db)
  const offer = await createOffer(app.db, article.id, supplier.id, { catalogPackPrice: '12.5000', moqPacks: 1, packMultiple: 1, leadTimeDays: 2 })
  const stationUser = await createUser(app.db, 'STATION', station.id)
  const supplierUser = await createUser(app.db, 'SUPPLIER', supplier.id)
  const adminUser = await createUser(app.db, 'ADMIN')
  return {
    stationId: station.id,
    supplierId: supplier.id,
    articleId: article.id,
    offerId: offer.id,
    station: { email: stationUser.email, password: TEST_PASSWORD },
    supplier: { email: supplierUser.email, password: TEST_PASSWORD },
    admin: { email: adminUser.email, password: TEST_PASSWORD }
  }
}

/** The app listening on a random loopback port; its base URL. */
export async function listen (app: App): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

/** A delivery date far enough ahead for any lead time. */
export const DELIVERY_DATE = '2099-06-30'

/** A multipart upload of a tiny PDF (FormData: the client sets the boundary). */
export function pdfForm (type: 'DELIVERY_NOTE' | 'SIGNED_DELIVERY_NOTE' | 'INVOICE' = 'DELIVERY_NOTE'): FormData {
  const form = new FormData()
  form.append('type', type)
  form.append('file', new Blob([new Uint8Array(TINY_PDF)], { type: 'application/pdf' }), 'note.pdf')
  return form
}
