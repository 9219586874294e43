import { describe, expect, it } from 'vitest'
import { ConfigError, isLoopbackHost, loadConfig } from '../src/config.js'

const DEV_SECRET = 'dev-only-secret-change-me-0123456789abcdef'
const SECRET = 'x'.repeat(40)
// outside the development setup the audit chain needs its own key (src/domains/audit/chain-keys.ts)
const CHAIN = { AUDIT_CHAIN_KEY: 'c'.repeat(40) }
const PROD = { NODE_ENV: 'production', JWT_SECRET: SECRET, DATABASE_URL: 'postgres://db.internal/app', ...CHAIN }

describe('configuration', () => {
  it('applies defaults and converts types', () => {
    const c = loadConfig({ PORT: '8080', RATE_LIMIT_ENABLED: 'false', DATABASE_URL: 'postgres://x', JWT_SECRET: SECRET, ...CHAIN })
    expect(c.PORT).toBe(8080)
    expect(c.RATE_LIMIT_ENABLED).toBe(false)
    expect(c.ACCESS_TOKEN_TTL_SECONDS).toBe(900)
    expect(c.jwtSecret).toBe(SECRET)
    expect(Object.isFrozen(c)).toBe(true)
  })

  it('names every invalid variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(ConfigError)
    try { loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' }) } catch (e) {
      expect((e as Error).message).toContain('PORT')
      expect((e as Error).message).toContain('LOG_LEVEL')
    }
    expect(() => loadConfig({ BOOTSTRAP_ADMIN_EMAIL: 'not-an-email' })).toThrow(/BOOTSTRAP_ADMIN_EMAIL/)
  })

  it('refuses a missing, short or default JWT secret in production and a short one anywhere', () => {
    expect(() => loadConfig({ ...PROD, JWT_SECRET: undefined })).toThrow(/JWT_SECRET/)
    expect(() => loadConfig({ ...PROD, JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/)
    expect(() => loadConfig({ ...PROD, JWT_SECRET: DEV_SECRET })).toThrow(/JWT_SECRET/)
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/)
    expect(loadConfig(PROD).jwtSecret).toBe(SECRET)
  })
})

describe('the built-in development JWT secret (public: it is in the source)', () => {
  it('is used only in development, on the embedded database, listening on loopback (the zero-setup npm start)', () => {
    expect(loadConfig({}).jwtSecret).toBe(DEV_SECRET)
    expect(loadConfig({ HOST: 'localhost' }).jwtSecret).toBe(DEV_SECRET)
    expect(loadConfig({ HOST: '::1' }).jwtSecret).toBe(DEV_SECRET)
  })

  it('is refused with DATABASE_URL set and NODE_ENV unset (the forged-ADMIN-token probe)', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db.internal/app' })).toThrow(/JWT_SECRET.*DATABASE_URL/)
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db.internal/app', JWT_SECRET: DEV_SECRET })).toThrow(/JWT_SECRET/)
  })

  it('is refused when listening on a non-loopback address, even on the embedded database', () => {
    for (const HOST of ['0.0.0.0', '::', '192.168.1.10', 'api.example.com']) {
      expect(() => loadConfig({ HOST }), HOST).toThrow(/JWT_SECRET/)
      expect(() => loadConfig({ HOST, JWT_SECRET: DEV_SECRET }), HOST).toThrow(/JWT_SECRET/)
      expect(loadConfig({ HOST, JWT_SECRET: SECRET, ...CHAIN }).jwtSecret).toBe(SECRET)
    }
  })

  it('is never used in tests: NODE_ENV=test without JWT_SECRET gets a random per-process secret', () => {
    const a = loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://x' })
    const b = loadConfig({ NODE_ENV: 'test', HOST: '0.0.0.0', AUDIT_CHAIN_KEY: 'a-test-chain-key-of-at-least-32-characters' })
    expect(a.jwtSecret).not.toBe(DEV_SECRET)
    expect(a.jwtSecret.length).toBeGreaterThanOrEqual(32)
    expect(b.jwtSecret).toBe(a.jwtSecret)
  })

  it('refuses the public development chain key under NODE_ENV=test on a non-loopback HOST', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', HOST: '0.0.0.0' })).toThrow(/AUDIT_CHAIN_KEY/)
    expect(loadConfig({ NODE_ENV: 'test', HOST: '127.0.0.1' }).auditChainKeys.current.secret.length).toBeGreaterThanOrEqual(32)
  })

  it('recognizes loopback addresses only', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true)
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'localhost.example.com', '127.0.0.1.nip.io']) expect(isLoopbackHost(h), h).toBe(false)
  })
})

describe('production', () => {
  it('refuses to start without DATABASE_URL (no embedded database)', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, ...CHAIN })).toThrow(/DATABASE_URL: required in production/)
  })

  it('refuses to load the demo dataset', () => {
    expect(() => loadConfig({ ...PROD, SEED_DEMO: 'true' })).toThrow(/SEED_DEMO/)
    expect(loadConfig({ ...PROD, SEED_DEMO: 'false' }).SEED_DEMO).toBe(false)
  })

  it('protects /metrics: not public by default, METRICS_PUBLIC=true refused, a scraper token accepted', () => {
    expect(loadConfig(PROD).METRICS_PUBLIC).toBe(false)
    expect(() => loadConfig({ ...PROD, METRICS_PUBLIC: 'true' })).toThrow(/METRICS_PUBLIC/)
    expect(loadConfig({ ...PROD, METRICS_TOKEN: 'm'.repeat(32) }).METRICS_TOKEN).toBe('m'.repeat(32))
    expect(() => loadConfig({ ...PROD, METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/)
    // outside production the default stays public (local Prometheus, the benchmark)
    expect(loadConfig({}).METRICS_PUBLIC).toBe(true)
    expect(loadConfig({ METRICS_PUBLIC: 'false' }).METRICS_PUBLIC).toBe(false)
  })
})

describe('.env.example', () => {
  it('lists every setting, and loads as a configuration as it is', async () => {
    const { readFile } = await import('node:fs/promises')
    const { parseEnv } = await import('node:util')
    const { ConfigSchema } = await import('../src/config.js')
    const text = await readFile(new URL('../.env.example', import.meta.url), 'utf8')
    const listed = new Set([...text.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map(m => m[1] ?? ''))
    expect(Object.keys(ConfigSchema.properties).filter(k => !listed.has(k))).toEqual([])
    expect([...listed].filter(k => !(k in ConfigSchema.properties))).toEqual([])
    // empty values mean "not set", as the .env loader reads them
    const env = Object.fromEntries(Object.entries(parseEnv(text)).filter(([, v]) => v !== ''))
    expect(() => loadConfig({ ...env, ENV_FILE: 'none', DATABASE_URL: 'postgres://x', JWT_SECRET: SECRET, ...CHAIN })).not.toThrow()
  })
})
