// The ceiling: the same requests as the service, written as plainly as Node allows — node:http, pg
// with named (prepared) statements, a minimal but correct HS256 verification with node:crypto — on
// its own port against the same database, running the service's SQL (the same statements, the same
// transactions, the same round trips). It is what the service could reach with zero framework cost;
// every service result is reported as a ratio to it, measured in the same run on the same machine.
//
// GET  /v1/articles/{id}         → one SELECT by primary key            (1 round trip)
// GET  /v1/purchase-orders/{id}  → the service's own SQL for a platform caller: PostgreSQL writes
//                                  the PO with its lines as JSON text, sent as is (1 round trip)
// POST /v1/articles              → BEGIN; INSERT article; INSERT audit_events; COMMIT (4 round trips)
// GET  /v1/purchase-orders?limit=n[&cursor=c]
//                                → the service's list text (listText, imported) for the caller's
//                                  scope: PostgreSQL writes the page's items as JSON text (1 round trip)
// POST /v1/purchase-orders/{id}/confirm  (5 round trips, pipelined like the service's client)
//      1. BEGIN + the locking read (PO in scope with its lines, master order FOR UPDATE)
//      2. guarded UPDATE of the PO + its status-history row, sibling statuses
//      3. UPDATE the lines' confirmed delivery dates
//      4. the PO row with its lines (the service's PO_BY_ID text, imported) for the answer
//      5. UPDATE master order status + INSERT outbox event + INSERT audit event + COMMIT
// POST /v1/stations/{id}/cart/checkout  (5 round trips, pipelined like the service's client)
//      1. BEGIN + idempotency_claim (the Idempotency-Key's advisory lock and stored response)
//      2. SELECT … FOR UPDATE of the station's open cart
//      3. the cart lines with every price (one statement)
//      4. ONE statement: contract caps, master order, POs, lines, status history, cart closed, outbox
//      5. INSERT audit event + INSERT idempotency record (the response body) + COMMIT
//      Prices, totals and line checks in Node with the service's own pure functions (money.ts,
//      lineProblems), as the service computes them.
// The transactional routes use a second pool in pg's pipeline mode (as the service's client is):
// what the service sends together in one round trip (BEGIN with the first statement, the writes
// nobody reads with the COMMIT) is written together here too.
import { createHash, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import pg from 'pg'
import { lineProblems } from '../../src/domains/carts/carts.service.js'
import { priceKey, type ResolvedPrice } from '../../src/domains/contracts/pricing.types.js'
import { deriveMasterStatus } from '../../src/domains/orders/master-status.js'
import { LIST, listText, LOCKED_LINES_JSON, PO_BY_ID_TEXTS, PO_JSON_BY_ID } from '../../src/domains/orders/orders.sql.js'
import { margin } from '../../src/domains/orders/orders.views.js'
import { decodeCursor, encodeCursor, setCursorKey } from '../../src/lib/cursor.js'
import { uuidv7 } from '../../src/lib/ids.js'
import { lineNet, splitTotals, stationPackPrice, type Totals } from '../../src/lib/money.js'
import { makeVerifier } from './lib/jwt.js'

const env = process.env
const port = Number(env.PORT ?? 0)
const verify = makeVerifier({ secret: env.JWT_SECRET ?? '', issuer: env.JWT_ISSUER ?? 'gestion-emballages-api', audience: env.JWT_AUDIENCE ?? 'gestion-emballages' })
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: Number(env.POOL_SIZE ?? 10), application_name: 'bench:ceiling' })
pool.on('error', () => {})
// the transactional routes' pool: pg's pipeline mode, dates as their text (as the service's pool)
const txPool = new pg.Pool({
  connectionString: env.DATABASE_URL,
  max: Number(env.POOL_SIZE ?? 10),
  application_name: 'bench:ceiling',
  pipeline: true,
  types: { getTypeParser: (oid: number, format?: 'text' | 'binary') => oid === 1082 ? (v: string) => v : pg.types.getTypeParser(oid, format) }
} as pg.PoolConfig)
txPool.on('error', () => {})
// the service's cursor key (src/app.ts), so the cursors of either are valid for both
setCursorKey(env.JWT_SECRET ?? '')

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const CODE = /^[A-Z0-9][A-Z0-9._-]{1,63}$/
const CATEGORIES = new Set(['TRAY', 'CRATE', 'PLATTER', 'FILM', 'CARDBOARD_BOX', 'PLASTIC_BAG', 'PAPER_BAG', 'INSULATED', 'LABEL', 'OTHER'])
const COLUMNS = 'id, code, name, description, category, base_unit AS "baseUnit", material, dimensions, vat_rate AS "vatRate", is_active AS "isActive", version, created_at AS "createdAt", updated_at AS "updatedAt"'
const SELECT_ARTICLE = { name: 'ceil_article_by_id', text: `SELECT ${COLUMNS} FROM articles WHERE id = $1` }
// the very text the service runs for staff (imported, so the two cannot drift apart)
const SELECT_PO = { name: 'ceil_po_by_id', text: PO_JSON_BY_ID.platform }
const PLATFORM_ROLES = new Set(['ADMIN', 'MANAGER', 'HANDLER'])
const INSERT_ARTICLE = `INSERT INTO articles (code, name, category, base_unit, vat_rate) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`
const INSERT_AUDIT = `INSERT INTO audit_events (actor_user_id, actor_role, actor_org_id, action, entity_type, entity_id, request_id, ip, user_agent, changes)
  VALUES ($1, $2, $3, 'article.create', 'article', $4, $5, $6, $7, $8)`

let requestSeq = 0

function send (res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body)
  res.writeHead(status, { 'content-type': status < 400 ? 'application/json; charset=utf-8' : 'application/problem+json', 'content-length': Buffer.byteLength(json) })
  res.end(json)
}

function authenticate (req: IncomingMessage, res: ServerResponse): ReturnType<typeof verify> | undefined {
  const h = req.headers.authorization
  const result = h !== undefined && h.startsWith('Bearer ') ? verify(h.slice(7)) : { ok: false as const, reason: 'missing' }
  if (!result.ok) { send(res, 401, { status: 401, code: 'UNAUTHENTICATED', detail: result.reason }); return undefined }
  return result
}

async function readArticle (res: ServerResponse, id: string): Promise<void> {
  if (!UUID.test(id)) { send(res, 400, { status: 400, code: 'VALIDATION_FAILED' }); return }
  const r = await pool.query({ ...SELECT_ARTICLE, values: [id] })
  if (r.rows.length === 0) send(res, 404, { status: 404, code: 'NOT_FOUND' })
  else send(res, 200, r.rows[0])
}

async function readPurchaseOrder (res: ServerResponse, id: string): Promise<void> {
  if (!UUID.test(id)) { send(res, 400, { status: 400, code: 'VALIDATION_FAILED' }); return }
  const r = await pool.query({ ...SELECT_PO, values: [id] })
  const row = r.rows[0] as { version: number, body: string } | undefined
  if (row === undefined) { send(res, 404, { status: 404, code: 'NOT_FOUND' }); return }
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(row.body), etag: `"${row.version}"` })
  res.end(row.body)
}

async function createArticle (req: IncomingMessage, res: ServerResponse, actor: { sub: string, role: string, org: string }): Promise<void> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of req) { size += (c as Buffer).length; if (size > 1_048_576) { send(res, 413, { status: 413 }); return } chunks.push(c as Buffer) }
  let b: { code?: unknown, name?: unknown, category?: unknown, baseUnit?: unknown, vatRate?: unknown }
  try { b = JSON.parse(Buffer.concat(chunks).toString('utf8')) } catch { send(res, 400, { status: 400, code: 'MALFORMED_JSON' }); return }
  if (typeof b.code !== 'string' || !CODE.test(b.code) || typeof b.name !== 'string' || b.name.length < 1 || b.name.length > 200 ||
    typeof b.category !== 'string' || !CATEGORIES.has(b.category) || typeof b.baseUnit !== 'string' || typeof b.vatRate !== 'string') {
    send(res, 400, { status: 400, code: 'VALIDATION_FAILED' }); return
  }
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const row = (await client.query({ name: 'ceil_insert_article', text: INSERT_ARTICLE, values: [b.code, b.name, b.category, b.baseUnit, b.vatRate] })).rows[0] as { id: string }
    await client.query({
      name: 'ceil_insert_audit',
      text: INSERT_AUDIT,
      values: [actor.sub, actor.role, actor.org, row.id, `ceil-${++requestSeq}`, req.socket.remoteAddress ?? null, req.headers['user-agent'] ?? null, JSON.stringify(b)]
    })
    await client.query('COMMIT')
    send(res, 201, row)
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    const code = (err as { code?: string }).code
    send(res, code === '23505' ? 409 : 500, { status: code === '23505' ? 409 : 500, code: code === '23505' ? 'DUPLICATE' : 'INTERNAL' })
  } finally { client.release() }
}

// ---- shared by the transactional routes ---------------------------------------------------------

interface Claims { sub: string, role: string, org: string }
interface Statement { name?: string, text: string, values?: unknown[] }
const BEGIN: Statement = { text: 'begin' }
const COMMIT: Statement = { text: 'commit' }
const DATE = /^\d{4}-\d{2}-\d{2}$/
const PARIS_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' })
/** France's business date, as the service's businessDate() */
const businessDate = (): string => PARIS_DATE.format(new Date())

function sendText (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers })
  res.end(body)
}

/** The request body parsed as JSON (undefined: an answer was sent). */
async function readJson (req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of req) { size += (c as Buffer).length; if (size > 1_048_576) { send(res, 413, { status: 413 }); return undefined } chunks.push(c as Buffer) }
  try { return JSON.parse(Buffer.concat(chunks).toString('utf8')) } catch { send(res, 400, { status: 400, code: 'MALFORMED_JSON' }); return undefined }
}

/** Writes the statements together (one round trip, as the service's client pipelines them); the results in order, or the first error. */
async function pipelined (client: pg.PoolClient, statements: Statement[]): Promise<pg.QueryResult[]> {
  const stream = (client as unknown as { connection: { stream: { cork?: () => void, uncork?: () => void } } }).connection.stream
  stream.cork?.()
  let sent: Array<Promise<pg.QueryResult>>
  try { sent = statements.map(async s => await client.query(s)) } finally { stream.uncork?.() }
  const settled = await Promise.allSettled(sent)
  for (const s of settled) if (s.status === 'rejected') throw s.reason
  return settled.map(s => (s as PromiseFulfilledResult<pg.QueryResult>).value)
}

/** Runs `work` in a transaction on a pipelined connection: rolled back when it throws or answers an error. */
async function inTransaction (res: ServerResponse, work: (client: pg.PoolClient) => Promise<boolean>): Promise<void> {
  const client = await txPool.connect()
  let done = false
  try {
    done = await work(client)
  } catch (err) {
    const conflict = ['40P01', '40001', '55P03'].includes((err as { code?: string }).code ?? '')
    if (!res.headersSent) send(res, conflict ? 409 : 500, { status: conflict ? 409 : 500, code: conflict ? 'CONFLICT' : 'INTERNAL' })
  } finally {
    if (!done) await client.query('rollback').catch(() => {})
    client.release()
  }
}

// The audit plugin's statement (src/plugins/audit.ts), sent with the COMMIT.
const INSERT_AUDIT_EVENT = `INSERT INTO audit_events (actor_user_id, actor_role, actor_org_id, action, entity_type, entity_id, request_id, idempotency_key, ip, user_agent, changes)
            VALUES ($1::uuid, $2, $3::uuid, $4, $5,
              $6, $7, $8, $9, $10, $11::jsonb)`
const auditEvent = (req: IncomingMessage, actor: Claims, action: string, entity: string, entityId: string, key: string | null, changes: string): Statement => ({
  name: 'ceil_audit_event',
  text: INSERT_AUDIT_EVENT,
  values: [actor.sub, actor.role, actor.org, action, entity, entityId, randomUUID(), key, req.socket.remoteAddress ?? null, req.headers['user-agent']?.slice(0, 512) ?? null, changes]
})

// ---- GET /v1/purchase-orders (a page) ----------------------------------------------------------

interface PageRow { items: string, n: number, cursorTs: string | null, cursorId: string | null }

async function listPurchaseOrders (res: ServerResponse, actor: Claims, query: string): Promise<void> {
  let limit = 50
  let cursor: string | undefined
  for (const part of query.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const k = eq < 0 ? part : part.slice(0, eq)
    const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1))
    if (k === 'limit' && /^[0-9]{1,3}$/.test(v) && Number(v) >= 1 && Number(v) <= 200) limit = Number(v)
    else if (k === 'cursor') cursor = v
    // the ceiling has the page and its cursor, not the filters
    else { send(res, 400, { status: 400, code: 'VALIDATION_FAILED' }); return }
  }
  let shape = 0
  const params: unknown[] = []
  if (actor.role === 'STATION') { shape |= LIST.STATION_SCOPE; params.push(actor.org) }
  if (actor.role === 'SUPPLIER') { shape |= LIST.SUPPLIER_SCOPE; params.push(actor.org) }
  if (cursor !== undefined) {
    let key: unknown[]
    try { key = decodeCursor(cursor, 2) } catch { send(res, 400, { status: 400, code: 'INVALID_CURSOR' }); return }
    if (typeof key[0] !== 'string' || typeof key[1] !== 'string') { send(res, 400, { status: 400, code: 'INVALID_CURSOR' }); return }
    shape |= LIST.CURSOR
    params.push(key[0], key[1])
  }
  params.push(limit)
  const r = await pool.query({ name: `ceil_po_list_${shape}`, text: listText(shape), values: params })
  const row = r.rows[0] as PageRow
  const next = row.n > limit && row.cursorTs !== null && row.cursorId !== null ? JSON.stringify(encodeCursor([row.cursorTs, row.cursorId])) : 'null'
  sendText(res, 200, `{"items":[${row.items}],"nextCursor":${next}}`)
}

// ---- POST /v1/purchase-orders/{id}/confirm -----------------------------------------------------

// orders.transitions.ts lockPurchaseOrder (lines read, no document), per scope
const lockPo = (scope: string): string => `
    SELECT po.id, po.number, po.status, po.version, po.station_id, po.supplier_id, po.master_order_id, po.currency,
      (SELECT receiving_tolerance_pct FROM settings) AS tolerance_pct,
      ${LOCKED_LINES_JSON} AS lines,
      NULL AS document_type
    FROM purchase_orders po JOIN master_orders mo ON mo.id = po.master_order_id
    WHERE po.id = $1::uuid ${scope}
    FOR UPDATE OF mo`
const LOCK_PO = { platform: lockPo(''), supplier: lockPo('AND po.supplier_id = $2::uuid') }
// guardedUpdate with confirm's stamp
const CONFIRM_PO = `
    WITH u AS (
      UPDATE purchase_orders SET status = $1, version = version + 1, updated_at = now(), "confirmed_at" = now()
      WHERE id = $2::uuid AND status = $3 AND version = $4
      RETURNING id, version
    ), e AS (
      INSERT INTO purchase_order_events (purchase_order_id, from_status, to_status, actor_user_id, actor_role, note)
      SELECT id, $5, $6, $7::uuid, $8, $9 FROM u
    )
    SELECT u.version,
      (SELECT array_agg(s.status::text) FROM purchase_orders s WHERE s.master_order_id = $10::uuid AND s.id <> $11::uuid) AS siblings
    FROM u`
// orders.steps.ts recordConfirmedDates
const CONFIRM_LINES = `UPDATE purchase_order_lines l SET confirmed_delivery_date = x.d
    FROM unnest($1::uuid[], $2::date[]) AS x(id, d) WHERE l.id = x.id AND l.purchase_order_id = $3::uuid`
const MASTER_STATUS = 'UPDATE master_orders SET status = $1, version = version + 1, updated_at = now() WHERE id = $2::uuid'
// src/lib/outbox.ts emitEvents
const INSERT_OUTBOX = `INSERT INTO outbox_events (type, organization_ids, payload)
    SELECT t, string_to_array(o, ',')::uuid[], p::jsonb
    FROM unnest($1::text[], $2::text[], $3::text[]) AS x(t, o, p)`

interface LockedPo { id: string, number: string, status: string, version: number, station_id: string, supplier_id: string, master_order_id: string, lines: Array<{ id: string }> | null }

async function confirmPurchaseOrder (req: IncomingMessage, res: ServerResponse, actor: Claims, id: string): Promise<void> {
  if (!UUID.test(id)) { send(res, 400, { status: 400, code: 'VALIDATION_FAILED' }); return }
  const body = await readJson(req, res) as { lines?: Array<{ lineId?: unknown, confirmedDeliveryDate?: unknown }> } | undefined
  if (body === undefined) return
  const given = body?.lines
  if (!Array.isArray(given) || given.length < 1 || given.length > 100 ||
    !given.every(l => typeof l?.lineId === 'string' && UUID.test(l.lineId) && typeof l.confirmedDeliveryDate === 'string' && DATE.test(l.confirmedDeliveryDate))) {
    send(res, 400, { status: 400, code: 'VALIDATION_FAILED' }); return
  }
  const ids = given.map(l => l.lineId as string)
  const dates = given.map(l => l.confirmedDeliveryDate as string)
  const scoped = actor.role === 'SUPPLIER'
  await inTransaction(res, async client => {
    const [, locked] = await pipelined(client, [BEGIN, scoped
      ? { name: 'ceil_lock_po_supplier', text: LOCK_PO.supplier, values: [id, actor.org] }
      : { name: 'ceil_lock_po', text: LOCK_PO.platform, values: [id] }])
    const po = locked?.rows[0] as LockedPo | undefined
    if (po === undefined) { send(res, 404, { status: 404, code: 'NOT_FOUND' }); return false }
    if (po.status !== 'PLACED') { send(res, 409, { status: 409, code: 'INVALID_TRANSITION', currentStatus: po.status }); return false }
    // every line exactly once, no date in the past (orders.steps.ts confirm)
    const known = new Set((po.lines ?? []).map(l => l.id))
    if (new Set(ids).size !== ids.length || ids.length !== known.size || !ids.every(l => known.has(l))) {
      send(res, 422, { status: 422, code: 'BUSINESS_RULE_VIOLATED' }); return false
    }
    const today = businessDate()
    if (dates.some(d => d < today)) { send(res, 422, { status: 422, code: 'DELIVERY_DATE_TOO_EARLY' }); return false }
    const updated = (await client.query({
      name: 'ceil_confirm_po',
      text: CONFIRM_PO,
      values: ['CONFIRMED', po.id, po.status, po.version, po.status, 'CONFIRMED', actor.sub, actor.role, null, po.master_order_id, po.id]
    })).rows[0] as { version: number, siblings: string[] | null } | undefined
    if (updated === undefined) { send(res, 409, { status: 409, code: 'INVALID_TRANSITION' }); return false }
    await client.query({ name: 'ceil_confirm_lines', text: CONFIRM_LINES, values: [ids, dates, po.id] })
    const view = (await client.query(scoped
      ? { name: 'ceil_po_row_supplier', text: PO_BY_ID_TEXTS.supplier, values: [po.id, actor.org] }
      : { name: 'ceil_po_row', text: PO_BY_ID_TEXTS.platform, values: [po.id] })).rows[0] as { version: number }
    const payload = JSON.stringify({ purchaseOrderId: po.id, number: po.number, stationId: po.station_id, supplierId: po.supplier_id, fromStatus: po.status, status: 'CONFIRMED', version: updated.version })
    await pipelined(client, [
      { name: 'ceil_master_status', text: MASTER_STATUS, values: [deriveMasterStatus([...(updated.siblings ?? []), 'CONFIRMED'] as Parameters<typeof deriveMasterStatus>[0]), po.master_order_id] },
      { name: 'ceil_outbox', text: INSERT_OUTBOX, values: [['purchase_order.confirmed'], [`${po.station_id},${po.supplier_id}`], [payload]] },
      auditEvent(req, actor, 'purchase_order.confirm', 'purchase_order', po.id, null, JSON.stringify(body)),
      COMMIT
    ])
    sendText(res, 200, JSON.stringify(view), { etag: `"${view.version}"` })
    return true
  })
}

// ---- POST /v1/stations/{id}/cart/checkout ------------------------------------------------------

const CLAIM = 'SELECT locked, fingerprint, response_status, response_body, response_headers FROM idempotency_claim($1::uuid, $2)'
const LOCK_CART = `
    SELECT id FROM carts WHERE station_id = $1::uuid AND status = 'OPEN' FOR UPDATE`
// pricing.service.ts cartLinesWithPrices
const CART_LINES_WITH_PRICES = `
    SELECT lj.cart_lines, p.*
    FROM (SELECT json_agg(json_build_object('id', id, 'articleId', article_id, 'supplierId', supplier_id, 'packs', packs,
            'desiredDeliveryDate', desired_delivery_date, 'note', note) ORDER BY created_at, id) AS cart_lines
          FROM cart_lines WHERE cart_id = $1::uuid) lj
    LEFT JOIN (
    SELECT
      a.id AS article_id, req.supplier_id, a.code AS article_code, a.name AS article_name, a.vat_rate,
      a.is_active AS article_active, sup.is_active AS supplier_active,
      o.id AS offer_id, o.is_active AS offer_active, o.supplier_ref, o.pack_label, o.units_per_pack,
      o.moq_packs, o.pack_multiple, o.lead_time_days, o.catalog_pack_price,
      cl.id AS contract_line_id, cl.contract_id, cl.number AS contract_number,
      cl.pack_price AS contract_pack_price, cl.fee_pct AS contract_fee_pct, cl.remaining_packs,
      s.default_fee_pct, s.allow_catalog_fallback
    FROM (SELECT DISTINCT article_id, supplier_id FROM cart_lines WHERE cart_id = $2::uuid) AS req
    JOIN articles a ON a.id = req.article_id
    CROSS JOIN settings s
    LEFT JOIN suppliers sup ON sup.id = req.supplier_id
    LEFT JOIN offers o ON o.article_id = req.article_id AND o.supplier_id = req.supplier_id
    LEFT JOIN LATERAL (
      SELECT l.id, l.contract_id, c.number, l.pack_price, c.fee_pct,
        CASE WHEN l.committed_packs IS NULL THEN NULL
             ELSE (floor(l.committed_packs * (1 + l.allowance_pct / 100)) - l.ordered_packs)::int END AS remaining_packs
      FROM contract_lines l
      JOIN contracts c ON c.id = l.contract_id
      WHERE l.article_id = req.article_id AND l.supplier_id = req.supplier_id
        AND c.status = 'ACTIVE' AND c.valid_from <= $3::date AND c.valid_until >= $4::date
      -- approval forbids overlaps, so at most one row qualifies; the order only makes it deterministic
      ORDER BY c.valid_from DESC, c.id
      LIMIT 1
    ) cl ON true) p ON true`
// checkout.service.ts placeOrderStatement, with contract caps to reserve (capsCte) …
const PLACE_ORDER_CAPS = `
    WITH caps_req AS (SELECT * FROM unnest($1::uuid[], $2::int[]) AS r(id, n)),
    caps_locked AS (SELECT id FROM contract_lines WHERE id = ANY($3::uuid[]) ORDER BY id FOR NO KEY UPDATE),
    caps AS (
      UPDATE contract_lines cl SET ordered_packs = cl.ordered_packs + caps_req.n
      FROM caps_req
      WHERE cl.id = caps_req.id AND cl.id IN (SELECT id FROM caps_locked)
        AND (cl.committed_packs IS NULL OR cl.ordered_packs + caps_req.n <= floor(cl.committed_packs * (1 + cl.allowance_pct / 100)))
      RETURNING cl.id),
    mseq AS (SELECT nextval('master_order_number_seq') AS n),
    mo AS (
      INSERT INTO master_orders (id, number, station_id, cart_id, status, supplier_count,
        supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross, created_by)
      SELECT $4::uuid, 'MO-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-' || lpad(n::text, greatest(6, length(n::text)), '0'),
        $5::uuid, $6::uuid, 'PLACED', $7::int,
        $8::numeric, $9::numeric, $10::numeric,
        $11::numeric, $12::numeric, $13::numeric, $14::uuid
      FROM mseq
      RETURNING number, created_at
    ),
    pseq AS (
      SELECT x.*, nextval('purchase_order_number_seq') AS n
      FROM unnest($15::uuid[], $16::uuid[],
        $17::numeric[], $18::numeric[], $19::numeric[],
        $20::numeric[], $21::numeric[], $22::numeric[])
        AS x(id, supplier_id, sn, sv, sg, tn, tv, tg)
    ),
    po AS (
      INSERT INTO purchase_orders (id, number, master_order_id, station_id, supplier_id,
        supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross, created_by)
      SELECT id, 'PO-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-' || lpad(n::text, greatest(6, length(n::text)), '0'),
        $23::uuid, $24::uuid, supplier_id, sn, sv, sg, tn, tv, tg, $25::uuid
      FROM pseq
      RETURNING id, number, supplier_id
    ),
    pol AS (
      INSERT INTO purchase_order_lines (id, purchase_order_id, line_no, station_id, supplier_id, article_id, contract_line_id,
        article_code, article_name, supplier_ref, pack_label, units_per_pack, supplier_pack_price, fee_pct, station_pack_price,
        vat_rate, price_source, packs_ordered, supplier_line_net, station_line_net, desired_delivery_date)
      SELECT id, po_id, line_no, $26::uuid, supplier_id, article_id, contract_line_id,
        article_code, article_name, supplier_ref, pack_label, units_per_pack, supplier_pack_price, fee_pct, station_pack_price,
        vat_rate, price_source, packs, supplier_line_net, station_line_net, desired_delivery_date
      FROM unnest(
        $27::uuid[], $28::uuid[], $29::int[],
        $30::uuid[], $31::uuid[], $32::uuid[],
        $33::text[], $34::text[], $35::text[],
        $36::text[], $37::int[], $38::numeric[],
        $39::numeric[], $40::numeric[], $41::numeric[],
        $42::text[], $43::int[], $44::numeric[],
        $45::numeric[], $46::date[])
        AS x(id, po_id, line_no, supplier_id, article_id, contract_line_id, article_code, article_name, supplier_ref, pack_label,
          units_per_pack, supplier_pack_price, fee_pct, station_pack_price, vat_rate, price_source, packs, supplier_line_net,
          station_line_net, desired_delivery_date)
    ),
    ev AS (
      INSERT INTO purchase_order_events (purchase_order_id, from_status, to_status, actor_user_id, actor_role)
      SELECT id, NULL, 'PLACED', $47::uuid, $48 FROM unnest($49::uuid[]) AS x(id)
    ),
    closed AS (
      UPDATE carts SET status = 'CHECKED_OUT', master_order_id = $50::uuid, checked_out_at = now(), version = version + 1, updated_at = now()
      WHERE id = $51::uuid
    ),
    -- the outbox in the same statement: the station hears about the master order, each supplier
    -- about its own PO only
    ob AS (
      INSERT INTO outbox_events (type, organization_ids, payload)
      SELECT 'master_order.created', ARRAY[$52::uuid], jsonb_build_object('masterOrderId', $53::uuid, 'number', mo.number,
        'stationId', $54::uuid, 'purchaseOrderIds', to_jsonb($55::uuid[]))
      FROM mo
      UNION ALL
      SELECT 'purchase_order.placed', ARRAY[$56::uuid, po.supplier_id], jsonb_build_object('purchaseOrderId', po.id, 'number', po.number,
        'stationId', $57::uuid, 'supplierId', po.supplier_id, 'status', 'PLACED', 'version', 1)
      FROM po
    )
    SELECT (SELECT number FROM mo) AS mo_number, (SELECT created_at FROM mo) AS created_at,
      (SELECT json_agg(json_build_object('id', id, 'number', number)) FROM po) AS pos,
      (SELECT coalesce(json_agg(id), '[]'::json) FROM caps) AS reserved`
// … and without (catalog prices only): capsCte's empty CTE, the parameters three places earlier
const PLACE_ORDER = PLACE_ORDER_CAPS.replace(/WITH caps_req AS[\s\S]*?RETURNING cl\.id\),/, 'WITH caps AS (SELECT NULL::uuid AS id WHERE false),')
  .replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) - 3}`)
const INSERT_IDEMPOTENCY = `INSERT INTO idempotency_keys (user_id, key, request_fingerprint, method, path, status, response_status, response_body, response_headers)
              VALUES ($1::uuid, $2, $3, $4, $5, 'DONE', $6::int, $7,
                $8::jsonb)`

interface CartLine { id: string, articleId: string, supplierId: string, packs: number, desiredDeliveryDate: string, note: string | null }
interface PriceRow {
  cart_lines: CartLine[] | null
  article_id: string | null,
  supplier_id: string,
  article_code: string,
  article_name: string,
  vat_rate: string,
  article_active: boolean,
  supplier_active: boolean | null,
  offer_id: string | null,
  offer_active: boolean | null,
  supplier_ref: string | null,
  pack_label: string | null,
  units_per_pack: number | null,
  moq_packs: number | null,
  pack_multiple: number | null,
  lead_time_days: number | null,
  catalog_pack_price: string | null,
  contract_line_id: string | null,
  contract_id: string | null,
  contract_number: string | null,
  contract_pack_price: string | null,
  contract_fee_pct: string | null,
  remaining_packs: number | null,
  default_fee_pct: string,
  allow_catalog_fallback: boolean
}

/** pricing.service.ts toResolvedPrices, over the snake_case row */
function resolvedPrices (rows: readonly PriceRow[]): Map<string, ResolvedPrice> {
  const out = new Map<string, ResolvedPrice>()
  for (const r of rows) {
    if (r.article_id === null) continue
    let priceSource: ResolvedPrice['priceSource'] = null
    let supplierPackPrice: string | null = null
    let feePct = r.default_fee_pct
    if (r.contract_line_id !== null && r.contract_pack_price !== null && r.contract_fee_pct !== null) {
      priceSource = 'CONTRACT'
      supplierPackPrice = r.contract_pack_price
      feePct = r.contract_fee_pct
    } else if (r.allow_catalog_fallback && r.catalog_pack_price !== null) {
      priceSource = 'CATALOG'
      supplierPackPrice = r.catalog_pack_price
    }
    const contract = priceSource === 'CONTRACT'
    out.set(priceKey(r.article_id, r.supplier_id), {
      articleId: r.article_id,
      supplierId: r.supplier_id,
      offerId: r.offer_id,
      articleActive: r.article_active,
      offerActive: r.offer_active === true,
      supplierActive: r.supplier_active === true,
      articleCode: r.article_code,
      articleName: r.article_name,
      vatRate: r.vat_rate,
      supplierRef: r.supplier_ref,
      packLabel: r.pack_label,
      unitsPerPack: r.units_per_pack,
      moqPacks: r.moq_packs,
      packMultiple: r.pack_multiple,
      leadTimeDays: r.lead_time_days,
      priceSource,
      contractId: contract ? r.contract_id : null,
      contractNumber: contract ? r.contract_number : null,
      contractLineId: contract ? r.contract_line_id : null,
      supplierPackPrice,
      feePct,
      stationPackPrice: supplierPackPrice === null ? null : stationPackPrice(supplierPackPrice, feePct),
      remainingPacks: contract ? r.remaining_packs : null
    })
  }
  return out
}

interface FrozenLine {
  id: string,
  purchaseOrderId: string,
  supplierId: string,
  lineNo: number,
  articleId: string,
  articleCode: string,
  articleName: string,
  supplierRef: string,
  packLabel: string,
  unitsPerPack: number,
  vatRate: string,
  priceSource: string,
  contractLineId: string | null,
  packs: number,
  desiredDeliveryDate: string,
  supplierPackPrice: string,
  supplierLineNet: string,
  feePct: string,
  stationPackPrice: string,
  lineNet: string
}

async function checkoutCart (req: IncomingMessage, res: ServerResponse, actor: Claims, stationId: string, url: string): Promise<void> {
  if (!UUID.test(stationId)) { send(res, 400, { status: 400, code: 'VALIDATION_FAILED' }); return }
  if (actor.role === 'STATION' && actor.org !== stationId) { send(res, 404, { status: 404, code: 'NOT_FOUND' }); return }
  const key = req.headers['idempotency-key']
  if (typeof key !== 'string' || !/^[\x21-\x7E]{1,255}$/.test(key)) { send(res, 400, { status: 400, code: 'IDEMPOTENCY_KEY_REQUIRED' }); return }
  const body = await readJson(req, res)
  if (body === undefined) return
  if (body === null || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length > 0) { send(res, 400, { status: 400, code: 'VALIDATION_FAILED' }); return }
  // the audit plugin's fingerprint of an empty body: sha256 of "POST <path>\n{}"
  const fingerprint = createHash('sha256').update(`POST ${url}\n`).update('{}').digest('base64url')
  await inTransaction(res, async client => {
    const [, claimed] = await pipelined(client, [BEGIN, { name: 'ceil_idempotency_claim', text: CLAIM, values: [actor.sub, key] }])
    const claim = claimed?.rows[0] as { locked: boolean, fingerprint: string | null, response_status: number | null, response_body: string | null, response_headers: Record<string, string> | null } | undefined
    if (claim?.locked !== true) { send(res, 409, { status: 409, code: 'IDEMPOTENCY_IN_PROGRESS' }); return false }
    if (claim.fingerprint !== null) {
      if (claim.fingerprint !== fingerprint) { send(res, 422, { status: 422, code: 'IDEMPOTENCY_KEY_REUSED' }); return false }
      sendText(res, claim.response_status ?? 200, claim.response_body ?? '', { ...claim.response_headers, 'idempotent-replayed': 'true' })
      return false
    }
    const cart = (await client.query({ name: 'ceil_lock_cart', text: LOCK_CART, values: [stationId] })).rows[0] as { id: string } | undefined
    // (the service tells 404 / 409 / 422 apart with more statements: a failure path, not measured)
    if (cart === undefined) { send(res, 409, { status: 409, code: 'CART_ALREADY_CHECKED_OUT' }); return false }
    const today = businessDate()
    const rows = (await client.query({ name: 'ceil_cart_lines_with_prices', text: CART_LINES_WITH_PRICES, values: [cart.id, cart.id, today, today] })).rows as PriceRow[]
    const lines = rows[0]?.cart_lines ?? []
    if (lines.length === 0) { send(res, 422, { status: 422, code: 'CART_EMPTY' }); return false }
    const prices = resolvedPrices(rows)
    if (lineProblems(lines, prices, today).some(p => p.length > 0)) { send(res, 422, { status: 422, code: 'CHECKOUT_REJECTED' }); return false }

    // the draft (checkout.service.ts draftOrder): one PO per supplier in cart order, frozen lines, totals, packs per contract line
    const masterOrderId = uuidv7()
    const bySupplier = new Map<string, CartLine[]>()
    for (const l of lines) {
      const group = bySupplier.get(l.supplierId)
      if (group === undefined) bySupplier.set(l.supplierId, [l])
      else group.push(l)
    }
    const drafts = [...bySupplier.entries()].map(([supplierId, group]) => {
      const poId = uuidv7()
      return {
        id: poId,
        supplierId,
        lines: group.map((l, i): FrozenLine => {
          const p = prices.get(priceKey(l.articleId, l.supplierId)) as ResolvedPrice
          return {
            id: uuidv7(),
            purchaseOrderId: poId,
            supplierId,
            lineNo: i + 1,
            articleId: l.articleId,
            articleCode: p.articleCode,
            articleName: p.articleName,
            supplierRef: p.supplierRef ?? '',
            packLabel: p.packLabel ?? '',
            unitsPerPack: p.unitsPerPack ?? 1,
            vatRate: p.vatRate,
            priceSource: p.priceSource as string,
            contractLineId: p.contractLineId,
            packs: l.packs,
            desiredDeliveryDate: l.desiredDeliveryDate,
            supplierPackPrice: p.supplierPackPrice as string,
            supplierLineNet: lineNet(p.supplierPackPrice as string, l.packs),
            feePct: p.feePct,
            stationPackPrice: p.stationPackPrice as string,
            lineNet: lineNet(p.stationPackPrice as string, l.packs)
          }
        })
      }
    })
    const all = drafts.flatMap(p => p.lines)
    const supplierSide = splitTotals(all.map(l => ({ supplierId: l.supplierId, net: l.supplierLineNet, vatRate: l.vatRate })))
    const stationSide = splitTotals(all.map(l => ({ supplierId: l.supplierId, net: l.lineNet, vatRate: l.vatRate })))
    const pos = drafts.map(p => ({ ...p, supplierTotals: supplierSide.bySupplier.get(p.supplierId) as Totals, stationTotals: stationSide.bySupplier.get(p.supplierId) as Totals }))
    const caps = new Map<string, number>()
    // in cart order of first use, as the service's capItems
    for (const l of lines) {
      const cl = prices.get(priceKey(l.articleId, l.supplierId))?.contractLineId ?? null
      if (cl !== null && l.packs > 0) caps.set(cl, (caps.get(cl) ?? 0) + l.packs)
    }
    const capIds = [...caps.keys()]

    const col = <K extends keyof FrozenLine>(k: K): Array<FrozenLine[K]> => all.map(l => l[k])
    const poIds = pos.map(p => p.id)
    const mo = [masterOrderId, stationId, cart.id, pos.length,
      supplierSide.total.net, supplierSide.total.vat, supplierSide.total.gross, stationSide.total.net, stationSide.total.vat, stationSide.total.gross, actor.sub,
      poIds, pos.map(p => p.supplierId),
      pos.map(p => p.supplierTotals.net), pos.map(p => p.supplierTotals.vat), pos.map(p => p.supplierTotals.gross),
      pos.map(p => p.stationTotals.net), pos.map(p => p.stationTotals.vat), pos.map(p => p.stationTotals.gross),
      masterOrderId, stationId, actor.sub,
      stationId, col('id'), col('purchaseOrderId'), col('lineNo'), col('supplierId'), col('articleId'), col('contractLineId'),
      col('articleCode'), col('articleName'), col('supplierRef'), col('packLabel'), col('unitsPerPack'), col('supplierPackPrice'),
      col('feePct'), col('stationPackPrice'), col('vatRate'), col('priceSource'), col('packs'), col('supplierLineNet'), col('lineNet'), col('desiredDeliveryDate'),
      actor.sub, actor.role, poIds,
      masterOrderId, cart.id,
      stationId, masterOrderId, stationId, poIds, stationId, stationId]
    const placed = (await client.query(capIds.length > 0
      ? { name: 'ceil_place_order_caps', text: PLACE_ORDER_CAPS, values: [capIds, [...caps.values()], capIds, ...mo] }
      : { name: 'ceil_place_order', text: PLACE_ORDER, values: mo })).rows[0] as { mo_number: string, created_at: Date, pos: Array<{ id: string, number: string }>, reserved: string[] }
    const reserved = new Set(placed.reserved)
    if (capIds.some(id => !reserved.has(id))) { send(res, 422, { status: 422, code: 'CONTRACT_CAP_EXCEEDED' }); return false }

    // the answer (checkout.service.ts placedView), stored with the idempotency record as the service stores it
    const numbers = new Map(placed.pos.map(p => [p.id, p.number]))
    const createdAt = placed.created_at
    const purchaseOrders = pos.map(p => ({
      id: p.id,
      number: numbers.get(p.id) as string,
      stationId,
      supplierId: p.supplierId,
      status: 'PLACED',
      currency: 'EUR',
      carrier: null,
      trackingNumber: null,
      deliveryNoteDocumentId: null,
      signedDeliveryNoteDocumentId: null,
      invoiceNumber: null,
      invoiceDate: null,
      statusReason: null,
      createdAt,
      confirmedAt: null,
      shippedAt: null,
      receivedAt: null,
      closedAt: null,
      invoicedAt: null,
      archivedAt: null,
      cancelledAt: null,
      updatedAt: createdAt,
      version: 1,
      masterOrderId,
      totals: { ...p.stationTotals, currency: 'EUR' },
      invoicedTotals: null,
      supplierTotals: { ...p.supplierTotals, currency: 'EUR' },
      invoicedSupplierTotals: null,
      marginNet: margin(p.stationTotals.net, p.supplierTotals.net),
      lines: p.lines.map(l => ({
        id: l.id,
        lineNo: l.lineNo,
        articleId: l.articleId,
        articleCode: l.articleCode,
        articleName: l.articleName,
        supplierRef: l.supplierRef,
        packLabel: l.packLabel,
        unitsPerPack: l.unitsPerPack,
        vatRate: l.vatRate,
        priceSource: l.priceSource,
        packs: l.packs,
        desiredDeliveryDate: l.desiredDeliveryDate,
        confirmedDeliveryDate: null,
        packsReceived: null,
        discrepancy: null,
        stationPackPrice: l.stationPackPrice,
        lineNet: l.lineNet,
        supplierPackPrice: l.supplierPackPrice,
        supplierLineNet: l.supplierLineNet,
        contractLineId: l.contractLineId,
        feePct: l.feePct
      }))
    })).sort((a, b) => (a.number < b.number ? -1 : 1))
    const answer = JSON.stringify({
      id: masterOrderId,
      number: placed.mo_number,
      stationId,
      cartId: cart.id,
      status: 'PLACED',
      supplierCount: pos.length,
      createdAt,
      updatedAt: createdAt,
      version: 1,
      totals: { ...stationSide.total, currency: 'EUR' },
      supplierTotals: { ...supplierSide.total, currency: 'EUR' },
      marginNet: margin(stationSide.total.net, supplierSide.total.net),
      purchaseOrders
    })
    const location = `/v1/master-orders/${masterOrderId}`
    const changes = JSON.stringify({ stationId, number: placed.mo_number, cartId: cart.id, purchaseOrders: purchaseOrders.map(p => ({ id: p.id, number: p.number, supplierId: p.supplierId })) })
    await pipelined(client, [
      auditEvent(req, actor, 'cart.checkout', 'master_order', masterOrderId, key, changes),
      { name: 'ceil_idempotency_record', text: INSERT_IDEMPOTENCY, values: [actor.sub, key, fingerprint, 'POST', url.slice(0, 1000), 201, answer, JSON.stringify({ location })] },
      COMMIT
    ])
    sendText(res, 201, answer, { location })
    return true
  })
}

const CONFIRM_ROLES = new Set(['ADMIN', 'MANAGER', 'HANDLER', 'SUPPLIER'])
const CHECKOUT_ROLES = new Set(['ADMIN', 'MANAGER', 'HANDLER', 'STATION'])

const server = createServer((req, res) => {
  const url = req.url ?? '/'
  if (url === '/health') { send(res, 200, { status: 'ok' }); return }
  const articles = url.startsWith('/v1/articles')
  const orders = url.startsWith('/v1/purchase-orders')
  const checkout = url.startsWith('/v1/stations/') && url.endsWith('/cart/checkout')
  if (!articles && !orders && !checkout) { send(res, 404, { status: 404, code: 'ROUTE_NOT_FOUND' }); return }
  const auth = authenticate(req, res)
  if (auth === undefined || !auth.ok) return
  const notFound = async (): Promise<void> => { send(res, 404, { status: 404, code: 'ROUTE_NOT_FOUND' }) }
  const forbidden = async (): Promise<void> => { send(res, 403, { status: 403, code: 'FORBIDDEN' }) }
  const role = auth.claims.role
  let work: Promise<void>
  if (checkout) {
    work = req.method !== 'POST' ? notFound() : CHECKOUT_ROLES.has(role) ? checkoutCart(req, res, auth.claims, url.slice(13, -14), url) : forbidden()
  } else if (orders) {
    // '' or '?…': the list; '/{id}': the PO; '/{id}/confirm': the transition
    const rest = url.slice(19)
    if (rest === '' || rest.startsWith('?')) work = req.method === 'GET' ? listPurchaseOrders(res, auth.claims, rest.slice(1)) : notFound()
    else if (!rest.startsWith('/')) work = notFound()
    else if (rest.endsWith('/confirm')) work = req.method !== 'POST' ? notFound() : CONFIRM_ROLES.has(role) ? confirmPurchaseOrder(req, res, auth.claims, rest.slice(1, -8)) : forbidden()
    else work = req.method === 'GET' && PLATFORM_ROLES.has(role) ? readPurchaseOrder(res, rest.slice(1)) : notFound()
  } else if (req.method === 'GET' && url.length > 13) work = readArticle(res, url.slice(13))
  else work = req.method === 'POST' && url === '/v1/articles' ? createArticle(req, res, auth.claims) : notFound()
  work.catch(() => { if (!res.headersSent) send(res, 500, { status: 500, code: 'INTERNAL' }) })
})
server.keepAliveTimeout = 72_000
server.listen(port, '127.0.0.1', () => {
  const addr = server.address()
  process.stdout.write(`ceiling listening on ${typeof addr === 'object' && addr !== null ? addr.port : port}\n`)
})
const stop = (): void => { server.close(); server.closeAllConnections(); void Promise.allSettled([pool.end(), txPool.end()]).finally(() => process.exit(0)) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
