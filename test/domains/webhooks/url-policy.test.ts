// SSRF (OWASP API7): which addresses a webhook may reach, which URLs a subscription may name, and
// the check repeated at delivery on the address actually connected to (DNS rebinding). Nothing
// here connects anywhere but a receiver on 127.0.0.1.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deliver, deliverySettings } from '../../../src/domains/webhooks/delivery.js'
import { dispatchOutbox } from '../../../src/domains/webhooks/dispatcher.js'
import { openSecret, SEALED_PREFIX, webhookSecretKey } from '../../../src/domains/webhooks/secrets.js'
import { checkWebhookUrl, classifyAddress, type ResolveAll, type UrlPolicy } from '../../../src/domains/webhooks/url-policy.js'
import { createWebhook } from '../../../src/domains/webhooks/webhooks.service.js'
import type { App } from '../../../src/lib/route.js'
import { bearer, countAudit, createTestApp, expectProblem, tokenFor } from '../../helpers/app.js'
import { createStation, createUser } from '../../helpers/factories.js'
import { clearWebhooks, emit } from './fixtures.js'
import { Receiver, verifies } from './receiver.js'

// [address, allowed by default, allowed with WEBHOOK_ALLOW_PRIVATE]
const ADDRESSES: Array<[string, boolean, boolean]> = [
  ['8.8.8.8', true, true],
  ['93.184.216.34', true, true],
  ['172.32.0.1', true, true],
  ['100.128.0.1', true, true],
  ['127.0.0.1', false, true],
  ['127.255.255.254', false, true],
  ['10.0.0.1', false, true],
  ['172.16.0.1', false, true],
  ['172.31.255.255', false, true],
  ['192.168.1.1', false, true],
  ['169.254.169.254', false, true],
  ['100.64.0.1', false, true],
  ['100.100.100.200', false, true],
  ['168.63.129.16', false, true],
  ['192.0.2.1', false, true],
  ['198.18.0.1', false, true],
  ['203.0.113.9', false, true],
  ['0.0.0.0', false, false],
  ['0.1.2.3', false, false],
  ['224.0.0.1', false, false],
  ['239.255.255.250', false, false],
  ['255.255.255.255', false, false],
  ['240.0.0.1', false, false],
  ['2606:4700:4700::1111', true, true],
  ['2a00:1450:4007:80e::200e', true, true],
  ['::1', false, true],
  ['0:0:0:0:0:0:0:1', false, true],
  ['::', false, false],
  ['::ffff:127.0.0.1', false, true],
  ['::ffff:7f00:1', false, true],
  ['::ffff:169.254.169.254', false, true],
  ['::ffff:10.1.2.3', false, true],
  ['::ffff:8.8.8.8', true, true],
  ['::ffff:0.0.0.0', false, false],
  ['::127.0.0.1', false, true],
  ['64:ff9b::a9fe:a9fe', false, true],
  ['64:ff9b::808:808', true, true],
  ['64:ff9b:1::1', false, true],
  ['fe80::1', false, true],
  ['fe80::1%eth0', false, true],
  ['fc00::1', false, true],
  ['fd00:ec2::254', false, true],
  ['fec0::1', false, true],
  ['2001:db8::1', false, true],
  ['2002:c0a8:101::1', false, true],
  ['2001::1', false, true],
  ['100::1', false, true],
  ['ff02::1', false, false],
  ['not-an-ip', false, false]
]

describe('addresses', () => {
  it.each(ADDRESSES)('%s: allowed %s by default, %s with WEBHOOK_ALLOW_PRIVATE', (address, byDefault, withPrivate) => {
    expect(classifyAddress(address, false).allowed).toBe(byDefault)
    expect(classifyAddress(address, true).allowed).toBe(withPrivate)
    if (!byDefault) expect(classifyAddress(address, false).why).toBeTruthy()
  })
})

describe('receiver URLs', () => {
  const policy: UrlPolicy = { requireHttps: false, allowPrivate: false }
  const refused = async (url: string, p: UrlPolicy = policy): Promise<string> => {
    try { await checkWebhookUrl(url, p) } catch (err) { return (err as Error).message }
    throw new Error(`${url} was accepted`)
  }

  it('accepts a public http(s) address, normalized, without its fragment', async () => {
    expect(await checkWebhookUrl('https://8.8.8.8/hooks?x=1#top', policy)).toBe('https://8.8.8.8/hooks?x=1')
    expect(await checkWebhookUrl('http://[2606:4700:4700::1111]:8443/h', policy)).toBe('http://[2606:4700:4700::1111]:8443/h')
  })

  it.each([
    ['ftp://8.8.8.8/x', /http and https/],
    ['file:///etc/passwd', /http and https/],
    ['gopher://8.8.8.8/', /http and https/],
    ['not a url', /absolute URL/],
    ['https://user:secret@8.8.8.8/x', /Credentials/],
    ['http://127.0.0.1:3000/x', /127\.0\.0\.1, a loopback/],
    ['http://[::1]/x', /::1, a loopback/],
    ['http://[::ffff:169.254.169.254]/latest/meta-data', /link-local/],
    ['http://169.254.169.254/latest/meta-data', /metadata/],
    ['http://2130706433/', /127\.0\.0\.1/], // 127.0.0.1 as one decimal number
    ['http://0x7f.1/', /127\.0\.0\.1/], // hex and short forms, normalized by the URL parser
    ['http://017700000001/', /127\.0\.0\.1/], // octal
    ['http://0/', /0\.0\.0\.0/],
    ['http://localhost:8080/', /loopback/], // resolved (here from /etc/hosts)
    ['https://no-such-host.invalid/x', /does not resolve/]
  ])('refuses %s', async (url, why) => {
    expect(await refused(url)).toMatch(why)
  })

  it('is https only in production', async () => {
    expect(await refused('http://8.8.8.8/x', { requireHttps: true, allowPrivate: false })).toMatch(/https/)
    expect(await checkWebhookUrl('https://8.8.8.8/x', { requireHttps: true, allowPrivate: false })).toBe('https://8.8.8.8/x')
  })

  it('checks every address a name resolves to', async () => {
    const resolveTo = (...addresses: string[]): ResolveAll => async () => addresses.map(address => ({ address, family: address.includes(':') ? 6 : 4 }))
    expect(await checkWebhookUrl('https://hooks.partner.test/x', { ...policy, resolve: resolveTo('8.8.8.8', '2606:4700:4700::1111') })).toBe('https://hooks.partner.test/x')
    expect(await refused('https://hooks.partner.test/x', { ...policy, resolve: resolveTo('8.8.8.8', '10.0.0.5') })).toMatch(/10\.0\.0\.5, a private/)
    expect(await refused('https://hooks.partner.test/x', { ...policy, resolve: resolveTo('::ffff:192.168.0.1') })).toMatch(/private/)
    expect(await refused('https://hooks.partner.test/x', { ...policy, resolve: resolveTo() })).toMatch(/does not resolve/)
  })
})

describe('through the API and at delivery', () => {
  let app: App
  let receiver: Receiver
  beforeAll(async () => {
    await clearWebhooks()
    app = await createTestApp()
    receiver = await Receiver.start()
  })
  afterAll(async () => {
    await app?.close()
    await receiver?.close()
  })

  it('a subscription to a refused address is 422 WEBHOOK_URL_NOT_ALLOWED, and nothing is stored or audited', async () => {
    const station = await createStation(app.db)
    const user = await createUser(app.db, 'STATION', station.id)
    const token = tokenFor(app, user)
    const count = async (): Promise<number> => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_subscriptions WHERE organization_id = ${station.id}::uuid`.execute(app.db)).rows[0]!.n
    const audits = await countAudit(app)
    for (const url of [receiver.url('/x'), 'http://169.254.169.254/latest', 'http://[fd00:ec2::254]/', 'http://10.1.2.3/hook', 'https://u:p@8.8.8.8/']) {
      const res = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(token), payload: { url, events: ['stock.low'] } })
      const problem = expectProblem(res, 422, 'WEBHOOK_URL_NOT_ALLOWED')
      expect(problem.errors).toEqual([expect.objectContaining({ pointer: '/url' })])
    }
    expect(await count()).toBe(0)
    expect(await countAudit(app)).toBe(audits)
    // a PATCH to a refused address changes nothing either
    const ok = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(token), payload: { url: 'https://8.8.8.8/hook', events: ['stock.low'] } })
    expect(ok.statusCode, ok.body).toBe(201)
    const patched = await app.inject({ method: 'PATCH', url: `/v1/webhooks/${ok.json().id}`, headers: bearer(token), payload: { url: receiver.url('/x') } })
    expectProblem(patched, 422, 'WEBHOOK_URL_NOT_ALLOWED')
    const after = await app.inject({ method: 'GET', url: `/v1/webhooks/${ok.json().id}`, headers: bearer(token) })
    expect(after.json()).toMatchObject({ url: 'https://8.8.8.8/hook', version: 1 })
    await sql`DELETE FROM webhook_subscriptions WHERE organization_id = ${station.id}::uuid`.execute(app.db)
  })

  it('a name that resolved to a public address at creation and to loopback at delivery is refused then (DNS rebinding); allowed, the checked address is connected to with the name as Host', async () => {
    const station = await createStation(app.db)
    const user = await createUser(app.db, 'STATION', station.id)
    const key = webhookSecretKey(app.conf)
    const url = `http://hooks.partner.test:${receiver.port}/rebound`
    const publicAtFirst: ResolveAll = async () => [{ address: '93.184.216.34', family: 4 }]
    const sub = await app.db.transaction().execute(async trx => await createWebhook(trx, user, { url, events: ['stock.low'] }, { key, policy: { requireHttps: false, allowPrivate: false, resolve: publicAtFirst } }))
    await emit(app, [{ type: 'stock.low', organizationIds: [station.id], payload: { stationId: station.id } }])
    await dispatchOutbox(app.db)
    const rows = await sql<{ id: number }>`SELECT id FROM webhook_deliveries WHERE subscription_id = ${sub.id}::uuid`.execute(app.db)
    expect(rows.rows).toHaveLength(1)
    const loopbackNow: ResolveAll = async () => [{ address: '127.0.0.1', family: 4 }]
    const settings = { ...deliverySettings(app.conf), allowPrivate: false }

    const refusedAttempt = await deliver({ db: app.db, key, settings, resolve: loopbackNow }, rows.rows[0]!.id)
    expect(refusedAttempt).toMatchObject({ outcome: 'failed', reason: 'refused_address' })
    expect(receiver.at('/rebound')).toHaveLength(0)
    const recorded = await app.db.selectFrom('webhookDeliveries').selectAll().where('subscriptionId', '=', sub.id).orderBy('id').execute()
    expect(recorded[0]).toMatchObject({ status: 'FAILED', responseStatus: null })
    expect(recorded[0]!.error).toMatch(/127\.0\.0\.1, a loopback/)

    // the same name allowed to reach loopback: the connection goes to the address the check passed, Host is the name
    const next = recorded[1]!
    const ok = await deliver({ db: app.db, key, settings: { ...settings, allowPrivate: true }, resolve: loopbackNow }, next.id)
    expect(ok).toMatchObject({ outcome: 'delivered', status: 204 })
    const [got] = receiver.at('/rebound')
    expect(got!.host).toBe(`hooks.partner.test:${receiver.port}`)
    // the service answers the secret sealed (the routes open it on the way out)
    expect(verifies(openSecret(sub.secret.slice(SEALED_PREFIX.length), key), got!)).toBe(true)
    await sql`DELETE FROM webhook_subscriptions WHERE id = ${sub.id}::uuid`.execute(app.db)
  })
})
