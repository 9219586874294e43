// Unknown emails cost what a wrong password costs: the sign-in runs one argon2 verification
// against a dummy hash. Proven structurally (the verification is called, with a real argon2 hash
// of today's parameters); timings are measured by `npm run bench`, never asserted in `npm test`.
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

const { ARGON2_OPTIONS, needsRehash } = await import('../../../src/lib/password.js')

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
})
