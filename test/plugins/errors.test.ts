// Problem details for every failure mode the framework and the database can produce.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Type } from '@sinclair/typebox'
import type { App } from '../../src/lib/route.js'
import { keyFieldsOf, mapDatabaseError, toAppError } from '../../src/plugins/errors.js'
import { ProblemRef } from '../../src/lib/schemas.js'
import { bearer, buildTestApp, expectProblem, tokenFor } from '../helpers/app.js'

let app: App
let token: string
beforeAll(async () => {
  app = await buildTestApp({ BODY_LIMIT_BYTES: 2048 })
  app.post('/v1/test-echo', {
    config: { access: 'articles:write', audit: { skip: 'test route without side effects' } },
    schema: {
      body: Type.Object({ n: Type.Integer({ minimum: 1 }), when: Type.Optional(Type.String({ format: 'date' })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ n: Type.Integer() }), '4xx': ProblemRef, '5xx': ProblemRef }
    }
  }, async (request) => ({ n: request.body.n }))
  app.get('/v1/test-boom', { config: { access: 'articles:read' }, schema: { response: { '5xx': ProblemRef } } }, async () => {
    throw new Error('secret internal detail: SELECT * FROM users')
  })
  app.get('/v1/test-pg/:code', { config: { access: 'articles:read' }, schema: { response: { '4xx': ProblemRef, '5xx': ProblemRef } } }, async (request) => {
    throw Object.assign(new Error('pg'), { code: (request.params as { code: string }).code, constraint: 'some_constraint' })
  })
  await app.ready()
  token = tokenFor(app, { role: 'ADMIN' })
})
afterAll(async () => { await app.close() })

const echo = (payload: string, contentType = 'application/json') =>
  app.inject({ method: 'POST', url: '/v1/test-echo', headers: { ...bearer(token), 'content-type': contentType }, payload })

describe('errors plugin', () => {
  it('answers 404 problem details for unknown routes', async () => {
    const body = expectProblem(await app.inject({ method: 'GET', url: '/v1/nope?x=1' }), 404, 'ROUTE_NOT_FOUND')
    expect(body.instance).toBe('/v1/nope')
    expect(body.type).toBe('https://gestion-emballages.dev/problems/route-not-found')
  })

  it('answers 400 for malformed JSON, an empty body and schema violations with pointers', async () => {
    expectProblem(await echo('{"n":'), 400, 'MALFORMED_JSON')
    expectProblem(await echo(''), 400, 'VALIDATION_FAILED') // empty = no body; the schema requires one
    const body = expectProblem(await echo('{"n":0}'), 400, 'VALIDATION_FAILED')
    expect(body.errors).toEqual([expect.objectContaining({ pointer: '/n', code: 'INVALID_MINIMUM' })])
    const missing = expectProblem(await echo('{}'), 400, 'VALIDATION_FAILED')
    expect(missing.errors).toEqual([expect.objectContaining({ pointer: '/n', code: 'INVALID_REQUIRED' })])
    expectProblem(await echo('{"n":"1"}'), 400, 'VALIDATION_FAILED') // bodies are never coerced
    expectProblem(await echo('{"n":1,"when":"2026-13-45"}'), 400, 'VALIDATION_FAILED')
    expect((await echo('{"n":1,"when":"2026-12-31"}')).statusCode).toBe(200)
  })

  it('answers 415 for other media types and 413 for oversized bodies', async () => {
    expectProblem(await echo('n=1', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE')
    expectProblem(await echo(JSON.stringify({ n: 1, pad: 'x'.repeat(5000) })), 413, 'PAYLOAD_TOO_LARGE')
  })

  it('hides internal details of 5xx but carries the request id', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/test-boom', headers: { ...bearer(token), 'x-request-id': 'trace-me-1' } })
    const body = expectProblem(res, 500, 'INTERNAL_ERROR')
    expect(res.body).not.toContain('SELECT')
    expect(body.requestId).toBe('trace-me-1')
    expect(res.headers['x-request-id']).toBe('trace-me-1')
  })

  it('maps PostgreSQL errors in one place', async () => {
    const cases: Array<[string, number, string]> = [
      ['23505', 409, 'DUPLICATE'], ['23503', 422, 'REFERENCE_NOT_FOUND'], ['23514', 422, 'CONSTRAINT_VIOLATED'],
      ['23502', 422, 'CONSTRAINT_VIOLATED'], ['23P01', 409, 'CONFLICT'], ['22003', 422, 'CONSTRAINT_VIOLATED'],
      ['40001', 409, 'CONCURRENT_UPDATE'], ['40P01', 409, 'CONCURRENT_UPDATE'], ['55P03', 409, 'CONCURRENT_UPDATE'],
      ['57014', 503, 'SERVICE_UNAVAILABLE'], ['53300', 503, 'SERVICE_UNAVAILABLE'], ['57P01', 503, 'SERVICE_UNAVAILABLE'], ['08006', 503, 'SERVICE_UNAVAILABLE']
    ]
    for (const [code, status, problemCode] of cases) {
      const res = await app.inject({ method: 'GET', url: `/v1/test-pg/${code}`, headers: bearer(token) })
      expectProblem(res, status, problemCode)
      if (status === 503) expect(res.headers['retry-after']).toBeDefined()
    }
    expect(mapDatabaseError({ code: '42P01' })).toBeUndefined()
    expect(mapDatabaseError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' })?.status).toBe(503)
    expect(mapDatabaseError({ message: 'timeout exceeded when trying to connect' })?.status).toBe(503)
    expect(toAppError(Object.assign(new Error('x'), { statusCode: 418 })).status).toBe(400)
    expect(toAppError(Object.assign(new Error('x'), { statusCode: 503 })).status).toBe(503)
    expect(toAppError(Object.assign(new Error('Too many'), { statusCode: 429 })).code).toBe('RATE_LIMITED')
  })

  it('maps every data exception (class 22) to a 4xx, as the backstop behind validation', async () => {
    // NUL, an unpaired surrogate in jsonb, a date out of range, a malformed date or value, a text too long, any other
    for (const code of ['22021', '22P05', '22008', '22007', '22009', '22P02', '22001', '22012', '2200N']) {
      const res = await app.inject({ method: 'GET', url: `/v1/test-pg/${code}`, headers: bearer(token) })
      const body = expectProblem(res, 400, 'VALIDATION_FAILED')
      expect(body.detail).not.toContain('some_constraint')
    }
    expectProblem(await app.inject({ method: 'GET', url: '/v1/test-pg/22003', headers: bearer(token) }), 422, 'CONSTRAINT_VIOLATED')
  })

  it('never puts constraint or table names in a problem; names the key\'s fields in API words', async () => {
    for (const code of ['23505', '23503', '23514', '23502', '23P01']) {
      const res = await app.inject({ method: 'GET', url: `/v1/test-pg/${code}`, headers: bearer(token) })
      expect(res.body, code).not.toContain('some_constraint')
    }
    expect(keyFieldsOf('Key (code)=(ST-1) already exists.')).toBe('code')
    expect(keyFieldsOf('Key (station_id, article_id)=(a, b) already exists.')).toBe('stationId and articleId')
    expect(keyFieldsOf('Key (lower(email::text))=(x@y.z) already exists.')).toBe('email')
    expect(keyFieldsOf('Key (coalesce(a, b))=(1) already exists.')).toBeUndefined()
    expect(keyFieldsOf(undefined)).toBeUndefined()
    expect(mapDatabaseError({ code: '23505', constraint: 'users_email_key', detail: 'Key (lower(email::text))=(a@b.c) already exists.' })?.message).toBe('A resource with the same email already exists')
    expect(mapDatabaseError({ code: '23503', constraint: 'x_fkey', detail: 'Key (supplier_id)=(1) is not present in table "suppliers".' })?.message).toBe('The resource referenced by supplierId does not exist')
    expect(mapDatabaseError({ code: '23503', constraint: 'x_fkey', detail: 'Key (id)=(1) is still referenced from table "offers".' })?.message).toBe('The resource is still in use by other records')
    expect(mapDatabaseError({ code: '23502', column: 'unit_price' })?.message).toBe('A required value is missing: unitPrice')
  })
})

describe('hostile text at the edge', () => {
  it('refuses NUL and unpaired surrogates in any body string or key with a pointer, and accepts escaped pairs', async () => {
    for (const [payload, pointer] of [['{"n":1,"when":"\\u0000"}', '/when'], ['{"n":1,"when":"a\\ud83d"}', '/when'], ['{"n":1,"\\udc00":1}', '/\uFFFD']] as const) {
      const body = expectProblem(await echo(payload), 400, 'VALIDATION_FAILED')
      expect(body.errors).toEqual([expect.objectContaining({ pointer, code: 'INVALID_TEXT' })])
    }
    // a literal backslash before "u0000" is text, not a NUL (the date format refuses it); an escaped pair is an emoji
    const codeOf = async (payload: string): Promise<string | undefined> => (expectProblem(await echo(payload), 400).errors as Array<{ code: string }>)[0]?.code
    expect(await codeOf('{"n":1,"when":"\\\\u0000"}')).toBe('INVALID_FORMAT')
    expect(await codeOf('{"n":1,"x":"\\ud83d\\ude00"}')).toBe('INVALID_ADDITIONALPROPERTIES')
  })
})

describe('validation in encapsulated plugins', () => {
  it('rejects unknown body fields even where a plugin adds its own shared schemas', async () => {
    const a = await buildTestApp()
    await a.register(async function child (c) {
      c.addSchema(Type.Object({ x: Type.String() }, { $id: 'ChildShared' }))
      c.post('/v1/test-child', {
        config: { access: 'articles:write', audit: { skip: 'test route without side effects' } },
        schema: { body: Type.Object({ n: Type.Integer() }, { additionalProperties: false }), response: { 200: Type.Object({ n: Type.Integer() }), '4xx': ProblemRef } }
      }, async (request) => ({ n: (request.body as { n: number }).n }))
    })
    await a.ready()
    try {
      const headers = { ...bearer(tokenFor(a, { role: 'ADMIN' })), 'content-type': 'application/json' }
      const res = await a.inject({ method: 'POST', url: '/v1/test-child', headers, payload: '{"n":1,"zzz":1}' })
      const body = expectProblem(res, 400, 'VALIDATION_FAILED')
      expect(body.errors).toEqual([expect.objectContaining({ pointer: '/zzz' })])
      expectProblem(await a.inject({ method: 'POST', url: '/v1/test-child', headers, payload: '{"n":"1"}' }), 400, 'VALIDATION_FAILED')
    } finally {
      await a.close()
    }
  })
})

describe('lost database connections map to 503', () => {
  // EPIPE is five capital letters, like a SQLSTATE: a rollback failing with it after a terminated
  // backend used to fall through the SQLSTATE switch and answer 500 (seen in the reliability suite)
  it.each([
    ['write EPIPE', 'EPIPE'],
    ['read ECONNRESET', 'ECONNRESET'],
    ['connect ETIMEDOUT', 'ETIMEDOUT'],
    ['Client was closed and is not queryable', undefined],
    ['timeout expired', undefined]
  ])('%s', (message, code) => {
    const e = mapDatabaseError(Object.assign(new Error(message), code === undefined ? {} : { code, errno: -32, syscall: 'write' }))
    expect(e?.status).toBe(503)
    expect(e?.code).toBe('SERVICE_UNAVAILABLE')
  })
})
