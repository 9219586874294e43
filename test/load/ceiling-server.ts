// The ceiling: the same authenticated single-row read and the same audited insert as the service,
// written as plainly as Node allows — node:http, pg with named (prepared) statements, a minimal but
// correct HS256 verification with node:crypto — on its own port against the same database. It is
// what the service could reach with zero framework cost; every service result is reported as a
// ratio to it, measured in the same run on the same machine.
//
// GET  /v1/articles/{id}         → one SELECT by primary key            (1 round trip)
// GET  /v1/purchase-orders/{id}  → the service's own SQL for a platform caller: PostgreSQL writes
//                                  the PO with its lines as JSON text, sent as is (1 round trip)
// POST /v1/articles              → BEGIN; INSERT article; INSERT audit_events; COMMIT (4 round trips)
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import pg from 'pg'
import { PO_JSON_BY_ID } from '../../src/domains/orders/orders.sql.js'
import { makeVerifier } from './lib/jwt.js'

const env = process.env
const port = Number(env.PORT ?? 0)
const verify = makeVerifier({ secret: env.JWT_SECRET ?? '', issuer: env.JWT_ISSUER ?? 'gestion-emballages-api', audience: env.JWT_AUDIENCE ?? 'gestion-emballages' })
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: Number(env.POOL_SIZE ?? 10), application_name: 'bench:ceiling' })
pool.on('error', () => {})

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

const server = createServer((req, res) => {
  const url = req.url ?? '/'
  if (url === '/health') { send(res, 200, { status: 'ok' }); return }
  const articles = url.startsWith('/v1/articles')
  if (!articles && !url.startsWith('/v1/purchase-orders/')) { send(res, 404, { status: 404, code: 'ROUTE_NOT_FOUND' }); return }
  const auth = authenticate(req, res)
  if (auth === undefined || !auth.ok) return
  const notFound = async (): Promise<void> => { send(res, 404, { status: 404, code: 'ROUTE_NOT_FOUND' }) }
  let work: Promise<void>
  if (!articles) work = req.method === 'GET' && PLATFORM_ROLES.has(auth.claims.role) ? readPurchaseOrder(res, url.slice(20)) : notFound()
  else if (req.method === 'GET' && url.length > 13) work = readArticle(res, url.slice(13))
  else work = req.method === 'POST' && url === '/v1/articles' ? createArticle(req, res, auth.claims) : notFound()
  work.catch(() => { if (!res.headersSent) send(res, 500, { status: 500, code: 'INTERNAL' }) })
})
server.keepAliveTimeout = 72_000
server.listen(port, '127.0.0.1', () => {
  const addr = server.address()
  process.stdout.write(`ceiling listening on ${typeof addr === 'object' && addr !== null ? addr.port : port}\n`)
})
const stop = (): void => { server.close(); server.closeAllConnections(); void pool.end().finally(() => process.exit(0)) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
