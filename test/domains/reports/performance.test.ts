// GET /v1/reports/supplier-performance against a dataset of this file's own: every supplier's
// counts, delays, on-time and fill rates computed again in JavaScript from the rows (on time: the
// reception's date in France on or before the line's confirmed date), for staff, a station (its
// own orders) and a supplier (its own row); the CSV carries the same figures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { expectProblem } from '../../helpers/app.js'
import { keysDeep } from '../orders/fixtures.js'
import { parseCsv } from './csv-parse.js'
import { DAY, getJson, ordersIn, parisDay, reportsApp, seedDataset, utcDay, type Dataset, type FxParty } from './fixtures.js'

let app: App
let ds: Dataset
const from = utcDay(Date.now() - 300 * DAY)
const to = utcDay(Date.now())

beforeAll(async () => {
  ({ app } = await reportsApp('perf'))
  ds = await seedDataset(app, 7)
})
afterAll(async () => { await app.close() })

const r2 = (x: number): number => Math.round(x * 100) / 100
const r4 = (x: number): number => Math.round(x * 10_000) / 10_000
const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length)

function expected (f: { stationId?: string, supplierId?: string }): Array<Record<string, unknown>> {
  const bySupplier = new Map<string, ReturnType<typeof ordersIn>>()
  for (const o of ordersIn(ds, from, to, f)) bySupplier.set(o.supplierId, [...(bySupplier.get(o.supplierId) ?? []), o])
  return [...bySupplier].map(([supplierId, orders]) => {
    const received = orders.filter(o => o.receivedAt !== null)
    const lines = received.flatMap(o => o.lines.map(l => ({ l, o })))
    const dated = lines.filter(x => x.l.confirmedDeliveryDate !== null)
    const onTime = dated.filter(x => parisDay(x.o.receivedAt as Date) <= (x.l.confirmedDeliveryDate as string))
    const ordered = lines.reduce((n, x) => n + x.l.packsOrdered, 0)
    const got = lines.reduce((n, x) => n + (x.l.packsReceived ?? 0), 0)
    const confirmHours = mean(orders.filter(o => o.confirmedAt !== null).map(o => ((o.confirmedAt as Date).getTime() - o.createdAt.getTime()) / 3_600_000))
    const leadDays = mean(received.map(o => ((o.receivedAt as Date).getTime() - o.createdAt.getTime()) / DAY))
    return {
      supplierId,
      supplierName: (ds.suppliers.find(s => s.id === supplierId) as FxParty).name,
      purchaseOrders: orders.length,
      declined: orders.filter(o => o.status === 'DECLINED').length,
      cancelled: orders.filter(o => o.status === 'CANCELLED').length,
      confirmed: orders.filter(o => o.confirmedAt !== null).length,
      received: received.length,
      avgConfirmationHours: confirmHours === null ? null : r2(confirmHours),
      avgLeadTimeDays: leadDays === null ? null : r2(leadDays),
      receivedLines: lines.length,
      datedLines: dated.length,
      onTimeLines: onTime.length,
      onTimeRate: dated.length === 0 ? null : r4(onTime.length / dated.length),
      orderedPacks: ordered,
      receivedPacks: got,
      fillRate: ordered === 0 ? null : r4(got / ordered)
    }
  }).sort((a, b) => (a.supplierId < b.supplierId ? -1 : 1))
}

const sorted = (items: Array<{ supplierId: string }>): Array<{ supplierId: string }> => [...items].sort((a, b) => (a.supplierId < b.supplierId ? -1 : 1))

describe('supplier performance', () => {
  it('staff, a station and a supplier get the figures computed from the rows', async () => {
    const cases: Array<{ token: string, f: { stationId?: string, supplierId?: string } }> = [
      { token: ds.admin, f: {} },
      { token: (ds.stations[1] as FxParty).token, f: { stationId: (ds.stations[1] as FxParty).id } },
      { token: (ds.suppliers[2] as FxParty).token, f: { supplierId: (ds.suppliers[2] as FxParty).id } },
      { token: ds.admin, f: { stationId: (ds.stations[2] as FxParty).id, supplierId: (ds.suppliers[0] as FxParty).id } }
    ]
    for (const c of cases) {
      const qs = new URLSearchParams({ from, to, ...(c.f.stationId === undefined ? {} : { stationId: c.f.stationId }), ...(c.f.supplierId === undefined ? {} : { supplierId: c.f.supplierId }) }).toString()
      const res = await getJson(app, c.token, `/v1/reports/supplier-performance?${qs}`)
      expect(res.status, res.raw).toBe(200)
      expect(res.body).toMatchObject({ from, to })
      const want = expected(c.f)
      expect(want.length).toBeGreaterThan(0)
      expect(want.some(w => (w.onTimeLines as number) > 0 && (w.onTimeLines as number) < (w.datedLines as number))).toBe(true)
      const got = sorted(res.body.items) as Array<Record<string, unknown>>
      expect(got.length).toBe(want.length)
      got.forEach((g, i) => {
        const w = want[i] as Record<string, unknown>
        // the averages are rounded by PostgreSQL from exact numerics, here from doubles: equal to the cent
        for (const k of ['avgConfirmationHours', 'avgLeadTimeDays']) expect(Math.abs((g[k] as number) - (w[k] as number))).toBeLessThanOrEqual(0.01)
        expect({ ...g, avgConfirmationHours: 0, avgLeadTimeDays: 0 }).toEqual({ ...w, avgConfirmationHours: 0, avgLeadTimeDays: 0 })
      })
    }
  })

  it('a supplier sees only its own row; no report carries a price', async () => {
    const p = ds.suppliers[0] as FxParty
    const res = await getJson(app, p.token, `/v1/reports/supplier-performance?from=${from}&to=${to}`)
    expect(res.body.items.map((i: { supplierId: string }) => i.supplierId)).toEqual([p.id])
    for (const k of keysDeep(res.body)) expect(k).not.toMatch(/Net$|Price$/)
    expectProblem(await app.inject({ method: 'GET', url: `/v1/reports/supplier-performance?supplierId=${(ds.suppliers[1] as FxParty).id}`, headers: { authorization: `Bearer ${p.token}` } }), 404, 'NOT_FOUND')
  })

  it('CSV: the same figures, one supplier per row', async () => {
    const url = `/v1/reports/supplier-performance?from=${from}&to=${to}`
    const json = await getJson(app, ds.admin, url)
    const csv = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ds.admin}`, accept: 'text/csv' } })
    const [header, ...rows] = parseCsv(csv.body)
    expect(header?.[0]).toBe('supplierId')
    expect(rows.length).toBe(json.body.items.length)
    rows.forEach((r, i) => {
      const item = json.body.items[i]
      header?.forEach((col, k) => { expect(r[k], col).toBe(item[col] === null ? '' : /^[=+\-@]/.test(String(item[col])) ? `'${String(item[col])}` : String(item[col])) })
    })
  })
})
