// The common-password list of the password policy (NIST SP 800-63B: refuse passwords known to be
// common). The list ships as a TypeScript module so the compiled build carries it without any file
// copying; it is parsed once at import into a Set (about 11 000 entries, ~1 MB of heap).
import { COMMON_PASSWORDS_TEXT } from './common-passwords-data.js'

const BASE = ['password', 'password123', 'password1234', '123456789012', 'qwertyuiopas', 'azertyuiop12', 'motdepasse12', 'iloveyou1234', 'letmein12345', 'welcome12345', 'changeme1234', 'administrator', 'passwordpassword', '111111111111', '000000000000', 'abcdefghijkl', 'qwerty123456', 'azerty123456', '1234567890ab', 'trustno1trustno1']
const BUILT_IN: readonly string[] = [...BASE, ...COMMON_PASSWORDS_TEXT.split('\n')]

let list: Set<string> = new Set(BUILT_IN)

/** Adds entries (e.g. an operator's own list) to the built-in ones. */
export function setCommonPasswords (words: Iterable<string>): void {
  list = new Set([...BUILT_IN, ...[...words].map(w => w.toLowerCase())])
}

export function isCommonPassword (password: string): boolean {
  return list.has(password.toLowerCase())
}

export function commonPasswordCount (): number {
  return list.size
}
