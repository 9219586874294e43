// Users: creation rules, updates with If-Match, mass assignment, listing and pagination,
// personal-data export and GDPR erasure, and what the audit trail keeps of all that.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { bearer, countAudit, createTestApp, expectProblem, tokenFor } from '../../helpers/app.js'
import { createStation, createSupplier, createUser, TEST_PASSWORD, uniq } from '../../helpers/factories.js'
import { login, loginAs, refresh } from '../auth/auth-helpers.js'

let app: App
let admin: string
let handler: string
beforeAll(async () => {
  app = await createTestApp()
  admin = tokenFor(app, await createUser(app.db, 'ADMIN'))
  handler = tokenFor(app, await createUser(app.db, 'HANDLER'))
})
afterAll(async () => { await app.close() })

const PASSWORD = 'a long and unusual passphrase'
const email = (): string => `user-${uniq().toLowerCase()}@test.example`
const post = (token: string, payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/v1/users', headers: bearer(token), payload })
const patch = (token: string, id: string, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
  app.inject({ method: 'PATCH', url: `/v1/users/${id}`, headers: { ...bearer(token), ...headers }, payload })
const row = (id: string) => app.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

describe('POST /v1/users', () => {
  it('creates a user who can sign in; the response and the audit event hold no secret or personal value', async () => {
    const station = await createStation(app.db)
    const e = email()
    const res = await post(handler, { email: e, fullName: 'Anne Martin', phone: '+33 2 41 00 00 00', role: 'STATION', organizationId: station.id, password: PASSWORD })
    expect(res.statusCode, res.body).toBe(201)
    const user = res.json()
    expect(user).toEqual({
      id: expect.any(String),
      email: e,
      fullName: 'Anne Martin',
      phone: '+33 2 41 00 00 00',
      role: 'STATION',
      organizationId: station.id,
      organizationKind: 'STATION',
      isActive: true,
      lastLoginAt: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      version: 1
    })
    expect(res.body).not.toMatch(/argon2|passwordHash|password/)
    const ev = await app.db.selectFrom('auditEvents').selectAll().where('action', '=', 'user.create').where('entityId', '=', user.id).executeTakeFirstOrThrow()
    expect(ev.changes).toEqual({ email: '[changed]', fullName: '[changed]', phone: '[changed]', role: 'STATION', organizationId: station.id })
    expect(JSON.stringify(ev)).not.toMatch(new RegExp(`${PASSWORD}|Anne|${e}`))
    expect((await row(user.id)).createdBy).not.toBeNull()
    await loginAs(app, e, PASSWORD)
  })

  it('refuses a role that does not match the organization kind, and unknown organizations, with 422', async () => {
    const station = await createStation(app.db)
    const supplier = await createSupplier(app.db)
    const platform = '00000000-0000-7000-8000-000000000001'
    for (const [role, org] of [['STATION', supplier.id], ['SUPPLIER', station.id], ['HANDLER', station.id], ['ADMIN', supplier.id], ['STATION', platform]] as const) {
      const body = expectProblem(await post(admin, { email: email(), fullName: 'X', role, organizationId: org, password: PASSWORD }), 422, 'ROLE_ORGANIZATION_MISMATCH')
      expect(body.detail).toMatch(new RegExp(`Role ${role} belongs to a`))
    }
    const body = expectProblem(await post(admin, { email: email(), fullName: 'X', role: 'STATION', organizationId: randomUUID(), password: PASSWORD }), 422, 'REFERENCE_NOT_FOUND')
    expect(body.errors).toEqual([expect.objectContaining({ pointer: '/organizationId' })])
  })

  it('enforces the password policy and case-insensitive unique emails', async () => {
    const e = email()
    for (const weak of ['short', 'password1234', `${e.split('@')[0] ?? ''}xyz`, 'azerty123456']) {
      expectProblem(await post(admin, { email: e, fullName: 'X', role: 'HANDLER', organizationId: '00000000-0000-7000-8000-000000000001', password: weak }), 422, 'WEAK_PASSWORD')
    }
    expect((await post(admin, { email: e, fullName: 'X', role: 'HANDLER', organizationId: '00000000-0000-7000-8000-000000000001', password: PASSWORD })).statusCode).toBe(201)
    const before = await countAudit(app, { action: 'user.create' })
    expectProblem(await post(admin, { email: e.toUpperCase(), fullName: 'Y', role: 'HANDLER', organizationId: '00000000-0000-7000-8000-000000000001', password: PASSWORD }), 409, 'DUPLICATE')
    expect(await countAudit(app, { action: 'user.create' })).toBe(before)
  })

  it('rejects mass-assignment fields with 400 and creates nothing', async () => {
    const base = { fullName: 'X', role: 'HANDLER', organizationId: '00000000-0000-7000-8000-000000000001', password: PASSWORD }
    for (const extra of [{ isActive: false }, { passwordHash: 'x' }, { version: 7 }, { id: randomUUID() }, { createdBy: randomUUID() }, { failedLogins: 0 }, { organizationKind: 'PLATFORM' }]) {
      const e = email()
      const body = expectProblem(await post(admin, { ...base, email: e, ...extra }), 400, 'VALIDATION_FAILED')
      expect(body.errors).toEqual([expect.objectContaining({ pointer: `/${Object.keys(extra)[0] ?? ''}` })])
      expect(await app.db.selectFrom('users').select('id').where('email', '=', e).executeTakeFirst()).toBeUndefined()
    }
    expectProblem(await post(admin, { ...base, email: 'not-an-email' }), 400, 'VALIDATION_FAILED')
    expectProblem(await post(admin, { ...base, email: email(), fullName: 'x'.repeat(201) }), 400, 'VALIDATION_FAILED')
  })
})

describe('GET and PATCH /v1/users/{id}', () => {
  it('serves an ETag, answers 304 to If-None-Match, and honours If-Match on PATCH', async () => {
    const u = await createUser(app.db, 'STATION', (await createStation(app.db)).id)
    const get = await app.inject({ method: 'GET', url: `/v1/users/${u.userId}`, headers: bearer(handler) })
    expect(get.headers.etag).toBe('"1"')
    expect((await app.inject({ method: 'GET', url: `/v1/users/${u.userId}`, headers: { ...bearer(handler), 'if-none-match': '"1"' } })).statusCode).toBe(304)
    expectProblem(await patch(handler, u.userId, { fullName: 'Stale' }, { 'if-match': '"7"' }), 412, 'PRECONDITION_FAILED')
    expect((await row(u.userId)).fullName).not.toBe('Stale')
    const ok = await patch(handler, u.userId, { fullName: 'Fresh', phone: null }, { 'if-match': '"1"' })
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json()).toMatchObject({ fullName: 'Fresh', phone: null, version: 2 })
    expectProblem(await patch(handler, u.userId, { fullName: 'Again' }, { 'if-match': '"1"' }), 412, 'PRECONDITION_FAILED')
    expectProblem(await app.inject({ method: 'GET', url: '/v1/users/not-a-uuid', headers: bearer(handler) }), 400, 'VALIDATION_FAILED')
    expectProblem(await app.inject({ method: 'GET', url: `/v1/users/${randomUUID()}`, headers: bearer(handler) }), 404, 'NOT_FOUND')
  })

  it('records role changes as from/to and personal values only as changed', async () => {
    const u = await createUser(app.db, 'HANDLER')
    const res = await patch(admin, u.userId, { role: 'MANAGER', email: email(), fullName: 'Secret Name' })
    expect(res.statusCode, res.body).toBe(200)
    const ev = await app.db.selectFrom('auditEvents').select('changes').where('action', '=', 'user.update').where('entityId', '=', u.userId).executeTakeFirstOrThrow()
    expect(ev.changes).toEqual({ role: { from: 'HANDLER', to: 'MANAGER' }, email: '[changed]', fullName: '[changed]' })
  })

  it('refuses a role outside the organization kind with 422 and changes nothing', async () => {
    const u = await createUser(app.db, 'STATION', (await createStation(app.db)).id)
    expectProblem(await patch(admin, u.userId, { role: 'SUPPLIER' }), 422, 'ROLE_ORGANIZATION_MISMATCH')
    expectProblem(await patch(admin, u.userId, { role: 'ADMIN' }), 422, 'ROLE_ORGANIZATION_MISMATCH')
    expect((await row(u.userId)).role).toBe('STATION')
  })

  it('rejects mass-assignment fields and empty bodies with 400 and changes nothing', async () => {
    const u = await createUser(app.db, 'STATION', (await createStation(app.db)).id)
    const other = await createStation(app.db)
    const before = await row(u.userId)
    for (const field of [{ organizationId: other.id }, { isActive: false }, { passwordHash: 'x' }, { password: PASSWORD }, { version: 9 }, { failedLogins: 0 }, { lockedUntil: null }, { tokensValidAfter: null }, { id: randomUUID() }]) {
      const body = expectProblem(await patch(admin, u.userId, { fullName: 'Changed?', ...field }), 400, 'VALIDATION_FAILED')
      expect(body.errors).toEqual([expect.objectContaining({ pointer: `/${Object.keys(field)[0] ?? ''}` })])
    }
    expectProblem(await patch(admin, u.userId, {}), 400, 'VALIDATION_FAILED')
    expect(await row(u.userId)).toEqual(before)
  })
})

describe('deactivate and activate', () => {
  it('deactivation ends sign-in and sessions; activation restores sign-in; erased accounts stay inactive', async () => {
    const u = await createUser(app.db, 'SUPPLIER', (await createSupplier(app.db)).id)
    const t = await loginAs(app, u.email)
    const res = await app.inject({ method: 'POST', url: `/v1/users/${u.userId}/deactivate`, headers: bearer(handler), payload: {} })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ isActive: false, version: 2 })
    expectProblem(await login(app, u.email, TEST_PASSWORD), 401, 'INVALID_CREDENTIALS')
    expectProblem(await refresh(app, t.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
    expectProblem(await app.inject({ method: 'POST', url: `/v1/users/${u.userId}/activate`, headers: { ...bearer(handler), 'if-match': '"1"' } }), 412, 'PRECONDITION_FAILED')
    const back = await app.inject({ method: 'POST', url: `/v1/users/${u.userId}/activate`, headers: { ...bearer(handler), 'if-match': '"2"' } })
    expect(back.statusCode, back.body).toBe(200)
    await loginAs(app, u.email)
    const ev = await app.db.selectFrom('auditEvents').select(['action', 'changes']).where('entityId', '=', u.userId).where('action', 'in', ['user.deactivate', 'user.activate']).orderBy('id').execute()
    expect(ev).toEqual([{ action: 'user.deactivate', changes: { isActive: false } }, { action: 'user.activate', changes: { isActive: true } }])
    expectProblem(await app.inject({ method: 'POST', url: `/v1/users/${u.userId}/deactivate`, headers: bearer(handler), payload: { reason: 'x' } }), 400, 'VALIDATION_FAILED')
  })
})

describe('GET /v1/users', () => {
  it('filters by q, role, organization and active flag, and pages with an opaque cursor', async () => {
    const station = await createStation(app.db)
    const tag = uniq().toLowerCase()
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await createUser(app.db, 'STATION', station.id, { email: `${tag}-${i}@test.example`, fullName: `Person ${i}`, isActive: i !== 4 })).userId)
    const list = (qs: string) => app.inject({ method: 'GET', url: `/v1/users?${qs}`, headers: bearer(handler) })
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res = await list(`organizationId=${station.id}&limit=2${cursor !== null ? `&cursor=${cursor}` : ''}`)
      expect(res.statusCode, res.body).toBe(200)
      const body = res.json() as { items: Array<{ id: string }>, nextCursor: string | null }
      seen.push(...body.items.map(i => i.id))
      cursor = body.nextCursor
      pages++
    } while (cursor !== null)
    expect(pages).toBe(3)
    expect(seen).toEqual(ids)
    expect((await list(`q=${tag}-3`)).json().items.map((u: { id: string }) => u.id)).toEqual([ids[3]])
    expect((await list(`q=${tag.toUpperCase()}&active=false`)).json().items.map((u: { id: string }) => u.id)).toEqual([ids[4]])
    expect((await list(`organizationId=${station.id}&role=SUPPLIER`)).json().items).toEqual([])
    expect((await list('q=%25')).statusCode).toBe(200) // LIKE wildcards are matched literally
    expectProblem(await list('cursor=forged.cursor'), 400, 'INVALID_CURSOR')
    expectProblem(await list('limit=201'), 400, 'VALIDATION_FAILED')
    expectProblem(await list('role=ROOT'), 400, 'VALIDATION_FAILED')
    expectProblem(await list('unknown=1'), 400, 'VALIDATION_FAILED')
    expect((await list(`organizationId=${station.id}`)).body).not.toMatch(/argon2|passwordHash/)
  })
})

describe('personal data and erasure', () => {
  it('exports profile, sessions and the audit events the person performed', async () => {
    const station = await createStation(app.db)
    const u = await createUser(app.db, 'STATION', station.id)
    const t = await loginAs(app, u.email)
    const res = await app.inject({ method: 'GET', url: `/v1/users/${u.userId}/personal-data`, headers: bearer(t.accessToken) })
    expect(res.statusCode, res.body).toBe(200)
    const data = res.json()
    expect(data.profile).toMatchObject({ id: u.userId, email: u.email, organization: { id: station.id, kind: 'STATION' } })
    expect(data.sessions).toHaveLength(1)
    expect(data.auditEvents.map((e: { action: string }) => e.action)).toContain('auth.login')
    expect(Object.keys(data.auditEvents[0] as object).sort()).toEqual(['action', 'entityId', 'entityType', 'id', 'occurredAt'])
    expect(data.auditEventsTruncated).toBe(false)
    expect(res.body).not.toMatch(/argon2|passwordHash|refreshHash/)
  })

  it('erases a person: anonymized, signed out, unable to sign in; references and audit events keep working', async () => {
    const station = await createStation(app.db)
    const u = await createUser(app.db, 'STATION', station.id, { fullName: 'Jeanne Erasable' })
    const t = await loginAs(app, u.email)
    const before = await app.db.selectFrom('auditEvents').select('id').where('actorUserId', '=', u.userId).execute()
    const res = await app.inject({ method: 'POST', url: `/v1/users/${u.userId}/erase`, headers: bearer(admin) })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ id: u.userId, email: `erased-${u.userId}@erased.invalid`, fullName: 'Erased user', phone: null, isActive: false })
    expectProblem(await login(app, u.email, TEST_PASSWORD), 401, 'INVALID_CREDENTIALS')
    expectProblem(await refresh(app, t.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
    const sessions = await app.db.selectFrom('sessions').select(['ip', 'userAgent', 'revokedAt']).where('userId', '=', u.userId).execute()
    expect(sessions).toEqual([{ ip: null, userAgent: null, revokedAt: expect.any(Date) }])
    // the audit trail still attributes the person's past actions to the id, and never held their name or email
    const after = await app.db.selectFrom('auditEvents').selectAll().where('actorUserId', '=', u.userId).execute()
    expect(after.length).toBeGreaterThanOrEqual(before.length)
    const about = await app.db.selectFrom('auditEvents').selectAll().where('entityId', '=', u.userId).execute()
    expect(JSON.stringify([...after, ...about])).not.toMatch(new RegExp(`Jeanne|${u.email}`))
    expect(about.find(e => e.action === 'user.erase')?.changes).toEqual({ erased: true })
    // erasing again is harmless; reactivating an erased account is refused
    expect((await app.inject({ method: 'POST', url: `/v1/users/${u.userId}/erase`, headers: bearer(admin) })).statusCode).toBe(200)
    expectProblem(await app.inject({ method: 'POST', url: `/v1/users/${u.userId}/activate`, headers: bearer(admin) }), 409, 'INVALID_TRANSITION')
    // the erased address domain is reserved
    expectProblem(await post(admin, { email: `x-${uniq()}@erased.invalid`, fullName: 'X', role: 'STATION', organizationId: station.id, password: PASSWORD }), 422, 'BUSINESS_RULE_VIOLATED')
  })
})
