// What the outbox keeps of a password reset until the mailer has sent it: the user's id (the mailer
// reads the current address and name when it sends, so nothing personal is copied into the event),
// the expiry, and the token sealed with AES-256-GCM under a key derived from JWT_SECRET. A database
// reader (a replica, a backup, an injection) never sees a usable token; the mailer, which runs
// with the service's configuration, opens it. The sealed token is also removed as soon as it is of
// no more use: at dispatch (a trigger, migration 0006), and when used or expired (the sweep below).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'

export const RESET_EVENT = 'user.password_reset_requested'

export interface ResetDelivery {
  userId: string
  resetId: string
  expiresAt: Date | string | null
  /** base64url(iv ‖ tag ‖ ciphertext); absent once delivered, used or expired */
  sealedToken?: string
}

/** The 256-bit sealing key, derived from the JWT secret (rotating that secret voids undelivered tokens). */
export function resetDeliveryKey (jwtSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', jwtSecret, '', 'gestion-emballages/password-reset-delivery/v1', 32))
}

export function sealResetToken (token: string, key: Buffer): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')
}

/** The raw token for the mailer; throws when the value was not sealed with this key. */
export function openResetToken (sealed: string, key: Buffer): string {
  const raw = Buffer.from(sealed, 'base64url')
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
  decipher.setAuthTag(raw.subarray(12, 28))
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
}

/** Strips the sealed token from reset events whose token was used, superseded or expired. */
export async function purgeResetSecrets (db: Db): Promise<number> {
  const r = await sql`
    UPDATE outbox_events e SET payload = e.payload - 'sealedToken'
    WHERE e.type = ${RESET_EVENT} AND e.payload ? 'sealedToken'
      AND (e.dispatched_at IS NOT NULL
        OR NOT EXISTS (SELECT 1 FROM password_reset_tokens t
          WHERE t.id = (e.payload->>'resetId')::uuid AND t.used_at IS NULL AND t.expires_at > now()))`.execute(db)
  return Number(r.numAffectedRows ?? 0)
}
