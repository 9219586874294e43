// Master contracts: CRUD while DRAFT, price lines, the approval workflow and the expiry sweep.
// Responses go through per-audience serializers: platform staff see the fee and station prices,
// the contract's supplier sees supplier prices only; stations have no access (403).
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import { audienceSerializer } from '../../lib/audience.js'
import type { App } from '../../lib/route.js'
import { actorOf, dbOf, etagOf, expectedVersion, withEtag } from '../../lib/route.js'
import { createdId, defineRoute } from '../../lib/define-route.js'
import { diffOf } from '../../lib/diff.js'
import { IdParams, Page } from '../../lib/schemas.js'
import {
  ContractCreateSchema, ContractLinePlatformView, ContractLineSupplierView, ContractLinesPutSchema, ContractListQuery, ContractPatchSchema,
  ContractPlatformView, ContractSupplierView, EmptyBodySchema, MAX_LINES, ReasonSchema, RenewSchema
} from './contracts.schemas.js'
import {
  createContract, expireContracts, getContract, listContractLines, listContracts, renewContract, replaceContractLines, transitionContract, updateContract,
  type ContractAction
} from './contracts.service.js'

const EXPIRY_SWEEP_MS = 10 * 60_000

const TRANSITIONS: Array<{ action: ContractAction, access: 'contracts:approve' | 'contracts:write', summary: string, description: string, reason: boolean }> = [
  {
    action: 'approve',
    access: 'contracts:approve',
    summary: 'Approve a draft contract',
    description: 'ADMIN only, and not the draft\'s creator (403 SELF_APPROVAL_FORBIDDEN). DRAFT → ACTIVE. Refused with 409 CONTRACT_OVERLAP when another ACTIVE or SUSPENDED contract of the same supplier prices one of its articles over an overlapping period (checked under a per-supplier lock, so concurrent approvals cannot both pass), 422 when it has no lines or its validity has already ended. Emits contract.approved.',
    reason: false
  },
  { action: 'suspend', access: 'contracts:write', summary: 'Suspend an active contract', description: 'ADMIN or MANAGER. ACTIVE → SUSPENDED with a reason; its prices stop applying at once (orders fall back to catalog prices when allowed). Emits contract.suspended.', reason: true },
  { action: 'resume', access: 'contracts:write', summary: 'Resume a suspended contract', description: 'ADMIN or MANAGER. SUSPENDED → ACTIVE (a suspended contract still blocks overlapping approvals, so no overlap check is needed). Emits contract.resumed.', reason: false },
  { action: 'terminate', access: 'contracts:write', summary: 'Terminate a contract', description: 'ADMIN or MANAGER. DRAFT, ACTIVE or SUSPENDED → TERMINATED (final) with a reason. Existing orders keep their frozen prices. Emits contract.terminated.', reason: true }
]

async function contractsRoutes (app: App): Promise<void> {
  for (const s of [ContractPlatformView, ContractSupplierView, ContractLinePlatformView, ContractLineSupplierView]) app.addSchema(s)
  const contractRefs = [Type.Ref(ContractPlatformView), Type.Ref(ContractSupplierView)]
  const ContractResponse = Type.Union(contractRefs, { description: 'ContractPlatformView for platform staff, ContractSupplierView for the contract\'s supplier' })
  const views = audienceSerializer({ platform: ContractPlatformView, supplier: ContractSupplierView, station: ContractSupplierView })
  const pageViews = audienceSerializer({
    platform: Page(ContractPlatformView, { $id: 'ContractPlatformPage' }),
    supplier: Page(ContractSupplierView, { $id: 'ContractSupplierPage' }),
    station: Page(ContractSupplierView, { $id: 'ContractStationPage' })
  })
  const linesOf = (item: typeof ContractLinePlatformView | typeof ContractLineSupplierView, id: string) => Type.Object({ items: Type.Array(item, { maxItems: MAX_LINES }) }, { $id: id })
  const lineViews = audienceSerializer({
    platform: linesOf(ContractLinePlatformView, 'ContractLinesPlatform'),
    supplier: linesOf(ContractLineSupplierView, 'ContractLinesSupplier'),
    station: linesOf(ContractLineSupplierView, 'ContractLinesStation')
  })
  const LinesResponse = Type.Object({ items: Type.Array(Type.Union([Type.Ref(ContractLinePlatformView), Type.Ref(ContractLineSupplierView)]), { maxItems: MAX_LINES }) }, { description: `All lines (at most ${MAX_LINES}), ordered by article code, in the caller's view` })

  app.jobs.add({ name: 'contract-expiry', intervalMs: EXPIRY_SWEEP_MS, run: async () => await expireContracts(app.db) })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/contracts',
    operationId: 'listContracts',
    tag: 'contracts',
    summary: 'List contracts',
    description: 'Platform staff see every contract; a supplier sees its own (without the fee); stations get 403. Filters: `supplierId`, `status` (effective status: an ACTIVE contract past validUntil is listed as EXPIRED). Newest first, keyset-paginated.',
    access: 'contracts:read',
    querystring: ContractListQuery,
    response: { 200: Page(Type.Union(contractRefs)) }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const result = await listContracts(app.db, actor, request.query)
    pageViews.use(reply, actor)
    return result
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/contracts/:id',
    operationId: 'getContract',
    tag: 'contracts',
    summary: 'Read a contract',
    description: 'Platform staff, or the contract\'s supplier (another supplier\'s contract: 404). Returns an ETag.',
    access: 'contracts:read',
    params: IdParams,
    notModified: true,
    response: { 200: ContractResponse }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const c = await getContract(app.db, actor, request.params.id)
    // the effective status (EXPIRED past validUntil, before the sweep) is computed at read time
    if (withEtag(request, reply, c.version, c.status)) return null
    views.use(reply, actor)
    return c
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/contracts',
    operationId: 'createContract',
    tag: 'contracts',
    summary: 'Create a draft contract',
    description: 'ADMIN or MANAGER. Creates a DRAFT numbered CT-<year>-<NNNN>; feePct defaults to the platform default. Lines may be given here or later with PUT /lines (each article must have an offer from the supplier, 422 otherwise). Unknown supplier: 422; validFrom after validUntil: 422.',
    access: 'contracts:write',
    audit: { action: 'contract.create', entity: 'contract' },
    body: ContractCreateSchema,
    response: { 201: ContractResponse }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const c = await createContract(dbOf(request), actor, request.body)
    void reply.code(201).header('etag', etagOf(c.version))
    views.use(reply, actor)
    return c
  })

  defineRoute(app, {
    method: 'PATCH',
    url: '/v1/contracts/:id',
    operationId: 'updateContract',
    tag: 'contracts',
    summary: 'Update a contract\'s terms',
    description: 'ADMIN or MANAGER. kind, validity and feePct only while DRAFT; name, paymentTerms, deliverySlaDays and notes while DRAFT, ACTIVE or SUSPENDED (409 INVALID_TRANSITION otherwise). status, number and lines are not fields of this body (400). If-Match with a stale ETag answers 412.',
    access: 'contracts:write',
    audit: { action: 'contract.update', entity: 'contract' },
    params: IdParams,
    ifMatch: true,
    body: ContractPatchSchema,
    response: { 200: ContractResponse }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const { before, after } = await updateContract(dbOf(request), actor, request.params.id, request.body, expectedVersion(request))
    request.audit = { changes: diffOf(request.body, before, after) }
    void reply.header('etag', etagOf(after.version))
    views.use(reply, actor)
    return after
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/contracts/:id/lines',
    operationId: 'listContractLines',
    tag: 'contracts',
    summary: 'List a contract\'s price lines',
    description: 'Platform staff (with station prices), or the contract\'s supplier (supplier prices only; another supplier\'s contract: 404). All lines at once (at most 500), ordered by article code, with ordered and remaining packs under each cap.',
    access: 'contracts:read',
    params: IdParams,
    response: { 200: LinesResponse }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const items = await listContractLines(app.db, actor, request.params.id)
    lineViews.use(reply, actor)
    return { items }
  })

  defineRoute(app, {
    method: 'PUT',
    url: '/v1/contracts/:id/lines',
    operationId: 'replaceContractLines',
    tag: 'contracts',
    summary: 'Replace all price lines of a draft',
    description: 'ADMIN or MANAGER, while DRAFT only (409 otherwise). Replaces every line: one per article (duplicates: 422), each article must have an offer from the contract\'s supplier (422 with a pointer per offending line). orderedPacks is maintained by the service and not accepted (400). Bumps the contract\'s version; If-Match applies to it.',
    access: 'contracts:write',
    audit: { action: 'contract.replace_lines', entity: 'contract' },
    params: IdParams,
    ifMatch: true,
    body: ContractLinesPutSchema,
    response: { 200: LinesResponse }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const items = await replaceContractLines(dbOf(request), actor, request.params.id, request.body.lines, expectedVersion(request))
    request.audit = { changes: { lineCount: items.length, lines: request.body.lines } }
    lineViews.use(reply, actor)
    return { items }
  })

  for (const t of TRANSITIONS) {
    defineRoute(app, {
      method: 'POST',
      url: `/v1/contracts/:id/${t.action}`,
      operationId: `${t.action}Contract`,
      tag: 'contracts',
      summary: t.summary,
      description: `${t.description} An ACTIVE contract past its validUntil is EXPIRED (409 INVALID_TRANSITION) even before the sweep. If-Match with a stale ETag answers 412.`,
      access: t.access,
      audit: { action: `contract.${t.action}`, entity: 'contract' },
      params: IdParams,
      ifMatch: true,
      body: t.reason ? ReasonSchema : EmptyBodySchema,
      response: { 200: ContractResponse }
    }, async (request, reply) => {
      const actor = actorOf(request)
      const reason = t.reason ? (request.body as { reason: string }).reason : null
      const { from, contract } = await transitionContract(dbOf(request), actor, request.params.id, t.action, reason, expectedVersion(request))
      request.audit = { changes: { status: { from, to: contract.status }, ...(reason === null ? {} : { reason }) } }
      void reply.header('etag', etagOf(contract.version))
      views.use(reply, actor)
      return contract
    })
  }

  defineRoute(app, {
    method: 'POST',
    url: '/v1/contracts/:id/renew',
    operationId: 'renewContract',
    tag: 'contracts',
    summary: 'Renew a contract for the next period',
    description: 'ADMIN or MANAGER, from any status. Creates a new DRAFT linked by renewedFromId, copying the terms and every line (orderedPacks reset to 0). Default validity: a SEASONAL contract gets the same dates one year later; any other kind continues the day after validUntil for the same calendar length (2026-01-01…2026-12-31 → 2027-01-01…2027-12-31). name, validFrom and validUntil may be overridden. The new draft needs approval like any other. Emits contract.renewed; answers 201 with the new contract.',
    access: 'contracts:write',
    audit: { action: 'contract.renew', entity: 'contract' },
    params: IdParams,
    ifMatch: true,
    body: RenewSchema,
    response: { 201: ContractResponse },
    location: c => `/v1/contracts/${createdId(c) ?? ''}`
  }, async (request, reply) => {
    const actor = actorOf(request)
    const { source, contract } = await renewContract(dbOf(request), actor, request.params.id, request.body, expectedVersion(request))
    request.audit = { entityId: contract.id, changes: { renewedFromId: source.id, renewedFromNumber: source.number, validFrom: contract.validFrom, validUntil: contract.validUntil } }
    void reply.code(201).header('etag', etagOf(contract.version))
    views.use(reply, actor)
    return contract
  })
}

// Registered without encapsulation (fastify-plugin): a child context that calls addSchema gets a
// fresh schema controller built with Fastify's default Ajv (removeAdditional: true), which would
// silently drop unknown body fields instead of answering 400. At the root the app's validator stays.
export default fp(contractsRoutes, { name: 'contracts-routes' })
