// What the organizations routes share. What a caller sees of another organization is decided by
// serialization: each response is written with the schema of the caller's view (full for platform
// staff and the organization's own users, brief — names and codes — for the others), so a field of
// the full view never leaves for a party that may not see it (PRODUCT.md §2.1).
import { Type, type TSchema } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { audienceSerializer, type AudienceSerializer } from '../../lib/audience.js'
import { actorOf, etagOf, withEtag } from '../../lib/route.js'
import type { Cascade, Viewed } from './shared.service.js'

export const TAG = 'organizations'
export const NoContent = Type.Null({ description: 'Deleted' })

/** One schema for every audience: the row is only ever shown in full (staff, own organization). */
export const fullOnly = (schema: TSchema): AudienceSerializer => audienceSerializer({ platform: schema, station: schema, supplier: schema })

/** Serializes a single read with the caller's view and answers 304 when the ETag matches. */
export function sendViewed<F extends { version: number }, B extends { version: number }> (
  request: FastifyRequest, reply: FastifyReply, viewed: Viewed<F, B>, full: AudienceSerializer, brief: AudienceSerializer
): F | B | FastifyReply {
  // a 304 carries no body at all (returning null would serialize "null")
  if (withEtag(request, reply, viewed.value.version)) return reply.send()
  ;(viewed.full ? full : brief).use(reply, actorOf(request))
  return viewed.value
}

/** The answer of an activate / deactivate: the audit event records the cascade and the reason. */
export function sendCascade<T extends { version: number }> (request: FastifyRequest, reply: FastifyReply, cascade: Cascade<T>, reason: string | undefined): T {
  request.audit = { changes: { ...cascade.changes, reason: reason ?? null } }
  void reply.header('etag', etagOf(cascade.value.version))
  return cascade.value
}
