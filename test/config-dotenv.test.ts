// `.env` is read (it used to be ignored although .env.example said to copy it): missing variables
// come from it, the real environment always wins, ENV_FILE names another file or none.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, loadDotEnv } from '../src/config.js'

let dir = ''
let file = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ge-dotenv-'))
  file = join(dir, '.env')
  await writeFile(file, [
    '# comment',
    'PORT=4321',
    'LOG_LEVEL=warn',
    'DATABASE_URL=',
    'PUBLIC_URL="https://api.example.com"',
    "CORS_ORIGINS='https://app.example.com'",
    'RATE_LIMIT_MAX=77 # trailing comment',
    ''
  ].join('\n'))
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

describe('loadDotEnv', () => {
  it('fills missing variables from the file and keeps every variable already set, even empty', () => {
    const env: Record<string, string | undefined> = { LOG_LEVEL: 'debug', PUBLIC_URL: '' }
    expect(loadDotEnv(env, file)).toBe(file)
    expect(env.PORT).toBe('4321')
    expect(env.LOG_LEVEL).toBe('debug')
    expect(env.PUBLIC_URL).toBe('')
    expect(env.CORS_ORIGINS).toBe('https://app.example.com')
    expect(env.RATE_LIMIT_MAX).toBe('77')
    expect(env.DATABASE_URL).toBe('')
  })

  it('reads ENV_FILE instead of .env, nothing with ENV_FILE=none or when the file does not exist', () => {
    const named: Record<string, string | undefined> = { ENV_FILE: file }
    expect(loadDotEnv(named)).toBe(file)
    expect(named.PORT).toBe('4321')
    const none: Record<string, string | undefined> = { ENV_FILE: 'none' }
    expect(loadDotEnv(none)).toBeUndefined()
    expect(none.PORT).toBeUndefined()
    expect(loadDotEnv({}, join(dir, 'missing.env'))).toBeUndefined()
  })

  it('a file that cannot be read is a configuration error naming it', () => {
    expect(() => loadDotEnv({}, dir)).toThrow(ConfigError)
    expect(() => loadDotEnv({}, dir)).toThrow(dir)
  })
})

describe('loadConfig(process.env)', () => {
  it('reads the .env file into the configuration; an explicit environment variable wins; other records are left alone', () => {
    const keys = ['ENV_FILE', 'PORT', 'LOG_LEVEL', 'DATABASE_URL', 'PUBLIC_URL', 'CORS_ORIGINS', 'RATE_LIMIT_MAX'] as const
    const saved = Object.fromEntries(keys.map(k => [k, process.env[k]]))
    try {
      for (const k of keys) Reflect.deleteProperty(process.env, k)
      process.env.ENV_FILE = file
      process.env.LOG_LEVEL = 'error'
      const config = loadConfig()
      expect(config.PORT).toBe(4321)
      expect(config.LOG_LEVEL).toBe('error')
      expect(config.PUBLIC_URL).toBe('https://api.example.com')
      expect(config.RATE_LIMIT_MAX).toBe(77)
      expect(config.DATABASE_URL).toBeUndefined()
      // a record of its own (what tests pass) never reads a file
      expect(loadConfig({ NODE_ENV: 'test', ENV_FILE: file }).PORT).toBe(3000)
    } finally {
      for (const k of keys) {
        if (saved[k] === undefined) Reflect.deleteProperty(process.env, k)
        else process.env[k] = saved[k]
      }
    }
  })
})
