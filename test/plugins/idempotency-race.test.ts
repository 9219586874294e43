// One Idempotency-Key, one effect, whatever the timing: rounds of identical requests fired at once
// with one key per round. Every answer is the original 201, its replay (same body, same ETag,
// Idempotent-Replayed: true) or 409 IDEMPOTENCY_IN_PROGRESS; exactly one row and one audit event
// exist per round. The rounds are many because the race (a claim that reads the stored record in
// a snapshot older than the first request's commit) showed up about once in fifty rounds.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import type { App } from '../../src/lib/route.js'
import { bearer, createTestApp, expectProblem, tokenFor } from '../helpers/app.js'
import { createStation, createUser } from '../helpers/factories.js'
import { idempotencyClaim } from '../../src/plugins/audit.js'
import { addLine, offeredArticle, station, supplier } from '../domains/orders/fixtures.js'

let app: App
let base: string
beforeAll(async () => {
  app = await createTestApp({ DATABASE_POOL_SIZE: 12 })
  base = await app.listen({ host: '127.0.0.1', port: 0 })
})
afterAll(async () => { await app.close() })

interface Answer { statusCode: number, headers: Record<string, unknown>, body: string }

/** Real HTTP (sockets, parsing, the event loop's interleaving): the timing a client produces. */
async function send (method: string, url: string, headers: Record<string, string>, payload: unknown): Promise<Answer> {
  const res = await fetch(base + url, { method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(payload) })
  return { statusCode: res.status, headers: Object.fromEntries(res.headers), body: await res.text() }
}

/** Checks one round's answers; returns the original (non-replayed) answer. */
function checkRound (answers: Answer[], created = 201): Answer {
  const originals = answers.filter(r => r.statusCode === created && r.headers['idempotent-replayed'] === undefined)
  expect(originals.length, answers.map(a => `${a.statusCode} ${a.body.slice(0, 120)}`).join('\n')).toBe(1)
  const original = originals[0] as Answer
  for (const r of answers) {
    if (r === original) continue
    if (r.statusCode === 409) { expectProblem(r, 409, 'IDEMPOTENCY_IN_PROGRESS'); continue }
    expect(r.statusCode, r.body).toBe(created)
    expect(r.headers['idempotent-replayed']).toBe('true')
    expect(r.body).toBe(original.body)
    expect(r.headers.etag).toBe(original.headers.etag)
    expect(String(r.headers['content-type'])).toContain('application/json')
  }
  return original
}

describe('Idempotency-Key under concurrency', () => {
  it('300 rounds of 12 identical contact creations: one contact and one audit event per key', async () => {
    const s = await createStation(app.db)
    const user = await createUser(app.db, 'ADMIN')
    const headers = bearer(tokenFor(app, { role: 'ADMIN', userId: user.userId }))
    const tag = randomUUID().slice(0, 8)
    let inProgress = 0
    let replays = 0
    for (let round = 0; round < 300; round++) {
      const key = `contact-${tag}-${round}`
      const answers = await Promise.all(Array.from({ length: 12 }, async () =>
        await send('POST', `/v1/organizations/${s.id}/contacts`, { ...headers, 'idempotency-key': key }, { fullName: `Race ${tag} ${round}` })))
      checkRound(answers)
      inProgress += answers.filter(a => a.statusCode === 409).length
      replays += answers.filter(a => a.headers['idempotent-replayed'] === 'true').length
    }
    const contacts = await sql<{ n: number }>`SELECT count(*)::int AS n FROM contacts WHERE organization_id = ${s.id} AND full_name LIKE ${`Race ${tag} %`}`.execute(app.db)
    expect(contacts.rows[0]?.n).toBe(300)
    const events = await sql<{ n: number, keys: number }>`SELECT count(*)::int AS n, count(DISTINCT idempotency_key)::int AS keys FROM audit_events WHERE action = 'contact.create' AND idempotency_key LIKE ${`contact-${tag}-%`}`.execute(app.db)
    expect(events.rows[0]).toEqual({ n: 300, keys: 300 })
    // both outcomes of a loser were seen: the test exercises the race, not only the easy cases
    expect(inProgress).toBeGreaterThan(0)
    expect(replays).toBeGreaterThan(0)
  }, 240_000)

  it('100 rounds of 8 identical checkouts: one master order per key, replays keep the ETag and body', async () => {
    const sup = await supplier(app)
    const { articleId } = await offeredArticle(app, sup.id)
    for (let round = 0; round < 100; round++) {
      const st = await station(app)
      const line = await addLine(app, st.token, st.id, { articleId, supplierId: sup.id, packs: 2 })
      expect(line.statusCode, line.body).toBe(201)
      const key = randomUUID()
      const answers = await Promise.all(Array.from({ length: 8 }, async () =>
        await send('POST', `/v1/stations/${st.id}/cart/checkout`, { ...bearer(st.token), 'idempotency-key': key }, {})))
      // a loser may also find the cart already checked out only if it ran without the key's lock:
      // that would be a second execution, so it is not an accepted answer here
      checkRound(answers)
      const orders = await sql<{ n: number }>`SELECT count(*)::int AS n FROM master_orders WHERE station_id = ${st.id}`.execute(app.db)
      expect(orders.rows[0]?.n).toBe(1)
    }
  }, 240_000)

  it('a replay after the record expired runs the request again, exactly once', async () => {
    const s = await createStation(app.db)
    const user = await createUser(app.db, 'ADMIN')
    const headers = { ...bearer(tokenFor(app, { role: 'ADMIN', userId: user.userId })), 'idempotency-key': `expiring-${randomUUID()}` }
    const create = async (): Promise<Answer> => await send('POST', `/v1/organizations/${s.id}/contacts`, headers, { fullName: 'Expiring' })
    expect((await create()).statusCode).toBe(201)
    await sql`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE user_id = ${user.userId}`.execute(app.db)
    checkRound(await Promise.all(Array.from({ length: 6 }, create)))
    const n = await sql<{ n: number }>`SELECT count(*)::int AS n FROM contacts WHERE organization_id = ${s.id}`.execute(app.db)
    expect(n.rows[0]?.n).toBe(2)
  })

  it('a claim whose statement began before the first request committed sees that commit (deterministic)', async () => {
    // The window the looped rounds hit by chance, held open on purpose: B's claim statement starts
    // (and takes its snapshot) while A holds the key and has not committed; A commits during B's
    // pg_sleep; only then does B try the lock. B must see A's record and replay, not run again.
    const user = await createUser(app.db, 'ADMIN')
    const key = `window-${randomUUID()}`
    const claim = idempotencyClaim(user.userId, key)
    await app.db.transaction().execute(async a => {
      const first = await claim.execute(a)
      expect(first.rows[0]).toMatchObject({ locked: true, fingerprint: null })
      await sql`INSERT INTO idempotency_keys (user_id, key, request_fingerprint, method, path, response_status, response_body)
        VALUES (${user.userId}::uuid, ${key}, 'fp', 'POST', '/x', 201, '{}')`.execute(a)
      const b = app.db.transaction().execute(async t => await sql<{ locked: boolean, fingerprint: string | null }>`
        SELECT c.* FROM (SELECT pg_sleep(0.4)::text AS slept OFFSET 0) AS w,
        LATERAL (SELECT * FROM (${claim}) AS q WHERE w.slept IS NOT DISTINCT FROM w.slept) AS c`.execute(t))
      await new Promise(resolve => setTimeout(resolve, 150))
      return { b } // not awaited here: A commits while B sleeps
    }).then(async ({ b }) => {
      const row = (await b).rows[0]
      expect(row).toMatchObject({ locked: true, fingerprint: 'fp' })
    })
  })
})
