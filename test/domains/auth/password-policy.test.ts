// The password policy (NIST SP 800-63B): length 12–128, not common, not containing the email's
// local part, no composition rules; the common list ships with the code.
import { describe, expect, it } from 'vitest'
import { commonPasswordCount, isCommonPassword, setCommonPasswords } from '../../../src/lib/common-passwords.js'
import { passwordProblems } from '../../../src/lib/password.js'

describe('password policy', () => {
  it('ships a list of thousands of common passwords long enough to pass the length rule', () => {
    expect(commonPasswordCount()).toBeGreaterThan(3000)
    for (const p of ['password1234', 'Password1234', 'iloveyou2024', 'azertyuiop123', 'motdepasse123', '123456789012', 'qwertyuiop123', 'football1234', 'soleil123456', 'p@ssw0rd2024', 'aaaaaaaaaaaa']) {
      expect(isCommonPassword(p), p).toBe(true)
    }
    expect(isCommonPassword('correct horse battery staple')).toBe(false)
  })

  it('accepts long passphrases without composition rules and explains refusals', () => {
    expect(passwordProblems('correct horse battery staple', 'anne@st-anjou.example')).toEqual([])
    expect(passwordProblems('short', 'anne@x.example')).toEqual(['must be at least 12 characters'])
    expect(passwordProblems('x'.repeat(129))).toEqual(['must be at most 128 characters'])
    expect(passwordProblems('anne.martin-secret-phrase', 'anne.martin@x.example')).toEqual(['must not contain the email name'])
    expect(passwordProblems('football1234')).toEqual(['is too common'])
    // length counts characters, not UTF-16 units or bytes
    expect(passwordProblems('🔒'.repeat(12))).toEqual([])
  })

  it('lets an operator add entries to the built-in list', () => {
    setCommonPasswords(['Gestion-Emballages-2026'])
    try {
      expect(isCommonPassword('gestion-emballages-2026')).toBe(true)
      expect(isCommonPassword('password1234')).toBe(true)
    } finally {
      setCommonPasswords([])
    }
  })
})
