import { describe, expect, it } from 'vitest'
import { hashPassword, needsRehash, passwordProblems, verifyPassword } from '../../src/lib/password.js'

describe('passwords', () => {
  it('hash with argon2id OWASP parameters and verify', async () => {
    const hash = await hashPassword('a long enough passphrase')
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    expect(await verifyPassword(hash, 'a long enough passphrase')).toBe(true)
    expect(await verifyPassword(hash, 'another passphrase')).toBe(false)
    expect(await verifyPassword('not-a-hash', 'x')).toBe(false)
    expect(needsRehash(hash)).toBe(false)
  })

  it('queue concurrent hashing behind a bounded number of slots and shed the excess', async () => {
    const results = await Promise.allSettled(Array.from({ length: 80 }, async () => await verifyPassword('not-a-hash', 'x')))
    const shed = results.filter(r => r.status === 'rejected')
    expect(results.filter(r => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(64)
    for (const r of shed) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 })
    // the slots are all released afterwards
    expect(await verifyPassword('not-a-hash', 'x')).toBe(false)
  })

  it('apply the policy: length, common passwords, the email name', () => {
    expect(passwordProblems('short')).toContain('must be at least 12 characters')
    expect(passwordProblems('x'.repeat(129))).toContain('must be at most 128 characters')
    expect(passwordProblems('password1234')).toContain('is too common')
    expect(passwordProblems('anne.martin-secret-words', 'anne.martin@st-anjou.example')).toContain('must not contain the email name')
    expect(passwordProblems('correct horse battery staple', 'anne@x.example')).toEqual([])
  })
})
