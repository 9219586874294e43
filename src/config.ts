// The only reader of process.env. Every setting is declared here with its type and default,
// validated at startup, and the result is frozen: a typo in a variable fails the boot with a
// message naming it instead of surfacing later as a strange runtime error.
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

const Bool = Type.Boolean()
const Int = (min: number, max: number, def: number) => Type.Integer({ minimum: min, maximum: max, default: def })

export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], { default: 'development' }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  PORT: Int(0, 65535, 3000),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)), { default: 'info' }),
  LOG_REQUESTS: Type.Boolean({ default: true }),
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
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
  TRUST_PROXY: Type.Boolean({ default: false }),
  BODY_LIMIT_BYTES: Int(1024, 50 * 1024 * 1024, 1024 * 1024),
  METRICS_PUBLIC: Type.Boolean({ default: true }),
  AUDIT_SEAL_INTERVAL_MS: Int(50, 60_000, 300),
  MAX_EVENT_LOOP_DELAY_MS: Int(0, 60_000, 1000),
  PUBLIC_URL: Type.Optional(Type.String())
})

export type Config = Readonly<Static<typeof ConfigSchema> & { jwtSecret: string }>

const DEV_SECRET = 'dev-only-secret-change-me-0123456789abcdef'

export class ConfigError extends Error {}

/** Reads and validates configuration from an environment-like record (process.env by default). */
export function loadConfig (env: Record<string, string | undefined> = process.env, overrides: Partial<Static<typeof ConfigSchema>> = {}): Config {
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
  const cfg = withDefaults as Static<typeof ConfigSchema>
  let jwtSecret = cfg.JWT_SECRET
  if (cfg.NODE_ENV === 'production') {
    if (jwtSecret === undefined || jwtSecret.length < 32 || jwtSecret === DEV_SECRET) {
      throw new ConfigError('Invalid configuration:\n  JWT_SECRET: must be set to at least 32 characters in production')
    }
  } else if (jwtSecret === undefined || jwtSecret === '') {
    jwtSecret = DEV_SECRET
  } else if (jwtSecret.length < 32) {
    throw new ConfigError('Invalid configuration:\n  JWT_SECRET: must be at least 32 characters')
  }
  return Object.freeze({ ...cfg, jwtSecret })
}
