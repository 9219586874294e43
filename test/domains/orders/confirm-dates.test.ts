// A supplier's confirmation is a promise to deliver: a date in the past is refused (422) and
// changes nothing; today and later are accepted (issue 10 §5: `2020-01-01` used to answer 200).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { businessDate } from '../../../src/domains/contracts/pricing.service.js'
import { countAudit, createTestApp, expectProblem } from '../../helpers/app.js'
import { act, placeOrder } from './fixtures.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const confirmBody = (lineIds: string[], dates: string[]) => ({ lines: lineIds.map((lineId, i) => ({ lineId, confirmedDeliveryDate: dates[i] ?? dates[0] })) })

describe('confirming a purchase order', () => {
  it('refuses a delivery date in the past with 422 DELIVERY_DATE_TOO_EARLY and changes nothing', async () => {
    const o = await placeOrder(app, [4, 6])
    const before = await countAudit(app)
    const res = await act(app, o.sup.token, o.poId, 'confirm', confirmBody(o.lineIds, ['2099-01-01', '2020-01-01']))
    const body = expectProblem(res, 422, 'DELIVERY_DATE_TOO_EARLY')
    expect(body.errors).toEqual([expect.objectContaining({ pointer: '/lines/1/confirmedDeliveryDate', code: 'DELIVERY_DATE_TOO_EARLY' })])
    expect(String(body.detail)).toContain(businessDate())
    expect(await countAudit(app)).toBe(before)
    const po = await app.db.selectFrom('purchaseOrders').select(['status', 'version']).where('id', '=', o.poId).executeTakeFirstOrThrow()
    expect(po).toEqual({ status: 'PLACED', version: 1 })
    const lines = await app.db.selectFrom('purchaseOrderLines').select('confirmedDeliveryDate').where('purchaseOrderId', '=', o.poId).execute()
    expect(lines.map(l => l.confirmedDeliveryDate)).toEqual([null, null])
  })

  it('refuses yesterday, accepts today', async () => {
    const today = businessDate()
    const yesterday = new Date(Date.parse(`${today}T12:00:00Z`) - 86_400_000).toISOString().slice(0, 10)
    const o = await placeOrder(app, [1])
    expectProblem(await act(app, o.sup.token, o.poId, 'confirm', confirmBody(o.lineIds, [yesterday])), 422, 'DELIVERY_DATE_TOO_EARLY')
    const ok = await act(app, o.sup.token, o.poId, 'confirm', confirmBody(o.lineIds, [today]))
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json().lines[0].confirmedDeliveryDate).toBe(today)
  })
})
