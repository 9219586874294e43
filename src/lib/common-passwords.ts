// A small built-in list so the policy works out of the box; the identity domain replaces it with
// a few thousand entries shipped in db/seed/common-passwords.txt.
const BASE = ['password', 'password123', 'password1234', '123456789012', 'qwertyuiopas', 'azertyuiop12', 'motdepasse12', 'iloveyou1234', 'letmein12345', 'welcome12345', 'changeme1234', 'administrator', 'passwordpassword', '111111111111', '000000000000', 'abcdefghijkl', 'qwerty123456', 'azerty123456', '1234567890ab', 'trustno1trustno1']

let list: Set<string> = new Set(BASE)

export function setCommonPasswords (words: Iterable<string>): void {
  list = new Set([...BASE, ...[...words].map(w => w.toLowerCase())])
}

export function isCommonPassword (password: string): boolean {
  return list.has(password.toLowerCase())
}
