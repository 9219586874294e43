// Contacts of stations and suppliers (PRODUCT.md §2). Staff reach any; station and supplier users
// only their own organization's (another one is a 404). At most one primary contact per
// organization: the database holds it, and every write locks the organization row first, so
// "make this one primary" demotes the previous one atomically even under parallel requests.
import type { Db } from '../../db/index.js'
import { page } from '../../lib/cursor.js'
import type { Actor } from '../../lib/permissions.js'
import { notFound } from '../../lib/problems.js'
import type { ContactT, CreateContactInput, UpdateContactInput } from './contacts.schemas.js'
import type { ListQueryT } from './shared.schemas.js'
import { bump, checkVersion, isStaff, nameCursor, pick, type PageOf } from './shared.service.js'

const CONTACT_COLS = ['id', 'organizationId', 'fullName', 'position', 'phone', 'email', 'isPrimary', 'version', 'createdAt', 'updatedAt'] as const

/** The caller's scope over an organization's contacts (404 outside it); `lock` serializes primary switching. */
async function contactOwner (db: Db, actor: Actor, organizationId: string, lock: boolean): Promise<void> {
  if (!isStaff(actor) && actor.organizationId !== organizationId) throw notFound('Organization')
  const q = db.selectFrom('organizations').select('id').where('id', '=', organizationId).where('kind', 'in', ['STATION', 'SUPPLIER'])
  const org = await (lock ? q.forNoKeyUpdate() : q).executeTakeFirst()
  if (org === undefined) throw notFound('Organization')
}

async function demotePrimaryContact (db: Db, organizationId: string): Promise<void> {
  await db.updateTable('contacts').set({ isPrimary: false, ...bump })
    .where('organizationId', '=', organizationId).where('isPrimary', '=', true).where('isActive', '=', true).execute()
}

export async function listContacts (db: Db, actor: Actor, organizationId: string, query: ListQueryT): Promise<PageOf<ContactT>> {
  await contactOwner(db, actor, organizationId, false)
  const limit = query.limit ?? 50
  let q = db.selectFrom('contacts').select(CONTACT_COLS).where('organizationId', '=', organizationId).where('isActive', '=', true)
  if (query.cursor !== undefined) {
    const [name, id] = nameCursor(query.cursor)
    q = q.where(eb => eb(eb.refTuple('fullName', 'id'), '>', eb.tuple(name, id)))
  }
  return page(await q.orderBy('fullName').orderBy('id').limit(limit + 1).execute(), limit, r => [r.fullName, r.id])
}

export async function createContact (db: Db, actor: Actor, organizationId: string, input: CreateContactInput): Promise<ContactT> {
  await contactOwner(db, actor, organizationId, true)
  if (input.isPrimary === true) await demotePrimaryContact(db, organizationId)
  return await db.insertInto('contacts').values({
    organizationId, fullName: input.fullName, position: input.position ?? null, phone: input.phone ?? null, email: input.email ?? null, isPrimary: input.isPrimary === true
  }).returning(CONTACT_COLS).executeTakeFirstOrThrow()
}

async function lockedContact (db: Db, organizationId: string, contactId: string): Promise<{ version: number, isPrimary: boolean }> {
  const c = await db.selectFrom('contacts').select(['version', 'isPrimary'])
    .where('id', '=', contactId).where('organizationId', '=', organizationId).where('isActive', '=', true).executeTakeFirst()
  if (c === undefined) throw notFound('Contact')
  return c
}

export async function updateContact (db: Db, actor: Actor, organizationId: string, contactId: string, input: UpdateContactInput, expected?: number): Promise<ContactT> {
  await contactOwner(db, actor, organizationId, true)
  const c = await lockedContact(db, organizationId, contactId)
  checkVersion(c.version, expected)
  if (input.isPrimary === true && !c.isPrimary) await demotePrimaryContact(db, organizationId)
  return await db.updateTable('contacts')
    .set({ ...pick(input, ['fullName', 'position', 'phone', 'email', 'isPrimary']), ...bump })
    .where('id', '=', contactId).returning(CONTACT_COLS).executeTakeFirstOrThrow()
}

/** Contacts are personal data: deleting one removes the row (the audit trail keeps no values). */
export async function deleteContact (db: Db, actor: Actor, organizationId: string, contactId: string, expected?: number): Promise<void> {
  await contactOwner(db, actor, organizationId, true)
  checkVersion((await lockedContact(db, organizationId, contactId)).version, expected)
  await db.deleteFrom('contacts').where('id', '=', contactId).execute()
}
