// Response compression where it pays: Swagger UI's assets (1.5 MB of JavaScript), /openapi.json
// (~230 KB), /metrics, collection reads (lists, reports, document content) — never the hot small
// reads. Routes are chosen when they are registered, so the others carry no compression hook at
// all (no cost per request):
// - compressed, from 1 KiB up: GET/HEAD routes whose 200 response is a list page (an `items`
//   array) or text that is not a JSON object (a report's CSV), /docs/*, /openapi.json and /metrics;
// - never: single-resource reads (`…/:id`, /v1/me…: small, the hottest requests, and their strong
//   ETag is what If-Match compares), writes, /health/*, partial content (206), text/event-stream
//   (the SSE stream also writes its own response, which no onSend hook sees), and media types that
//   are already compressed (PDF, images, archives, octet-stream).
// Encodings in the server's order of preference: zstd (Node 22.15+), br (quality 4), gzip, deflate.
// Responses that are compressed say `Vary: Accept-Encoding`, and a strong ETag on them becomes
// weak (`W/"…"`, as nginx does): the bytes differ from the identity representation the strong tag
// names. If-None-Match compares weakly, so revalidation still answers 304; If-Range compares
// strongly, so a resumed download after a compressed one gets the whole content, never wrong bytes.
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify'
import compress from '@fastify/compress'
import { isDocsRoute } from './rbac.js'

/** the smallest body worth compressing (smaller ones gain nothing over a TCP segment) */
export const COMPRESS_THRESHOLD_BYTES = 1024

/** Text, JSON and XML (and their +json / +xml suffixes), JavaScript, CSS, SVG — never an event stream. */
const COMPRESSIBLE = /^(?:text\/(?!event-stream)[\w.+-]+|application\/(?:[\w.-]+\+)?(?:json|xml)|application\/(?:javascript|ecmascript)|image\/svg\+xml)\s*(?:;|$)/i

export function isCompressibleType (contentType: string): boolean {
  return COMPRESSIBLE.test(contentType)
}

type SchemaLike = Record<string, unknown> | undefined

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object'

/** A list page: an object schema with an `items` array. */
function isListSchema (schema: SchemaLike): boolean {
  if (!isObject(schema)) return false
  const items = schema.properties !== undefined && isObject(schema.properties) ? schema.properties.items : undefined
  return schema.type === 'object' && isObject(items) && items.type === 'array'
}

/** A body that is not a JSON object or a reference to one: file content, an export. */
function isTextSchema (schema: SchemaLike): boolean {
  return isObject(schema) && schema.type !== undefined && schema.type !== 'object'
}

/**
 * A response worth compressing: a list page, or a non-object body; with one schema per media type
 * (`content`), a list page in any of them or a non-object body in a compressible media type
 * (a report's text/csv yes; a document's PDF or image, or an event stream, no).
 */
function compressibleResponse (schema: SchemaLike): boolean {
  if (!isObject(schema)) return false
  if (isObject(schema.content)) {
    return Object.entries(schema.content).some(([type, media]) => isObject(media) &&
      (isListSchema(media.schema as SchemaLike) || (isCompressibleType(type) && isTextSchema(media.schema as SchemaLike))))
  }
  return isListSchema(schema) || isTextSchema(schema)
}

export interface RouteShape { method: string | string[], url: string, schema?: { response?: unknown } }

/** Whether a route gets the compression hooks (see the rules above). */
export function compressesRoute (route: RouteShape): boolean {
  const methods = ([] as string[]).concat(route.method)
  if (!methods.every(m => m === 'GET' || m === 'HEAD')) return false
  if (isDocsRoute(route.url) || route.url === '/openapi.json' || route.url === '/metrics') return true
  const responses = (route.schema?.response ?? {}) as Record<string, SchemaLike>
  return compressibleResponse(responses[200] ?? responses['2xx'])
}

function weakenEtagWhenEncoded (_request: FastifyRequest, reply: FastifyReply, payload: unknown, done: HookHandlerDoneFunction & ((err: Error | null, payload?: unknown) => void)): void {
  const encoding = reply.getHeader('content-encoding')
  const etag = reply.getHeader('etag')
  if (encoding !== undefined && encoding !== 'identity' && typeof etag === 'string' && !etag.startsWith('W/')) void reply.header('etag', `W/${etag}`)
  done(null, payload)
}

export default fp(async function compressPlugin (app) {
  // before @fastify/compress's own onRoute hook: routes that must not compress get compress: false
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.compress === undefined && !compressesRoute(route)) route.compress = false
  })
  await app.register(compress, {
    global: true,
    threshold: COMPRESS_THRESHOLD_BYTES,
    customTypes: isCompressibleType,
    // request bodies are not decompressed (uploads and JSON bodies arrive as sent)
    globalDecompression: false
  })
  // after @fastify/compress's onRoute hook: this onSend runs after the one that compresses
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.compress === false) return
    const existing = route.onSend
    route.onSend = existing === undefined ? [weakenEtagWhenEncoded] : [...(Array.isArray(existing) ? existing : [existing]), weakenEtagWhenEncoded]
  })
}, { name: 'compress' })
