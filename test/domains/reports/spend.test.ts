// GET /v1/reports/spend against a dataset of this file's own: every grouping × basis × audience
// compared with the same figures computed in JavaScript from the rows the dataset wrote (line
// nets summed in cents, received nets with src/lib/money.ts's lineNet), the price visibility of
// each view (JSON keys), the scope (404 for another organization), validation, and the CSV
// representation (header, escaping, the same numbers as the JSON).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { lineNet } from '../../../src/lib/money.js'
import { expectProblem } from '../../helpers/app.js'
import { get, keysDeep, placeOrder, staff } from '../orders/fixtures.js'
import { driveToInvoiced } from './flow.js'
import { amount, cents, DAY, getJson, isReceived, ordersIn, reportsApp, seedDataset, utcDay, type Dataset, type FxParty } from './fixtures.js'
import { parseCsv } from './csv-parse.js'

let app: App
let ds: Dataset
const today = utcDay(Date.now())
const from = utcDay(Date.now() - 400 * DAY)
const to = utcDay(Date.now() - 2 * DAY)

beforeAll(async () => {
  ({ app } = await reportsApp('spend'))
  ds = await seedDataset(app)
})
afterAll(async () => { await app.close() })

type Group = 'supplier' | 'station' | 'article' | 'category' | 'month'
type Basis = 'ordered' | 'received'
interface Expected { key: string, code: string | null, name: string, purchaseOrders?: number, lines?: number, packs?: number, stationNet: string, supplierNet: string, marginNet: string }

/** The report computed in JavaScript from the dataset's rows. */
function expectedSpend (group: Group, basis: Basis, f: { stationId?: string, supplierId?: string }, range = { from, to }): { items: Expected[], totals: Omit<Expected, 'key' | 'code' | 'name'> } {
  const orders = ordersIn(ds, range.from, range.to, f).filter(o => basis === 'ordered' ? o.status !== 'CANCELLED' && o.status !== 'DECLINED' : isReceived(o.status))
  const groups = new Map<string, { code: string | null, name: string, pos: Set<string>, lines: number, packs: number, sta: bigint, sup: bigint }>()
  const party = (list: FxParty[], id: string): FxParty => list.find(p => p.id === id) as FxParty
  for (const o of orders) {
    for (const l of o.lines) {
      const article = ds.articles.find(a => a.id === l.articleId)
      if (article === undefined) throw new Error('unknown article')
      const [key, code, name] = group === 'supplier'
        ? [o.supplierId, null, party(ds.suppliers, o.supplierId).name]
        : group === 'station'
          ? [o.stationId, party(ds.stations, o.stationId).code, party(ds.stations, o.stationId).name]
          : group === 'month'
            ? [o.createdAt.toISOString().slice(0, 7), null, o.createdAt.toISOString().slice(0, 7)]
            : group === 'article' ? [article.id, article.code, article.name] : [article.category, article.category, article.category]
      const g = groups.get(key) ?? { code, name, pos: new Set<string>(), lines: 0, packs: 0, sta: 0n, sup: 0n }
      g.pos.add(o.id)
      g.lines++
      if (basis === 'ordered') {
        g.packs += l.packsOrdered
        g.sta += cents(l.stationLineNet)
        g.sup += cents(l.supplierLineNet)
      } else {
        g.packs += l.packsReceived ?? 0
        g.sta += cents(lineNet(l.stationPackPrice, l.packsReceived ?? 0))
        g.sup += cents(lineNet(l.supplierPackPrice, l.packsReceived ?? 0))
      }
      groups.set(key, g)
    }
  }
  const byLine = group === 'article' || group === 'category'
  const items: Expected[] = [...groups].map(([key, g]) => ({
    key,
    code: g.code,
    name: g.name,
    ...(byLine ? { lines: g.lines, packs: g.packs } : { purchaseOrders: g.pos.size }),
    stationNet: amount(g.sta),
    supplierNet: amount(g.sup),
    marginNet: amount(g.sta - g.sup)
  }))
  const sta = [...groups.values()].reduce((s, g) => s + g.sta, 0n)
  const sup = [...groups.values()].reduce((s, g) => s + g.sup, 0n)
  const totals = {
    ...(byLine ? { lines: items.reduce((n, i) => n + (i.lines ?? 0), 0), packs: items.reduce((n, i) => n + (i.packs ?? 0), 0) } : { purchaseOrders: items.reduce((n, i) => n + (i.purchaseOrders ?? 0), 0) }),
    stationNet: amount(sta),
    supplierNet: amount(sup),
    marginNet: amount(sta - sup)
  }
  return { items, totals }
}

const VISIBLE = { platform: ['stationNet', 'supplierNet', 'marginNet'], station: ['stationNet'], supplier: ['supplierNet'] } as const
function view (o: object, audience: keyof typeof VISIBLE): Record<string, unknown> {
  const hidden = ['stationNet', 'supplierNet', 'marginNet'].filter(k => !(VISIBLE[audience] as readonly string[]).includes(k))
  return Object.fromEntries(Object.entries(o).filter(([k]) => !hidden.includes(k)))
}
const byKey = (items: Array<{ key: string }>): Array<{ key: string }> => [...items].sort((a, b) => (a.key < b.key ? -1 : 1))

const GROUPS: Group[] = ['supplier', 'station', 'article', 'category', 'month']
const BASES: Basis[] = ['ordered', 'received']

describe('spend report: figures', () => {
  const callers = (): Array<{ audience: keyof typeof VISIBLE, token: string, f: { stationId?: string, supplierId?: string } }> => [
    { audience: 'platform', token: ds.admin, f: {} },
    { audience: 'station', token: (ds.stations[0] as FxParty).token, f: { stationId: (ds.stations[0] as FxParty).id } },
    { audience: 'supplier', token: (ds.suppliers[0] as FxParty).token, f: { supplierId: (ds.suppliers[0] as FxParty).id } }
  ]

  it('every grouping × basis × audience equals the JavaScript computation, to the cent, with totals', async () => {
    let compared = 0
    for (const c of callers()) {
      for (const group of GROUPS) {
        for (const basis of BASES) {
          const res = await getJson(app, c.token, `/v1/reports/spend?from=${from}&to=${to}&groupBy=${group}&basis=${basis}`)
          expect(res.status, res.raw).toBe(200)
          const want = expectedSpend(group, basis, c.f)
          expect(want.items.length, `${c.audience} ${group} ${basis} has data`).toBeGreaterThan(0)
          expect(byKey(res.body.items), `${c.audience} ${group} ${basis}`).toEqual(byKey(want.items.map(i => ({ ...view(i, c.audience), key: i.key }))))
          expect(res.body.totals).toEqual(view(want.totals, c.audience))
          expect(res.body).toMatchObject({ from, to, groupBy: group, basis, currency: 'EUR' })
          // order: months in calendar order, otherwise the caller's net descending
          const side = c.audience === 'supplier' ? 'supplierNet' : 'stationNet'
          const seq = res.body.items.map((i: Record<string, string>) => group === 'month' ? i.key : cents(i[side] as string))
          const sorted = [...seq].sort((a, b) => group === 'month' ? (a < b ? -1 : 1) : (a > b ? -1 : a < b ? 1 : 0))
          expect(seq).toEqual(sorted)
          compared++
        }
      }
    }
    expect(compared).toBe(30)
  })

  it('the period is UTC days of the order\'s creation, `to` inclusive; the default is the last 365 days', async () => {
    const o = ds.orders.find(x => x.status === 'PLACED' && x.createdAt.getTime() < Date.now() - 3 * DAY) ?? ds.orders[0]
    if (o === undefined) throw new Error('no order')
    const day = utcDay(o.createdAt.getTime())
    const one = await getJson(app, ds.admin, `/v1/reports/spend?from=${day}&to=${day}&groupBy=month`)
    expect(one.body.totals).toEqual(expectedSpend('month', 'ordered', {}, { from: day, to: day }).totals)
    const before = await getJson(app, ds.admin, `/v1/reports/spend?from=${utcDay(Date.parse(day) - 30 * DAY)}&to=${utcDay(Date.parse(day) - DAY)}&groupBy=month`)
    const after = await getJson(app, ds.admin, `/v1/reports/spend?from=${utcDay(Date.parse(day) + DAY)}&to=${utcDay(Date.parse(day) + 30 * DAY)}&groupBy=month`)
    const around = await getJson(app, ds.admin, `/v1/reports/spend?from=${utcDay(Date.parse(day) - 30 * DAY)}&to=${utcDay(Date.parse(day) + 30 * DAY)}&groupBy=month`)
    expect(cents(one.body.totals.stationNet) + cents(before.body.totals.stationNet) + cents(after.body.totals.stationNet)).toBe(cents(around.body.totals.stationNet))
    const dflt = await getJson(app, ds.admin, '/v1/reports/spend')
    expect(dflt.body).toMatchObject({ from: utcDay(Date.parse(today) - 364 * DAY), to: today, groupBy: 'supplier', basis: 'ordered' })
    expect(dflt.body.totals).toEqual(expectedSpend('supplier', 'ordered', {}, { from: utcDay(Date.parse(today) - 364 * DAY), to: today }).totals)
  })

  it('CANCELLED and DECLINED orders never count; received counts only what was received', async () => {
    const gone = ordersIn(ds, from, to).filter(o => o.status === 'CANCELLED' || o.status === 'DECLINED')
    expect(gone.length).toBeGreaterThan(0)
    const all = await getJson(app, ds.admin, `/v1/reports/spend?from=${from}&to=${to}&groupBy=month`)
    const live = ordersIn(ds, from, to).filter(o => !gone.includes(o))
    expect(all.body.totals.purchaseOrders).toBe(live.length)
    const rec = await getJson(app, ds.admin, `/v1/reports/spend?from=${from}&to=${to}&groupBy=month&basis=received`)
    expect(rec.body.totals.purchaseOrders).toBe(live.filter(o => isReceived(o.status)).length)
  })
})

describe('spend report: visibility and scope', () => {
  it('a station sees no supplier-side amount or margin, a supplier no station-side amount or margin, staff both', async () => {
    for (const group of GROUPS) {
      const st = await getJson(app, (ds.stations[0] as FxParty).token, `/v1/reports/spend?groupBy=${group}`)
      const keys = keysDeep(st.body)
      expect(keys.has('stationNet')).toBe(true)
      expect(keys.has('supplierNet') || keys.has('marginNet')).toBe(false)
      const sup = await getJson(app, (ds.suppliers[0] as FxParty).token, `/v1/reports/spend?groupBy=${group}`)
      const skeys = keysDeep(sup.body)
      expect(skeys.has('supplierNet')).toBe(true)
      expect(skeys.has('stationNet') || skeys.has('marginNet')).toBe(false)
      const pl = keysDeep((await getJson(app, ds.admin, `/v1/reports/spend?groupBy=${group}`)).body)
      for (const k of ['stationNet', 'supplierNet', 'marginNet']) expect(pl.has(k)).toBe(true)
    }
  })

  it('another organization\'s id is a 404; the own id or the other party narrows', async () => {
    const [s0, s1] = ds.stations as [FxParty, FxParty]
    const [p0, p1] = ds.suppliers as [FxParty, FxParty]
    expectProblem(await app.inject({ method: 'GET', url: `/v1/reports/spend?stationId=${s1.id}`, headers: { authorization: `Bearer ${s0.token}` } }), 404, 'NOT_FOUND')
    expectProblem(await app.inject({ method: 'GET', url: `/v1/reports/spend?supplierId=${p1.id}`, headers: { authorization: `Bearer ${p0.token}` } }), 404, 'NOT_FOUND')
    expectProblem(await app.inject({ method: 'GET', url: `/v1/reports/supplier-performance?stationId=${s1.id}`, headers: { authorization: `Bearer ${s0.token}` } }), 404, 'NOT_FOUND')
    const own = await getJson(app, s0.token, `/v1/reports/spend?stationId=${s0.id}&from=${from}&to=${to}`)
    expect(own.body.totals.stationNet).toBe(expectedSpend('supplier', 'ordered', { stationId: s0.id }).totals.stationNet)
    const narrowed = await getJson(app, s0.token, `/v1/reports/spend?supplierId=${p1.id}&from=${from}&to=${to}`)
    expect(narrowed.body.totals.stationNet).toBe(expectedSpend('supplier', 'ordered', { stationId: s0.id, supplierId: p1.id }).totals.stationNet)
    const staffBoth = await getJson(app, ds.admin, `/v1/reports/spend?stationId=${s1.id}&supplierId=${p0.id}&from=${from}&to=${to}&groupBy=article&basis=received`)
    expect(staffBoth.body.totals).toEqual(expectedSpend('article', 'received', { stationId: s1.id, supplierId: p0.id }).totals)
  })

  it('refuses a bad query with 400 and computes nothing', async () => {
    for (const q of ['from=2026-05-02&to=2026-05-01', 'from=2020-01-01&to=2026-01-01', 'groupBy=week', 'basis=invoiced', 'from=2026-02-30', 'stationId=nope', 'unknown=1']) {
      expectProblem(await app.inject({ method: 'GET', url: `/v1/reports/spend?${q}`, headers: { authorization: `Bearer ${ds.admin}` } }), 400)
    }
  })
})

describe('spend report: CSV', () => {
  it('Accept: text/csv → a header row and the JSON\'s numbers, in the caller\'s columns, formulas neutralized', async () => {
    for (const [token, audience] of [[ds.admin, 'platform'], [(ds.stations[0] as FxParty).token, 'station'], [(ds.suppliers[0] as FxParty).token, 'supplier']] as const) {
      for (const group of GROUPS) {
        const url = `/v1/reports/spend?from=${from}&to=${to}&groupBy=${group}&basis=received`
        const json = await getJson(app, token, url)
        const csv = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, accept: 'text/csv' } })
        expect(csv.statusCode).toBe(200)
        expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8')
        expect(String(csv.headers['content-disposition'])).toMatch(/^attachment; filename="spend-/)
        expect(csv.headers.etag).not.toBe(json.headers.etag)
        const [header, ...rows] = parseCsv(csv.body)
        const counts = group === 'article' || group === 'category' ? ['lines', 'packs'] : ['purchaseOrders']
        expect(header).toEqual(['key', 'code', 'name', ...counts, ...VISIBLE[audience]])
        expect(rows.length).toBe(json.body.items.length)
        rows.forEach((r, i) => {
          const item = json.body.items[i]
          expect(r[0]).toBe(item.key)
          for (const [k, col] of [...counts, ...VISIBLE[audience]].entries()) expect(r[k + 3]).toBe(String(item[col]))
          const name: string = item.name
          expect(r[2]).toBe(/^[=+\-@\t\r]/.test(name) ? `'${name}` : name)
        })
      }
    }
    const sup = await app.inject({ method: 'GET', url: `/v1/reports/spend?from=${from}&to=${to}&groupBy=supplier`, headers: { authorization: `Bearer ${ds.admin}`, accept: 'text/csv' } })
    expect(sup.body).toContain('"\'=Plastiques, ""Ouest"""')
    const art = await app.inject({ method: 'GET', url: `/v1/reports/spend?from=${from}&to=${to}&groupBy=article`, headers: { authorization: `Bearer ${ds.admin}`, accept: 'text/csv' } })
    expect(art.body).toContain(",'@Étiquette -SUM(A1),")
    expect(art.body.endsWith('\r\n')).toBe(true)
  })

  it('JSON stays the default: no Accept, */*, or JSON preferred by q', async () => {
    for (const accept of [undefined, '*/*', 'application/json', 'text/csv;q=0.5, application/json', 'text/html']) {
      const res = await app.inject({ method: 'GET', url: '/v1/reports/spend', headers: { authorization: `Bearer ${ds.admin}`, ...(accept === undefined ? {} : { accept }) } })
      expect(res.headers['content-type'], String(accept)).toBe('application/json; charset=utf-8')
    }
    const csv = await app.inject({ method: 'GET', url: '/v1/reports/spend', headers: { authorization: `Bearer ${ds.admin}`, accept: 'application/json;q=0.4, text/csv' } })
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8')
  })
})

describe('spend report: orders placed and invoiced through the API', () => {
  it('the received basis equals the invoiced amounts, the ordered basis the order totals (both sides)', async () => {
    const handler = await staff(app)
    const o = await placeOrder(app, [7, 13, 1])
    await driveToInvoiced(app, handler, o, [5, 13, 1])
    const po = (await get(app, handler.token, `/v1/purchase-orders/${o.poId}`)).json()
    const day = today
    const rec = await getJson(app, handler.token, `/v1/reports/spend?from=${day}&to=${day}&stationId=${o.st.id}&basis=received&groupBy=article`)
    expect(rec.body.totals).toMatchObject({ stationNet: po.invoicedTotals.net, supplierNet: po.invoicedSupplierTotals.net, lines: 3, packs: 19 })
    const ord = await getJson(app, handler.token, `/v1/reports/spend?from=${day}&to=${day}&stationId=${o.st.id}`)
    expect(ord.body.totals).toMatchObject({ stationNet: po.totals.net, supplierNet: po.supplierTotals.net, purchaseOrders: 1 })
    const st = await getJson(app, o.st.token, `/v1/reports/spend?from=${day}&to=${day}&basis=received`)
    expect(st.body.totals).toEqual({ purchaseOrders: 1, stationNet: po.invoicedTotals.net })
  })
})
