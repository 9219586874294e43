// Test data factories writing straight to PostgreSQL (no HTTP), each with unique codes so tests
// never depend on each other's rows. Domain tests add their own factories next to these.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import type { Db } from '../../src/db/index.js'
import { hashPassword } from '../../src/lib/password.js'
import { kindForRole, PLATFORM_ORGANIZATION_ID, type Actor, type Role } from '../../src/lib/permissions.js'
import type { ArticleCategory, ContractStatus } from '../../src/db/schema.js'
import { createDocument as attachStaged, stageUpload } from '../../src/domains/documents/documents.service.js'
import type { DocumentType } from '../../src/domains/documents/documents.schemas.js'
import { PgStorage } from '../../src/domains/documents/storage-pg.js'
import { TINY_PDF } from './multipart.js'

export const TEST_PASSWORD = 'test-password-for-factories'
let hashPromise: Promise<string> | undefined
export async function testPasswordHash (): Promise<string> {
  hashPromise ??= hashPassword(TEST_PASSWORD)
  return await hashPromise
}

export const uniq = (prefix = ''): string => `${prefix}${randomUUID().replaceAll('-', '').slice(0, 10).toUpperCase()}`

export async function createStationGroup (db: Db, over: { name?: string, isActive?: boolean } = {}): Promise<{ id: string, name: string }> {
  return await db.insertInto('stationGroups').values({ name: over.name ?? `Group ${uniq()}`, description: null, isActive: over.isActive ?? true } as never).returning(['id', 'name']).executeTakeFirstOrThrow()
}

export async function createStation (db: Db, over: { code?: string, name?: string, groupId?: string | null, city?: string, isActive?: boolean } = {}): Promise<{ id: string, code: string, name: string }> {
  const code = over.code ?? uniq('ST-')
  const name = over.name ?? `Station ${code}`
  const isActive = over.isActive ?? true
  const org = await db.insertInto('organizations').values({ kind: 'STATION', name, isActive } as never).returning('id').executeTakeFirstOrThrow()
  await db.insertInto('stations').values({ id: org.id, code, name, groupId: over.groupId ?? null, addressLine1: '1 rue des Vergers', addressLine2: null, postalCode: '49000', city: over.city ?? 'Angers', phone: null, email: null, isActive } as never).execute()
  return { id: org.id, code, name }
}

export async function createSupplier (db: Db, over: { name?: string, siret?: string | null, isActive?: boolean } = {}): Promise<{ id: string, name: string }> {
  const name = over.name ?? `Supplier ${uniq()}`
  const isActive = over.isActive ?? true
  const org = await db.insertInto('organizations').values({ kind: 'SUPPLIER', name, isActive } as never).returning('id').executeTakeFirstOrThrow()
  await db.insertInto('suppliers').values({ id: org.id, name, siret: over.siret ?? null, email: `orders-${org.id.slice(0, 8)}@supplier.example`, phone: null, website: null, addressLine1: null, addressLine2: null, postalCode: null, city: 'Nantes', isActive } as never).execute()
  await db.insertInto('supplierSites').values({ supplierId: org.id, name: 'Main plant', addressLine1: null, addressLine2: null, postalCode: null, city: 'Nantes', isPrimary: true } as never).execute()
  return { id: org.id, name }
}

export interface TestUser extends Actor { email: string }

/** A user row (password TEST_PASSWORD) in the platform or in the given station/supplier. */
export async function createUser (db: Db, role: Role, organizationId: string = PLATFORM_ORGANIZATION_ID, over: { email?: string, isActive?: boolean, fullName?: string } = {}): Promise<TestUser> {
  const kind = kindForRole(role)
  const email = over.email ?? `${role.toLowerCase()}-${uniq().toLowerCase()}@test.example`
  const row = await db.insertInto('users').values({
    organizationId, organizationKind: kind, email, fullName: over.fullName ?? `Test ${role}`, phone: null, role, passwordHash: await testPasswordHash(), isActive: over.isActive ?? true, lockedUntil: null, lastLoginAt: null, createdBy: null
  } as never).returning('id').executeTakeFirstOrThrow()
  return { userId: row.id, role, organizationId, organizationKind: kind, email }
}

export async function createArticle (db: Db, over: { code?: string, name?: string, category?: ArticleCategory, vatRate?: string, isActive?: boolean, description?: string } = {}): Promise<{ id: string, code: string, name: string }> {
  const code = over.code ?? uniq('ART-')
  return await db.insertInto('articles').values({
    code, name: over.name ?? `Article ${code}`, description: over.description ?? null, category: over.category ?? 'TRAY', baseUnit: 'piece', material: null, dimensions: null, vatRate: over.vatRate ?? '20.00', isActive: over.isActive ?? true
  } as never).returning(['id', 'code', 'name']).executeTakeFirstOrThrow()
}

export async function createOffer (db: Db, articleId: string, supplierId: string, over: { catalogPackPrice?: string, unitsPerPack?: number, moqPacks?: number, packMultiple?: number, leadTimeDays?: number, isActive?: boolean } = {}): Promise<{ id: string }> {
  return await db.insertInto('offers').values({
    articleId,
    supplierId,
    supplierRef: uniq('REF-'),
    packLabel: 'box of 100',
    unitsPerPack: over.unitsPerPack ?? 100,
    catalogPackPrice: over.catalogPackPrice ?? '10.0000',
    moqPacks: over.moqPacks ?? 1,
    packMultiple: over.packMultiple ?? 1,
    leadTimeDays: over.leadTimeDays ?? 0,
    isActive: over.isActive ?? true
  } as never).returning('id').executeTakeFirstOrThrow()
}

export interface ContractLineInput { articleId: string, packPrice: string, committedPacks?: number | null, allowancePct?: string }

/** A contract row with lines, in any status (ACTIVE ones get an approver distinct from the creator). */
export async function createContract (db: Db, supplierId: string, lines: ContractLineInput[], over: { status?: ContractStatus, validFrom?: string, validUntil?: string, feePct?: string, createdBy?: string } = {}): Promise<{ id: string, number: string, lineIds: string[] }> {
  const creator = over.createdBy ?? (await createUser(db, 'MANAGER')).userId
  const status = over.status ?? 'ACTIVE'
  const approver = status === 'DRAFT' ? null : (await createUser(db, 'ADMIN')).userId
  const seq = await sql<{ n: number }>`SELECT nextval('contract_number_seq')::int AS n`.execute(db)
  const number = `CT-${new Date().getUTCFullYear()}-${String(seq.rows[0]?.n ?? 0).padStart(4, '0')}`
  const c = await db.insertInto('contracts').values({
    number,
    supplierId,
    name: `Contract ${number}`,
    kind: 'ANNUAL',
    status,
    validFrom: over.validFrom ?? '2020-01-01',
    validUntil: over.validUntil ?? '2099-12-31',
    feePct: over.feePct ?? '8.00',
    paymentTerms: null,
    deliverySlaDays: 7,
    notes: null,
    createdBy: creator,
    approvedBy: approver,
    approvedAt: approver === null ? null : new Date(),
    renewedFromId: null,
    statusReason: null
  } as never).returning(['id', 'number']).executeTakeFirstOrThrow()
  const lineIds: string[] = []
  for (const l of lines) {
    const row = await db.insertInto('contractLines').values({ contractId: c.id, articleId: l.articleId, supplierId, packPrice: l.packPrice, committedPacks: l.committedPacks ?? null, allowancePct: l.allowancePct ?? '0' } as never).returning('id').executeTakeFirstOrThrow()
    lineIds.push(row.id)
  }
  return { id: c.id, number: c.number, lineIds }
}

/**
 * A document uploaded by `uploader` (a user of its organization, which then may read it), stored
 * the way an upload is — staged in the PostgreSQL storage, then attached by the documents service —
 * without the HTTP round trip. `db` is the pool (the storage never writes inside a transaction).
 */
export async function createDocument (db: Db, uploader: { userId: string, role: Role, organizationId: string }, type: DocumentType = 'DELIVERY_NOTE', bytes: Buffer = TINY_PDF): Promise<{ id: string }> {
  const actor: Actor = { userId: uploader.userId, role: uploader.role, organizationId: uploader.organizationId, organizationKind: kindForRole(uploader.role) }
  const staged = await stageUpload(db, new PgStorage(db), (async function * () { yield bytes })(), { fileName: `${type.toLowerCase()}.pdf`, maxBytes: 1 << 20 })
  const doc = await attachStaged(db, actor, staged, type)
  return { id: doc.id }
}
