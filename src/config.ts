// The only reader of process.env. Every setting is declared here with its type and default,
// validated at startup, and the result is frozen: a typo in a variable fails the boot with a
// message naming it instead of surfacing later as a strange runtime error.
// A `.env` file in the working directory (ENV_FILE names another, ENV_FILE=none reads none) is read
// into process.env first by loadConfig(process.env): variables already set in the environment win.
//
// Rules that keep a careless deployment from being an open one:
// - The built-in development JWT secret is public (it is in this file). It is used only in
//   development, on the embedded database, listening on a loopback address; anywhere else a missing
//   JWT_SECRET (or the built-in one) refuses to start. NODE_ENV=test without JWT_SECRET gets a random
//   per-process secret (never the published one).
// - Production requires DATABASE_URL (the embedded database is for development) and never seeds
//   the demo accounts, whose password is public.
// - /metrics is public by default outside production only; production serves it to METRICS_TOKEN
//   (a scraper's bearer token) or to an access token with audit:read.
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { resolveChainKeys, type ChainKeys } from './domains/audit/chain-keys.js'

const Bool = Type.Boolean()
const Int = (min: number, max: number, def: number) => Type.Integer({ minimum: min, maximum: max, default: def })

export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], { default: 'development' }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  PORT: Int(0, 65535, 3000),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)), { default: 'info' }),
  LOG_REQUESTS: Type.Boolean({ default: true }),
  // development only: human-readable single-line logs (pino-pretty); default: when stdout is a terminal
  LOG_PRETTY: Type.Optional(Bool),
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  // the schema owner's connection, for migrations; DATABASE_URL is then the service's restricted role
  DATABASE_OWNER_URL: Type.Optional(Type.String({ minLength: 1 })),
  // a read replica for the reports (PRODUCT.md §11); without it they read the primary
  DATABASE_READ_URL: Type.Optional(Type.String({ minLength: 1 })),
  // a direct PostgreSQL connection (never through a transaction pooler) for what needs a session:
  // LISTEN/NOTIFY (token revocation, the job queue), session-level advisory locks, migrations at
  // start; defaults to DATABASE_URL
  DATABASE_DIRECT_URL: Type.Optional(Type.String({ minLength: 1 })),
  // false when DATABASE_URL goes through a transaction pooler (PgBouncer pool_mode=transaction):
  // unnamed statements only, and no session settings sent at connect (statement_timeout and
  // idle_in_transaction_session_timeout then come from the pooler's connect_query or the role)
  DATABASE_PREPARED_STATEMENTS: Type.Boolean({ default: true }),
  DATABASE_POOL_SIZE: Int(1, 200, 10),
  DATABASE_STATEMENT_TIMEOUT_MS: Int(100, 600_000, 5000),
  DATABASE_CONNECT_TIMEOUT_MS: Int(100, 60_000, 2000),
  EMBEDDED_PG_DIR: Type.String({ default: '.data/pg' }),
  EMBEDDED_PG_PORT: Int(0, 65535, 0),
  SEED_DEMO: Type.Optional(Bool),
  JWT_SECRET: Type.Optional(Type.String()),
  JWT_ISSUER: Type.String({ default: 'gestion-emballages-api' }),
  JWT_AUDIENCE: Type.String({ default: 'gestion-emballages' }),
  ACCESS_TOKEN_TTL_SECONDS: Int(30, 86_400, 900),
  REFRESH_TOKEN_TTL_DAYS: Int(1, 365, 30),
  BOOTSTRAP_ADMIN_EMAIL: Type.Optional(Type.String({ pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' })),
  BOOTSTRAP_ADMIN_PASSWORD: Type.Optional(Type.String()),
  RATE_LIMIT_ENABLED: Type.Boolean({ default: true }),
  RATE_LIMIT_MAX: Int(1, 1_000_000, 600),
  RATE_LIMIT_WINDOW_SECONDS: Int(1, 3600, 60),
  REDIS_URL: Type.Optional(Type.String({ minLength: 1 })),
  // the longest a rate-limit counter waits for Redis before counting in this instance's memory
  REDIS_TIMEOUT_MS: Int(5, 10_000, 100),
  TRUST_PROXY: Type.Boolean({ default: false }),
  BODY_LIMIT_BYTES: Int(1024, 50 * 1024 * 1024, 1024 * 1024),
  METRICS_PUBLIC: Type.Optional(Bool),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 32 })),
  AUDIT_SEAL_INTERVAL_MS: Int(50, 60_000, 300),
  SHUTDOWN_DRAIN_MS: Int(0, 120_000, 1000),
  // production refuses a DATABASE_URL role that could switch the audit triggers off, unless this says so
  DATABASE_PRIVILEGED_ROLE_OK: Type.Boolean({ default: false }),
  AUDIT_CHAIN_KEY: Type.Optional(Type.String()),
  AUDIT_CHAIN_KEY_ID: Type.Optional(Type.String()),
  AUDIT_CHAIN_PREVIOUS_KEYS: Type.Optional(Type.String()),
  MAX_EVENT_LOOP_DELAY_MS: Int(0, 60_000, 1000),
  PUBLIC_URL: Type.Optional(Type.String()),
  // browser origins allowed to call the API (CORS), comma-separated (https://app.example.com,
  // http://localhost:5173) or `*`; none by default (src/plugins/cors.ts)
  CORS_ORIGINS: Type.Optional(Type.String({ pattern: '^\\s*(\\*|https?://[^/\\s,]+/?)(\\s*,\\s*(https?://[^/\\s,]+/?))*\\s*,?\\s*$' })),
  // documents (PRODUCT.md §8): the largest upload accepted (413 beyond), where the bytes are kept
  // (pg: in the database, nothing else to run; fs: files under DOCUMENT_DIR)
  DOCUMENT_MAX_BYTES: Int(1024, 1024 * 1024 * 1024, 10 * 1024 * 1024),
  DOCUMENT_STORAGE: Type.Union([Type.Literal('pg'), Type.Literal('fs')], { default: 'pg' }),
  DOCUMENT_DIR: Type.String({ default: '.data/documents', minLength: 1 }),
  // background work (src/plugins/jobs.ts): the job queue's runner, the outbox dispatcher and the
  // cron sweeps run in this process (in-process) or only in `npm run worker` processes (off)
  WORKER_MODE: Type.Union([Type.Literal('in-process'), Type.Literal('off')], { default: 'in-process' }),
  WORKER_CONCURRENCY: Int(1, 100, 4),
  // how often the queue looks for jobs scheduled in the future (retries); new jobs arrive by LISTEN
  WORKER_POLL_MS: Int(20, 60_000, 1000),
  // `npm run worker`: /health/live and /metrics on this port (none when unset)
  WORKER_HTTP_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  OUTBOX_POLL_MS: Int(20, 60_000, 250),
  OUTBOX_RETENTION_DAYS: Int(1, 3650, 30),
  // webhooks (PRODUCT.md §10): receivers on loopback/private/link-local/CGNAT/metadata addresses are
  // refused unless this says so; secrets are sealed with WEBHOOK_SECRET_KEY (else a key derived from JWT_SECRET)
  WEBHOOK_ALLOW_PRIVATE: Type.Boolean({ default: false }),
  WEBHOOK_SECRET_KEY: Type.Optional(Type.String({ minLength: 32 })),
  WEBHOOK_TIMEOUT_MS: Int(100, 30_000, 5000),
  WEBHOOK_RETRY_BASE_MS: Int(10, 3_600_000, 30_000),
  WEBHOOK_RETRY_MAX_MS: Int(10, 86_400_000, 7_200_000),
  WEBHOOK_RETRY_WINDOW_HOURS: Int(1, 168, 24),
  // GET /v1/events/stream: per user and instance, the longest a stream stays open, keep-alive comments
  EVENTS_STREAM_MAX_PER_USER: Int(1, 100, 5),
  EVENTS_STREAM_MAX_SECONDS: Int(1, 86_400, 3600),
  EVENTS_STREAM_HEARTBEAT_SECONDS: Int(1, 300, 15)
})

type Raw = Static<typeof ConfigSchema>
export type Config = Readonly<Omit<Raw, 'METRICS_PUBLIC'> & { METRICS_PUBLIC: boolean, jwtSecret: string, auditChainKeys: ChainKeys }>

const DEV_SECRET = 'dev-only-secret-change-me-0123456789abcdef'
/** NODE_ENV=test without JWT_SECRET: one random secret per process (every app of a test run agrees). */
const TEST_SECRET = randomBytes(32).toString('base64url')

/** 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach. */
export function isLoopbackHost (host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h)
}

const invalid = (lines: string[]): ConfigError => new ConfigError(`Invalid configuration:\n${lines.map(l => `  ${l}`).join('\n')}`)

function resolveJwtSecret (cfg: Raw): string {
  const secret = cfg.JWT_SECRET
  // the built-in secret is acceptable only where nobody else can reach the service or its data
  const devOnly = cfg.NODE_ENV === 'development' && cfg.DATABASE_URL === undefined && isLoopbackHost(cfg.HOST)
  if (cfg.NODE_ENV === 'production' && (secret === undefined || secret.length < 32 || secret === DEV_SECRET)) {
    throw invalid(['JWT_SECRET: must be set to at least 32 characters in production'])
  }
  if (secret === undefined || secret === '') {
    if (cfg.NODE_ENV === 'test') return TEST_SECRET
    if (devOnly) return DEV_SECRET
    throw invalid(['JWT_SECRET: required (at least 32 characters) when DATABASE_URL is set or HOST is not a loopback address; the built-in development secret is public'])
  }
  if (secret.length < 32) throw invalid(['JWT_SECRET: must be at least 32 characters'])
  if (secret === DEV_SECRET && !devOnly) {
    throw invalid(['JWT_SECRET: the built-in development secret is public; it is allowed only in development on the embedded database and a loopback HOST'])
  }
  return secret
}

export class ConfigError extends Error {}

/**
 * Reads a `.env` file (KEY=value lines, as in .env.example) into `env`: variables already set
 * (even to an empty value) are kept, so the real environment always wins. ENV_FILE names another
 * file; ENV_FILE=none reads none. Returns the path read, if any.
 */
export function loadDotEnv (env: Record<string, string | undefined> = process.env, path = env.ENV_FILE ?? '.env'): string | undefined {
  if (path === 'none' || path === '' || !existsSync(path)) return undefined
  let parsed: Record<string, string | undefined>
  try {
    parsed = parseEnv(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new ConfigError(`${path}: cannot be read (${(err as Error).message})`)
  }
  for (const [key, value] of Object.entries(parsed)) if (env[key] === undefined && value !== undefined) env[key] = value
  return path
}

/** Reads and validates configuration from an environment-like record (process.env by default). */
export function loadConfig (env: Record<string, string | undefined> = process.env, overrides: Partial<Static<typeof ConfigSchema>> = {}): Config {
  if (env === process.env) loadDotEnv(env)
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(ConfigSchema.properties)) {
    const v = env[key]
    if (v !== undefined && v !== '') raw[key] = v
  }
  Object.assign(raw, overrides)
  const withDefaults = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, raw))
  const errors = [...Value.Errors(ConfigSchema, withDefaults)]
  if (errors.length > 0) {
    const lines = errors.map(e => `  ${e.path.slice(1) || '(root)'}: ${e.message}`)
    throw new ConfigError(`Invalid configuration:\n${[...new Set(lines)].join('\n')}`)
  }
  const cfg = withDefaults as Raw
  const jwtSecret = resolveJwtSecret(cfg)
  // the development chain key where the development JWT secret is allowed, and in tests on a
  // loopback HOST (one key for every process of a run: they share a database) — a deployment
  // mistakenly left on NODE_ENV=test and reachable from outside must bring its own key
  const auditChainKeys = resolveChainKeys(cfg, jwtSecret === DEV_SECRET || (cfg.NODE_ENV === 'test' && isLoopbackHost(cfg.HOST)))
  if ('errors' in auditChainKeys) throw invalid(auditChainKeys.errors)
  if (cfg.NODE_ENV === 'production') {
    const problems: string[] = []
    if (cfg.DATABASE_URL === undefined) problems.push('DATABASE_URL: required in production (the embedded database is for development)')
    if (cfg.SEED_DEMO === true) problems.push('SEED_DEMO: the demo dataset (public passwords) is never loaded in production')
    if (cfg.METRICS_PUBLIC === true) problems.push('METRICS_PUBLIC: /metrics is never public in production; give the scraper METRICS_TOKEN')
    if (problems.length > 0) throw invalid(problems)
  }
  return Object.freeze({ ...cfg, METRICS_PUBLIC: cfg.METRICS_PUBLIC ?? cfg.NODE_ENV !== 'production', jwtSecret, auditChainKeys })
}
