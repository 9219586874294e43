// The demo organizations step: realistic rows, obeying the same rules as the API, with the ids the
// later seed steps read from ctx.ids. Runs inside a transaction that is rolled back.
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { createTestApp } from '../../helpers/app.js'
import { DEMO_GROUPS, DEMO_STATIONS, DEMO_SUPPLIERS, seedOrganizations } from '../../../db/seed/steps/organizations.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

class Rollback extends Error {}

it('creates the demo network and records every id under the exported keys', async () => {
  await expect(app.db.transaction().execute(async trx => {
    const ctx = { passwordHash: 'x', ids: {} as Record<string, string> }
    await seedOrganizations(trx, ctx)
    expect(DEMO_STATIONS).toContain('station:ST-ANJOU')
    expect(DEMO_SUPPLIERS).toContain('supplier:cartonnerie-du-val')
    expect(DEMO_GROUPS).toContain('group:val-de-loire')
    for (const key of [...DEMO_GROUPS, ...DEMO_STATIONS, ...DEMO_SUPPLIERS]) expect(ctx.ids[key], key).toMatch(/^[0-9a-f-]{36}$/)
    const stations = await trx.selectFrom('stations').select(['id', 'groupId', 'isActive']).where('id', 'in', DEMO_STATIONS.map(k => ctx.ids[k] ?? '')).execute()
    expect(stations).toHaveLength(DEMO_STATIONS.length)
    expect(stations.every(s => s.isActive && s.groupId !== null)).toBe(true)
    for (const key of DEMO_SUPPLIERS) {
      const id = ctx.ids[key] ?? ''
      const sup = await trx.selectFrom('suppliers').select('siret').where('id', '=', id).executeTakeFirstOrThrow()
      expect(sup.siret).toMatch(/^\d{14}$/)
      const primaries = await trx.selectFrom('supplierSites').select('id').where('supplierId', '=', id).where('isPrimary', '=', true).execute()
      expect(primaries).toHaveLength(1)
    }
    for (const key of [...DEMO_STATIONS, ...DEMO_SUPPLIERS]) {
      const primary = await trx.selectFrom('contacts').select('id').where('organizationId', '=', ctx.ids[key] ?? '').where('isPrimary', '=', true).execute()
      expect(primary, key).toHaveLength(1)
    }
    throw new Rollback()
  })).rejects.toBeInstanceOf(Rollback)
})
