// GET /v1/reports/contract-utilization and GET /v1/reports/dashboard against a dataset of this
// file's own: caps, counters, received packs, elapsed shares and projections computed again in
// JavaScript (a station: its own packs only, no cap); the dashboard's open orders, low stock,
// pending transfers and contracts near their cap or end, per audience, with the JSON keys each
// view may carry; the CSV representations.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { expectProblem } from '../../helpers/app.js'
import { createContract } from '../../helpers/factories.js'
import { keysDeep } from '../orders/fixtures.js'
import { parseCsv } from './csv-parse.js'
import { amount, cents, DAY, getJson, parisDay, reportsApp, seedDataset, utcDay, type Dataset, type FxParty } from './fixtures.js'

let app: App
let ds: Dataset
const today = parisDay(new Date())
let soon: { id: string, number: string, lineIds: string[] }

beforeAll(async () => {
  ({ app } = await reportsApp('util'))
  ds = await seedDataset(app, 11)
  // a second contract of the second supplier, ending in 10 days, one line at 90 % of its cap
  const p1 = ds.suppliers[1] as FxParty
  soon = await createContract(app.db, p1.id, [
    { articleId: (ds.articles[2] as { id: string }).id, packPrice: '1.0000', committedPacks: 100 },
    { articleId: (ds.articles[3] as { id: string }).id, packPrice: '2.0000', committedPacks: 100 }
  ], { validFrom: utcDay(Date.parse(today) - 355 * DAY), validUntil: utcDay(Date.parse(today) + 10 * DAY) })
  await sql`UPDATE contract_lines SET ordered_packs = 90 WHERE id = ${soon.lineIds[0]}::uuid`.execute(app.db)
  await sql`UPDATE contract_lines SET ordered_packs = 20 WHERE id = ${soon.lineIds[1]}::uuid`.execute(app.db)
})
afterAll(async () => { await app.close() })

const r2 = (x: number): number => Math.round(x * 100) / 100
/** The report's order within a contract: by article code. */
const byArticleCode = <T extends { articleId?: string }>(items: T[]): T[] => {
  const code = (id: string | undefined): string => ds.articles.find(a => a.id === id)?.code ?? ''
  return [...items].sort((a, b) => (code(a.articleId) < code(b.articleId) ? -1 : 1))
}
const share = (validFrom: string, validUntil: string): { elapsed: number, total: number } => {
  const total = (Date.parse(validUntil) - Date.parse(validFrom)) / DAY + 1
  return { total, elapsed: Math.min(total, Math.max(0, (Date.parse(today) - Date.parse(validFrom)) / DAY + 1)) }
}

describe('contract utilization', () => {
  it('staff and the contract\'s supplier: caps, counters, received packs, % used, elapsed share and projection', async () => {
    const c = ds.contract
    const { elapsed, total } = share(c.validFrom, c.validUntil)
    const want = c.lineIds.map((id, k) => {
      const committed = c.committed[k] ?? null
      const ordered = c.counters[k] as number
      const cap = committed === null ? null : Math.floor(committed * (1 + Number(c.allowance[k]) / 100))
      const projected = Math.round(ordered * total / elapsed)
      return {
        contractId: c.id,
        contractNumber: c.number,
        contractLineId: id,
        articleId: c.articleIds[k],
        status: 'ACTIVE',
        validFrom: c.validFrom,
        validUntil: c.validUntil,
        committedPacks: committed,
        allowancePct: c.allowance[k],
        capPacks: cap,
        orderedPacks: ordered,
        receivedPacks: ds.orders.flatMap(o => o.lines).filter(l => l.contractLineId === id).reduce((n, l) => n + (l.packsReceived ?? 0), 0),
        remainingPacks: cap === null ? null : cap - ordered,
        usedPct: committed === null ? null : r2(ordered / committed * 100),
        elapsedPct: r2(elapsed / total * 100),
        projectedPacks: projected,
        projectedPct: committed === null ? null : r2(projected / committed * 100)
      }
    })
    expect(want[0]?.orderedPacks).toBeGreaterThan(0)
    expect(want[0]?.receivedPacks).toBeGreaterThan(0)
    for (const token of [ds.admin, (ds.suppliers[0] as FxParty).token]) {
      const res = await getJson(app, token, `/v1/reports/contract-utilization?contractId=${c.id}`)
      expect(res.status, res.raw).toBe(200)
      expect(res.body.asOf).toBe(today)
      expect(res.body.items).toEqual(byArticleCode(want).map(w => expect.objectContaining(w)))
    }
    // staff see every current contract; the supplier of the other one only its own
    const all = await getJson(app, ds.admin, '/v1/reports/contract-utilization')
    expect(new Set(all.body.items.map((i: { contractId: string }) => i.contractId))).toEqual(new Set([c.id, soon.id]))
    const other = await getJson(app, (ds.suppliers[1] as FxParty).token, '/v1/reports/contract-utilization')
    expect(new Set(other.body.items.map((i: { contractId: string }) => i.contractId))).toEqual(new Set([soon.id]))
    const third = await getJson(app, (ds.suppliers[2] as FxParty).token, `/v1/reports/contract-utilization?contractId=${c.id}`)
    expect(third.body.items).toEqual([])
    expect((await getJson(app, ds.admin, '/v1/reports/contract-utilization?status=EXPIRED')).body.items).toEqual([])
    expectProblem(await app.inject({ method: 'GET', url: `/v1/reports/contract-utilization?supplierId=${(ds.suppliers[0] as FxParty).id}`, headers: { authorization: `Bearer ${(ds.suppliers[1] as FxParty).token}` } }), 404, 'NOT_FOUND')
  })

  it('a station: its own ordered and received packs on the lines its orders drew on, no cap', async () => {
    for (const st of ds.stations) {
      const res = await getJson(app, st.token, '/v1/reports/contract-utilization')
      expect(res.status).toBe(200)
      const mine = ds.orders.filter(o => o.stationId === st.id && o.status !== 'CANCELLED' && o.status !== 'DECLINED').flatMap(o => o.lines)
      const want = ds.contract.lineIds.map((id, k) => {
        const lines = mine.filter(l => l.contractLineId === id)
        const ordered = lines.reduce((n, l) => n + l.packsOrdered, 0)
        const { elapsed, total } = share(ds.contract.validFrom, ds.contract.validUntil)
        return { lines: lines.length, articleId: ds.contract.articleIds[k], orderedPacks: ordered, receivedPacks: lines.reduce((n, l) => n + (l.packsReceived ?? 0), 0), projectedPacks: Math.round(ordered * total / elapsed) }
      }).filter(w => w.lines > 0).map(({ lines: _l, ...w }) => ({ ...w, contractId: ds.contract.id, contractNumber: ds.contract.number }))
      expect(res.body.items).toEqual(byArticleCode(want).map(w => expect.objectContaining(w)))
      const keys = keysDeep(res.body)
      for (const k of ['committedPacks', 'capPacks', 'usedPct', 'remainingPacks', 'projectedPct', 'supplierName', 'allowancePct', 'contractLineId']) expect(keys.has(k), k).toBe(false)
    }
  })

  it('CSV: one row per contract line, the caller\'s columns', async () => {
    const csv = await app.inject({ method: 'GET', url: '/v1/reports/contract-utilization', headers: { authorization: `Bearer ${ds.admin}`, accept: 'text/csv' } })
    const [header, ...rows] = parseCsv(csv.body)
    expect(header).toContain('capPacks')
    expect(rows.length).toBe(4)
    const st = await app.inject({ method: 'GET', url: '/v1/reports/contract-utilization', headers: { authorization: `Bearer ${(ds.stations[0] as FxParty).token}`, accept: 'text/csv' } })
    expect(parseCsv(st.body)[0]).not.toContain('capPacks')
  })
})

describe('dashboard', () => {
  const OPEN = ['PLACED', 'CONFIRMED', 'SHIPPED', 'RECEIVED', 'CLOSED']
  const openOrders = (f: (o: Dataset['orders'][number]) => boolean) => OPEN.map(status => {
    const os = ds.orders.filter(o => o.status === status && f(o))
    return { status, purchaseOrders: os.length, stationNet: amount(os.reduce((s, o) => s + cents(o.stationNet), 0n)), supplierNet: amount(os.reduce((s, o) => s + cents(o.supplierNet), 0n)) }
  })

  it('staff: every open order with both sides, low stock, pending transfers, contracts near their cap or end', async () => {
    const res = await getJson(app, ds.admin, '/v1/reports/dashboard')
    expect(res.status, res.raw).toBe(200)
    expect(res.body.openOrders).toEqual(openOrders(() => true))
    const [s0, s1] = ds.stations as [FxParty, FxParty]
    const a = ds.articles
    expect(res.body.lowStock).toMatchObject({ levels: 4, critical: 2, out: 1 })
    expect(res.body.lowStock.items.map((i: { stationId: string, articleId: string, severity: string }) => [i.stationId, i.articleId, i.severity])).toEqual([
      [s0.id, a[0]?.id, 'OUT'], [s0.id, a[1]?.id, 'CRITICAL'], [s1.id, a[0]?.id, 'LOW'], [s0.id, a[2]?.id, 'LOW']
    ])
    expect(res.body.pendingTransfers).toEqual([
      { status: 'REQUESTED', transfers: 1 }, { status: 'CONFIRMED', transfers: 1 }, { status: 'IN_PREPARATION', transfers: 0 }, { status: 'SHIPPED', transfers: 1 },
      { status: 'RECEIVED', transfers: 0 }, { status: 'CLOSED', transfers: 0 }, { status: 'SETTLED', transfers: 1 }
    ])
    const nearFirst = ds.contract.counters[0] as number >= 320 ? 1 : 0
    expect(res.body.contracts.nearCap).toBe(1 + nearFirst)
    expect(res.body.contracts.endingSoon).toBe(1)
    expect(res.body.contracts.items[0]).toMatchObject({ contractId: soon.id, daysLeft: 10, linesNearCap: 1, maxUsedPct: 90, supplierId: (ds.suppliers[1] as FxParty).id })
  })

  it('a station: its own orders (station side), its stock, its transfers; nothing of contracts or supplier prices', async () => {
    const s0 = ds.stations[0] as FxParty
    const res = await getJson(app, s0.token, '/v1/reports/dashboard')
    expect(res.body.openOrders).toEqual(openOrders(o => o.stationId === s0.id).map(({ supplierNet: _s, ...o }) => o))
    expect(res.body.lowStock).toMatchObject({ levels: 3, critical: 2, out: 1 })
    expect(res.body.pendingTransfers.filter((t: { transfers: number }) => t.transfers > 0)).toEqual([{ status: 'REQUESTED', transfers: 1 }, { status: 'SHIPPED', transfers: 1 }])
    const keys = keysDeep(res.body)
    for (const k of ['supplierNet', 'contracts', 'marginNet']) expect(keys.has(k), k).toBe(false)
  })

  it('a supplier: its own orders (supplier side) and its contracts; no stock, no transfers', async () => {
    const p1 = ds.suppliers[1] as FxParty
    const res = await getJson(app, p1.token, '/v1/reports/dashboard')
    expect(res.body.openOrders).toEqual(openOrders(o => o.supplierId === p1.id).map(({ stationNet: _s, ...o }) => o))
    expect(res.body.contracts).toMatchObject({ nearCap: 1, endingSoon: 1 })
    expect(res.body.contracts.items.map((i: { contractId: string }) => i.contractId)).toEqual([soon.id])
    const keys = keysDeep(res.body)
    for (const k of ['stationNet', 'lowStock', 'pendingTransfers', 'marginNet']) expect(keys.has(k), k).toBe(false)
    const other = await getJson(app, (ds.suppliers[2] as FxParty).token, '/v1/reports/dashboard')
    expect(other.body.contracts).toEqual({ nearCap: 0, endingSoon: 0, items: [] })
  })

  it('CSV: one figure per row (section, key, metric, value), the same figures', async () => {
    const s0 = ds.stations[0] as FxParty
    const json = await getJson(app, s0.token, '/v1/reports/dashboard')
    const csv = await app.inject({ method: 'GET', url: '/v1/reports/dashboard', headers: { authorization: `Bearer ${s0.token}`, accept: 'text/csv' } })
    const [header, ...rows] = parseCsv(csv.body)
    expect(header).toEqual(['section', 'key', 'metric', 'value'])
    for (const o of json.body.openOrders) {
      expect(rows).toContainEqual(['openOrders', o.status, 'purchaseOrders', String(o.purchaseOrders)])
      expect(rows).toContainEqual(['openOrders', o.status, 'stationNet', o.stationNet])
    }
    expect(rows).toContainEqual(['lowStock', '', 'levels', '3'])
    expect(rows.some(r => r[2] === 'supplierNet')).toBe(false)
  })
})
