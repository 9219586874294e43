// The keys of the audit hash chain. Each link is an HMAC-SHA256 computed by the service with a key
// the database never sees, so whoever can write the tables (the database owner, a restored dump)
// cannot compute a link itself (re-queuing events for the service's sealer to re-link is refused by
// the sealer's memory of its head, and caught by an anchored verify). Seals record the id of the key that made them: a
// rotation starts a new segment whose first link, keyed by the new key, is chained to the last
// hash of the old one. Keys are ranked newest first; a chain may only move to newer keys.
import { createHmac } from 'node:crypto'

export interface ChainKey { readonly id: string, readonly secret: string }

export interface ChainKeys {
  readonly current: ChainKey
  /** retired keys still needed to verify older segments, newest first */
  readonly previous: readonly ChainKey[]
}

/** Used only when the development JWT secret is (same rule: never outside development setups). */
export const DEV_CHAIN_KEY: ChainKey = Object.freeze({ id: 'dev', secret: 'dev-only-audit-chain-key-change-me-0123456789' })

const KEY_ID = /^[A-Za-z0-9._-]{1,32}$/
const MIN_SECRET = 32

export interface ChainKeySettings {
  AUDIT_CHAIN_KEY?: string
  AUDIT_CHAIN_KEY_ID?: string
  AUDIT_CHAIN_PREVIOUS_KEYS?: string
}

/**
 * The configured chain keys, or the list of problems (`VARIABLE: message`) that refuse the boot.
 * `devDefaultAllowed`: the development key may stand in for a missing AUDIT_CHAIN_KEY.
 */
export function resolveChainKeys (env: ChainKeySettings, devDefaultAllowed: boolean): ChainKeys | { errors: string[] } {
  const errors: string[] = []
  let current: ChainKey
  if (env.AUDIT_CHAIN_KEY === undefined || env.AUDIT_CHAIN_KEY === '') {
    if (!devDefaultAllowed) errors.push(`AUDIT_CHAIN_KEY: must be set to at least ${MIN_SECRET} characters (the development key is only used with the development JWT secret)`)
    current = DEV_CHAIN_KEY
  } else {
    const id = env.AUDIT_CHAIN_KEY_ID ?? 'k1'
    if (env.AUDIT_CHAIN_KEY.length < MIN_SECRET) errors.push(`AUDIT_CHAIN_KEY: must be at least ${MIN_SECRET} characters`)
    if (env.AUDIT_CHAIN_KEY === DEV_CHAIN_KEY.secret) errors.push('AUDIT_CHAIN_KEY: the published development key cannot be configured')
    if (!KEY_ID.test(id) || id === DEV_CHAIN_KEY.id) errors.push('AUDIT_CHAIN_KEY_ID: 1–32 letters, digits, ".", "_" or "-", not "dev"')
    current = { id, secret: env.AUDIT_CHAIN_KEY }
  }
  const previous: ChainKey[] = []
  const seen = new Set([current.id])
  for (const entry of (env.AUDIT_CHAIN_PREVIOUS_KEYS ?? '').split(',').map(s => s.trim()).filter(s => s !== '')) {
    const colon = entry.indexOf(':')
    const id = colon < 0 ? '' : entry.slice(0, colon)
    const secret = colon < 0 ? '' : entry.slice(colon + 1)
    if (!KEY_ID.test(id) || secret.length < MIN_SECRET) {
      errors.push(`AUDIT_CHAIN_PREVIOUS_KEYS: each entry is id:secret (id 1–32 of [A-Za-z0-9._-], secret at least ${MIN_SECRET} characters), newest first`)
      continue
    }
    if (seen.has(id)) { errors.push(`AUDIT_CHAIN_PREVIOUS_KEYS: key id "${id}" appears twice`); continue }
    seen.add(id)
    previous.push({ id, secret })
  }
  if (errors.length > 0) return { errors }
  return Object.freeze({ current: Object.freeze(current), previous: Object.freeze(previous) })
}

/** 0 for the current key, 1 for the newest retired one…; undefined for a key this instance does not know. */
export function keyRank (keys: ChainKeys, id: string): number | undefined {
  if (id === keys.current.id) return 0
  const i = keys.previous.findIndex(k => k.id === id)
  return i < 0 ? undefined : i + 1
}

export function keySecret (keys: ChainKeys, id: string): string | undefined {
  if (id === keys.current.id) return keys.current.secret
  return keys.previous.find(k => k.id === id)?.secret
}

export function hmacHex (secret: string, ...parts: string[]): string {
  const h = createHmac('sha256', secret)
  for (const p of parts) h.update(p).update('\n')
  return h.digest('hex')
}
