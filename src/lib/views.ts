// Per-audience serialization for order and cart responses (src/lib/audience.ts), plus the two
// things the routes need on top of it:
// - the declared response schema is a union of *references* to the registered views (inline views
//   that reference other shared schemas cannot be resolved by the route serializer);
// - `respond` selects the caller's serializer; the audit plugin serializes mutation results with
//   it and stores those exact bytes for Idempotency-Key replays, so a replay never shows prices
//   the caller may not see;
// - `sendJson` sends a body already written in the caller's view (by PostgreSQL, for the hot
//   purchase-order reads) without any serializer.
import type { FastifyReply } from 'fastify'
import { Type, type TObject, type TSchema } from '@sinclair/typebox'
import { audienceSerializer, type AudienceSerializer } from './audience.js'
import type { Actor } from './permissions.js'

export interface Views extends AudienceSerializer {
  /** select the caller's serializer and return the value it will serialize */
  respond: (reply: FastifyReply, actor: Actor, value: unknown) => unknown
}

export function views (v: { platform: TObject, supplier: TObject, station: TObject }, refs: TSchema[]): Views {
  const s = audienceSerializer(v, refs)
  const unique = [...new Set([v.platform, v.supplier, v.station])]
  const [only] = unique
  return {
    ...s,
    schema: only !== undefined && unique.length === 1 ? Type.Ref(only) : Type.Union(unique.map(u => Type.Ref(u))),
    respond (reply, actor, value) {
      s.use(reply, actor)
      return value
    }
  }
}

const identity = (payload: string): string => payload

/** Sends `body`, JSON text already in the caller's view, as is: no parse, no second serialization. */
export function sendJson (reply: FastifyReply, body: string): string {
  void reply.type('application/json; charset=utf-8').serializer(identity)
  return body
}
