// Master contracts over HTTP: lifecycle (every allowed and forbidden transition), self-approval,
// concurrent overlapping approvals, lazy expiry and the sweep, lines, views per audience, scope.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import type { App } from '../../../src/lib/route.js'
import { bearer, countAudit, createTestApp, expectProblem, tokenFor } from '../../helpers/app.js'
import { createArticle, createContract, createOffer, createStation, createSupplier, createUser, type TestUser } from '../../helpers/factories.js'

let app: App
let admin: TestUser
let admin2: TestUser
let manager: TestUser
const tok = (u: TestUser): string => tokenFor(app, u)

beforeAll(async () => {
  app = await createTestApp()
  admin = await createUser(app.db, 'ADMIN')
  admin2 = await createUser(app.db, 'ADMIN')
  manager = await createUser(app.db, 'MANAGER')
})
afterAll(async () => { await app.close() })

const send = async (method: 'POST' | 'PATCH' | 'PUT' | 'GET', token: string, url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  await app.inject({ method, url, headers: { ...bearer(token), ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) })

/** A supplier with `n` offered articles. */
async function supplierWithArticles (n: number): Promise<{ supplierId: string, articleIds: string[] }> {
  const s = await createSupplier(app.db)
  const articleIds: string[] = []
  for (let i = 0; i < n; i++) {
    const a = await createArticle(app.db)
    await createOffer(app.db, a.id, s.id)
    articleIds.push(a.id)
  }
  return { supplierId: s.id, articleIds }
}

async function draft (by: TestUser, supplierId: string, articleIds: string[], over: Record<string, unknown> = {}): Promise<{ id: string, number: string, version: number }> {
  const res = await send('POST', tok(by), '/v1/contracts', {
    supplierId,
    name: 'Accord cadre',
    kind: 'ANNUAL',
    validFrom: '2026-01-01',
    validUntil: '2099-12-31',
    feePct: '6.50',
    deliverySlaDays: 7,
    lines: articleIds.map(articleId => ({ articleId, packPrice: '50.0000', committedPacks: 100, allowancePct: '5.00' })),
    ...over
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

const statusOf = async (id: string): Promise<string> => (await app.db.selectFrom('contracts').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status

describe('create and edit drafts', () => {
  it('creates a numbered DRAFT with lines; fee defaults to the settings; validity and lines are checked', async () => {
    const { supplierId, articleIds } = await supplierWithArticles(2)
    const c = await draft(manager, supplierId, articleIds)
    expect(c).toMatchObject({ status: 'DRAFT', feePct: '6.50', lineCount: 2, version: 1, createdBy: manager.userId, approvedBy: null, currency: 'EUR' })
    expect(c.number).toMatch(new RegExp(`^CT-${new Date().getFullYear()}-\\d{4,}$`))
    const noFee = await send('POST', tok(manager), '/v1/contracts', { supplierId, name: 'x', kind: 'SPOT', validFrom: '2026-01-01', validUntil: '2026-01-31' })
    const settings = await app.db.selectFrom('settings').select('defaultFeePct').executeTakeFirstOrThrow()
    expect(noFee.json()).toMatchObject({ feePct: settings.defaultFeePct, lineCount: 0 })
    expectProblem(await send('POST', tok(manager), '/v1/contracts', { supplierId, name: 'x', kind: 'SPOT', validFrom: '2026-02-01', validUntil: '2026-01-31' }), 422, 'BUSINESS_RULE_VIOLATED')
    const other = await createArticle(app.db)
    const bad = expectProblem(await send('POST', tok(manager), '/v1/contracts', {
      supplierId, name: 'x', kind: 'SPOT', validFrom: '2026-01-01', validUntil: '2026-01-31', lines: [{ articleId: articleIds[0], packPrice: '1' }, { articleId: other.id, packPrice: '1' }, { articleId: articleIds[0], packPrice: '2' }]
    }), 422, 'BUSINESS_RULE_VIOLATED')
    expect((bad.errors as Array<{ pointer: string }>).map(e => e.pointer).sort()).toEqual(['/lines/1/articleId', '/lines/2/articleId'])
    expectProblem(await send('POST', tok(manager), '/v1/contracts', { supplierId: '00000000-0000-4000-8000-000000000000', name: 'x', kind: 'SPOT', validFrom: '2026-01-01', validUntil: '2026-01-31' }), 422, 'REFERENCE_NOT_FOUND')
  })

  it('rejects mass assignment of status, number, version, id, createdBy and orderedPacks (400)', async () => {
    const { supplierId, articleIds } = await supplierWithArticles(1)
    const c = await draft(manager, supplierId, articleIds)
    const base = { supplierId, name: 'x', kind: 'SPOT', validFrom: '2026-01-01', validUntil: '2026-01-31' }
    for (const extra of [{ status: 'ACTIVE' }, { number: 'CT-1' }, { version: 3 }, { id: c.id }, { createdBy: admin.userId }]) {
      expectProblem(await send('POST', tok(manager), '/v1/contracts', { ...base, ...extra }), 400, 'VALIDATION_FAILED')
      expectProblem(await send('PATCH', tok(manager), `/v1/contracts/${c.id}`, extra), 400, 'VALIDATION_FAILED')
    }
    expectProblem(await send('PUT', tok(manager), `/v1/contracts/${c.id}/lines`, { lines: [{ articleId: articleIds[0], packPrice: '1.0000', orderedPacks: 5 }] }), 400, 'VALIDATION_FAILED')
    expectProblem(await send('PUT', tok(manager), `/v1/contracts/${c.id}/lines`, { lines: Array.from({ length: 501 }, () => ({ articleId: articleIds[0], packPrice: '1' })) }), 400, 'VALIDATION_FAILED')
    expect(await statusOf(c.id)).toBe('DRAFT')
  })

  it('replaces lines while DRAFT only, bumps the version and honours If-Match', async () => {
    const { supplierId, articleIds } = await supplierWithArticles(3)
    const c = await draft(manager, supplierId, articleIds.slice(0, 1))
    const url = `/v1/contracts/${c.id}/lines`
    const res = await send('PUT', tok(manager), url, { lines: [{ articleId: articleIds[1], packPrice: '10.0000', committedPacks: 10, allowancePct: '15.00' }, { articleId: articleIds[2], packPrice: '3.3333' }] }, { 'if-match': '"1"' })
    expect(res.statusCode, res.body).toBe(200)
    const items = res.json().items as Array<Record<string, unknown>>
    expect(items).toHaveLength(2)
    expect(items.find(i => i.articleId === articleIds[1])).toMatchObject({ packPrice: '10.0000', committedPacks: 10, allowancePct: '15.00', orderedPacks: 0, remainingPacks: 11, stationPackPrice: '10.6500' })
    expect(items.find(i => i.articleId === articleIds[2])).toMatchObject({ committedPacks: null, remainingPacks: null, allowancePct: '0.00' })
    expectProblem(await send('PUT', tok(manager), url, { lines: [] }, { 'if-match': '"1"' }), 412, 'PRECONDITION_FAILED')
    const patched = await send('PATCH', tok(manager), `/v1/contracts/${c.id}`, { feePct: '9.00', validUntil: '2098-12-31' }, { 'if-match': '"2"' })
    expect(patched.statusCode, patched.body).toBe(200)
    expect(patched.json()).toMatchObject({ feePct: '9.00', validUntil: '2098-12-31', version: 3 })
    expectProblem(await send('PATCH', tok(manager), `/v1/contracts/${c.id}`, { validFrom: '2099-01-01' }), 422, 'BUSINESS_RULE_VIOLATED')
    expect((await send('POST', tok(admin), `/v1/contracts/${c.id}/approve`, {})).statusCode).toBe(200)
    expectProblem(await send('PUT', tok(manager), url, { lines: [] }), 409, 'INVALID_TRANSITION')
    expectProblem(await send('PATCH', tok(manager), `/v1/contracts/${c.id}`, { feePct: '1.00' }), 409, 'INVALID_TRANSITION')
    const renamed = await send('PATCH', tok(manager), `/v1/contracts/${c.id}`, { name: 'Renamed', notes: 'ok while ACTIVE' })
    expect(renamed.statusCode, renamed.body).toBe(200)
    const row = await app.db.selectFrom('contracts').select(['feePct', 'name']).where('id', '=', c.id).executeTakeFirstOrThrow()
    expect(row).toEqual({ feePct: '9.00', name: 'Renamed' })
  })
})

describe('lifecycle', () => {
  it('walks DRAFT → ACTIVE → SUSPENDED → ACTIVE → TERMINATED with audit and outbox events, and refuses every other transition', async () => {
    const { supplierId, articleIds } = await supplierWithArticles(1)
    const c = await draft(manager, supplierId, articleIds)
    const url = (a: string) => `/v1/contracts/${c.id}/${a}`
    const refused = async (action: string, body: unknown, status: string) => {
      const before = await countAudit(app)
      const p = expectProblem(await send('POST', tok(admin), url(action), body), 409, 'INVALID_TRANSITION')
      expect(p.currentStatus).toBe(status)
      expect(await countAudit(app)).toBe(before)
      expect(await statusOf(c.id)).toBe(status)
    }
    await refused('suspend', { reason: 'x' }, 'DRAFT')
    await refused('resume', {}, 'DRAFT')
    const approved = await send('POST', tok(admin), url('approve'), {}, { 'if-match': '"1"' })
    expect(approved.statusCode, approved.body).toBe(200)
    expect(approved.json()).toMatchObject({ status: 'ACTIVE', approvedBy: admin.userId, version: 2 })
    expect(approved.headers.etag).toBe('"2"')
    await refused('approve', {}, 'ACTIVE')
    await refused('resume', {}, 'ACTIVE')
    expectProblem(await send('POST', tok(manager), url('suspend'), {}), 400, 'VALIDATION_FAILED')
    expectProblem(await send('POST', tok(manager), url('suspend'), { reason: 'x' }, { 'if-match': '"1"' }), 412, 'PRECONDITION_FAILED')
    const suspended = await send('POST', tok(manager), url('suspend'), { reason: 'Quality dispute' }, { 'if-match': '"2"' })
    expect(suspended.json()).toMatchObject({ status: 'SUSPENDED', statusReason: 'Quality dispute' })
    await refused('suspend', { reason: 'again' }, 'SUSPENDED')
    await refused('approve', {}, 'SUSPENDED')
    expect((await send('POST', tok(manager), url('resume'), {})).json()).toMatchObject({ status: 'ACTIVE', statusReason: null })
    expectProblem(await send('POST', tok(manager), url('terminate'), {}), 400, 'VALIDATION_FAILED')
    expect((await send('POST', tok(manager), url('terminate'), { reason: 'Supplier exits the market' })).json()).toMatchObject({ status: 'TERMINATED' })
    for (const [a, body] of [['approve', {}], ['suspend', { reason: 'x' }], ['resume', {}], ['terminate', { reason: 'x' }]] as const) await refused(a, body, 'TERMINATED')
    const audits = await app.db.selectFrom('auditEvents').select('action').where('entityId', '=', c.id).orderBy('id').execute()
    expect(audits.map(a => a.action)).toEqual(['contract.create', 'contract.approve', 'contract.suspend', 'contract.resume', 'contract.terminate'])
    const events = await app.db.selectFrom('outboxEvents').select(['type', 'organizationIds']).where(sql<boolean>`payload->>'contractId' = ${c.id}`).orderBy('id').execute()
    expect(events.map(e => e.type)).toEqual(['contract.approved', 'contract.suspended', 'contract.resumed', 'contract.terminated'])
    expect(events.every(e => JSON.stringify(e.organizationIds) === JSON.stringify([supplierId]))).toBe(true)
  })

  it('terminates a DRAFT; only an ADMIN approves, never the draft\'s creator', async () => {
    const { supplierId, articleIds } = await supplierWithArticles(1)
    const byAdmin = await draft(admin, supplierId, articleIds)
    const before = await countAudit(app)
    expectProblem(await send('POST', tok(admin), `/v1/contracts/${byAdmin.id}/approve`, {}), 403, 'SELF_APPROVAL_FORBIDDEN')
    expectProblem(await send('POST', tok(manager), `/v1/contracts/${byAdmin.id}/approve`, {}), 403, 'FORBIDDEN')
    expectProblem(await send('POST', tokenFor(app, { role: 'HANDLER' }), `/v1/contracts/${byAdmin.id}/approve`, {}), 403, 'FORBIDDEN')
    expect(await countAudit(app)).toBe(before)
    expect(await statusOf(byAdmin.id)).toBe('DRAFT')
    expect((await send('POST', tok(admin2), `/v1/contracts/${byAdmin.id}/approve`, {})).json()).toMatchObject({ status: 'ACTIVE', approvedBy: admin2.userId })
    const d2 = await draft(manager, (await supplierWithArticles(0)).supplierId, [])
    expectProblem(await send('POST', tok(admin), `/v1/contracts/${d2.id}/approve`, {}), 422, 'BUSINESS_RULE_VIOLATED')
    expect((await send('POST', tok(manager), `/v1/contracts/${d2.id}/terminate`, { reason: 'abandoned' })).json()).toMatchObject({ status: 'TERMINATED' })
  })

  it('refuses an overlapping approval (409 CONTRACT_OVERLAP) and accepts disjoint periods or articles', async () => {
    const { supplierId, articleIds } = await supplierWithArticles(2)
    const a = await draft(manager, supplierId, [articleIds[0] ?? ''], { validFrom: '2030-01-01', validUntil: '2030-12-31' })
    const overlapping = await draft(manager, supplierId, articleIds, { validFrom: '2030-12-31', validUntil: '2031-06-30' })
    const disjointDates = await draft(manager, supplierId, articleIds, { validFrom: '2031-01-01', validUntil: '2031-12-31' })
    const otherArticle = await draft(manager, supplierId, [articleIds[1] ?? ''], { validFrom: '2030-01-01', validUntil: '2030-12-31' })
    expect((await send('POST', tok(admin), `/v1/contracts/${a.id}/approve`, {})).statusCode).toBe(200)
    expectProblem(await send('POST', tok(admin), `/v1/contracts/${overlapping.id}/approve`, {}), 409, 'CONTRACT_OVERLAP')
    expect((await send('POST', tok(admin), `/v1/contracts/${disjointDates.id}/approve`, {})).statusCode).toBe(200)
    expect((await send('POST', tok(admin), `/v1/contracts/${otherArticle.id}/approve`, {})).statusCode).toBe(200)
    // a SUSPENDED contract still blocks; a TERMINATED one does not
    await send('POST', tok(manager), `/v1/contracts/${a.id}/suspend`, { reason: 'x' })
    const again = await draft(manager, supplierId, [articleIds[0] ?? ''], { validFrom: '2030-06-01', validUntil: '2030-06-30' })
    expectProblem(await send('POST', tok(admin), `/v1/contracts/${again.id}/approve`, {}), 409, 'CONTRACT_OVERLAP')
    await send('POST', tok(manager), `/v1/contracts/${a.id}/terminate`, { reason: 'x' })
    expect((await send('POST', tok(admin), `/v1/contracts/${again.id}/approve`, {})).statusCode).toBe(200)
  })

  it('parallel approvals of two overlapping drafts by two admins leave exactly one ACTIVE', async () => {
    for (let round = 0; round < 3; round++) {
      const { supplierId, articleIds } = await supplierWithArticles(1)
      const d1 = await draft(manager, supplierId, articleIds)
      const d2 = await draft(manager, supplierId, articleIds)
      const [r1, r2] = await Promise.all([
        send('POST', tok(admin), `/v1/contracts/${d1.id}/approve`, {}),
        send('POST', tok(admin2), `/v1/contracts/${d2.id}/approve`, {})
      ])
      expect([r1.statusCode, r2.statusCode].sort()).toEqual([200, 409])
      const active = await app.db.selectFrom('contracts').select('id').where('supplierId', '=', supplierId).where('status', '=', 'ACTIVE').execute()
      expect(active).toHaveLength(1)
    }
  })
})

describe('expiry', () => {
  it('reads an overdue ACTIVE contract as EXPIRED before the sweep, refuses its transitions, and the sweep persists it once', async () => {
    const { supplierId, articleIds } = await supplierWithArticles(1)
    const c = await createContract(app.db, supplierId, [{ articleId: articleIds[0] ?? '', packPrice: '1.0000' }], { validFrom: '2020-01-01', validUntil: '2021-12-31' })
    expect(await statusOf(c.id)).toBe('ACTIVE')
    expect((await send('GET', tok(manager), `/v1/contracts/${c.id}`)).json()).toMatchObject({ status: 'EXPIRED' })
    const listed = (await send('GET', tok(manager), `/v1/contracts?supplierId=${supplierId}&status=EXPIRED`)).json().items as Array<{ id: string }>
    expect(listed.map(i => i.id)).toEqual([c.id])
    expect((await send('GET', tok(manager), `/v1/contracts?supplierId=${supplierId}&status=ACTIVE`)).json().items).toEqual([])
    for (const [a, body] of [['suspend', { reason: 'x' }], ['terminate', { reason: 'x' }], ['approve', {}]] as const) {
      expect(expectProblem(await send('POST', tok(admin), `/v1/contracts/${c.id}/${a}`, body), 409, 'INVALID_TRANSITION').currentStatus).toBe('EXPIRED')
    }
    await app.jobs.runNow('contract-expiry')
    expect(await statusOf(c.id)).toBe('EXPIRED')
    const audit = await app.db.selectFrom('auditEvents').select(['action', 'actorUserId']).where('entityId', '=', c.id).execute()
    expect(audit).toEqual([{ action: 'contract.expire', actorUserId: null }])
    await app.jobs.runNow('contract-expiry')
    const events = await app.db.selectFrom('outboxEvents').select('type').where(sql<boolean>`payload->>'contractId' = ${c.id}`).execute()
    expect(events).toEqual([{ type: 'contract.expired' }])
  })
})

describe('renew', () => {
  it('creates a DRAFT for the next period with lines copied and ordered packs reset', async () => {
    const { supplierId, articleIds } = await supplierWithArticles(2)
    const c = await createContract(app.db, supplierId, articleIds.map(articleId => ({ articleId, packPrice: '7.5000', committedPacks: 40, allowancePct: '10' })), { validFrom: '2026-01-01', validUntil: '2026-12-31', feePct: '4.00' })
    await app.db.updateTable('contractLines').set({ orderedPacks: 30 }).where('contractId', '=', c.id).execute()
    const res = await send('POST', tok(manager), `/v1/contracts/${c.id}/renew`, {})
    expect(res.statusCode, res.body).toBe(201)
    const renewed = res.json()
    expect(renewed).toMatchObject({ status: 'DRAFT', renewedFromId: c.id, validFrom: '2027-01-01', validUntil: '2027-12-31', feePct: '4.00', lineCount: 2, createdBy: manager.userId })
    const lines = (await send('GET', tok(manager), `/v1/contracts/${renewed.id}/lines`)).json().items as Array<Record<string, unknown>>
    expect(lines.every(l => l.orderedPacks === 0 && l.committedPacks === 40 && l.packPrice === '7.5000' && l.remainingPacks === 44)).toBe(true)
    expect(await statusOf(c.id)).toBe('ACTIVE')
    const seasonal = await draft(manager, supplierId, articleIds, { kind: 'SEASONAL', validFrom: '2026-04-01', validUntil: '2026-09-30' })
    expect((await send('POST', tok(manager), `/v1/contracts/${seasonal.id}/renew`, {})).json()).toMatchObject({ validFrom: '2027-04-01', validUntil: '2027-09-30' })
    const spot = await draft(manager, supplierId, articleIds, { kind: 'SPOT', validFrom: '2026-03-01', validUntil: '2026-03-31' })
    expect((await send('POST', tok(manager), `/v1/contracts/${spot.id}/renew`, { name: 'Avril' })).json()).toMatchObject({ name: 'Avril', validFrom: '2026-04-01', validUntil: '2026-04-30' })
    expectProblem(await send('POST', tok(manager), `/v1/contracts/${spot.id}/renew`, { validFrom: '2027-01-01', validUntil: '2026-01-01' }), 422, 'BUSINESS_RULE_VIOLATED')
    const event = await app.db.selectFrom('outboxEvents').select('type').where(sql<boolean>`payload->>'contractId' = ${renewed.id}`).execute()
    expect(event).toEqual([{ type: 'contract.renewed' }])
  })
})

describe('visibility and scope', () => {
  it('shows the fee and station prices to staff only, hides other suppliers\' contracts, and refuses stations', async () => {
    const { supplierId, articleIds } = await supplierWithArticles(1)
    const other = await supplierWithArticles(1)
    const c = await createContract(app.db, supplierId, [{ articleId: articleIds[0] ?? '', packPrice: '10.0000', committedPacks: 5 }], { feePct: '8.00' })
    const theirs = await createContract(app.db, other.supplierId, [{ articleId: other.articleIds[0] ?? '', packPrice: '1.0000' }])
    const sup = tokenFor(app, { role: 'SUPPLIER', organizationId: supplierId })
    const platform = (await send('GET', tok(manager), `/v1/contracts/${c.id}`)).json()
    expect(platform).toMatchObject({ feePct: '8.00' })
    const mine = await send('GET', sup, `/v1/contracts/${c.id}`)
    expect(mine.statusCode).toBe(200)
    for (const f of ['feePct', 'createdBy', 'approvedBy']) expect(mine.json()).not.toHaveProperty(f)
    expect(mine.body).not.toContain('"8.00"') // the fee as a JSON value (a timestamp such as 06:57:28.004Z contains 8.00)
    const list = (await send('GET', sup, '/v1/contracts?limit=200')).json().items as Array<Record<string, unknown>>
    expect(list.map(i => i.id)).toEqual([c.id])
    expect(list.every(i => !('feePct' in i))).toBe(true)
    expect((await send('GET', sup, `/v1/contracts?supplierId=${other.supplierId}`)).json().items).toEqual([])
    const lines = await send('GET', sup, `/v1/contracts/${c.id}/lines`)
    expect(lines.json().items[0]).toMatchObject({ packPrice: '10.0000', committedPacks: 5, remainingPacks: 5 })
    expect(lines.json().items[0]).not.toHaveProperty('stationPackPrice')
    expect((await send('GET', tok(manager), `/v1/contracts/${c.id}/lines`)).json().items[0]).toMatchObject({ stationPackPrice: '10.8000' })
    expectProblem(await send('GET', sup, `/v1/contracts/${theirs.id}`), 404)
    expectProblem(await send('GET', sup, `/v1/contracts/${theirs.id}/lines`), 404)
    const station = tokenFor(app, { role: 'STATION', organizationId: (await createStation(app.db)).id })
    for (const url of ['/v1/contracts', `/v1/contracts/${c.id}`, `/v1/contracts/${c.id}/lines`]) expectProblem(await send('GET', station, url), 403)
  })

  it('permission matrix on writes: suppliers, stations and handlers are refused and nothing changes', async () => {
    const { supplierId, articleIds } = await supplierWithArticles(1)
    const c = await draft(manager, supplierId, articleIds)
    const before = await countAudit(app)
    for (const role of ['SUPPLIER', 'STATION', 'HANDLER'] as const) {
      const t = tokenFor(app, { role, organizationId: role === 'SUPPLIER' ? supplierId : undefined })
      expectProblem(await send('POST', t, '/v1/contracts', { supplierId, name: 'x', kind: 'SPOT', validFrom: '2026-01-01', validUntil: '2026-01-31' }), 403)
      expectProblem(await send('PATCH', t, `/v1/contracts/${c.id}`, { name: 'hijack' }), 403)
      expectProblem(await send('PUT', t, `/v1/contracts/${c.id}/lines`, { lines: [] }), 403)
      expectProblem(await send('POST', t, `/v1/contracts/${c.id}/terminate`, { reason: 'x' }), 403)
      expectProblem(await send('POST', t, `/v1/contracts/${c.id}/renew`, {}), 403)
      expectProblem(await send('POST', t, `/v1/contracts/${c.id}/approve`, {}), 403)
    }
    expect(await countAudit(app)).toBe(before)
    expect((await app.db.selectFrom('contracts').select(['name', 'version']).where('id', '=', c.id).executeTakeFirstOrThrow())).toEqual({ name: 'Accord cadre', version: 1 })
    expectProblem(await send('GET', tok(manager), '/v1/contracts/00000000-0000-4000-8000-000000000000'), 404)
  })
})

describe('contract ETags', () => {
  it('change when the effective status changes without a row update (no stale 304 after validUntil)', async () => {
    const { supplierId, articleIds } = await supplierWithArticles(1)
    const c = await createContract(app.db, supplierId, [{ articleId: articleIds[0] ?? '', packPrice: '1.0000' }], { status: 'ACTIVE', validFrom: '2020-01-01', validUntil: '2099-12-31' })
    const staff = tokenFor(app, { role: 'MANAGER' })
    const first = await send('GET', staff, `/v1/contracts/${c.id}`)
    expect(first.json().status).toBe('ACTIVE')
    const etag = String(first.headers.etag)
    expect((await send('GET', staff, `/v1/contracts/${c.id}`, undefined, { 'if-none-match': etag })).statusCode).toBe(304)
    await sql`UPDATE contracts SET valid_until = '2021-12-31' WHERE id = ${c.id}`.execute(app.db) // no version bump, like time passing
    const later = await send('GET', staff, `/v1/contracts/${c.id}`, undefined, { 'if-none-match': etag })
    expect(later.statusCode).toBe(200)
    expect(later.json().status).toBe('EXPIRED')
  })
})
