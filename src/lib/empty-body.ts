// Actions without input (deactivate, erase, logout-all): the body is `{}` or absent, nothing else.
import { Type } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'

/** Actions without input: no body, or an empty JSON object (unknown fields are rejected). */
export const EmptyBody = Type.Object({}, { additionalProperties: false })

/** preValidation hook of EmptyBody routes: a request without a body counts as `{}`. */
export function missingBodyAsEmpty (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (request.body === undefined || request.body === null) request.body = {}
  done()
}
