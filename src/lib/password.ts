// Password hashing (argon2id, OWASP parameters) and the password policy (NIST SP 800-63B: length
// and a common-password list, no composition rules).
import argon2 from 'argon2'
import { AppError } from './problems.js'
import { isCommonPassword } from './common-passwords.js'

export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

export async function hashPassword (password: string): Promise<string> {
  return await argon2.hash(password, ARGON2_OPTIONS)
}

export async function verifyPassword (hash: string, password: string): Promise<boolean> {
  try { return await argon2.verify(hash, password) } catch { return false }
}

/** True when a stored hash was made with other parameters than today's (rehash on login). */
export function needsRehash (hash: string): boolean {
  return argon2.needsRehash(hash, ARGON2_OPTIONS)
}

/** Returns the reasons a password is refused (empty when acceptable). */
export function passwordProblems (password: string, email?: string): string[] {
  const problems: string[] = []
  const length = [...password].length
  if (length < 12) problems.push('must be at least 12 characters')
  if (length > 128) problems.push('must be at most 128 characters')
  if (isCommonPassword(password)) problems.push('is too common')
  const local = email?.split('@')[0]?.toLowerCase()
  if (local !== undefined && local.length >= 3 && password.toLowerCase().includes(local)) problems.push('must not contain the email name')
  return problems
}

export function assertPasswordPolicy (password: string, email?: string, pointer = '/password'): void {
  const problems = passwordProblems(password, email)
  if (problems.length > 0) {
    throw new AppError('WEAK_PASSWORD', `Password ${problems.join(', ')}`, { errors: problems.map(p => ({ pointer, code: 'WEAK_PASSWORD', detail: `password ${p}` })) })
  }
}
