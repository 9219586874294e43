// SIGKILL of the service in the middle of a burst of checkouts, purchase-order transitions and other
// audited writes, three times, each at a random (seeded, printed) number of requests into the
// burst. The built server runs as a child process against a private PostgreSQL; after each kill it
// is started again on the same database (same chain key) and the clients carry on: every request
// carries an Idempotency-Key and is retried with that same key until it gets a definitive answer
// (not a socket error, not a 503, not 409 IDEMPOTENCY_IN_PROGRESS), across the crash. Then, read
// straight from the database as the superuser:
// - every committed change has exactly one audit event, and every audit event describes a change
//   that exists (checkouts ↔ master orders, transitions ↔ status history, contacts, cart lines),
//   with the outbox events that go with them;
// - no half order: every master order has its POs, every PO its lines, totals are the sums of the
//   lines (§4.4), the cart is closed and linked, the master status is the derivation of §5.4;
// - contract caps exact: ordered packs of every contract line = Σ over the PO lines priced by it;
// - stock exact: Σ movements = quantity for every (station, article), and each received PO has
//   exactly its movements;
// - one key, one effect: each checkout key answered 201 has exactly one master order and one
//   audit event (replayed when the first answer was lost in the crash), a refused key none;
// - the audit chain verifies in full once the sealer has drained the queue.
import { randomBytes, randomUUID } from 'node:crypto'
import { Agent } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deriveMasterStatus } from '../../src/domains/orders/master-status.js'
import type { PurchaseOrderStatus } from '../../src/db/schema.js'
import { TINY_PDF } from '../helpers/multipart.js'
import { login, ready, send, sleep, startService, stopService, TestPostgres, waitFor, type Service } from './harness.js'

const CYCLES = 3
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000)

/** mulberry32: a small seeded PRNG so a failing run can be replayed with CRASH_SEED. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rnd = prng(SEED)
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T

let db: TestPostgres
let svc: Service
// the same chain key across restarts: the chain must verify across the crashes
const env = { DATABASE_POOL_SIZE: '8', DATABASE_CONNECT_TIMEOUT_MS: '1000', AUDIT_CHAIN_KEY: randomBytes(32).toString('base64url'), AUDIT_CHAIN_KEY_ID: 'crash-test' }
const agent = new Agent({ keepAlive: true, maxSockets: 32 })

const STATIONS = ['st-anjou', 'st-saumur', 'st-tours', 'st-avignon', 'st-cavaillon']
const SUPPLIERS = ['cartonnerie-du-val', 'plastiques-de-l-ouest', 'emballages-provence', 'films-and-co']
const stationToken = new Map<string, string>()
const supplierToken = new Map<string, string>()
let adminToken = ''

interface Offer { articleId: string, supplierId: string, moqPacks: number, packMultiple: number }
let offers: Offer[] = []

interface Baseline { audit: number, poEvents: number, outbox: number, masterOrders: string[], contacts: string[], carts: string[] }
let baseline: Baseline

const figures: Record<string, unknown> = { seed: SEED }

afterAll(async () => {
  console.log('crash consistency figures', JSON.stringify(figures, null, 2))
  agent.destroy()
  await stopService(svc)
  await db?.stop()
})

/** The documents ship and receive reference: each caller's own upload (a delivery note and a signed one), by token. */
const documentOf = new Map<string, string>()

async function uploadDocument (token: string, type: 'DELIVERY_NOTE' | 'SIGNED_DELIVERY_NOTE'): Promise<void> {
  const form = new FormData()
  form.append('type', type)
  form.append('file', new Blob([TINY_PDF], { type: 'application/pdf' }), 'note.pdf')
  const res = await fetch(`${svc.base}/v1/documents`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form })
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`)
  documentOf.set(`${token} ${type}`, ((await res.json()) as { id: string }).id)
}

async function orgOf (token: string): Promise<string> {
  const me = await fetch(`${svc.base}/v1/me`, { headers: { authorization: `Bearer ${token}` } })
  return ((await me.json()) as { organizationId: string }).organizationId
}

beforeAll(async () => {
  db = await TestPostgres.start()
  svc = await startService(db.url, env)
  adminToken = await login(svc.base, 'admin@bluewhale.example')
  for (const s of STATIONS) {
    const t = await login(svc.base, `station.${s}@demo.example`)
    stationToken.set(await orgOf(t), t)
  }
  for (const s of SUPPLIERS) {
    const t = await login(svc.base, `supplier.${s}@demo.example`)
    supplierToken.set(await orgOf(t), t)
  }
  for (const t of [adminToken, ...stationToken.values(), ...supplierToken.values()]) {
    await uploadDocument(t, 'DELIVERY_NOTE')
    await uploadDocument(t, 'SIGNED_DELIVERY_NOTE')
  }
  offers = await db.query<Offer>(`SELECT o.article_id AS "articleId", o.supplier_id AS "supplierId", o.moq_packs AS "moqPacks", o.pack_multiple AS "packMultiple"
    FROM offers o JOIN articles a ON a.id = o.article_id ORDER BY a.code, o.supplier_id`)
  const one = async (q: string): Promise<number> => Number((await db.query<{ n: string }>(q))[0]?.n ?? 0)
  baseline = {
    audit: await one('SELECT coalesce(max(id), 0) AS n FROM audit_events'),
    poEvents: await one('SELECT coalesce(max(id), 0) AS n FROM purchase_order_events'),
    outbox: await one('SELECT coalesce(max(id), 0) AS n FROM outbox_events'),
    masterOrders: (await db.query<{ id: string }>('SELECT id FROM master_orders')).map(r => r.id),
    contacts: (await db.query<{ id: string }>('SELECT id FROM contacts')).map(r => r.id),
    carts: (await db.query<{ id: string }>('SELECT id FROM carts')).map(r => r.id)
  }
}, 180_000)

// ---- the clients -------------------------------------------------------------------------------

interface Answer { status: number | string, code?: string, json?: any, replayed: boolean }

const stats = {
  phase: 'burst 1',
  sent: 0,
  inFlight: new Map<number, string>(),
  byPhase: {} as Record<string, Record<string, number>>,
  unexpected: [] as string[],
  /** the distinct details of the 503 answers (the service was starting, the pool was saturated…) */
  unavailable: new Set<string>(),
  /** operations that saw a socket error or a 503 before their definitive answer, by that answer */
  ambiguous: {} as Record<string, number>
}
let nextRequestId = 0

async function call (label: string, method: string, path: string, token: string, key: string, body?: unknown): Promise<Answer> {
  const id = nextRequestId++
  stats.sent++
  stats.inFlight.set(id, label)
  const phase = stats.phase
  let a: Answer
  try {
    const res = await send(agent, svc.base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': key, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined
    })
    let json: any
    try { json = JSON.parse(res.text) } catch { json = undefined }
    a = { status: res.statusCode, code: res.statusCode >= 400 ? json?.code : undefined, json, replayed: res.headers['idempotent-replayed'] === 'true' }
    if (res.statusCode === 503 && stats.unavailable.size < 8) stats.unavailable.add(String(json?.detail ?? json?.title ?? res.text.slice(0, 120)))
    if (res.statusCode >= 500 && res.statusCode !== 503) stats.unexpected.push(`${label}: ${res.statusCode} ${res.text.slice(0, 300)}`)
  } catch (err) {
    a = { status: (err as { code?: string }).code ?? (err as Error).name, replayed: false }
  } finally {
    stats.inFlight.delete(id)
  }
  const k = `${label} ${String(a.status)}${a.code !== undefined ? ' ' + a.code : ''}${a.replayed ? ' replayed' : ''}`
  const counts = (stats.byPhase[phase] ??= {})
  counts[k] = (counts[k] ?? 0) + 1
  return a
}

const transient = (a: Answer): boolean => typeof a.status === 'string' || a.status >= 500 || (a.status === 409 && a.code === 'IDEMPOTENCY_IN_PROGRESS')

/** Sends the request with one Idempotency-Key until a definitive answer, across crashes. */
async function definitive (label: string, method: string, path: string, token: string, body?: unknown): Promise<Answer & { key: string }> {
  const key = randomUUID()
  let retried = false
  const deadline = performance.now() + 180_000
  for (;;) {
    if (state.aborted) throw new Error(`${label}: aborted`)
    const a = await call(label, method, path, token, key, body)
    if (!transient(a)) {
      if (retried) {
        const k = `${label} ${String(a.status)}${a.code !== undefined ? ' ' + a.code : ''}${a.replayed ? ' replayed' : ''}`
        stats.ambiguous[k] = (stats.ambiguous[k] ?? 0) + 1
      }
      return { ...a, key }
    }
    retried = true
    if (performance.now() > deadline) throw new Error(`${label}: no definitive answer in 180 s (last ${String(a.status)} ${a.code ?? ''})`)
    await sleep(typeof a.status === 'string' ? 100 : 60)
  }
}

interface KnownPo { id: string, stationId: string, supplierId: string, status: PurchaseOrderStatus, lines: Array<{ id: string, packs: number }>, busy: boolean }
const pool: KnownPo[] = []
const FINAL = new Set<PurchaseOrderStatus>(['ARCHIVED', 'CANCELLED', 'DECLINED'])

interface KeyResult { kind: 'checkout' | 'transition' | 'contact' | 'cart', key: string, userToken: string, status: number, entityId?: string, replayed: boolean }
const keys: KeyResult[] = []
const state = { stopping: false, aborted: false }

const today = (): string => new Date().toISOString().slice(0, 10)
const inDays = (n: number): string => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10)

function poFromJson (stationId: string, p: { id: string, supplierId: string, status: PurchaseOrderStatus, lines: Array<{ id: string, packs: number }> }): KnownPo {
  return { id: p.id, stationId, supplierId: p.supplierId, status: p.status, lines: p.lines.map(l => ({ id: l.id, packs: l.packs })), busy: false }
}

/** A station: fills its cart with 1–3 lines, checks out, again and again. */
async function stationClient (stationId: string): Promise<void> {
  const token = stationToken.get(stationId) as string
  while (!state.stopping) {
    const chosen = new Map<string, Offer>()
    const n = 1 + Math.floor(rnd() * 3)
    while (chosen.size < n) { const o = pick(offers); chosen.set(`${o.articleId}:${o.supplierId}`, o) }
    for (const o of chosen.values()) {
      const packs = Math.max(o.moqPacks, o.packMultiple) * (1 + Math.floor(rnd() * 2))
      const r = await definitive('cart line', 'POST', `/v1/stations/${stationId}/cart/lines`, token,
        { articleId: o.articleId, supplierId: o.supplierId, packs: packs - (packs % o.packMultiple), desiredDeliveryDate: inDays(45) })
      if (r.status === 201) keys.push({ kind: 'cart', key: r.key, userToken: token, status: 201, entityId: r.json?.id, replayed: r.replayed })
      else if (!(r.status === 409 && r.code === 'CART_LINE_DUPLICATE')) stats.unexpected.push(`cart line: ${String(r.status)} ${r.code ?? ''}`)
    }
    const r = await definitive('checkout', 'POST', `/v1/stations/${stationId}/cart/checkout`, token, {})
    keys.push({ kind: 'checkout', key: r.key, userToken: token, status: r.status as number, entityId: r.status === 201 ? r.json?.id : undefined, replayed: r.replayed })
    if (r.status === 201) {
      for (const p of r.json.purchaseOrders) pool.push(poFromJson(stationId, p))
    } else if (r.status === 422) {
      // a contract cap reached (or another refusal): empty the cart and go on
      const c = await definitive('cart clear', 'DELETE', `/v1/stations/${stationId}/cart/lines`, token)
      if (c.status !== 200) stats.unexpected.push(`cart clear: ${String(c.status)} ${c.code ?? ''}`)
    } else {
      stats.unexpected.push(`checkout: ${String(r.status)} ${r.code ?? ''}`)
    }
  }
}

function nextVerb (po: KnownPo): string {
  const x = rnd()
  switch (po.status) {
    case 'PLACED': return x < 0.08 ? 'cancel' : x < 0.12 ? 'decline' : 'confirm'
    case 'CONFIRMED': return x < 0.08 ? 'cancel' : 'ship'
    case 'SHIPPED': return 'receive'
    case 'RECEIVED': return 'close'
    case 'CLOSED': return 'invoice'
    default: return 'archive'
  }
}

/** `token`'s own delivery note (ship) or signed note (receive): a document the caller may read. */
function documentFor (token: string, type: 'DELIVERY_NOTE' | 'SIGNED_DELIVERY_NOTE'): string {
  const id = documentOf.get(`${token} ${type}`)
  if (id === undefined) throw new Error(`no ${type} uploaded for this caller`)
  return id
}

function transitionBody (po: KnownPo, verb: string, token: string): object {
  switch (verb) {
    case 'confirm': return { lines: po.lines.map(l => ({ lineId: l.id, confirmedDeliveryDate: inDays(30) })) }
    case 'decline':
    case 'cancel': return { reason: 'crash test' }
    case 'ship': return { carrier: 'Geodis', trackingNumber: `T-${po.id.slice(0, 8)}`, deliveryNoteDocumentId: documentFor(token, 'DELIVERY_NOTE') }
    case 'receive': {
      const short = rnd() < 0.3
      return { signedDeliveryNoteDocumentId: documentFor(token, 'SIGNED_DELIVERY_NOTE'), lines: po.lines.map((l, i) => ({ lineId: l.id, packsReceived: short && i === 0 ? l.packs - 1 : l.packs })) }
    }
    case 'invoice': return { invoiceNumber: `INV-${po.id.slice(0, 8)}`, invoiceDate: today() }
    default: return {}
  }
}

/** Moves known purchase orders along their lifecycle, each verb by the party who does it. */
async function transitionClient (): Promise<void> {
  while (!state.stopping) {
    const ready = pool.filter(p => !p.busy && !FINAL.has(p.status))
    if (ready.length === 0) { await sleep(20); continue }
    const po = pick(ready)
    po.busy = true
    const verb = nextVerb(po)
    const token = (['confirm', 'decline', 'ship'].includes(verb) ? supplierToken.get(po.supplierId) : ['receive', 'close', 'cancel'].includes(verb) ? stationToken.get(po.stationId) : adminToken) ?? adminToken
    const r = await definitive(`po ${verb}`, 'POST', `/v1/purchase-orders/${po.id}/${verb}`, token, transitionBody(po, verb, token))
    keys.push({ kind: 'transition', key: r.key, userToken: token, status: r.status as number, entityId: po.id, replayed: r.replayed })
    if (r.status === 200) po.status = r.json.status
    else if (r.status === 409 && r.code === 'INVALID_TRANSITION') po.status = r.json.currentStatus
    else stats.unexpected.push(`po ${verb}: ${String(r.status)} ${r.code ?? ''}`)
    po.busy = false
  }
}

/** Other audited writes: contacts of the stations, by the stations themselves. */
async function contactClient (): Promise<void> {
  let i = 0
  while (!state.stopping) {
    const stationId = pick([...stationToken.keys()])
    const token = stationToken.get(stationId) as string
    const r = await definitive('contact', 'POST', `/v1/organizations/${stationId}/contacts`, token, { fullName: `Crash ${i++}` })
    keys.push({ kind: 'contact', key: r.key, userToken: token, status: r.status as number, entityId: r.json?.id, replayed: r.replayed })
    if (r.status !== 201) stats.unexpected.push(`contact: ${String(r.status)} ${r.code ?? ''}`)
    await sleep(15)
  }
}

// ---- the checks ------------------------------------------------------------------------------

type Row = Record<string, any>
const VERB_OF: Record<string, string> = { CONFIRMED: 'confirm', DECLINED: 'decline', SHIPPED: 'ship', RECEIVED: 'receive', CLOSED: 'close', INVOICED: 'invoice', ARCHIVED: 'archive', CANCELLED: 'cancel' }

function multiset (rows: Row[], key: (r: Row) => string): Map<string, number> {
  const m = new Map<string, number>()
  for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + Number(r.n ?? 1))
  return m
}

function diff (a: Map<string, number>, b: Map<string, number>): string[] {
  const out: string[] = []
  for (const k of new Set([...a.keys(), ...b.keys()])) if ((a.get(k) ?? 0) !== (b.get(k) ?? 0)) out.push(`${k}: ${a.get(k) ?? 0} vs ${b.get(k) ?? 0}`)
  return out
}

describe('SIGKILL of the service during a burst of checkouts and PO transitions', () => {
  it('after each restart every committed change has its audit event, orders are whole, caps and stock exact, keys exactly-once, the chain verifies', async () => {
    // the demo's open purchase orders join the pool
    const seeded = await db.query<Row>(`SELECT po.id, po.station_id, po.supplier_id, po.status,
      json_agg(json_build_object('id', l.id, 'packs', l.packs_ordered) ORDER BY l.line_no) AS lines
      FROM purchase_orders po JOIN purchase_order_lines l ON l.purchase_order_id = po.id GROUP BY po.id`)
    for (const p of seeded) if (!FINAL.has(p.status)) pool.push(poFromJson(p.station_id, { id: p.id, supplierId: p.supplier_id, status: p.status, lines: p.lines }))

    const failures: string[] = []
    const workers = [
      ...[...stationToken.keys()].map(async s => { await stationClient(s) }),
      transitionClient(), transitionClient(), transitionClient(), transitionClient(),
      contactClient()
    ].map(async w => { await w.catch((err: Error) => { failures.push(err.message) }) })
    const kills: Array<Record<string, unknown>> = []
    const outputs: string[] = []
    try {
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        // N requests into the burst (counted from the service's readiness), N random in [40, 120)
        const after = 40 + Math.floor(rnd() * 80)
        const target = stats.sent + after
        await waitFor(`${after} requests into burst ${cycle}`, () => stats.sent >= target, 120_000, 2)
        const inFlight: Record<string, number> = {}
        for (const l of stats.inFlight.values()) inFlight[l] = (inFlight[l] ?? 0) + 1
        const sentAtKill = stats.sent
        const inFlightCount = stats.inFlight.size
        outputs.push(svc.output())
        svc.child.kill('SIGKILL')
        const exit = await svc.exited
        stats.phase = `down ${cycle}`
        const t0 = performance.now()
        svc = await startService(db.url, env)
        const listenMs = performance.now() - t0
        stats.phase = `restarted ${cycle}, not ready`
        await waitFor('readiness after the restart', async () => await ready(svc.base), 120_000, 20)
        kills.push({ cycle, killedAfterRequestsInBurst: after, sentAtKill, inFlightAtKill: inFlightCount, inFlight, signal: exit.signal, listenMs: Math.round(listenMs), readyMs: Math.round(performance.now() - t0) })
        stats.phase = cycle < CYCLES ? `burst ${cycle + 1}` : 'after last restart'
      }
      const target = stats.sent + 60
      await waitFor('60 requests after the last restart', () => stats.sent >= target, 120_000, 5)
    } catch (err) {
      state.aborted = true
      throw err
    } finally {
      state.stopping = true
      await Promise.all(workers)
    }
    expect(failures).toEqual([])
    figures.kills = kills
    figures.requestsSent = stats.sent
    figures.answersByPhase = stats.byPhase
    figures.ambiguousOperationsFinalAnswer = stats.ambiguous
    figures.unavailableDetails = [...stats.unavailable]
    expect(stats.unexpected, stats.unexpected.slice(0, 10).join('\n')).toEqual([])
    for (const out of [...outputs, svc.output()]) expect(out).not.toMatch(/uncaught|unhandled|second error/i)

    // ---- the audit chain, once the sealer has drained the queue
    figures.sealerDrainMs = Math.round(await waitFor('the sealer to drain the audit queue', async () => {
      const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_unsealed')
      return rows[0]?.n === 0
    }, 30_000, 100))
    const verify = await fetch(`${svc.base}/v1/audit-events/verify?full=true`, { headers: { authorization: `Bearer ${adminToken}` } })
    const report = await verify.json() as Row
    figures.verify = { status: verify.status, ok: report.ok, mode: report.mode, sealedEvents: report.sealedEvents, unsealedEvents: report.unsealedEvents, firstBroken: report.firstBroken }
    expect(verify.status).toBe(200)
    expect(report.firstBroken).toBeNull()
    expect(report.ok).toBe(true)
    expect(report.mode).toBe('full')

    const B = baseline
    const audits = await db.query<Row>('SELECT id::int AS id, action, entity_type, entity_id, idempotency_key, changes FROM audit_events WHERE id > $1 ORDER BY id', [B.audit])
    const byAction: Record<string, number> = {}
    for (const a of audits) byAction[a.action] = (byAction[a.action] ?? 0) + 1
    figures.auditEventsByAction = byAction

    // ---- checkouts ↔ master orders ↔ audit events; no half order
    const newMos = await db.query<Row>(`SELECT mo.id, mo.station_id, mo.status, mo.supplier_count, mo.cart_id, c.status AS cart_status, c.master_order_id AS cart_mo,
        (SELECT json_agg(json_build_object('id', po.id, 'status', po.status)) FROM purchase_orders po WHERE po.master_order_id = mo.id) AS pos
      FROM master_orders mo JOIN carts c ON c.id = mo.cart_id WHERE NOT (mo.id = ANY($1::uuid[]))`, [B.masterOrders])
    const checkoutEvents = audits.filter(a => a.action === 'cart.checkout')
    expect(diff(multiset(newMos, r => r.id), multiset(checkoutEvents, a => a.entity_id))).toEqual([])
    for (const e of checkoutEvents) {
      const mo = newMos.find(m => m.id === e.entity_id) as Row
      expect(new Set((e.changes.purchaseOrders as Row[]).map(p => p.id))).toEqual(new Set((mo.pos as Row[]).map(p => p.id)))
    }
    const halfOrders: string[] = []
    for (const mo of await db.query<Row>('SELECT mo.id, mo.status, mo.supplier_count, (SELECT json_agg(po.status) FROM purchase_orders po WHERE po.master_order_id = mo.id) AS statuses FROM master_orders mo')) {
      const statuses = (mo.statuses ?? []) as PurchaseOrderStatus[]
      if (statuses.length === 0 || statuses.length !== mo.supplier_count) halfOrders.push(`${String(mo.id)}: ${statuses.length} POs for ${String(mo.supplier_count)} suppliers`)
      else if (deriveMasterStatus(statuses) !== mo.status) halfOrders.push(`${String(mo.id)}: status ${String(mo.status)}, derived ${deriveMasterStatus(statuses)}`)
    }
    for (const mo of newMos) if (mo.cart_status !== 'CHECKED_OUT' || mo.cart_mo !== mo.id) halfOrders.push(`${String(mo.id)}: cart ${String(mo.cart_status)} linked to ${String(mo.cart_mo)}`)
    const badTotals = await db.query<Row>(`
      WITH lines AS (SELECT purchase_order_id, count(*) AS n,
          bool_and(supplier_line_net = round(supplier_pack_price * packs_ordered, 2) AND station_line_net = round(station_pack_price * packs_ordered, 2)) AS nets_ok
        FROM purchase_order_lines GROUP BY 1),
      buckets AS (SELECT purchase_order_id, vat_rate, sum(supplier_line_net) AS sn, sum(station_line_net) AS tn FROM purchase_order_lines GROUP BY 1, 2),
      sums AS (SELECT purchase_order_id, sum(sn) AS sn, sum(tn) AS tn, sum(round(sn * vat_rate / 100, 2)) AS sv, sum(round(tn * vat_rate / 100, 2)) AS tv FROM buckets GROUP BY 1)
      SELECT po.id, 'purchase order' AS what FROM purchase_orders po LEFT JOIN lines l ON l.purchase_order_id = po.id LEFT JOIN sums s ON s.purchase_order_id = po.id
        WHERE l.n IS NULL OR NOT l.nets_ok OR po.supplier_net <> s.sn OR po.station_net <> s.tn OR po.supplier_vat <> s.sv OR po.station_vat <> s.tv
          OR po.supplier_gross <> po.supplier_net + po.supplier_vat OR po.station_gross <> po.station_net + po.station_vat
      UNION ALL
      SELECT mo.id, 'master order' FROM master_orders mo JOIN (SELECT master_order_id, sum(supplier_net) sn, sum(supplier_vat) sv, sum(supplier_gross) sg,
          sum(station_net) tn, sum(station_vat) tv, sum(station_gross) tg FROM purchase_orders GROUP BY 1) p ON p.master_order_id = mo.id
        WHERE (mo.supplier_net, mo.supplier_vat, mo.supplier_gross, mo.station_net, mo.station_vat, mo.station_gross) IS DISTINCT FROM (p.sn, p.sv, p.sg, p.tn, p.tv, p.tg)`)
    expect(halfOrders).toEqual([])
    expect(badTotals).toEqual([])

    // ---- transitions ↔ status history ↔ audit events ↔ outbox; each PO in the state its history ends in
    const history = await db.query<Row>(`SELECT purchase_order_id AS po, from_status, to_status, count(*)::int AS n FROM purchase_order_events
      WHERE id > $1 GROUP BY 1, 2, 3`, [B.poEvents])
    const transitions = history.filter(h => h.from_status !== null)
    const transitionEvents = audits.filter(a => a.action.startsWith('purchase_order.'))
    expect(diff(multiset(transitions, h => `${String(h.po)} ${VERB_OF[h.to_status] ?? '?'}`), multiset(transitionEvents, a => `${String(a.entity_id)} ${String(a.action).split('.')[1]}`))).toEqual([])
    const placed = history.filter(h => h.from_status === null)
    const newPos = newMos.flatMap(m => (m.pos as Row[]).map(p => p.id as string))
    expect(diff(multiset(placed, h => `${String(h.po)} ${String(h.to_status)}`), multiset(newPos.map(id => ({ id })), r => `${String(r.id)} PLACED`))).toEqual([])
    const outbox = await db.query<Row>(`SELECT type, coalesce(payload->>'purchaseOrderId', payload->>'masterOrderId') AS entity, count(*)::int AS n FROM outbox_events
      WHERE id > $1 GROUP BY 1, 2`, [B.outbox])
    const expectedOutbox = [
      ...history.map(h => ({ k: `purchase_order.${String(h.to_status).toLowerCase()} ${String(h.po)}`, n: h.n })),
      ...newMos.map(m => ({ k: `master_order.created ${String(m.id)}`, n: 1 }))
    ]
    expect(diff(multiset(outbox, o => `${String(o.type)} ${String(o.entity)}`), multiset(expectedOutbox, e => e.k))).toEqual([])
    const stale = await db.query<Row>(`SELECT po.id, po.status, last.to_status FROM purchase_orders po
      JOIN LATERAL (SELECT to_status FROM purchase_order_events e WHERE e.purchase_order_id = po.id ORDER BY e.id DESC LIMIT 1) last ON true
      WHERE last.to_status <> po.status
        OR (po.status = 'CONFIRMED') <> (po.confirmed_at IS NOT NULL AND po.shipped_at IS NULL AND po.cancelled_at IS NULL)
        OR (po.status IN ('RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED')) <> (po.received_at IS NOT NULL)
        OR (po.status IN ('RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED')) <> NOT EXISTS (SELECT 1 FROM purchase_order_lines l WHERE l.purchase_order_id = po.id AND l.packs_received IS NULL)`)
    expect(stale).toEqual([])

    // ---- contacts and cart lines ↔ audit events
    const newContacts = await db.query<Row>('SELECT id FROM contacts WHERE NOT (id = ANY($1::uuid[]))', [B.contacts])
    expect(diff(multiset(newContacts, r => r.id), multiset(audits.filter(a => a.action === 'contact.create'), a => a.entity_id))).toEqual([])
    const cartLines = await db.query<Row>('SELECT cart_id, article_id, supplier_id FROM cart_lines WHERE NOT (cart_id = ANY($1::uuid[]))', [B.carts])
    const lastClear = new Map<string, number>()
    for (const a of audits) if (a.action === 'cart.clear') lastClear.set(a.entity_id, a.id)
    const linesByAudit = audits.filter(a => a.action === 'cart.add_line' && a.id > (lastClear.get(a.entity_id) ?? 0))
    expect(diff(multiset(cartLines, r => `${String(r.cart_id)} ${String(r.article_id)} ${String(r.supplier_id)}`),
      multiset(linesByAudit, a => `${String(a.entity_id)} ${String(a.changes.articleId)} ${String(a.changes.supplierId)}`))).toEqual([])

    // ---- contract caps: ordered packs = Σ over the PO lines priced by the line (cancelled and declined
    // released; closed and beyond keep what was received)
    const caps = await db.query<Row>(`SELECT cl.id, cl.ordered_packs, cl.committed_packs, coalesce(sum(CASE
        WHEN po.status IN ('CANCELLED', 'DECLINED') THEN 0
        WHEN po.status IN ('CLOSED', 'INVOICED', 'ARCHIVED') THEN least(l.packs_ordered, coalesce(l.packs_received, 0))
        ELSE l.packs_ordered END), 0)::int AS expected
      FROM contract_lines cl LEFT JOIN purchase_order_lines l ON l.contract_line_id = cl.id LEFT JOIN purchase_orders po ON po.id = l.purchase_order_id
      GROUP BY cl.id`)
    expect(caps.filter(c => c.ordered_packs !== c.expected)).toEqual([])
    figures.contractLines = caps.filter(c => c.expected > 0).map(c => `${String(c.ordered_packs)}/${String(c.committed_packs ?? '∞')}`).join(' ')

    // ---- stock: Σ movements = quantity; each received PO has exactly its movements
    const stock = await db.query<Row>(`SELECT coalesce(s.station_id, m.station_id) AS station, coalesce(s.article_id, m.article_id) AS article, s.quantity, m.total
      FROM stock_levels s FULL JOIN (SELECT station_id, article_id, sum(delta)::int AS total FROM stock_movements GROUP BY 1, 2) m
        ON m.station_id = s.station_id AND m.article_id = s.article_id
      WHERE s.quantity IS DISTINCT FROM m.total AND NOT (s.quantity = 0 AND m.total IS NULL)`)
    expect(stock).toEqual([])
    const receipts = await db.query<Row>(`SELECT po.id, po.status,
        (SELECT coalesce(sum(l.packs_received * l.units_per_pack), 0) FROM purchase_order_lines l WHERE l.purchase_order_id = po.id)::int AS expected,
        (SELECT coalesce(sum(m.delta), 0) FROM stock_movements m WHERE m.ref_type = 'PURCHASE_ORDER' AND m.ref_id = po.id)::int AS moved
      FROM purchase_orders po`)
    expect(receipts.filter(r => r.expected !== r.moved)).toEqual([])
    const levels = await db.query<Row>('SELECT count(*)::int AS n, coalesce(sum(quantity), 0)::int AS units FROM stock_levels')
    figures.stock = { levels: levels[0]?.n, units: levels[0]?.units, receivedPurchaseOrders: receipts.filter(r => r.moved > 0).length }

    // ---- one key, one effect: a key answered 2xx has exactly one audit event (and the entity the
    // client was given), a refused key none; every checkout key answered 201 is one master order
    const byKey = multiset(audits.filter(a => a.idempotency_key !== null), a => String(a.idempotency_key))
    const wrong: string[] = []
    for (const k of keys) {
      const n = byKey.get(k.key) ?? 0
      const want = k.status >= 200 && k.status < 300 ? 1 : 0
      if (n !== want) wrong.push(`${k.kind} ${k.key}: ${k.status} and ${n} audit events`)
      const ev = audits.find(a => a.idempotency_key === k.key)
      if (want === 1 && ev !== undefined && ev.entity_id !== k.entityId) wrong.push(`${k.kind} ${k.key}: answered ${String(k.entityId)}, audited ${String(ev.entity_id)}`)
    }
    expect(wrong).toEqual([])
    const checkouts = keys.filter(k => k.kind === 'checkout')
    const okCheckouts = checkouts.filter(k => k.status === 201)
    expect(new Set(okCheckouts.map(k => k.entityId)).size).toBe(okCheckouts.length)
    expect(newMos.length).toBe(okCheckouts.length)
    const stored = await db.query<Row>('SELECT key FROM idempotency_keys WHERE key = ANY($1::text[])', [keys.map(k => k.key)])
    expect(diff(multiset(stored, r => r.key), multiset(keys.filter(k => k.status < 300), k => k.key))).toEqual([])
    figures.keys = {
      checkoutKeys: checkouts.length,
      checkoutKeysAnswered201: okCheckouts.length,
      checkoutKeysRefused: checkouts.filter(k => k.status !== 201).map(k => k.status),
      replayedAfterCrash: keys.filter(k => k.replayed).map(k => k.kind),
      transitionKeys: keys.filter(k => k.kind === 'transition').length,
      contactKeys: keys.filter(k => k.kind === 'contact').length,
      cartLineKeys: keys.filter(k => k.kind === 'cart').length
    }
    figures.counts = {
      newMasterOrders: newMos.length,
      newPurchaseOrders: newPos.length,
      transitionsCommitted: transitions.reduce((s, h) => s + Number(h.n), 0),
      contactsCreated: newContacts.length,
      auditEventsAfterBaseline: audits.length,
      purchaseOrdersByStatus: Object.fromEntries((await db.query<Row>('SELECT status, count(*)::int AS n FROM purchase_orders GROUP BY 1 ORDER BY 1')).map(r => [r.status, r.n]))
    }
  }, 600_000)
})
