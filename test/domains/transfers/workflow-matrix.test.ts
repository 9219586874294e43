// Invariant 6 for transfers (PRODUCT.md §6, §2.1): only the transitions of the diagram succeed, each
// only for its actor. Generated: every actor × every action × every status, through HTTP, with the
// expected answer computed from a table written from the spec (not from the implementation's rules):
//   2xx            the actor's step from the right status, and the transfer moves to the target
//   403 FORBIDDEN  suppliers always; stations on platform steps (RBAC)
//   404            a station not involved in the transfer
//   403 NOT_ALLOWED_FOR_PARTY  the involved station on the other side's step
//   409 INVALID_TRANSITION     the right actor, the wrong status (currentStatus in the problem)
// A refused action changes nothing: same status and version, no history row, no audit event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { countAudit, createTestApp, expectProblem } from '../../helpers/app.js'
import { act, bodyFor, get, network, PATH_TO, transferIn, type Network, type Party, type TransferJson } from './fixtures.js'

let app: App
let n: Network
beforeAll(async () => {
  app = await createTestApp()
  n = await network(app, { articleCount: 2, stock: 1_000_000 })
})
afterAll(async () => { await app.close() })

const STATUSES = ['REQUESTED', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'IN_PREPARATION', 'SHIPPED', 'RECEIVED', 'CLOSED', 'SETTLED', 'ARCHIVED'] as const

// The §6 diagram, transcribed.
const SPEC: Record<string, { from: string, to: string, by: 'source' | 'requesting' | 'platform' }> = {
  confirm: { from: 'REQUESTED', to: 'CONFIRMED', by: 'source' },
  reject: { from: 'REQUESTED', to: 'REJECTED', by: 'source' },
  cancel: { from: 'REQUESTED', to: 'CANCELLED', by: 'requesting' },
  prepare: { from: 'CONFIRMED', to: 'IN_PREPARATION', by: 'platform' },
  ship: { from: 'IN_PREPARATION', to: 'SHIPPED', by: 'source' },
  receive: { from: 'SHIPPED', to: 'RECEIVED', by: 'requesting' },
  close: { from: 'RECEIVED', to: 'CLOSED', by: 'requesting' },
  settle: { from: 'CLOSED', to: 'SETTLED', by: 'platform' },
  archive: { from: 'SETTLED', to: 'ARCHIVED', by: 'platform' }
}

type ActorKey = 'requesting' | 'source' | 'other' | 'ADMIN' | 'MANAGER' | 'HANDLER' | 'SUPPLIER'
const ACTORS: ActorKey[] = ['requesting', 'source', 'other', 'ADMIN', 'MANAGER', 'HANDLER', 'SUPPLIER']
const partyOf = (a: ActorKey): Party => ({ requesting: n.req, source: n.src, other: n.other, ADMIN: n.admin, MANAGER: n.manager, HANDLER: n.handler, SUPPLIER: n.supplier })[a]
const isStation = (a: ActorKey): boolean => a === 'requesting' || a === 'source' || a === 'other'

type Expected = { status: 200, to: string } | { status: 403, code: 'FORBIDDEN' | 'NOT_ALLOWED_FOR_PARTY' } | { status: 404 } | { status: 409, code: 'INVALID_TRANSITION' }

function expected (actor: ActorKey, verb: string, state: string): Expected {
  const rule = SPEC[verb] as { from: string, to: string, by: string }
  if (actor === 'SUPPLIER') return { status: 403, code: 'FORBIDDEN' }
  if (isStation(actor) && rule.by === 'platform') return { status: 403, code: 'FORBIDDEN' }
  if (actor === 'other') return { status: 404 }
  if (isStation(actor) && actor !== rule.by) return { status: 403, code: 'NOT_ALLOWED_FOR_PARTY' }
  if (state !== rule.from) return { status: 409, code: 'INVALID_TRANSITION' }
  return { status: 200, to: rule.to }
}

/** Audit events of this action on this transfer. */
async function auditsOf (action: string, transferId: string): Promise<number> {
  const r = await app.db.selectFrom('auditEvents').select(eb => eb.fn.countAll<number>().as('n'))
    .where('action', '=', action).where('entityId', '=', transferId).executeTakeFirstOrThrow()
  return Number(r.n)
}

async function snapshot (id: string): Promise<{ status: string, version: number, events: number, lines: unknown[] }> {
  const t = await app.db.selectFrom('transfers').select(['status', 'version']).where('id', '=', id).executeTakeFirstOrThrow()
  const e = await app.db.selectFrom('transferEvents').select(eb => eb.fn.countAll<number>().as('n')).where('transferId', '=', id).executeTakeFirstOrThrow()
  const lines = await app.db.selectFrom('transferLines').selectAll().where('transferId', '=', id).orderBy('id').execute()
  return { ...t, events: Number(e.n), lines }
}

describe('transfer workflow matrix', () => {
  it('every actor × action × status answers as the spec says, and a refusal changes nothing', async () => {
    // one transfer per status for the refusals (they change nothing, so they share it)
    const shared = new Map<string, TransferJson>()
    for (const s of STATUSES) shared.set(s, await transferIn(app, n, s))
    const failures: string[] = []
    let cells = 0
    let successes = 0
    for (const verb of Object.keys(SPEC)) {
      for (const state of STATUSES) {
        for (const actor of ACTORS) {
          const exp = expected(actor, verb, state)
          // a success needs its own transfer in `state`; a refusal uses the shared one
          const t = exp.status === 200 ? await transferIn(app, n, state) : shared.get(state) as TransferJson
          const before = await snapshot(t.id)
          const audits = await countAudit(app)
          const ownAudits = await auditsOf(`transfer.${verb}`, t.id)
          const res = await act(app, partyOf(actor).token, t.id, verb, bodyFor(verb, t))
          cells++
          const what = `${actor} ${verb} on ${state} → ${res.statusCode}`
          if (res.statusCode !== exp.status) { failures.push(`${what}, expected ${exp.status}: ${res.body.slice(0, 200)}`); continue }
          if (exp.status === 200) {
            successes++
            const body = res.json() as TransferJson
            if (body.status !== exp.to) failures.push(`${what}: status ${body.status}, expected ${exp.to}`)
            if (body.version !== t.version + 1) failures.push(`${what}: version ${body.version}`)
            const after = await snapshot(t.id)
            if (after.events !== before.events + 1) failures.push(`${what}: ${after.events - before.events} history rows`)
            // exactly one audit event of this action on this transfer, and nothing else audited
            const ownAfter = await auditsOf(`transfer.${verb}`, t.id)
            if (ownAfter !== ownAudits + 1) failures.push(`${what}: ${ownAfter - ownAudits} transfer.${verb} audit events`)
            if (await countAudit(app) !== audits + 1) failures.push(`${what}: ${await countAudit(app) - audits} audit events in all`)
            continue
          }
          const problem = 'code' in exp ? expectProblem(res, exp.status, exp.code) : expectProblem(res, exp.status)
          if (exp.status === 409 && problem.currentStatus !== state) failures.push(`${what}: currentStatus ${String(problem.currentStatus)}`)
          expect(await snapshot(t.id), `${what} changed the transfer`).toEqual(before)
          if (await countAudit(app) !== audits) failures.push(`${what}: wrote an audit event`)
        }
      }
    }
    expect(failures).toEqual([])
    expect(cells).toBe(Object.keys(SPEC).length * STATUSES.length * ACTORS.length)
    // each verb leaves one status, for the 3 staff roles, plus the right station on a station step
    expect(successes).toBe(Object.values(SPEC).reduce((sum, r) => sum + (r.by === 'platform' ? 3 : 4), 0))
  }, 240_000)

  it('reads: involved stations and staff 200, the uninvolved station 404, suppliers 403 — in every status', async () => {
    for (const state of STATUSES) {
      const t = await transferIn(app, n, state)
      for (const actor of ACTORS) {
        for (const url of [`/v1/transfers/${t.id}`, `/v1/transfers/${t.id}/events`]) {
          const res = await get(app, partyOf(actor).token, url)
          if (actor === 'SUPPLIER') expectProblem(res, 403, 'FORBIDDEN')
          else if (actor === 'other') expectProblem(res, 404, 'NOT_FOUND')
          else expect(res.statusCode, `${actor} ${url}`).toBe(200)
        }
      }
      // the history tells the whole path
      const events = (await get(app, n.req.token, `/v1/transfers/${t.id}/events`)).json() as { items: Array<{ fromStatus: string | null, toStatus: string }> }
      expect(events.items.map(e => e.toStatus)).toEqual(['REQUESTED', ...(PATH_TO[state] ?? []).map(v => SPEC[v]?.to)])
      expect(events.items[0]?.fromStatus).toBeNull()
    }
  }, 60_000)
})
