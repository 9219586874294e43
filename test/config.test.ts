import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.js'

describe('configuration', () => {
  it('applies defaults and converts types', () => {
    const c = loadConfig({ PORT: '8080', RATE_LIMIT_ENABLED: 'false', DATABASE_URL: 'postgres://x' })
    expect(c.PORT).toBe(8080)
    expect(c.RATE_LIMIT_ENABLED).toBe(false)
    expect(c.ACCESS_TOKEN_TTL_SECONDS).toBe(900)
    expect(c.jwtSecret.length).toBeGreaterThanOrEqual(32)
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
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET/)
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/)
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'dev-only-secret-change-me-0123456789abcdef' })).toThrow(/JWT_SECRET/)
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/)
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) }).jwtSecret).toBe('x'.repeat(40))
  })
})
