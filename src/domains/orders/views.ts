// Per-audience serialization for order and cart responses (src/lib/audience.ts), plus the two
// things the routes need on top of it:
// - the declared response schema is a union of *references* to the registered views (inline views
//   that reference other shared schemas cannot be resolved by the route serializer);
// - mutations return the value already projected to the caller's view, because the audit plugin
//   stores the handler's value for Idempotency-Key replays and a replay is serialized with the
//   union, not with the caller's view: storing the projection keeps a replay from showing prices
//   the caller may not see (each view requires its own totals, so the union picks the same view).
import type { FastifyReply } from 'fastify'
import { Type, type TObject, type TSchema } from '@sinclair/typebox'
import { audienceOf, audienceSerializer, type AudienceSerializer } from '../../lib/audience.js'
import type { Actor } from '../../lib/permissions.js'

export interface Views extends AudienceSerializer {
  /** project to the caller's view, select that serializer, and return the projection */
  respond: (reply: FastifyReply, actor: Actor, value: unknown) => unknown
}

export function views (v: { platform: TObject, supplier: TObject, station: TObject }, refs: TSchema[]): Views {
  const s = audienceSerializer(v, refs)
  const unique = [...new Set([v.platform, v.supplier, v.station])]
  return {
    ...s,
    schema: unique.length === 1 ? Type.Ref(unique[0] as TObject) : Type.Union(unique.map(u => Type.Ref(u))),
    respond (reply, actor, value) {
      s.use(reply, actor)
      return JSON.parse(s.serialize(audienceOf(actor), value)) as unknown
    }
  }
}
