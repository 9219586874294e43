// One Idempotency-Key, one effect, on the writes of the stock, transfer and webhook domains that are
// not idempotent by themselves (a second run would move stock again, open a second transfer,
// register a second subscription or retire the secret the first answer handed out). The key is
// honoured by the audit plugin for every audited write (src/plugins/audit.ts: a claim under the
// key's advisory lock, the record written with the COMMIT); this proves each of these routes goes
// through it. Per route, 3 rounds × 50 identical requests at once with one key per round: exactly
// one original answer, every other one its replay (same body) or 409 IDEMPOTENCY_IN_PROGRESS, and
// the effect and the audit event counted once. (Transfer actions and document uploads have theirs
// in test/domains/transfers/concurrency.test.ts and test/domains/documents/documents.test.ts.)
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { bearer, countAudit, createTestApp, expectProblem } from '../helpers/app.js'
import { adjust, articles, staff, station, stockUrl } from '../domains/stock/helpers.js'
import { network, type Network } from '../domains/transfers/fixtures.js'
import { org, subscribe } from '../domains/webhooks/fixtures.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => {
  await sql`DELETE FROM webhook_subscriptions WHERE url LIKE 'https://203.0.114.10/idem-race/%'`.execute(app.db)
  await app.close()
})

const PARALLEL = 50
const ROUNDS = 3

interface Answer { statusCode: number, headers: Record<string, unknown>, body: string }

/** `PARALLEL` identical requests under one new key; checks the answers and returns the original. */
async function race (method: 'POST' | 'PUT', url: string, token: string, payload: object, created: number): Promise<Answer> {
  const key = randomUUID()
  const answers: Answer[] = await Promise.all(Array.from({ length: PARALLEL }, async () =>
    await app.inject({ method, url, headers: { ...bearer(token), 'idempotency-key': key }, payload })))
  const originals = answers.filter(r => r.statusCode === created && r.headers['idempotent-replayed'] === undefined)
  expect(originals.length, answers.map(a => `${a.statusCode} ${a.body.slice(0, 160)}`).join('\n')).toBe(1)
  const original = originals[0] as Answer
  for (const r of answers) {
    if (r === original) continue
    if (r.statusCode === 409) { expectProblem(r, 409, 'IDEMPOTENCY_IN_PROGRESS'); continue }
    expect(r.statusCode, r.body).toBe(created)
    expect(r.headers['idempotent-replayed']).toBe('true')
    expect(r.body).toBe(original.body)
  }
  return original
}

const count = async (text: ReturnType<typeof sql<{ n: number }>>): Promise<number> => Number((await text.execute(app.db)).rows[0]?.n)

describe('one Idempotency-Key, one effect, on the new writes', () => {
  it(`stock adjustments and consumptions: ${ROUNDS} rounds × ${PARALLEL} — one movement and one audit event per key`, async () => {
    const st = await station(app)
    const h = await staff(app)
    const [a] = await articles(app, 1) as [string]
    expect((await adjust(app, h, st.id, [{ articleId: a, delta: 1000 }])).statusCode).toBe(200)
    const movements = async (): Promise<number> => await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM stock_movements WHERE station_id = ${st.id}::uuid`)
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [path, payload, action, delta] of [
        ['/adjustments', { reason: 'breakage', lines: [{ articleId: a, delta: -7 }] }, 'stock.adjust', -7],
        ['/consumptions', { lines: [{ articleId: a, units: 5 }] }, 'stock.consume', -5]
      ] as const) {
        const [m, audits, level] = [await movements(), await countAudit(app, { action }), await app.db.selectFrom('stockLevels').select('quantity').where('stationId', '=', st.id).executeTakeFirstOrThrow()]
        await race('POST', stockUrl(st.id, path), round % 2 === 0 ? st.token : h.token, payload, 200)
        expect(await movements(), `${path} round ${round}`).toBe(m + 1)
        expect(await countAudit(app, { action })).toBe(audits + 1)
        expect((await app.db.selectFrom('stockLevels').select('quantity').where('stationId', '=', st.id).executeTakeFirstOrThrow()).quantity).toBe(level.quantity + delta)
      }
    }
  }, 60_000)

  it(`transfer requests: ${ROUNDS} rounds × ${PARALLEL} — one transfer per key`, async () => {
    const n: Network = await network(app, { articleCount: 1 })
    const transfers = async (): Promise<number> => await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM transfers WHERE requesting_station_id = ${n.req.id}::uuid`)
    for (let round = 1; round <= ROUNDS; round++) {
      const [before, audits] = [await transfers(), await countAudit(app, { action: 'transfer.create' })]
      const original = await race('POST', '/v1/transfers', n.req.token, { sourceStationId: n.src.id, lines: [{ articleId: n.articles[0], units: 3 }] }, 201)
      expect(await transfers()).toBe(before + 1)
      expect(await countAudit(app, { action: 'transfer.create' })).toBe(audits + 1)
      expect(JSON.parse(original.body)).toMatchObject({ status: 'REQUESTED' })
    }
  }, 60_000)

  it(`webhook subscriptions and secret rotations: ${ROUNDS} rounds × ${PARALLEL} — one subscription, one rotation per key (the secret handed out stays the one in force)`, async () => {
    const station = await org(app, 'STATION')
    const subscriptions = async (): Promise<number> => await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_subscriptions WHERE organization_id = ${station.id}::uuid`)
    const sub = await subscribe(app, station, `https://203.0.114.10/idem-race/${station.id}/rotated`, ['stock.low'])
    for (let round = 1; round <= ROUNDS; round++) {
      const before = await subscriptions()
      const created = await race('POST', '/v1/webhooks', station.token, { url: `https://203.0.114.10/idem-race/${station.id}/${round}`, events: ['stock.low'] }, 201)
      expect(await subscriptions()).toBe(before + 1)
      expect(JSON.parse(created.body)).toMatchObject({ secret: expect.stringMatching(/^whsec_/) })

      const audits = await countAudit(app, { action: 'webhook.rotate_secret' })
      const rotated = await race('POST', `/v1/webhooks/${sub.id}/rotate-secret`, station.token, { overlapSeconds: 3600 }, 200)
      expect(await countAudit(app, { action: 'webhook.rotate_secret' })).toBe(audits + 1)
      const view = JSON.parse(rotated.body) as { version: number, secret: string }
      expect(view.version).toBe(1 + round)
      const stored = await app.db.selectFrom('webhookSubscriptions').select('version').where('id', '=', sub.id).executeTakeFirstOrThrow()
      expect(stored.version).toBe(1 + round)
    }
  }, 60_000)
})
