// Price visibility (PRODUCT.md §2.2) is enforced by serialization, not by blanking fields: each
// audience has its own response schema, compiled once, and the route serializes the result with
// the caller's schema, so a field a party may not see is absent from the JSON whatever the
// service returned. The route's declared response schema is the union of the views (OpenAPI).
import type { FastifyReply } from 'fastify'
import type { TSchema } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import fastJson from 'fast-json-stringify'
import type { Actor } from './permissions.js'
import { lazySerializer } from './lazy-compile.js'

export type Audience = 'platform' | 'supplier' | 'station'

export function audienceOf (actor: Actor): Audience {
  if (actor.role === 'STATION') return 'station'
  if (actor.role === 'SUPPLIER') return 'supplier'
  return 'platform'
}

export interface AudienceViews<T extends TSchema = TSchema> {
  platform: T
  supplier: T
  station: T
}

export interface AudienceSerializer {
  /** the union of the views, for the route's declared response schema */
  schema: TSchema
  /** serializes the handler's result with the caller's view */
  use: (reply: FastifyReply, actor: Actor) => void
  /** serializes a value with one view (tests) */
  serialize: (audience: Audience, value: unknown) => string
}

/**
 * A shared schema as fast-json-stringify's options type wants it: a TypeBox schema is one of its
 * AnySchema (any JSON schema, what it compiles), but the options type lists external schemas as its
 * narrower Schema union (each member with a `type` or a `$ref`, which a union schema has not).
 */
function externalSchema (schema: fastJson.AnySchema): fastJson.Schema {
  return schema as fastJson.Schema
}

/** Compiles one serializer per audience. `refs` are shared schemas referenced by the views. */
export function audienceSerializer (views: AudienceViews, refs: TSchema[] = []): AudienceSerializer {
  const schemaRefs = Object.fromEntries(refs.map(r => [String(r.$id), externalSchema(r)]))
  // compiled on first use (or by the post-listen background pass): see lazy-compile.ts
  const compile = (view: TSchema) => lazySerializer(() => fastJson(view, { schema: schemaRefs }))
  const compiled = { platform: compile(views.platform), supplier: compile(views.supplier), station: compile(views.station) }
  // views that are structurally identical (e.g. a list every audience sees in full) appear once
  const byShape = new Map<string, TSchema>()
  for (const v of [views.platform, views.supplier, views.station]) byShape.set(JSON.stringify(v), v)
  const unique = [...byShape.values()]
  return {
    schema: unique.length === 1 ? unique[0] as TSchema : Type.Union(unique),
    use (reply, actor) {
      // Fastify sets no Content-Type when a reply has its own serializer (it only defaults the
      // header on its schema serializer's path), so the one place that installs ours sets it.
      void reply.type('application/json; charset=utf-8').serializer(compiled[audienceOf(actor)])
    },
    serialize (audience, value) { return compiled[audience](value) }
  }
}
