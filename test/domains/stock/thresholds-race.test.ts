// A level's thresholds under concurrent writes (PRODUCT.md §6: critical ≤ alert). The ordering is
// held by the database (CHECK stock_levels_thresholds_ordered, migration 0014); the write reads the
// level FOR UPDATE, so each PATCH changes only the thresholds it names on top of the latest stored
// ones (no lost update) and its 422 THRESHOLDS_INVALID is decided on what it then writes. Per
// round, on a level never written: 50 parallel PATCHes, each naming the alert threshold, the
// critical one or both, many of them invalid against some of the states the others leave. Every
// answer is a 200 or a 422 THRESHOLDS_INVALID (never the CHECK's CONSTRAINT_VIOLATED nor a 5xx);
// the successes, ordered by the version they answer, form one chain 1…n in which each PATCH kept
// the threshold it did not name from the previous one; the stored level is the last of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { createTestApp } from '../../helpers/app.js'
import { articles, patch, staff, station, stockUrl } from './helpers.js'

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

const PARALLEL = 50
const ROUNDS = 3

interface Body { alertThreshold?: number, criticalThreshold?: number }
interface Level { alertThreshold: number, criticalThreshold: number, version: number }

/** A small deterministic PRNG (mulberry32). */
function rng (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6D2B79F5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('threshold writes racing on one level', () => {
  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: ${PARALLEL} parallel PATCHes — 200 or 422 THRESHOLDS_INVALID, one chain of versions without a lost update, critical ≤ alert`, async () => {
      const st = await station(app)
      const h = await staff(app)
      const [a] = await articles(app, 1) as [string]
      const url = stockUrl(st.id, `/${a}`)
      const random = rng(7919 * round)
      const pick = (xs: number[]): number => xs[Math.floor(random() * xs.length)] as number
      const bodies: Body[] = Array.from({ length: PARALLEL }, () => {
        const k = random()
        if (k < 0.4) return { alertThreshold: pick([0, 5, 15, 20, 40]) }
        if (k < 0.8) return { criticalThreshold: pick([0, 3, 10, 18, 30]) }
        const alert = pick([5, 20, 40])
        return { alertThreshold: alert, criticalThreshold: pick([0, alert, alert + 1]) }
      })
      const answers = await Promise.all(bodies.map(async (b, i) => await patch(app, i % 2 === 0 ? st.token : h.token, url, b as Record<string, unknown>)))
      const ok: Array<{ body: Body, level: Level }> = []
      answers.forEach((r, i) => {
        if (r.statusCode === 200) ok.push({ body: bodies[i] as Body, level: r.json() as Level })
        else {
          expect(r.statusCode, r.body).toBe(422)
          expect((r.json() as { code: string }).code, r.body).toBe('THRESHOLDS_INVALID')
        }
      })
      expect(ok.length).toBeGreaterThan(0)
      ok.sort((x, y) => x.level.version - y.level.version)
      expect(ok.map(o => o.level.version)).toEqual(Array.from({ length: ok.length }, (_, i) => i + 1))
      let previous = { alertThreshold: 0, criticalThreshold: 0 }
      for (const { body, level } of ok) {
        expect(level.criticalThreshold, `version ${level.version}`).toBeLessThanOrEqual(level.alertThreshold)
        expect({ alertThreshold: level.alertThreshold, criticalThreshold: level.criticalThreshold }, `version ${level.version} after ${JSON.stringify(body)}`).toEqual({ ...previous, ...body })
        previous = { alertThreshold: level.alertThreshold, criticalThreshold: level.criticalThreshold }
      }
      const stored = await app.db.selectFrom('stockLevels').select(['alertThreshold', 'criticalThreshold', 'version', 'quantity'])
        .where('stationId', '=', st.id).where('articleId', '=', a).executeTakeFirstOrThrow()
      expect(stored).toEqual({ ...previous, version: ok.length, quantity: 0 })
    }, 60_000)
  }
})
