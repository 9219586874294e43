// buildApp: Fastify with the production validator and logger settings → cross-cutting plugins →
// domain plugins, registered explicitly in dependency order.
import Fastify, { LogController, type FastifyServerOptions } from 'fastify'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.js'
import { createDb, type DbHandle } from './db/index.js'
import { lazySerializer, lazyValidator, type LazyValidator } from './lib/lazy-compile.js'
import { addUuidCase, withUuidCase } from './lib/uuid-case.js'
import { lazyChildLoggerFactory } from './lib/lazy-logger.js'
import { setCursorKey } from './lib/cursor.js'
import { ProblemSchema } from './lib/schemas.js'
import type { App } from './lib/route.js'
import './lib/fastify-types.js'
import errorsPlugin, { clientErrorHandler, frameworkErrorHandler } from './plugins/errors.js'
import httpPlugin, { genRequestId } from './plugins/http.js'
import openapiPlugin from './plugins/openapi.js'
import corsPlugin from './plugins/cors.js'
import compressPlugin from './plugins/compress.js'
import requestLogPlugin, { prettyLogStream } from './plugins/request-log.js'
import authPlugin from './plugins/auth.js'
import rbacPlugin from './plugins/rbac.js'
import auditPlugin from './plugins/audit.js'
import rateLimitPlugin from './plugins/rate-limit.js'
import healthPlugin from './plugins/health.js'
import drainPlugin from './plugins/drain.js'
import jobsPlugin from './plugins/jobs.js'
import auditRoutes from './domains/audit/audit.routes.js'
import documentsRoutes from './domains/documents/documents.routes.js'
import authRoutes from './domains/auth/auth.routes.js'
import usersRoutes from './domains/users/users.routes.js'
import organizationsRoutes from './domains/organizations/index.js'
import catalogRoutes from './domains/catalog/catalog.routes.js'
import contractsRoutes from './domains/contracts/contracts.routes.js'
import settingsRoutes from './domains/settings/settings.routes.js'
import cartsRoutes from './domains/carts/carts.routes.js'
import ordersRoutes from './domains/orders/orders.routes.js'
import stockRoutes from './domains/stock/stock.routes.js'
import forecastsRoutes from './domains/forecasts/forecasts.routes.js'
import transfersRoutes from './domains/transfers/transfers.routes.js'
import webhooksPlugin from './domains/webhooks/index.js'
import eventsRoutes from './domains/events/events.routes.js'
import reportsRoutes from './domains/reports/reports.routes.js'

// ajv-formats is CommonJS: the default import is its module.exports, the plugin itself, whose
// `default` property is the plugin again (what its typings describe).
const addFormats = addFormatsModule.default

export interface BuildOptions {
  config: Config
  /** PostgreSQL connection string (the configured one or the embedded server's) */
  connectionString: string
  /**
   * A direct connection (never through a transaction pooler) for LISTEN and session-level locks:
   * DATABASE_DIRECT_URL; `connectionString` when not given
   */
  directConnectionString?: string
  /** pino options override (tests pass { level: 'silent' }) */
  logger?: Record<string, unknown> | false
}

/** Ajv instances: bodies are never coerced and unknown fields are rejected; querystrings, params and headers are coerced. */
export function createValidators (sharedSchemas: Record<string, unknown> = {}): { body: Ajv, other: Ajv } {
  const base = { removeAdditional: false as const, useDefaults: true, allErrors: false, strict: false, allowUnionTypes: true }
  // request UUIDs reach the services in lower case (src/lib/uuid-case.ts)
  const body = addUuidCase(addFormats(new Ajv({ ...base, coerceTypes: false })))
  const other = addUuidCase(addFormats(new Ajv({ ...base, coerceTypes: 'array' })))
  for (const ajv of [body, other]) {
    for (const schema of Object.values(sharedSchemas)) ajv.addSchema(withUuidCase(schema as object))
  }
  return { body, other }
}

/**
 * The validator and serializer factories of one app, compiling on first use (lazy-compile.ts) and
 * each distinct schema once. Fastify calls a factory for every encapsulation context — ~170 here,
 * a plugin that adds shared schemas gets its own — with that context's shared schemas; they are
 * configured here because a root-level setValidatorCompiler would be replaced by Fastify's default
 * Ajv in such a context (which silently strips unknown fields). The contexts hold only ~14
 * distinct sets of shared schemas, and of the ~1 500 validators and serializers the routes declare
 * ~200 differ (888 response serializers are the same problem `$ref`): compiling every copy again,
 * each context in an Ajv instance of its own, was most of the start's warm-up (src/lib/warmup.ts).
 * So one Ajv pair and one fast-json-stringify builder serve each set of shared schemas (the same
 * schema objects under the same names), and a schema compiles once per set and request part —
 * keyed by its JSON, computed at compile time, so registering routes costs nothing more. Per app:
 * a closed app's compiled functions go with it.
 */
function schemaCompilers (): { buildValidator: ValidatorFactory, buildSerializer: SerializerFactory } {
  const ids = new WeakMap<object, number>()
  let nextId = 0
  const idOf = (o: unknown): string => {
    if (typeof o !== 'object' || o === null) return String(o)
    let id = ids.get(o)
    if (id === undefined) { id = nextId++; ids.set(o, id) }
    return String(id)
  }
  const setKey = (shared: Record<string, unknown>): string => Object.entries(shared).map(([name, schema]) => `${name}#${idOf(schema)}`).sort().join(',')

  const validatorsBySet = new Map<string, (schema: object, part: string) => LazyValidator>()
  const buildValidator = (sharedSchemas: Record<string, unknown>) => {
    const key = setKey(sharedSchemas)
    let compile = validatorsBySet.get(key)
    if (compile === undefined) {
      let validators: ReturnType<typeof createValidators> | undefined
      compile = oncePerShape((schema: object, part: string) => {
        validators ??= createValidators(sharedSchemas)
        return (part === 'body' ? validators.body : validators.other).compile(withUuidCase(schema))
      })
      validatorsBySet.set(key, compile)
    }
    const compileInSet = compile
    return ({ schema, httpPart }: { schema: object, httpPart?: string }) =>
      lazyValidator(() => compileInSet(schema, httpPart === 'body' ? 'body' : 'other'))
  }

  const serializersBySet = new Map<string, (schema: unknown, part: string) => (value: unknown) => string>()
  const buildSerializer: SerializerFactory = (sharedSchemas, serializerOpts) => {
    const key = `${idOf(serializerOpts)}|${setKey(sharedSchemas as Record<string, unknown>)}`
    let compile = serializersBySet.get(key)
    if (compile === undefined) {
      const build = SerializerSelector()(sharedSchemas, serializerOpts)
      // the compiler reads only the route's schema (not its method, url or status)
      compile = oncePerShape((schema: unknown) => build({ schema, method: '', url: '', httpStatus: '' }))
      serializersBySet.set(key, compile)
    }
    const compileInSet = compile
    return route => lazySerializer(() => compileInSet(route.schema, 'response'))
  }
  // Fastify declares buildValidator with @fastify/ajv-compiler's type, whose compiler takes a bare
  // schema (Ajv's compile); Fastify calls it with the route definition ({ schema, httpPart, … }),
  // as buildValidator expects: the one cast, to the declared type.
  return { buildValidator: buildValidator as ValidatorFactory, buildSerializer }
}

/** `compile`, memoized by the schema's JSON and the part (a schema JSON cannot encode: compiled each time). */
function oncePerShape<S, F> (compile: (schema: S, part: string) => F): (schema: S, part: string) => F {
  const compiled = new Map<string, F>()
  return (schema, part) => {
    let key: string
    try { key = `${part} ${JSON.stringify(schema)}` } catch { return compile(schema, part) }
    let fn = compiled.get(key)
    if (fn === undefined) {
      fn = compile(schema, part)
      compiled.set(key, fn)
    }
    return fn
  }
}

type ValidatorFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']

export async function buildApp (opts: BuildOptions): Promise<App> {
  const { config } = opts
  // development on a terminal: pino-pretty, one line per entry (src/plugins/request-log.ts)
  const stream = opts.logger === false ? undefined : await prettyLogStream(config)
  const logger = opts.logger === false
    ? false
    : {
        level: config.LOG_LEVEL,
        ...(stream !== undefined ? { stream } : {}),
        redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.currentPassword', '*.newPassword', '*.refreshToken', '*.accessToken', '*.token', '*.passwordHash'], censor: '[redacted]' },
        ...(opts.logger ?? {})
      }
  const app = Fastify({
    logger,
    // one line per request, from the request-log plugin (Fastify's own logging writes two)
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    genReqId: genRequestId,
    childLoggerFactory: lazyChildLoggerFactory,
    requestIdHeader: false,
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    // closing: the drain plugin answers a 503 problem (Fastify's own body is not one)
    return503OnClosing: false,
    // errors raised before any route runs (router, HTTP parser) are problem details too
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    schemaController: { compilersFactory: schemaCompilers() }
  }).withTypeProvider<TypeBoxTypeProvider>()

  setCursorKey(config.jwtSecret)
  const handle: DbHandle = createDb({
    connectionString: opts.connectionString,
    poolSize: config.DATABASE_POOL_SIZE,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    onPoolError: err => { app.log.warn({ err: err.message }, 'idle database connection lost') }
  })
  app.decorate('conf', config)
  app.decorate('db', handle.db)
  app.addHook('onClose', async () => { await handle.destroy() })
  app.addSchema(ProblemSchema)

  // rbac first: its onRoute check (default deny) sees only routes registered after it
  await app.register(rbacPlugin)
  await app.register(errorsPlugin)
  await app.register(httpPlugin)
  await app.register(requestLogPlugin)
  await app.register(corsPlugin)
  // before openapi and the domains: it chooses the routes that compress as they are registered
  await app.register(compressPlugin)
  await app.register(openapiPlugin)
  // the revocation listener LISTENs: a session of its own, on the direct connection
  const directConnectionString = opts.directConnectionString ?? opts.connectionString
  await app.register(authPlugin, { connectionString: directConnectionString })
  await app.register(auditPlugin)
  await app.register(rateLimitPlugin)
  // the job queue's runner LISTENs and prepares its statements: the direct connection too
  await app.register(jobsPlugin, { connectionString: directConnectionString })
  await app.register(drainPlugin)
  await app.register(healthPlugin, { pool: handle.pool })

  // Domains
  await app.register(authRoutes)
  await app.register(usersRoutes)
  await app.register(organizationsRoutes)
  await app.register(catalogRoutes)
  await app.register(contractsRoutes)
  await app.register(settingsRoutes)
  await app.register(cartsRoutes)
  await app.register(ordersRoutes)
  await app.register(stockRoutes)
  await app.register(forecastsRoutes)
  await app.register(transfersRoutes)
  await app.register(auditRoutes)
  await app.register(documentsRoutes)
  await app.register(reportsRoutes)
  await app.register(webhooksPlugin)
  await app.register(eventsRoutes, { connectionString: directConnectionString })

  return app
}
