// Unknown emails cost what a wrong password costs: the sign-in runs one argon2 verification
// against a dummy hash. Proven structurally (the verification is called, with a real argon2 hash
// of today's parameters) and by a lower bound on the time taken; the ±20 % timing comparison of
// QUALITY.md belongs to `npm run bench`, since timing assertions in `npm test` flake on shared machines.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import { createTestApp, expectProblem } from '../../helpers/app.js'
import { createUser } from '../../helpers/factories.js'
import { login } from './auth-helpers.js'

const calls = vi.hoisted(() => ({ verify: [] as string[] }))
vi.mock('../../../src/lib/password.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/lib/password.js')>()
  return {
    ...real,
    verifyPassword: async (hash: string, password: string) => {
      calls.verify.push(hash)
      return await real.verifyPassword(hash, password)
    }
  }
})

const { ARGON2_OPTIONS, hashPassword, needsRehash, verifyPassword } = await import('../../../src/lib/password.js')

let app: App
beforeAll(async () => { app = await createTestApp() })
afterAll(async () => { await app.close() })

describe('unknown email', () => {
  it('runs one argon2 verification against a current-parameter dummy hash, like a wrong password', async () => {
    const u = await createUser(app.db, 'HANDLER')
    calls.verify.length = 0
    expectProblem(await login(app, u.email, 'wrong password here'), 401, 'INVALID_CREDENTIALS')
    expect(calls.verify).toHaveLength(1)
    calls.verify.length = 0
    expectProblem(await login(app, 'unknown-person@test.example', 'wrong password here'), 401, 'INVALID_CREDENTIALS')
    expect(calls.verify).toHaveLength(1)
    const dummy = calls.verify[0] ?? ''
    expect(dummy).toMatch(new RegExp(`^\\$argon2id\\$v=19\\$m=${ARGON2_OPTIONS.memoryCost},t=${ARGON2_OPTIONS.timeCost},p=${ARGON2_OPTIONS.parallelism}\\$`))
    expect(needsRehash(dummy)).toBe(false)
  })

  it('takes at least about one argon2 verification (a loose lower bound, not a comparison)', async () => {
    const hash = await hashPassword('some reference password')
    const verifies: number[] = []
    const logins: number[] = []
    // interleaved, and minimum against minimum, so that load from other test workers hits both sides
    for (let i = 0; i < 5; i++) {
      let t0 = performance.now()
      await verifyPassword(hash, 'another password')
      verifies.push(performance.now() - t0)
      t0 = performance.now()
      await login(app, `still-unknown-${i}@test.example`, 'another password')
      logins.push(performance.now() - t0)
    }
    // without the dummy verification the request costs a few milliseconds, far below half an argon2 run
    expect(Math.min(...logins)).toBeGreaterThanOrEqual(Math.min(...verifies) * 0.5)
  })
})
