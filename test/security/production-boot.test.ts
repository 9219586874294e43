// Production never starts the embedded database and never seeds the demo accounts (whose password
// is public), even for a Config that did not come from loadConfig's checks.
import { describe, expect, inject, it } from 'vitest'
import pg from 'pg'
import { loadConfig } from '../../src/config.js'
import { prepareDatabase, resolveDatabase } from '../../src/runtime.js'
import { createDatabaseFromTemplate } from '../helpers/db.js'
import { DEMO_ACCOUNTS } from '../../db/seed/demo.js'

const SECRET = 'p'.repeat(40)

describe('production boot', () => {
  it('resolveDatabase refuses to start an embedded database', async () => {
    const config = { ...loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, AUDIT_CHAIN_KEY: SECRET, DATABASE_URL: 'postgres://unused' }), DATABASE_URL: undefined }
    await expect(resolveDatabase(config, () => {})).rejects.toThrow(/DATABASE_URL is required in production/)
  })

  it('prepareDatabase never seeds the demo accounts in production', async () => {
    const url = await createDatabaseFromTemplate(`${inject('dbPrefix')}_prodboot`)
    const config = { ...loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, AUDIT_CHAIN_KEY: SECRET, DATABASE_URL: url }), SEED_DEMO: true }
    await prepareDatabase(config, url, () => {})
    const client = new pg.Client(url)
    await client.connect()
    try {
      const r = await client.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [DEMO_ACCOUNTS.admin])
      expect(r.rows[0].n).toBe(0)
    } finally {
      await client.end()
    }
  })
})
