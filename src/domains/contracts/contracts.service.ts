// Master contracts (PRODUCT.md §4.1): drafts with price lines, approval by a second person under a
// per-supplier lock that makes the overlap rule hold, the suspend/resume/terminate/renew workflow,
// and expiry — swept periodically and, until the sweep runs, computed on every read and transition
// so nobody ever sees or acts on an ACTIVE contract whose validity has ended.
import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../../db/index.js'
import { decodeCursor, page } from '../../lib/cursor.js'
import { emitEvents } from '../../lib/outbox.js'
import type { Actor } from '../../lib/permissions.js'
import { invalidTransition, notFound, problem, type ProblemItem } from '../../lib/problems.js'
import { stationPackPrice } from '../../lib/money.js'
import { businessDate } from './pricing.service.js'
import {
  DRAFT_ONLY_FIELDS, type Contract, type ContractCreate, type ContractLine, type ContractLineInput, type ContractListInput,
  type ContractPatch, type EffectiveStatus, type RenewInput
} from './contracts.schemas.js'

export type ContractAction = 'approve' | 'suspend' | 'resume' | 'terminate'

/** The status a reader must see: ACTIVE past validUntil is EXPIRED even before the sweep. */
const effectiveStatus = (today: string): RawBuilder<EffectiveStatus> =>
  sql<EffectiveStatus>`CASE WHEN contracts.status = 'ACTIVE' AND contracts.valid_until < ${today}::date THEN 'EXPIRED' ELSE contracts.status END`

function baseQuery (db: Db, today: string) {
  return db.selectFrom('contracts')
    .innerJoin('suppliers', 'suppliers.id', 'contracts.supplierId')
    .select([
      'contracts.id', 'contracts.number', 'contracts.supplierId', 'suppliers.name as supplierName', 'contracts.name', 'contracts.kind',
      effectiveStatus(today).as('status'),
      'contracts.validFrom', 'contracts.validUntil', 'contracts.currency', 'contracts.feePct', 'contracts.paymentTerms', 'contracts.deliverySlaDays',
      'contracts.notes', 'contracts.createdBy', 'contracts.approvedBy', 'contracts.approvedAt', 'contracts.renewedFromId', 'contracts.statusReason',
      sql<number>`(SELECT count(*)::int FROM contract_lines l WHERE l.contract_id = contracts.id)`.as('lineCount'),
      'contracts.version', 'contracts.createdAt', 'contracts.updatedAt',
      sql<string>`contracts.created_at::text`.as('sortKey')
    ])
}

function scoped<Q extends { where: (...args: any[]) => Q }> (query: Q, actor: Actor): Q {
  return actor.role === 'SUPPLIER' ? query.where('contracts.supplierId', '=', actor.organizationId) : query
}

export async function listContracts (db: Db, actor: Actor, input: ContractListInput): Promise<{ items: Contract[], nextCursor: string | null }> {
  const limit = input.limit ?? 50
  const today = businessDate()
  let query = scoped(baseQuery(db, today), actor)
  if (input.supplierId !== undefined) query = query.where('contracts.supplierId', '=', input.supplierId)
  if (input.status !== undefined) {
    // filter on the effective status; the stored one is a superset only for EXPIRED
    if (input.status === 'EXPIRED') query = query.where(sql<boolean>`(contracts.status = 'EXPIRED' OR (contracts.status = 'ACTIVE' AND contracts.valid_until < ${today}::date))`)
    else if (input.status === 'ACTIVE') query = query.where(sql<boolean>`(contracts.status = 'ACTIVE' AND contracts.valid_until >= ${today}::date)`)
    else query = query.where('contracts.status', '=', input.status)
  }
  if (input.cursor !== undefined) {
    const [ts, id] = decodeCursor(input.cursor, 2)
    if (typeof ts !== 'string' || typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id)) throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
    query = query.where(sql<boolean>`(contracts.created_at, contracts.id) < (${ts}::timestamptz, ${id}::uuid)`)
  }
  const rows = await query.orderBy('contracts.createdAt', 'desc').orderBy('contracts.id', 'desc').limit(limit + 1).execute()
  const { items, nextCursor } = page(rows, limit, r => [r.sortKey, r.id])
  return { items: items.map(strip), nextCursor }
}

function strip<T extends { sortKey: string }> ({ sortKey: _s, ...row }: T): Omit<T, 'sortKey'> {
  return row
}

export async function getContract (db: Db, actor: Actor, id: string): Promise<Contract> {
  const row = await scoped(baseQuery(db, businessDate()), actor).where('contracts.id', '=', id).executeTakeFirst()
  if (row === undefined) throw notFound('Contract')
  return strip(row)
}

export async function listContractLines (db: Db, actor: Actor, contractId: string): Promise<ContractLine[]> {
  let contract = db.selectFrom('contracts').select(['id', 'feePct']).where('id', '=', contractId)
  if (actor.role === 'SUPPLIER') contract = contract.where('supplierId', '=', actor.organizationId)
  const c = await contract.executeTakeFirst()
  if (c === undefined) throw notFound('Contract')
  const rows = await db.selectFrom('contractLines')
    .innerJoin('articles', 'articles.id', 'contractLines.articleId')
    .select([
      'contractLines.id', 'contractLines.articleId', 'articles.code as articleCode', 'articles.name as articleName', 'contractLines.packPrice',
      'contractLines.committedPacks', 'contractLines.allowancePct', 'contractLines.orderedPacks',
      sql<number | null>`CASE WHEN contract_lines.committed_packs IS NULL THEN NULL
        ELSE (floor(contract_lines.committed_packs * (1 + contract_lines.allowance_pct / 100)) - contract_lines.ordered_packs)::int END`.as('remainingPacks')
    ])
    .where('contractLines.contractId', '=', contractId)
    .orderBy('articles.code')
    .execute()
  return rows.map(r => ({ ...r, stationPackPrice: stationPackPrice(r.packPrice, c.feePct) }))
}

// ---- writes

interface LockedContract {
  id: string
  number: string
  supplierId: string
  status: string
  validFrom: string
  validUntil: string
  createdBy: string
  version: number
}

/** Locks the contract row (in scope) and checks If-Match; returns it with its effective status. */
async function lockContract (db: Db, actor: Actor, id: string, expectedVersion: number | undefined, today: string): Promise<LockedContract> {
  const row = await scoped(db.selectFrom('contracts')
    .select(['contracts.id', 'contracts.number', 'contracts.supplierId', effectiveStatus(today).as('status'), 'contracts.validFrom', 'contracts.validUntil', 'contracts.createdBy', 'contracts.version'])
    .where('contracts.id', '=', id), actor)
    .forUpdate().executeTakeFirst()
  if (row === undefined) throw notFound('Contract')
  if (expectedVersion !== undefined && expectedVersion !== row.version) throw problem('PRECONDITION_FAILED', `If-Match "${expectedVersion}" does not match the current ETag "${row.version}"`)
  return row
}

function assertValidity (validFrom: string, validUntil: string, pointer = '/validUntil'): void {
  if (validFrom > validUntil) {
    throw problem('BUSINESS_RULE_VIOLATED', 'validFrom must not be after validUntil', { errors: [{ pointer, code: 'INVALID_VALIDITY', detail: `${validFrom} > ${validUntil}` }] })
  }
}

/** Lines must name distinct articles, each offered by the contract's supplier (one query). */
async function writeLines (db: Db, contractId: string, supplierId: string, lines: readonly ContractLineInput[], pointer: string): Promise<void> {
  const errors: ProblemItem[] = []
  const seen = new Map<string, number>()
  lines.forEach((l, i) => {
    const first = seen.get(l.articleId)
    if (first !== undefined) errors.push({ pointer: `${pointer}/${i}/articleId`, code: 'DUPLICATE_ARTICLE', detail: `same article as line ${first}` })
    else seen.set(l.articleId, i)
    if (l.allowancePct !== undefined && Number(l.allowancePct) > 1000) errors.push({ pointer: `${pointer}/${i}/allowancePct`, code: 'OUT_OF_RANGE', detail: 'at most 1000' })
  })
  if (lines.length > 0) {
    const offered = await db.selectFrom('offers').select('articleId')
      .where('supplierId', '=', supplierId).where('articleId', 'in', [...seen.keys()]).execute()
    const ok = new Set(offered.map(o => o.articleId))
    lines.forEach((l, i) => {
      if (!ok.has(l.articleId)) errors.push({ pointer: `${pointer}/${i}/articleId`, code: 'NO_OFFER', detail: 'the contract\'s supplier has no offer for this article' })
    })
  }
  if (errors.length > 0) throw problem('BUSINESS_RULE_VIOLATED', 'Some contract lines are invalid', { errors })
  await db.deleteFrom('contractLines').where('contractId', '=', contractId).execute()
  if (lines.length > 0) {
    await db.insertInto('contractLines').values(lines.map(l => ({
      contractId,
      articleId: l.articleId,
      supplierId,
      packPrice: l.packPrice,
      committedPacks: l.committedPacks ?? null,
      allowancePct: l.allowancePct ?? '0'
    }))).execute()
  }
}

const nextNumber = sql<string>`'CT-' || to_char(now(), 'YYYY') || '-' || lpad(nextval('contract_number_seq')::text, 4, '0')`

export async function createContract (db: Db, actor: Actor, input: ContractCreate): Promise<Contract> {
  assertValidity(input.validFrom, input.validUntil)
  const supplier = await db.selectFrom('suppliers').select(['id', 'isActive']).where('id', '=', input.supplierId).executeTakeFirst()
  if (supplier === undefined) throw problem('REFERENCE_NOT_FOUND', 'Supplier not found', { errors: [{ pointer: '/supplierId', code: 'NOT_FOUND', detail: 'no such supplier' }] })
  if (!supplier.isActive) throw problem('SUPPLIER_INACTIVE', 'The supplier is inactive', { errors: [{ pointer: '/supplierId', code: 'SUPPLIER_INACTIVE', detail: 'activate the supplier first' }] })
  const feePct = input.feePct ?? (await db.selectFrom('settings').select('defaultFeePct').executeTakeFirstOrThrow()).defaultFeePct
  const row = await db.insertInto('contracts').values({
    number: nextNumber,
    supplierId: input.supplierId,
    name: input.name,
    kind: input.kind,
    validFrom: input.validFrom,
    validUntil: input.validUntil,
    feePct,
    paymentTerms: input.paymentTerms ?? null,
    deliverySlaDays: input.deliverySlaDays ?? null,
    notes: input.notes ?? null,
    createdBy: actor.userId,
    approvedBy: null,
    approvedAt: null,
    renewedFromId: null,
    statusReason: null
  }).returning('id').executeTakeFirstOrThrow()
  if (input.lines !== undefined) await writeLines(db, row.id, input.supplierId, input.lines, '/lines')
  return await getContract(db, actor, row.id)
}

export async function updateContract (db: Db, actor: Actor, id: string, input: ContractPatch, expectedVersion?: number): Promise<{ before: Contract, after: Contract }> {
  const today = businessDate()
  const locked = await lockContract(db, actor, id, expectedVersion, today)
  const pricing = DRAFT_ONLY_FIELDS.filter(f => input[f] !== undefined)
  if (pricing.length > 0 && locked.status !== 'DRAFT') throw invalidTransition('contract', locked.status, `change ${pricing.join(', ')} of`)
  if (!['DRAFT', 'ACTIVE', 'SUSPENDED'].includes(locked.status)) throw invalidTransition('contract', locked.status, 'edit')
  assertValidity(input.validFrom ?? locked.validFrom, input.validUntil ?? locked.validUntil, input.validUntil !== undefined ? '/validUntil' : '/validFrom')
  const before = await getContract(db, actor, id)
  await db.updateTable('contracts').set(eb => ({ ...input, version: eb('version', '+', 1), updatedAt: new Date() })).where('id', '=', id).execute()
  return { before, after: await getContract(db, actor, id) }
}

export async function replaceContractLines (db: Db, actor: Actor, id: string, lines: readonly ContractLineInput[], expectedVersion?: number): Promise<ContractLine[]> {
  const locked = await lockContract(db, actor, id, expectedVersion, businessDate())
  if (locked.status !== 'DRAFT') throw invalidTransition('contract', locked.status, 'replace the lines of')
  await writeLines(db, id, locked.supplierId, lines, '/lines')
  await db.updateTable('contracts').set(eb => ({ version: eb('version', '+', 1), updatedAt: new Date() })).where('id', '=', id).execute()
  return await listContractLines(db, actor, id)
}

const ALLOWED: Record<ContractAction, { from: readonly string[], to: string, event: string }> = {
  approve: { from: ['DRAFT'], to: 'ACTIVE', event: 'contract.approved' },
  suspend: { from: ['ACTIVE'], to: 'SUSPENDED', event: 'contract.suspended' },
  resume: { from: ['SUSPENDED'], to: 'ACTIVE', event: 'contract.resumed' },
  terminate: { from: ['DRAFT', 'ACTIVE', 'SUSPENDED'], to: 'TERMINATED', event: 'contract.terminated' }
}

/**
 * Approval takes a lock on the supplier row first, so approvals of one supplier's contracts run
 * one at a time and each sees the others' committed result when it checks for overlaps. FOR NO
 * KEY UPDATE rather than FOR UPDATE: it serialises approvals just the same but does not conflict
 * with the FOR KEY SHARE locks that foreign-key checks take, so checkouts inserting purchase-order
 * rows for this supplier are never held up by an approval.
 */
async function checkApproval (db: Db, actor: Actor, c: LockedContract, today: string): Promise<void> {
  if (c.createdBy === actor.userId) throw problem('SELF_APPROVAL_FORBIDDEN', 'A contract must be approved by an ADMIN other than its creator')
  if (c.validUntil < today) throw problem('BUSINESS_RULE_VIOLATED', `The contract's validity ended on ${c.validUntil}; change validUntil or renew it`, { errors: [{ pointer: '/validUntil', code: 'VALIDITY_ENDED', detail: c.validUntil }] })
  const lines = await db.selectFrom('contractLines').select(eb => eb.fn.countAll<number>().as('n')).where('contractId', '=', c.id).executeTakeFirstOrThrow()
  if (Number(lines.n) === 0) throw problem('BUSINESS_RULE_VIOLATED', 'A contract without price lines cannot be approved', { errors: [{ pointer: '/lines', code: 'NO_LINES', detail: 'add lines with PUT /v1/contracts/{id}/lines' }] })
  const clashes = await sql<{ number: string, code: string }>`
    SELECT other_c.number, a.code
    FROM contract_lines mine
    JOIN contract_lines other ON other.article_id = mine.article_id AND other.supplier_id = mine.supplier_id AND other.contract_id <> mine.contract_id
    JOIN contracts other_c ON other_c.id = other.contract_id
    JOIN articles a ON a.id = mine.article_id
    WHERE mine.contract_id = ${c.id}
      AND other_c.status IN ('ACTIVE', 'SUSPENDED')
      AND NOT (other_c.status = 'ACTIVE' AND other_c.valid_until < ${today}::date)
      AND other_c.valid_from <= ${c.validUntil}::date AND other_c.valid_until >= ${c.validFrom}::date
    ORDER BY other_c.number, a.code
    LIMIT 20`.execute(db)
  if (clashes.rows.length > 0) {
    const list = clashes.rows.map(r => `${r.code} (${r.number})`).join(', ')
    throw problem('CONTRACT_OVERLAP', `Another ACTIVE or SUSPENDED contract of this supplier already prices these articles over an overlapping period: ${list}`)
  }
}

export async function transitionContract (db: Db, actor: Actor, id: string, action: ContractAction, reason: string | null, expectedVersion?: number): Promise<{ from: string, contract: Contract }> {
  const today = businessDate()
  if (action === 'approve') {
    const target = await scoped(db.selectFrom('contracts').select('contracts.supplierId').where('contracts.id', '=', id), actor).executeTakeFirst()
    if (target === undefined) throw notFound('Contract')
    await sql`SELECT id FROM suppliers WHERE id = ${target.supplierId}::uuid FOR NO KEY UPDATE`.execute(db)
  }
  const c = await lockContract(db, actor, id, expectedVersion, today)
  const rule = ALLOWED[action]
  if (!rule.from.includes(c.status)) throw invalidTransition('contract', c.status, action)
  if (action === 'approve') await checkApproval(db, actor, c, today)
  await db.updateTable('contracts').set(eb => ({
    status: rule.to as 'ACTIVE',
    statusReason: reason,
    version: eb('version', '+', 1),
    updatedAt: new Date(),
    ...(action === 'approve' ? { approvedBy: actor.userId, approvedAt: new Date() } : {})
  })).where('id', '=', id).execute()
  await emitEvents(db, [{
    type: rule.event,
    organizationIds: [c.supplierId],
    payload: { contractId: c.id, number: c.number, supplierId: c.supplierId, status: rule.to, previousStatus: c.status, reason }
  }])
  return { from: c.status, contract: await getContract(db, actor, id) }
}

/**
 * The next period: a SEASONAL contract comes back the same dates one year later; any other kind
 * continues the day after validUntil for the same calendar length (2026-01-01…2026-12-31 →
 * 2027-01-01…2027-12-31; a six-month contract → the following six months). Overridable.
 */
export async function renewContract (db: Db, actor: Actor, id: string, input: RenewInput, expectedVersion?: number): Promise<{ source: Contract, contract: Contract }> {
  const source = await getContract(db, actor, id)
  if (expectedVersion !== undefined && expectedVersion !== source.version) throw problem('PRECONDITION_FAILED', `If-Match "${expectedVersion}" does not match the current ETag "${source.version}"`)
  const next = await sql<{ validFrom: string, validUntil: string }>`
    SELECT
      CASE WHEN kind = 'SEASONAL' THEN (valid_from + interval '1 year')::date ELSE valid_until + 1 END AS valid_from,
      CASE WHEN kind = 'SEASONAL' THEN (valid_until + interval '1 year')::date
           ELSE ((valid_until + 1) + age((valid_until + 1)::timestamp, valid_from::timestamp) - interval '1 day')::date END AS valid_until
    FROM contracts WHERE id = ${id}::uuid`.execute(db)
  const period = next.rows[0] as { validFrom: string, validUntil: string }
  const validFrom = input.validFrom ?? period.validFrom
  const validUntil = input.validUntil ?? period.validUntil
  assertValidity(validFrom, validUntil)
  const row = await db.insertInto('contracts').columns([
    'number', 'supplierId', 'name', 'kind', 'validFrom', 'validUntil', 'currency', 'feePct', 'paymentTerms', 'deliverySlaDays', 'notes', 'createdBy', 'renewedFromId'
  ]).expression(db.selectFrom('contracts').select([
    nextNumber.as('number'), 'supplierId', sql<string>`coalesce(${input.name ?? null}::text, name)`.as('name'), 'kind',
    sql<string>`${validFrom}::date`.as('validFrom'), sql<string>`${validUntil}::date`.as('validUntil'), 'currency', 'feePct', 'paymentTerms',
    'deliverySlaDays', 'notes', sql<string>`${actor.userId}::uuid`.as('createdBy'), 'id'
  ]).where('id', '=', id)).returning('id').executeTakeFirstOrThrow()
  // ordered packs start again at 0: the cap counts orders under the new contract only
  await sql`INSERT INTO contract_lines (contract_id, article_id, supplier_id, pack_price, committed_packs, allowance_pct)
    SELECT ${row.id}::uuid, article_id, supplier_id, pack_price, committed_packs, allowance_pct FROM contract_lines WHERE contract_id = ${id}::uuid`.execute(db)
  const contract = await getContract(db, actor, row.id)
  await emitEvents(db, [{
    type: 'contract.renewed',
    organizationIds: [source.supplierId],
    payload: { contractId: contract.id, number: contract.number, renewedFromId: source.id, renewedFromNumber: source.number, supplierId: source.supplierId, validFrom, validUntil, status: 'DRAFT' }
  }])
  return { source, contract }
}

/**
 * The expiry sweep: one idempotent statement that expires every ACTIVE contract past its validity
 * and writes, in the same transaction, one outbox event and one (system) audit event per contract.
 * Concurrent sweeps on several instances are safe: a row already expired no longer matches.
 */
export async function expireContracts (db: Db, today: string = businessDate()): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    WITH expired AS (
      UPDATE contracts SET status = 'EXPIRED', status_reason = 'validity ended on ' || valid_until::text, version = version + 1, updated_at = now()
      WHERE status = 'ACTIVE' AND valid_until < ${today}::date
      RETURNING id, number, supplier_id, valid_until
    ), events AS (
      INSERT INTO outbox_events (type, organization_ids, payload)
      SELECT 'contract.expired', ARRAY[supplier_id],
        jsonb_build_object('contractId', id, 'number', number, 'supplierId', supplier_id, 'status', 'EXPIRED', 'previousStatus', 'ACTIVE', 'validUntil', valid_until)
      FROM expired
    ), audit AS (
      INSERT INTO audit_events (action, entity_type, entity_id, changes)
      SELECT 'contract.expire', 'contract', id::text, jsonb_build_object('status', jsonb_build_object('from', 'ACTIVE', 'to', 'EXPIRED'), 'validUntil', valid_until)
      FROM expired
    )
    SELECT count(*)::int AS n FROM expired`.execute(db)
  return rows[0]?.n ?? 0
}
