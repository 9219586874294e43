// Password hashing (argon2id, OWASP parameters) and the password policy (NIST SP 800-63B: length
// and a common-password list, no composition rules).
//
// Hashing is deliberately expensive (≈ 19 MiB and tens of milliseconds of CPU each), so a login
// flood could take every core from the rest of the API. At most one hash per spare core runs at
// a time; a bounded queue waits behind them and anything beyond it is shed with 503 + Retry-After.
import { availableParallelism } from 'node:os'
import argon2 from 'argon2'
import { AppError } from './problems.js'
import { isCommonPassword } from './common-passwords.js'

export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

const MAX_CONCURRENT = Math.max(1, availableParallelism() - 1)
const MAX_QUEUED = 64
let running = 0
const queue: Array<() => void> = []

async function withHashSlot<T> (work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) {
    if (queue.length >= MAX_QUEUED) throw new AppError('SERVICE_UNAVAILABLE', 'Too many sign-ins at once; retry shortly', { retryAfterSeconds: 1 })
    await new Promise<void>(resolve => queue.push(resolve))
  } else {
    running++
  }
  try {
    return await work()
  } finally {
    const next = queue.shift()
    if (next !== undefined) next() // hand the slot over without releasing it
    else running--
  }
}

export async function hashPassword (password: string): Promise<string> {
  return await withHashSlot(async () => await argon2.hash(password, ARGON2_OPTIONS))
}

export async function verifyPassword (hash: string, password: string): Promise<boolean> {
  return await withHashSlot(async () => {
    try { return await argon2.verify(hash, password) } catch { return false }
  })
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
