import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Type } from '@sinclair/typebox'
import { audienceSerializer } from '../../src/lib/audience.js'
import { actorOf } from '../../src/lib/route.js'
import { AppError } from '../../src/lib/problems.js'
import { ProblemRef } from '../../src/lib/schemas.js'
import type { App } from '../../src/lib/route.js'
import { bearer, buildTestApp, expectProblem, tokenFor } from '../helpers/app.js'

const base = { id: Type.String() }
const views = audienceSerializer({
  platform: Type.Object({ ...base, supplierPrice: Type.String(), stationPrice: Type.String() }, { $id: 'ThingPlatform' }),
  supplier: Type.Object({ ...base, supplierPrice: Type.String() }, { $id: 'ThingSupplier' }),
  station: Type.Object({ ...base, stationPrice: Type.String() }, { $id: 'ThingStation' })
})

let app: App
beforeAll(async () => {
  app = await buildTestApp()
  app.get('/v1/test-things/:fail', { config: { access: 'articles:read' }, schema: { response: { 200: views.schema, '4xx': ProblemRef } } }, async (request, reply) => {
    views.use(reply, actorOf(request))
    if ((request.params as { fail: string }).fail === 'fail') throw new AppError('NOT_FOUND', 'nope')
    return { id: 'x', supplierPrice: '1.0000', stationPrice: '1.0800', secret: 'never' }
  })
  await app.ready()
})
afterAll(async () => { await app.close() })

describe('audience serializers', () => {
  it('drop the prices an audience may not see', async () => {
    const get = async (role: 'ADMIN' | 'SUPPLIER' | 'STATION') => (await app.inject({ method: 'GET', url: '/v1/test-things/ok', headers: bearer(tokenFor(app, { role })) })).json()
    expect(await get('ADMIN')).toEqual({ id: 'x', supplierPrice: '1.0000', stationPrice: '1.0800' })
    expect(await get('SUPPLIER')).toEqual({ id: 'x', supplierPrice: '1.0000' })
    expect(await get('STATION')).toEqual({ id: 'x', stationPrice: '1.0800' })
    expect(views.serialize('station', { id: 'y', supplierPrice: '2', stationPrice: '3' })).toBe('{"id":"y","stationPrice":"3"}')
  })

  it('does not disturb problem responses after a view was chosen', async () => {
    expectProblem(await app.inject({ method: 'GET', url: '/v1/test-things/fail', headers: bearer(tokenFor(app, { role: 'STATION' })) }), 404, 'NOT_FOUND')
  })
})
