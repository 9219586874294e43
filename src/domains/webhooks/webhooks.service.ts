// Webhook subscriptions (PRODUCT.md §2.1 "webhooks · manage": ADMIN and MANAGER for any
// organization, a station or supplier user for its own; HANDLER never — RBAC). A subscription out
// of the caller's scope is a 404. Creating one for another organization than one's own is a 403
// for stations and suppliers (whatever that organization is: nothing about it is revealed).
//
// The secret is generated here, sealed at once (secrets.ts) and returned sealed (`sealed.…`) in
// the answer's `secret` field: the routes open it on the way out, so the plaintext is never
// written anywhere — not in the table, the audit trail or the idempotency record that an
// Idempotency-Key replays from (a replay reveals the same secret again).
import { sql } from 'kysely'
import type { Db } from '../../db/index.js'
import { decodeCursor, page } from '../../lib/cursor.js'
import { uuidv7 } from '../../lib/ids.js'
import type { Actor } from '../../lib/permissions.js'
import { AppError, notFound, problem } from '../../lib/problems.js'
import { generateSecret, SEALED_PREFIX, sealSecret } from './secrets.js'
import { checkWebhookUrl, type UrlPolicy } from './url-policy.js'
import type { CreateWebhookInput, ListWebhooksInput, RotateSecretInput, UpdateWebhookInput, WebhookView, WebhookWithSecretView } from './webhooks.schemas.js'

/** Subscriptions per organization: each event fans out to every matching one. */
export const MAX_SUBSCRIPTIONS_PER_ORGANIZATION = 25

export interface WebhookContext {
  policy: UrlPolicy
  key: Buffer
}

const isPlatform = (actor: Actor): boolean => actor.organizationKind === 'PLATFORM'

const COLUMNS = ['id', 'organizationId', 'url', 'description', 'events', 'isActive', 'failingSince', 'disabledAt', 'disabledReason',
  'previousSecretExpiresAt', 'createdBy', 'createdAt', 'updatedAt', 'version'] as const

function scoped (db: Db, actor: Actor) {
  const q = db.selectFrom('webhookSubscriptions').select(COLUMNS)
  return isPlatform(actor) ? q : q.where('organizationId', '=', actor.organizationId)
}

/** A subscription in the caller's scope, or 404. */
export async function getWebhook (db: Db, actor: Actor, id: string, lock = false): Promise<WebhookView> {
  let q = scoped(db, actor).where('id', '=', id)
  if (lock) q = q.forUpdate()
  const row = await q.executeTakeFirst()
  if (row === undefined) throw notFound('Webhook')
  return row
}

export async function listWebhooks (db: Db, actor: Actor, input: ListWebhooksInput): Promise<{ items: WebhookView[], nextCursor: string | null }> {
  const limit = input.limit ?? 50
  let q = scoped(db, actor)
  if (input.organizationId !== undefined) q = q.where('organizationId', '=', input.organizationId)
  if (input.active !== undefined) q = q.where('isActive', '=', input.active)
  if (input.cursor !== undefined) {
    const [at, id] = decodeCursor(input.cursor, 2)
    if (typeof at !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(at)) || !/^[0-9a-f-]{36}$/.test(id)) throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
    q = q.where(eb => eb(eb.refTuple('createdAt', 'id'), '<', eb.tuple(new Date(at), id)))
  }
  const rows = await q.orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(limit + 1).execute()
  return page(rows, limit, r => [new Date(r.createdAt).toISOString(), r.id])
}

/** The organization a new subscription belongs to: staff choose (default: the platform), others their own. */
async function ownerOf (db: Db, actor: Actor, requested: string | undefined): Promise<string> {
  if (!isPlatform(actor)) {
    if (requested !== undefined && requested !== actor.organizationId) throw new AppError('FORBIDDEN', 'A station or supplier manages the webhooks of its own organization only')
    return actor.organizationId
  }
  if (requested === undefined) return actor.organizationId
  const org = await db.selectFrom('organizations').select('id').where('id', '=', requested).executeTakeFirst()
  if (org === undefined) throw new AppError('REFERENCE_NOT_FOUND', 'The organization does not exist', { errors: [{ pointer: '/organizationId', code: 'REFERENCE_NOT_FOUND', detail: 'no such organization' }] })
  return requested
}

export async function createWebhook (db: Db, actor: Actor, input: CreateWebhookInput, ctx: WebhookContext): Promise<WebhookWithSecretView> {
  const organizationId = await ownerOf(db, actor, input.organizationId)
  const url = await checkWebhookUrl(input.url, ctx.policy)
  // the count and the insert under one lock per organization (no other mutation takes it)
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`webhooks:${organizationId}`}, 0))`.execute(db)
  const count = await db.selectFrom('webhookSubscriptions').select(eb => eb.fn.countAll<number>().as('n')).where('organizationId', '=', organizationId).executeTakeFirstOrThrow()
  if (Number(count.n) >= MAX_SUBSCRIPTIONS_PER_ORGANIZATION) throw new AppError('BUSINESS_RULE_VIOLATED', `An organization has at most ${MAX_SUBSCRIPTIONS_PER_ORGANIZATION} webhook subscriptions`)
  const sealed = sealSecret(generateSecret(), ctx.key)
  const row = await db.insertInto('webhookSubscriptions').values({
    id: uuidv7(),
    organizationId,
    url,
    description: input.description ?? null,
    events: input.events,
    secretSealed: sealed,
    createdBy: actor.userId
  }).returning(COLUMNS).executeTakeFirstOrThrow()
  return { ...row, secret: SEALED_PREFIX + sealed }
}

export async function updateWebhook (db: Db, actor: Actor, id: string, input: UpdateWebhookInput, ctx: WebhookContext, expectedVersion?: number): Promise<WebhookView> {
  // in scope (404) first; the name is resolved before the row is locked (a slow resolver holds no lock)
  if (input.url !== undefined) await getWebhook(db, actor, id)
  const url = input.url === undefined ? undefined : await checkWebhookUrl(input.url, ctx.policy)
  const current = await getWebhook(db, actor, id, true)
  if (expectedVersion !== undefined && expectedVersion !== current.version) throw problem('PRECONDITION_FAILED', `If-Match "${expectedVersion}" does not match the current ETag "${current.version}"`)
  const resume = input.isActive === true && !current.isActive
  return await db.updateTable('webhookSubscriptions').set(eb => ({
    ...(url !== undefined ? { url } : {}),
    ...(input.events !== undefined ? { events: input.events } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.isActive !== undefined ? { isActive: input.isActive } : {}),
    // resuming starts afresh: the 24 h of failures count again from the next failure
    ...(resume ? { failingSince: null, disabledAt: null, disabledReason: null } : {}),
    version: eb('version', '+', 1),
    updatedAt: new Date()
  })).where('id', '=', id).returning(COLUMNS).executeTakeFirstOrThrow()
}

export async function deleteWebhook (db: Db, actor: Actor, id: string, expectedVersion?: number): Promise<void> {
  const current = await getWebhook(db, actor, id, true)
  if (expectedVersion !== undefined && expectedVersion !== current.version) throw problem('PRECONDITION_FAILED', `If-Match "${expectedVersion}" does not match the current ETag "${current.version}"`)
  // its deliveries go with it; jobs still queued find nothing and end
  await db.deleteFrom('webhookSubscriptions').where('id', '=', id).execute()
}

/**
 * A new secret; the current one becomes the previous one and keeps signing (next to the new one)
 * for `overlapSeconds`, so receivers can switch without losing a message.
 */
export async function rotateWebhookSecret (db: Db, actor: Actor, id: string, input: RotateSecretInput, ctx: WebhookContext, expectedVersion?: number): Promise<WebhookWithSecretView> {
  const current = await getWebhook(db, actor, id, true)
  if (expectedVersion !== undefined && expectedVersion !== current.version) throw problem('PRECONDITION_FAILED', `If-Match "${expectedVersion}" does not match the current ETag "${current.version}"`)
  const overlap = input.overlapSeconds ?? 86_400
  const sealed = sealSecret(generateSecret(), ctx.key)
  const row = await db.updateTable('webhookSubscriptions').set(eb => ({
    previousSecretSealed: overlap > 0 ? eb.ref('secretSealed') : null,
    previousSecretExpiresAt: overlap > 0 ? sql<Date>`now() + make_interval(secs => ${overlap})` : null,
    secretSealed: sealed,
    version: eb('version', '+', 1),
    updatedAt: new Date()
  })).where('id', '=', id).returning(COLUMNS).executeTakeFirstOrThrow()
  return { ...row, secret: SEALED_PREFIX + sealed }
}
