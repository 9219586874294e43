// Ceiling for PO transitions: the raw node:http + pg server answering
// POST /v1/purchase-orders/{id}/confirm as the service does it for staff — BEGIN with the locking
// read (PO with its lines, master order FOR UPDATE), the guarded UPDATE with its status-history row,
// the lines' confirmed dates, the PO read for the answer, then the master status, the outbox event
// and the audit event with the COMMIT (five round trips, prepared statements). PLACED purchase
// orders are consumed: the ceiling and po-confirm each take one half of them (alternate POs of the
// same newest-first list), so both get the same number and the same mix of ages.
import type autocannon from 'autocannon'
import { placedPurchaseOrders, type PlacedPo } from '../lib/fixtures.js'
import { bearer, json } from '../lib/helpers.js'
import type { BenchContext, Scenario } from '../lib/types.js'

/** The service's half of the split made by the ceiling's setup of the same round (taken by po-confirm). */
const serviceShares = new WeakMap<BenchContext, PlacedPo[]>()

/**
 * The PLACED purchase orders split in two halves of equal size: even positions of the newest-first
 * list for the ceiling, odd ones for the service (an odd last one is left out).
 */
async function splitPlaced (ctx: BenchContext): Promise<{ ceiling: PlacedPo[], service: PlacedPo[] }> {
  const all = await placedPurchaseOrders(ctx.pool, 60_000)
  const pairs = Math.floor(all.length / 2)
  return { ceiling: all.filter((_, i) => i % 2 === 0 && i < 2 * pairs), service: all.filter((_, i) => i % 2 === 1 && i < 2 * pairs) }
}

/** The ceiling's half; the service's half is kept for po-confirm's setup. */
export async function ceilingShare (ctx: BenchContext): Promise<PlacedPo[]> {
  const { ceiling, service } = await splitPlaced(ctx)
  serviceShares.set(ctx, service)
  return ceiling
}

/** po-confirm's half: the one the ceiling left in this round, or (no ceiling run) its own split's. */
export async function serviceShare (ctx: BenchContext): Promise<PlacedPo[]> {
  const kept = serviceShares.get(ctx)
  serviceShares.delete(ctx)
  return kept ?? (await splitPlaced(ctx)).service
}

export const confirmDate = (): string => new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10)
export const confirmBody = (po: PlacedPo, date: string): { lines: Array<{ lineId: string, confirmedDeliveryDate: string }> } =>
  ({ lines: po.lineIds.map(lineId => ({ lineId, confirmedDeliveryDate: date })) })

/** One confirm per PO of `pos`, in order (the service's run and its ceiling's build theirs here). */
export function confirmRequests (pos: readonly PlacedPo[], token: string): { request: autocannon.Request, exhausted: () => boolean } {
  const date = confirmDate()
  let i = 0
  const request = {
    method: 'POST',
    path: '/',
    headers: { ...json, ...bearer(token) },
    setupRequest: (r: autocannon.Request) => {
      const po = pos[i++ % pos.length] as PlacedPo
      return { ...r, path: `/v1/purchase-orders/${po.id}/confirm`, body: JSON.stringify(confirmBody(po, date)) }
    }
  } as autocannon.Request
  return { request, exhausted: () => i >= pos.length }
}

export const scenario: Scenario = {
  name: 'ceiling-po-confirm',
  description: 'raw node:http + pg: POST /v1/purchase-orders/{id}/confirm, the service\'s statements and round trips (the bound for po-confirm)',
  order: 40.5,
  async setup (ctx) {
    const token = await ctx.token('HANDLER')
    const pos = await ceilingShare(ctx)
    if (pos.length < 50) throw new Error(`only ${pos.length} PLACED purchase orders for the ceiling: run the checkout scenario first`)
    // the probe confirms one of the share, as po-confirm's probe does one of its own
    const first = pos.pop() as PlacedPo
    const check = await ctx.api('POST', `/v1/purchase-orders/${first.id}/confirm`, { token, body: confirmBody(first, confirmDate()), base: ctx.ceilingUrl })
    if (check.status !== 200) throw new Error(`the ceiling answered ${check.status} for a confirm: ${JSON.stringify(check.body).slice(0, 300)}`)
    const { request, exhausted } = confirmRequests(pos, token)
    return { load: { url: ctx.ceilingUrl, process: ctx.ceiling, warmup: false, requests: [request], exhausted }, notes: [`${pos.length} PLACED purchase orders available (the other half is po-confirm's)`] }
  },
  target: { informational: true }
}
