// Property-based fuzzing of the whole route table (issue 10 §3): for every route, requests built
// from the route's own schemas (as the OpenAPI document publishes them) — well-shaped bodies,
// queries and path parameters whose leaves are now and then hostile, raw malformed bodies,
// real ids of rows the handlers will find and random ones — sent with a token of a role the
// route allows, so they get past RBAC into validation, the handlers and the database. Whatever
// the input: never a 5xx; every 4xx is RFC 9457 problem details; a refused audited mutation
// changes nothing in the database. Routes are read from app.routeTable, so a new route is fuzzed
// without editing this file.
//
// Runs: FUZZ_RUNS per route (default 20), seed FUZZ_SEED (default fixed, so CI is repeatable;
// FUZZ_SEED=random explores; the seed is printed on failure).
import { randomUUID } from 'node:crypto'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import fc from 'fast-check'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { PERMISSIONS, PLATFORM_ORGANIZATION_ID, type Role } from '../../src/lib/permissions.js'
import { ProblemSchema } from '../../src/lib/schemas.js'
import type { RouteEntry } from '../../src/lib/fastify-types.js'
import { bearer, createTestApp, tokenFor } from '../helpers/app.js'
import { createArticle, createContract, createOffer, createStationGroup, createUser } from '../helpers/factories.js'
import { addLine, placeOrder, station, supplier } from '../domains/orders/fixtures.js'
import { encodeLoose, hostileString, valueFor, withOneDefect, type GenContext, type JsonSchema } from './schema-arbitraries.js'
import { TINY_PDF, uploadForm } from '../helpers/multipart.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 20)
const SEED = process.env.FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED ?? 20261202)

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv
const validateProblem = addFormats(new Ajv({ strict: false, allErrors: true })).compile(ProblemSchema)

// Tables that background jobs write (sealer, sweeps, dispatcher) or that record sessions by design;
// every other table must be unchanged after a refused mutation.
const VOLATILE_TABLES = new Set(['audit_seals', 'audit_unsealed', 'audit_verify_checkpoint', 'outbox_events', 'idempotency_keys', 'sessions', 'password_reset_tokens', 'kysely_migration', 'kysely_migration_lock'])

let app: App
const pools = new Map<string, string[]>()
const actors = new Map<Role, string>()
const parties = { station: '', supplier: '' }
let fingerprintSql = ''

const app0 = await createTestApp()
const routes: RouteEntry[] = app0.routeTable.filter(r => !r.hidden && !r.url.startsWith('/docs'))
const doc = app0.swagger() as { paths: Record<string, Record<string, Operation | undefined>> }
await app0.close()

interface Parameter { in: string, name: string, required?: boolean, schema: JsonSchema }
interface Operation { parameters?: Parameter[], requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }

beforeAll(async () => {
  app = await createTestApp()
  const st = await station(app)
  const sup = await supplier(app)
  const group = await createStationGroup(app.db)
  const targets = await Promise.all((['ADMIN', 'MANAGER', 'HANDLER'] as const).map(async r => await createUser(app.db, r)))
  const stationTarget = await createUser(app.db, 'STATION', st.id)
  const supplierTarget = await createUser(app.db, 'SUPPLIER', sup.id)
  const articles = await Promise.all([1, 2, 3].map(async () => await createArticle(app.db)))
  const offers = await Promise.all(articles.map(async a => await createOffer(app.db, a.id, sup.id, { unitsPerPack: 10 })))
  const draft = await createContract(app.db, sup.id, [{ articleId: articles[0]?.id ?? '', packPrice: '9.0000', committedPacks: 100 }], { status: 'DRAFT' })
  const active = await createContract(app.db, sup.id, [{ articleId: articles[1]?.id ?? '', packPrice: '8.0000' }], { status: 'ACTIVE', validFrom: '2020-01-01', validUntil: '2099-12-31' })
  const orders = [await placeOrder(app, [10, 5], { st, sup }), await placeOrder(app, [3], { st, sup })]
  for (const a of articles) await addLine(app, st.token, st.id, { articleId: a.id, supplierId: sup.id, packs: 2 })
  const cart = await app.inject({ method: 'GET', url: `/v1/stations/${st.id}/cart`, headers: bearer(st.token) })
  const cartLineIds = ((cart.json() as { lines?: Array<{ id: string }> }).lines ?? []).map(l => l.id)
  const admin = await createUser(app.db, 'ADMIN')
  const contact = await app.inject({ method: 'POST', url: `/v1/organizations/${st.id}/contacts`, headers: bearer(tokenFor(app, admin)), payload: { fullName: 'Claire Moreau' } })
  const sites = await sql<{ id: string }>`SELECT id FROM supplier_sites WHERE supplier_id = ${sup.id}`.execute(app.db)
  const transfers = await fuzzTransfers(app, tokenFor(app, admin), st.id, articles[0]?.id ?? '')
  // documents the fuzzed ship/receive bodies draw from: each party's delivery and signed notes
  const documents: string[] = []
  for (const [token, type] of [[st.token, 'DELIVERY_NOTE'], [st.token, 'SIGNED_DELIVERY_NOTE'], [sup.token, 'DELIVERY_NOTE'], [sup.token, 'SIGNED_DELIVERY_NOTE']] as const) {
    const upload = uploadForm(type, TINY_PDF)
    const res = await app.inject({ method: 'POST', url: '/v1/documents', headers: { ...bearer(token), ...upload.headers }, payload: upload.payload })
    if (res.statusCode === 201) documents.push((res.json() as { id: string }).id)
  }

  pools.set('station', [st.id, transfers.peer])
  pools.set('supplier', [sup.id])
  pools.set('organization', [st.id, sup.id, PLATFORM_ORGANIZATION_ID])
  pools.set('group', [group.id])
  pools.set('user', [...targets.map(t => t.userId), stationTarget.userId, supplierTarget.userId])
  pools.set('article', articles.map(a => a.id))
  pools.set('offer', offers.map(o => o.id))
  pools.set('contract', [draft.id, active.id])
  pools.set('po', orders.map(o => o.poId))
  pools.set('mo', orders.map(o => o.moId))
  pools.set('line', [...orders.flatMap(o => o.lineIds), ...cartLineIds, ...transfers.lineIds])
  pools.set('transfer', transfers.ids)
  pools.set('site', sites.rows.map(r => r.id))
  pools.set('contact', contact.statusCode === 201 ? [(contact.json() as { id: string }).id] : [])
  pools.set('document', documents)
  pools.set('any', [...pools.values()].flat())

  parties.station = st.id
  parties.supplier = sup.id
  const tables = await sql<{ name: string }>`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`.execute(app.db)
  fingerprintSql = tables.rows.filter(t => !VOLATILE_TABLES.has(t.name))
    .map(t => `SELECT '${t.name}' AS t, count(*)::text AS n, coalesce(max(xmin::text::bigint), 0)::text AS x FROM "${t.name}"`).join(' UNION ALL ') + ' ORDER BY t'
})
afterAll(async () => { await app?.close() })

/**
 * Transfers between the fuzz station and a peer in the states the actions leave (the fuzz station
 * on both sides), driven by an admin; the peer holds the units the confirmations grant.
 */
async function fuzzTransfers (app: App, adminToken: string, stationId: string, articleId: string): Promise<{ peer: string, ids: string[], lineIds: string[] }> {
  const peer = (await station(app)).id
  await sql`WITH l AS (INSERT INTO stock_levels (station_id, article_id, quantity) VALUES (${peer}::uuid, ${articleId}::uuid, 1000), (${stationId}::uuid, ${articleId}::uuid, 1000) ON CONFLICT DO NOTHING RETURNING station_id, article_id, quantity)
    INSERT INTO stock_movements (station_id, article_id, delta, reason) SELECT station_id, article_id, quantity, 'ADJUSTMENT' FROM l`.execute(app.db)
  const uploaded = async (type: string): Promise<string> => {
    const form = uploadForm(type, TINY_PDF)
    const res = await app.inject({ method: 'POST', url: '/v1/documents', headers: { ...bearer(adminToken), ...form.headers }, payload: form.payload })
    if (res.statusCode !== 201) throw new Error(`upload: ${res.body}`)
    return (res.json() as { id: string }).id
  }
  const [note, signed] = [await uploaded('DELIVERY_NOTE'), await uploaded('SIGNED_DELIVERY_NOTE')]
  const steps: Array<[string, object]> = [['confirm', {}], ['prepare', {}], ['ship', { deliveryNoteDocumentId: note }], ['receive', {}], ['close', {}], ['settle', { settlementRef: 'AV-FUZZ', settlementAmount: '1.00' }]]
  const ids: string[] = []
  const lineIds: string[] = []
  for (const [depth, [requesting, source]] of [[0, [stationId, peer]], [1, [stationId, peer]], [2, [stationId, peer]], [3, [stationId, peer]], [4, [stationId, peer]], [6, [stationId, peer]], [0, [peer, stationId]], [3, [peer, stationId]]] as const) {
    const res = await app.inject({ method: 'POST', url: '/v1/transfers', headers: bearer(adminToken), payload: { requestingStationId: requesting, sourceStationId: source, lines: [{ articleId, units: 5 }] } })
    const t = res.json() as { id: string, lines: Array<{ id: string }> }
    const lineId = t.lines[0]?.id ?? ''
    for (const [verb, body] of steps.slice(0, depth)) {
      const full = verb === 'confirm' ? { lines: [{ lineId, unitsGranted: 5 }] } : verb === 'receive' ? { signedDeliveryNoteDocumentId: signed, lines: [{ lineId, unitsReceived: 4 }] } : body
      const r = await app.inject({ method: 'POST', url: `/v1/transfers/${t.id}/${verb}`, headers: bearer(adminToken), payload: full })
      if (r.statusCode !== 200) throw new Error(`fuzz transfer ${verb}: ${r.body}`)
    }
    ids.push(t.id)
    lineIds.push(lineId)
  }
  return { peer, ids, lineIds }
}

/**
 * Fresh actors for each route: real users (audited writes reference them), one per role, none of
 * them a target; an earlier route may have revoked their predecessors' tokens (logout-all) or
 * deactivated their organizations, which are active again.
 */
async function freshActors (): Promise<void> {
  await sql`UPDATE organizations SET is_active = true WHERE id IN (${parties.station}, ${parties.supplier})`.execute(app.db)
  await sql`UPDATE stations SET is_active = true WHERE id = ${parties.station}`.execute(app.db)
  await sql`UPDATE suppliers SET is_active = true WHERE id = ${parties.supplier}`.execute(app.db)
  for (const [role, org] of [['ADMIN', undefined], ['MANAGER', undefined], ['HANDLER', undefined], ['STATION', parties.station], ['SUPPLIER', parties.supplier]] as const) {
    actors.set(role, tokenFor(app, await createUser(app.db, role, org)))
  }
}

/** Row counts and the newest row version of every non-volatile table: any insert, update or delete changes it. */
async function fingerprint (): Promise<string> {
  const r = await sql.raw<{ t: string, n: string, x: string }>(fingerprintSql).execute(app.db)
  return r.rows.map(row => `${row.t}:${row.n}:${row.x}`).join(' ')
}

const POOL_BY_SEGMENT: Record<string, string> = Object.fromEntries([
  ['stations', 'station'], ['station-groups', 'group'], ['suppliers', 'supplier'], ['users', 'user'], ['articles', 'article'], ['offers', 'offer'],
  ['contracts', 'contract'], ['purchase-orders', 'po'], ['master-orders', 'mo'], ['organizations', 'organization'], ['transfers', 'transfer'],
  ['documents', 'document']
])
const POOL_BY_NAME: Record<string, string> = Object.fromEntries([
  ['stationId', 'station'], ['supplierId', 'supplier'], ['organizationId', 'organization'], ['groupId', 'group'], ['articleId', 'article'], ['offerId', 'offer'],
  ['contractId', 'contract'], ['siteId', 'site'], ['contactId', 'contact'], ['lineId', 'line'], ['userId', 'user'], ['actorUserId', 'user'],
  ['sourceStationId', 'station'], ['requestingStationId', 'station'], ['deliveryNoteDocumentId', 'document'], ['signedDeliveryNoteDocumentId', 'document']
])

function uuidArb (pool: string | undefined): fc.Arbitrary<string> {
  const ids = pools.get(pool ?? 'any') ?? []
  const random = fc.oneof(fc.uuid(), fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', randomUUID()))
  return ids.length === 0 ? random : fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: random })
}

const bodyContext: GenContext = { uuidFor: name => uuidArb(POOL_BY_NAME[name]) }

function pathParamArb (url: string, name: string): fc.Arbitrary<string> {
  const segments = url.split('/')
  const before = segments[segments.indexOf(`:${name}`) - 1] ?? ''
  const pool = name === 'id' ? POOL_BY_SEGMENT[before] : POOL_BY_NAME[name]
  return fc.oneof(
    { weight: 6, arbitrary: uuidArb(pool).map(encodeURIComponent) },
    { weight: 2, arbitrary: hostileString(64).filter(s => s !== '' && !s.includes('/')).map(encodeLoose) },
    { weight: 1, arbitrary: fc.constantFrom('%00', 'a'.repeat(300), '%E0%A4%A', '..', '%2F', 'NaN', '1', '00000000-0000-0000-0000-00000000000g') }
  )
}

function queryArb (params: Parameter[]): fc.Arbitrary<string> {
  const pair = (name: string, value: string): string => `${encodeURIComponent(name)}=${encodeLoose(value)}`
  // each parameter absent or valid; then, in half of the runs, one of them (or an unknown one) hostile
  const valid = params.map(p => fc.option(valueFor(p.schema, bodyContext, p.name, 0).map(v => pair(p.name, String(v))), { nil: '', freq: 2 }))
  const names = [...params.map(p => p.name), 'unknownParam']
  const hostile = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...names), hostileString(100)).map(([n, v]) => ({ name: n, text: pair(n, v) })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...names), fc.constantFrom('=', '=%00', '=a&{n}=b', '=%ZZ', `=${'9'.repeat(400)}`, '[a]=1')).map(([n, v]) => ({ name: n, text: n + v.replace('{n}', n) })) },
    { weight: 1, arbitrary: fc.constantFrom({ name: '', text: '%00=1' }, { name: '', text: '__proto__=x' }, { name: '', text: '&&&' }) }
  )
  return fc.tuple(fc.tuple(...valid), fc.option(hostile, { freq: 2 })).map(([pieces, bad]) => {
    const kept = params.map((p, i) => bad !== null && p.name === bad.name ? '' : pieces[i] ?? '')
    return [...kept, bad?.text ?? ''].filter(x => x !== '').join('&')
  })
}

type FormPart = { name: string, value: string } | { name: string, filename: string, data: Uint8Array }
type BodyChoice = { kind: 'none' } | { kind: 'json', value: unknown } | { kind: 'raw', text: string, contentType: string } | { kind: 'multipart', parts: FormPart[] }

const RAW_BODIES: fc.Arbitrary<BodyChoice> = fc.constantFrom<BodyChoice>(
  { kind: 'raw', text: '{', contentType: 'application/json' },
  { kind: 'raw', text: '{"a":1,}', contentType: 'application/json' },
  { kind: 'raw', text: '{"\\u0000":1}', contentType: 'application/json' },
  { kind: 'raw', text: '{"x":"\\ud800"}', contentType: 'application/json' },
  { kind: 'raw', text: '{"n":1e400}', contentType: 'application/json' },
  { kind: 'raw', text: '"\\u0000"', contentType: 'application/json' },
  { kind: 'raw', text: 'null', contentType: 'application/json' },
  { kind: 'raw', text: '[]', contentType: 'application/json' },
  { kind: 'raw', text: '\uFEFF{}', contentType: 'application/json' },
  { kind: 'raw', text: '{"__proto__":{"isAdmin":true}}', contentType: 'application/json' },
  { kind: 'raw', text: '{"constructor":{"prototype":{"x":1}}}', contentType: 'application/json' },
  { kind: 'raw', text: '['.repeat(20_000) + ']'.repeat(20_000), contentType: 'application/json' },
  { kind: 'raw', text: '{}', contentType: 'application/json; charset=latin1' },
  { kind: 'raw', text: 'a=1', contentType: 'application/x-www-form-urlencoded' },
  { kind: 'raw', text: '{}', contentType: 'text/plain' }
)

function bodyArb (schema: JsonSchema | undefined, method: string): fc.Arbitrary<BodyChoice> {
  if (schema === undefined) {
    return method === 'GET' || method === 'DELETE'
      ? fc.oneof({ weight: 8, arbitrary: fc.constant<BodyChoice>({ kind: 'none' }) }, { weight: 1, arbitrary: RAW_BODIES })
      : fc.oneof({ weight: 4, arbitrary: fc.constant<BodyChoice>({ kind: 'json', value: {} }) }, { weight: 2, arbitrary: fc.constant<BodyChoice>({ kind: 'none' }) }, { weight: 1, arbitrary: RAW_BODIES })
  }
  return fc.oneof(
    { weight: 3, arbitrary: valueFor(schema, bodyContext, '', 0).map(value => ({ kind: 'json', value }) as BodyChoice) },
    { weight: 6, arbitrary: withOneDefect(schema, bodyContext).map(value => ({ kind: 'json', value }) as BodyChoice) },
    { weight: 1, arbitrary: valueFor(schema, bodyContext, '', 1).map(value => ({ kind: 'json', value }) as BodyChoice) },
    { weight: 1, arbitrary: RAW_BODIES },
    { weight: 1, arbitrary: fc.constant<BodyChoice>({ kind: 'none' }) }
  )
}

// multipart/form-data routes (uploads): the form's fields in any order, each now and then missing,
// repeated or hostile, an unknown field, files that start like a PDF, PNG or JPEG or like nothing,
// and hostile file names (which travel in a header: quotes, CR/LF, NUL)
const FILE_HEADS = ['%PDF-1.7\n', '\x89PNG\r\n\x1a\n', '\xff\xd8\xff\xe0', 'GIF89a', '<svg>', '']
const fileArb = (name: string): fc.Arbitrary<FormPart> => fc.record({
  head: fc.constantFrom(...FILE_HEADS),
  rest: fc.uint8Array({ maxLength: 3000 }),
  filename: fc.oneof({ weight: 3, arbitrary: fc.constant('note.pdf') }, { weight: 2, arbitrary: hostileString(300) }, { weight: 1, arbitrary: fc.constantFrom('a"b.pdf', 'a\r\nX: y', '../../x.pdf', '') })
}).map(f => ({ name, filename: f.filename, data: Buffer.concat([Buffer.from(f.head, 'latin1'), f.rest]) }))

function multipartArb (schema: JsonSchema): fc.Arbitrary<BodyChoice> {
  const fields = Object.entries(schema.properties ?? {}).map(([name, s]) => s.format === 'binary'
    ? fileArb(name)
    : fc.oneof({ weight: 3, arbitrary: valueFor(s, bodyContext, name, 0).map(v => ({ name, value: String(v) })) }, { weight: 1, arbitrary: hostileString(200).map(value => ({ name, value })) }))
  const extra = fc.oneof(fc.constant<FormPart[]>([]), fc.constant<FormPart[]>([]), fields.length > 0 ? fc.oneof(...fields).map(p => [p]) : fc.constant([]), fc.constant<FormPart[]>([{ name: 'unknown', value: 'x' }]))
  return fc.tuple(fc.tuple(...fields.map(f => fc.option(f, { freq: 8 }))), extra, fc.boolean())
    .map(([chosen, more, reversed]) => {
      const parts = [...chosen.filter((p): p is FormPart => p !== null), ...more]
      return { kind: 'multipart', parts: reversed ? parts.reverse() : parts }
    })
}

function encodeMultipart (parts: FormPart[], boundary: string): Buffer {
  const out: Uint8Array[] = []
  for (const p of parts) {
    const disposition = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`
    if ('value' in p) out.push(Buffer.from(`${disposition}\r\n\r\n${p.value}\r\n`))
    else out.push(Buffer.from(`${disposition}; filename="${p.filename}"\r\nContent-Type: application/pdf\r\n\r\n`), p.data, Buffer.from('\r\n'))
  }
  out.push(Buffer.from(`--${boundary}--\r\n`))
  return Buffer.concat(out)
}

function headerArb (params: Parameter[], method: string): fc.Arbitrary<Record<string, string>> {
  const key = params.some(p => p.name === 'idempotency-key')
    ? fc.oneof({ weight: 6, arbitrary: fc.uuid().map(k => ({ 'idempotency-key': k })) }, { weight: 1, arbitrary: fc.constantFrom({}, { 'idempotency-key': 'x'.repeat(300) }, { 'idempotency-key': ' ' }) })
    : fc.constant({})
  const cond: fc.Arbitrary<Record<string, string>> = method === 'GET'
    ? fc.constantFrom<Record<string, string>>({}, {}, { 'if-none-match': '"1"' }, { 'if-none-match': '*' })
    : fc.constantFrom<Record<string, string>>({}, {}, {}, { 'if-match': '"1"' }, { 'if-match': '*' }, { 'if-match': '"99999999999"' }, { 'if-match': 'W/"x"' })
  // a declared Range header (document content): valid, ignored and unsatisfiable forms
  const range: fc.Arbitrary<Record<string, string>> = params.some(p => p.name === 'range')
    ? fc.constantFrom<Record<string, string>>({}, {}, { range: 'bytes=0-0' }, { range: 'bytes=-1' }, { range: 'bytes=10-' }, { range: 'bytes=0-999999999999999' }, { range: 'bytes=5-1' },
      { range: 'bytes=-0' }, { range: 'bytes=99999-' }, { range: 'bytes=0-1,2-3' }, { range: 'bytes=x-' }, { range: 'bytes=1-2', 'if-range': '"stale"' })
    : fc.constant({})
  return fc.tuple(key, cond, range).map(([k, c, r]) => ({ ...k, ...c, ...r }))
}

function operationOf (r: RouteEntry): Operation {
  return doc.paths[r.url.replace(/:([A-Za-z]+)/g, '{$1}')]?.[r.method.toLowerCase()] ?? {}
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

describe.each(routes.map(r => [`${r.method} ${r.url}`, r] as const))('fuzz %s', (_name, route) => {
  it('never answers 5xx, answers problem details for every 4xx, and changes nothing when it refuses', async () => {
    await freshActors()
    const op = operationOf(route)
    const params = op.parameters ?? []
    const pathNames = [...route.url.matchAll(/:([A-Za-z]+)/g)].map(m => m[1] as string)
    const bodySchema = op.requestBody?.content?.['application/json']?.schema
    const formSchema = op.requestBody?.content?.['multipart/form-data']?.schema
    const allowed: readonly Role[] = route.access === 'public' ? [] : PERMISSIONS[route.access]
    const audited = route.audit !== undefined && 'action' in route.audit && MUTATING.has(route.method)

    const request = fc.record({
      path: pathNames.length === 0 ? fc.constant<string[]>([]) : fc.tuple(...pathNames.map(n => pathParamArb(route.url, n))),
      query: queryArb(params.filter(p => p.in === 'query')),
      body: formSchema === undefined ? bodyArb(bodySchema, route.method) : fc.oneof({ weight: 4, arbitrary: multipartArb(formSchema) }, { weight: 1, arbitrary: bodyArb(undefined, route.method) }),
      headers: headerArb(params.filter(p => p.in === 'header'), route.method),
      role: allowed.length === 0 ? fc.constant<Role | null>(null) : fc.constantFrom<Role | null>(...allowed)
    })

    const statuses = new Map<number, number>()
    const property = fc.asyncProperty(request, async (req) => {
      let i = 0
      const path = route.url.replace(/:[A-Za-z]+/g, () => req.path[i++] ?? '')
      const url = req.query === '' ? path : `${path}?${req.query}`
      const headers: Record<string, string> = { ...req.headers }
      if (req.role !== null) Object.assign(headers, bearer(actors.get(req.role) ?? ''))
      let payload: string | Buffer | undefined
      if (req.body.kind === 'json') { payload = JSON.stringify(req.body.value) ?? 'null'; headers['content-type'] = 'application/json' }
      if (req.body.kind === 'raw') { payload = req.body.text; headers['content-type'] = req.body.contentType }
      if (req.body.kind === 'multipart') { payload = encodeMultipart(req.body.parts, 'fuzzBoundary7MA4YWxk'); headers['content-type'] = 'multipart/form-data; boundary=fuzzBoundary7MA4YWxk' }

      const before = audited ? await fingerprint() : ''
      const res = await app.inject({ method: route.method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) })
      const what = `${route.method} ${url}\nheaders ${JSON.stringify(headers)}\nbody ${payload === undefined ? '(none)' : JSON.stringify((typeof payload === 'string' ? payload : payload.toString('latin1')).slice(0, 2000))}\n→ ${res.statusCode} ${res.body.slice(0, 1000)}`

      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      if (res.statusCode >= 500) throw new Error(`5xx answer\n${what}`)
      if (res.statusCode >= 400) {
        if (!String(res.headers['content-type']).startsWith('application/problem+json')) throw new Error(`4xx without application/problem+json\n${what}`)
        let problem: unknown
        try { problem = JSON.parse(res.body) } catch { throw new Error(`4xx body is not JSON\n${what}`) }
        if (validateProblem(problem) !== true) throw new Error(`4xx body is not a Problem: ${JSON.stringify(validateProblem.errors)}\n${what}`)
        if ((problem as { status: number }).status !== res.statusCode) throw new Error(`problem status differs from the HTTP status\n${what}`)
        if (audited) {
          const after = await fingerprint()
          if (after !== before) throw new Error(`a refused mutation changed the database\nbefore ${before}\nafter  ${after}\n${what}`)
        }
      }
    })
    const out = await fc.check(property, { numRuns: RUNS, seed: SEED, endOnFailure: true })
    if (process.env.FUZZ_STATS !== undefined) console.log(`${route.method} ${route.url}`, JSON.stringify(Object.fromEntries(statuses)))
    if (out.failed) expect.fail(`${String((out.errorInstance as Error | undefined)?.message)}\n${fc.defaultReportMessage(out) ?? 'property failed'}\nReproduce: FUZZ_SEED=${SEED} npx vitest run test/fuzz/routes.fuzz.test.ts -t "${route.method} ${route.url}"`)
  }, 120_000)
})
