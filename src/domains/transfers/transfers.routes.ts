// Inter-station transfers (PRODUCT.md §6, §2.1 rows "transfers"): list, request, read, history and
// the workflow actions. Who may act: RBAC on the route's permission (suppliers never; stations
// not on platform steps), then the scoped read (a station not involved: 404), then the party (a
// station on the wrong side: 403 NOT_ALLOWED_FOR_PARTY; platform staff act for either station),
// then the state (409 INVALID_TRANSITION with currentStatus) and If-Match (412).
import fp from 'fastify-plugin'
import { Type, type TObject } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { App } from '../../lib/route.js'
import { defineRoute, type RouteDefinition } from '../../lib/define-route.js'
import { actorOf, dbOf, etagOf, expectedVersion, withEtag } from '../../lib/route.js'
import { IdParams } from '../../lib/schemas.js'
import { missingBodyAsEmpty } from '../../lib/empty-body.js'
import { createTransfer } from './transfers.create.js'
import { getTransfer, listTransferEvents, listTransfers, transferEtagPart, type TransferDetailView } from './transfers.reads.js'
import { TRANSFER_RULES, type TransferVerb } from './transfers.rules.js'
import {
  CancelBody, ConfirmBody, CreateTransferBody, EmptyBody, EventsQuery, ListTransfersQuery, NoteBody, ReceiveBody, RejectBody, SettleBody, ShipBody,
  TransferDetailSchema, TransferEventPageSchema, TransferPageSchema, transferSchemas
} from './transfers.schemas.js'
import { transitionTransfer, type TransferTransitionInput } from './transfers.transitions.js'

interface ActionDoc { summary: string, description: string, bodyOptional?: true }

const ACTIONS: Record<TransferVerb, ActionDoc> = {
  confirm: { summary: 'Confirm a transfer', description: 'REQUESTED → CONFIRMED. The source station (or platform staff on its behalf) grants units for every line, exactly once each: each ≤ the units requested (422 BUSINESS_RULE_VIOLATED) and ≤ its current stock of the article (422 INSUFFICIENT_STOCK), at least one unit in all (reject it otherwise). Stock does not move yet.' },
  reject: { summary: 'Reject a transfer', description: 'REQUESTED → REJECTED (final). The source station or platform staff, with a reason.' },
  cancel: { bodyOptional: true, summary: 'Cancel a transfer', description: 'REQUESTED → CANCELLED (final). The requesting station or platform staff, optionally with a reason.' },
  prepare: { bodyOptional: true, summary: 'Mark a transfer in preparation', description: 'CONFIRMED → IN_PREPARATION. Platform staff only (ADMIN, MANAGER, HANDLER), once logistics are arranged; an optional note goes to the history.' },
  ship: { summary: 'Ship a transfer', description: 'IN_PREPARATION → SHIPPED. The source station or platform staff, with the delivery note: a DELIVERY_NOTE document the caller may read (else 422 DOCUMENT_NOT_USABLE at /deliveryNoteDocumentId, the same answer for a missing id and another organization\'s document; the requesting station may read it once shipped). Takes the granted units off the source station\'s stock (one TRANSFER_OUT movement per article); 422 INSUFFICIENT_STOCK when the stock no longer holds them, and then nothing changes. Units shipped = units granted.' },
  receive: { summary: 'Receive a transfer', description: 'SHIPPED → RECEIVED. The requesting (destination) station or platform staff: units received per line (each ≤ shipped; every line that shipped units, exactly once), the signed delivery note (a SIGNED_DELIVERY_NOTE document the caller may read, else 422 DOCUMENT_NOT_USABLE at /signedDeliveryNoteDocumentId; the source station may read it once received), an optional note per line. Adds the received units to the destination\'s stock (one TRANSFER_IN movement per article); shipped − received is reported as lost.' },
  close: { bodyOptional: true, summary: 'Close a transfer', description: 'RECEIVED → CLOSED. The requesting station or platform staff.' },
  settle: { summary: 'Settle a transfer', description: 'CLOSED → SETTLED. Platform staff only: the internal invoice or credit-note reference and amount.' },
  archive: { bodyOptional: true, summary: 'Archive a transfer', description: 'SETTLED → ARCHIVED (final). Platform staff only.' }
}

const PARTY_TEXT = { source: 'source station', requesting: 'requesting station', platform: 'platform' } as const
const Detail = Type.Ref(TransferDetailSchema)

async function transfersRoutes (app: App): Promise<void> {
  for (const s of transferSchemas) app.addSchema(s)

  defineRoute(app, {
    method: 'GET',
    url: '/v1/transfers',
    operationId: 'listTransfers',
    tag: 'transfers',
    summary: 'List transfers',
    description: 'Platform staff see every transfer; a station user the transfers its station requested or was asked for (suppliers: 403). Newest first, keyset-paginated. Filters: status; stationId (either side), narrowed by side=requesting|source (the role of stationId, or of the caller\'s own station when a station user omits stationId; staff must give stationId with side); created-date range [from, to]. Items carry their totals, not their lines.',
    access: 'transfers:read',
    querystring: ListTransfersQuery,
    response: { 200: Type.Ref(TransferPageSchema) }
  }, async (request) => await listTransfers(app.db, actorOf(request), request.query))

  defineRoute(app, {
    method: 'POST',
    url: '/v1/transfers',
    operationId: 'createTransfer',
    tag: 'transfers',
    summary: 'Request a transfer',
    description: 'A station user asks another station (sourceStationId) for units of articles, for its own station only (another requestingStationId: 403 NOT_ALLOWED_FOR_PARTY); platform staff request on behalf of any station (requestingStationId required). One line per article (a repeated article is 400 VALIDATION_FAILED with a DUPLICATE_LINE item per repeated line), units > 0. The source must differ from the requester (422 BUSINESS_RULE_VIOLATED); unknown or inactive stations and articles are 422. Creates the transfer REQUESTED with number TR-YYYY-NNNNNN, its first history row and a transfer.requested event for both stations.',
    access: 'transfers:create',
    audit: { action: 'transfer.create', entity: 'transfer' },
    body: CreateTransferBody,
    response: { 201: Detail }
  }, async (request, reply) => {
    const t = await createTransfer(dbOf(request), actorOf(request), request.body)
    void reply.code(201).header('location', `/v1/transfers/${t.id}`).header('etag', etagOf(t.version, transferEtagPart(t)))
    return t
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/transfers/:id',
    operationId: 'getTransfer',
    tag: 'transfers',
    summary: 'Read a transfer with its lines',
    description: 'Platform staff: any transfer; a station user: a transfer its station is involved in (as requester or source; 404 otherwise). Lines with units requested, granted, shipped, received, and shipped − received as unitsInTransit (while the receipt is pending) or unitsLost (after it), per line and in the totals. ETag from the version and the article fields shown on the lines (a renamed article changes it); If-None-Match answers 304.',
    access: 'transfers:read',
    params: IdParams,
    notModified: true,
    response: { 200: Detail }
  }, async (request, reply) => {
    const t = await getTransfer(app.db, actorOf(request), request.params.id)
    if (withEtag(request, reply, t.version, transferEtagPart(t))) return null
    return t
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/transfers/:id/events',
    operationId: 'listTransferEvents',
    tag: 'transfers',
    summary: 'Status history of a transfer',
    description: 'Every transition, oldest first, from the request on: from, to, who (user and role — platform staff acting for a station show as themselves), when, note. Same scope as reading the transfer.',
    access: 'transfers:read',
    params: IdParams,
    querystring: EventsQuery,
    response: { 200: Type.Ref(TransferEventPageSchema) }
  }, async (request) => await listTransferEvents(app.db, actorOf(request), request.params.id, request.query))

  // One registration per verb, each with its body schema: the validated body is the verb's input
  // type as it is (no cast from a union of bodies).
  const act = async (request: FastifyRequest, reply: FastifyReply, id: string, input: TransferTransitionInput): Promise<TransferDetailView> => {
    const t = await transitionTransfer(dbOf(request), actorOf(request), id, input, expectedVersion(request))
    void reply.header('etag', etagOf(t.version, transferEtagPart(t)))
    return t
  }
  defineRoute(app, action('confirm', ConfirmBody), async (request, reply) => await act(request, reply, request.params.id, { verb: 'confirm', body: request.body }))
  defineRoute(app, action('reject', RejectBody), async (request, reply) => await act(request, reply, request.params.id, { verb: 'reject', body: request.body }))
  defineRoute(app, action('cancel', CancelBody), async (request, reply) => await act(request, reply, request.params.id, { verb: 'cancel', body: request.body }))
  defineRoute(app, action('prepare', NoteBody), async (request, reply) => await act(request, reply, request.params.id, { verb: 'prepare', body: request.body }))
  defineRoute(app, action('ship', ShipBody), async (request, reply) => await act(request, reply, request.params.id, { verb: 'ship', body: request.body }))
  defineRoute(app, action('receive', ReceiveBody), async (request, reply) => await act(request, reply, request.params.id, { verb: 'receive', body: request.body }))
  defineRoute(app, action('close', EmptyBody), async (request, reply) => await act(request, reply, request.params.id, { verb: 'close', body: request.body }))
  defineRoute(app, action('settle', SettleBody), async (request, reply) => await act(request, reply, request.params.id, { verb: 'settle', body: request.body }))
  defineRoute(app, action('archive', EmptyBody), async (request, reply) => await act(request, reply, request.params.id, { verb: 'archive', body: request.body }))
}

/** The route of a workflow action: POST /v1/transfers/{id}/{verb} with `body`. */
function action<B extends TObject> (verb: TransferVerb, body: B): RouteDefinition<typeof IdParams, undefined, B, { 200: typeof Detail }> {
  const rule = TRANSFER_RULES[verb]
  const doc = ACTIONS[verb]
  return {
    method: 'POST',
    url: `/v1/transfers/:id/${verb}`,
    operationId: `${verb}Transfer`,
    tag: 'transfers',
    summary: doc.summary,
    description: `${doc.description} A ${PARTY_TEXT[rule.party]} step: ${rule.party === 'platform' ? 'stations and suppliers get 403.' : 'a station not involved gets 404, the other station 403 NOT_ALLOWED_FOR_PARTY, suppliers 403.'} Any other transition is 409 INVALID_TRANSITION with currentStatus; If-Match with a stale ETag is 412. Appends to the status history and emits ${rule.event} to both stations in the same transaction.`,
    access: rule.permission,
    audit: { action: `transfer.${verb}`, entity: 'transfer' },
    params: IdParams,
    ifMatch: true,
    body,
    // every field optional: a request without a body counts as {}
    ...(doc.bodyOptional === true ? { preValidation: missingBodyAsEmpty } : {}),
    response: { 200: Detail }
  }
}

// Registered without encapsulation (fastify-plugin), like the catalog routes: the schemas added
// here then stay under the app's own validator (unknown body fields are refused, not dropped).
export default fp(transfersRoutes, { name: 'transfers-routes' })
