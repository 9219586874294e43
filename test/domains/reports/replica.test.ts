// DATABASE_READ_URL: the reports read the replica, everything else the primary. Two databases of
// this file's own (cloned from the template) hold different datasets; an app pointed at the first
// with the second as its read replica answers every report from the second, on a pool of its own,
// and an order placed through it (on the primary) does not appear in its reports. Without the
// setting the same app reads the primary.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { createTestApp } from '../../helpers/app.js'
import { placeOrder } from '../orders/fixtures.js'
import { amount, cents, DAY, getJson, ordersIn, ownDatabase, seedDataset, utcDay, type Dataset } from './fixtures.js'

let primaryUrl: string
let replicaUrl: string
let onPrimary: App
let routed: App
let primary: Dataset
let replica: Dataset

beforeAll(async () => {
  primaryUrl = await ownDatabase('primary')
  replicaUrl = await ownDatabase('replica')
  const seeder = await createTestApp({}, replicaUrl)
  replica = await seedDataset(seeder, 424242)
  await seeder.close()
  onPrimary = await createTestApp({}, primaryUrl)
  primary = await seedDataset(onPrimary, 1)
  routed = await createTestApp({ DATABASE_READ_URL: replicaUrl }, primaryUrl)
})
afterAll(async () => {
  await routed?.close()
  await onPrimary?.close()
})

const to = utcDay(Date.now())
const from = utcDay(Date.now() - 364 * DAY)
const spendTotal = (ds: Dataset): string => amount(ordersIn(ds, from, to).filter(o => o.status !== 'CANCELLED' && o.status !== 'DECLINED').reduce((s, o) => s + cents(o.stationNet), 0n))

describe('read replica routing', () => {
  it('the datasets differ', () => {
    expect(spendTotal(primary)).not.toBe(spendTotal(replica))
  })

  it('with DATABASE_READ_URL every report reads the replica; without it, the primary', async () => {
    const viaReplica = await getJson(routed, primary.admin, '/v1/reports/spend')
    expect(viaReplica.status, viaReplica.raw).toBe(200)
    expect(viaReplica.body.totals.stationNet).toBe(spendTotal(replica))
    const names = new Set(viaReplica.body.items.map((i: { name: string }) => i.name))
    expect(names).toEqual(new Set(replica.suppliers.map(s => s.name)))
    expect(replica.suppliers.some(s => primary.suppliers.some(p => p.id === s.id))).toBe(false)

    const viaPrimary = await getJson(onPrimary, primary.admin, '/v1/reports/spend')
    expect(viaPrimary.body.totals.stationNet).toBe(spendTotal(primary))

    // the other reports too: the replica's contract, the replica's open orders
    const util = await getJson(routed, primary.admin, '/v1/reports/contract-utilization')
    expect(util.body.items.map((i: { contractId: string }) => i.contractId)).toContain(replica.contract.id)
    expect(util.body.items.map((i: { contractId: string }) => i.contractId)).not.toContain(primary.contract.id)
    const dash = await getJson(routed, primary.admin, '/v1/reports/dashboard')
    expect(dash.body.openOrders.find((x: { status: string }) => x.status === 'PLACED').purchaseOrders).toBe(replica.orders.filter(o => o.status === 'PLACED').length)
    const perf = await getJson(routed, primary.admin, `/v1/reports/supplier-performance?from=${from}&to=${to}`)
    expect(new Set(perf.body.items.map((i: { supplierId: string }) => i.supplierId))).toEqual(new Set(replica.suppliers.map(s => s.id)))
  })

  it('its own pool on the replica; an order placed through the routed app lands on the primary, not in its reports', async () => {
    const before = await getJson(routed, primary.admin, '/v1/reports/dashboard')
    const o = await placeOrder(routed, [2])
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM purchase_orders WHERE id = ${o.poId}::uuid`.execute(onPrimary.db)).rows[0]?.n).toBe(1)
    const after = await getJson(routed, primary.admin, '/v1/reports/dashboard')
    expect(after.body.openOrders).toEqual(before.body.openOrders)
    const own = await getJson(routed, o.st.token, '/v1/reports/spend')
    expect(own.body.totals.purchaseOrders).toBe(0)
    const onlyPrimary = await getJson(onPrimary, o.st.token, '/v1/reports/spend')
    expect(onlyPrimary.body.totals.purchaseOrders).toBe(1)
    const replicaName = new URL(replicaUrl).pathname.slice(1)
    const sessions = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'gestion-emballages-api:reports' AND datname = ${replicaName}`.execute(onPrimary.db)
    expect(sessions.rows[0]?.n).toBeGreaterThan(0)
  })
})
