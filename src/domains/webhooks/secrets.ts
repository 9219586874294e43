// Webhook signing secrets and signatures (Standard Webhooks, https://www.standardwebhooks.com).
//
// A secret is `whsec_` + base64 of 32 random bytes. It is shown once (at creation and at each
// rotation) and stored only sealed: AES-256-GCM under WEBHOOK_SECRET_KEY, or, when that is not
// set, a key derived from JWT_SECRET with HKDF (as the password-reset tokens are sealed; rotating
// JWT_SECRET then voids the webhook secrets, which is why production should set its own key).
// A database reader — a replica, a backup, an injection — never holds a usable secret.
//
// Each delivery is signed over `${webhook-id}.${webhook-timestamp}.${body}` with HMAC-SHA256,
// `webhook-signature: v1,<base64>`; during a rotation's overlap both secrets sign, space-separated,
// and a receiver accepts the message when any signature matches one of its secrets.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import type { Config } from '../../config.js'

export const SECRET_PREFIX = 'whsec_'
/** Marks a sealed secret inside a response body (see webhooks.routes.ts: revealSecrets). */
export const SEALED_PREFIX = 'sealed.'

/** The 256-bit sealing key. */
export function webhookSecretKey (config: Pick<Config, 'WEBHOOK_SECRET_KEY' | 'jwtSecret'>): Buffer {
  const ikm = config.WEBHOOK_SECRET_KEY ?? config.jwtSecret
  return Buffer.from(hkdfSync('sha256', ikm, '', 'gestion-emballages/webhook-secrets/v1', 32))
}

export function generateSecret (): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64')
}

export function sealSecret (secret: string, key: Buffer): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')
}

/** The secret; throws when it was not sealed with this key (the key changed). */
export function openSecret (sealed: string, key: Buffer): string {
  const raw = Buffer.from(sealed, 'base64url')
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
  decipher.setAuthTag(raw.subarray(12, 28))
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
}

/** `v1,<base64 HMAC-SHA256>` of one message under one `whsec_` secret. */
export function signature (secret: string, msgId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64')
  return 'v1,' + createHmac('sha256', key).update(`${msgId}.${timestampSeconds}.${body}`).digest('base64')
}

/** The webhook-signature header: one signature per live secret, space-separated. */
export function signatureHeader (secrets: readonly string[], msgId: string, timestampSeconds: number, body: string): string {
  return secrets.map(s => signature(s, msgId, timestampSeconds, body)).join(' ')
}
