// Every organizations mutation refuses fields it does not declare (400, nothing written), with
// real ids so the body — not the path — is what fails. Catches a context that would fall back to
// a stripping, coercing validator.
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { countAudit, createTestApp, expectProblem } from '../../helpers/app.js'
import { createStation, createStationGroup, createSupplier } from '../../helpers/factories.js'
import { callerFor, client } from './helpers.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const PREFIXES = ['/v1/stations', '/v1/station-groups', '/v1/suppliers', '/v1/organizations']

it('answers 400 to an unknown body field on every organizations mutation and writes nothing', async () => {
  const call = client(app)
  const admin = callerFor(app, 'ADMIN')
  const group = await createStationGroup(app.db)
  const station = await createStation(app.db, { groupId: group.id })
  const supplier = await createSupplier(app.db)
  const site = await app.db.selectFrom('supplierSites').select('id').where('supplierId', '=', supplier.id).executeTakeFirstOrThrow()
  const contact = await app.db.insertInto('contacts').values({ organizationId: station.id, fullName: 'Jo', position: null, phone: null, email: null }).returning('id').executeTakeFirstOrThrow()
  const ids: Record<string, string> = { siteId: site.id, contactId: contact.id }
  const routes = app.routeTable.filter(r => ['POST', 'PATCH'].includes(r.method) && PREFIXES.some(p => r.url.startsWith(p)) && !r.url.includes('/cart') && !r.url.includes('/stock') && !r.url.includes('/forecasts') && !r.url.includes('/replenishment') && !r.url.includes('/demand'))
  expect(routes.length).toBeGreaterThanOrEqual(16)
  for (const r of routes) {
    const idFor = r.url.startsWith('/v1/station-groups') ? group.id : r.url.startsWith('/v1/suppliers') ? supplier.id : station.id
    const url = r.url.replace(/:([A-Za-z]+)/g, (_, name: string) => name === 'id' ? idFor : ids[name] ?? '')
    const before = await countAudit(app)
    const res = await call(admin, r.method as 'POST', url, { unexpectedField: 1 })
    expectProblem(res, 400, 'VALIDATION_FAILED')
    expect(await countAudit(app), `${r.method} ${r.url}`).toBe(before)
  }
  const rows = await app.db.selectFrom('stations').select(['version', 'isActive']).where('id', '=', station.id).executeTakeFirstOrThrow()
  expect(rows).toEqual({ version: 1, isActive: true })
})
