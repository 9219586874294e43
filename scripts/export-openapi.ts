// Writes the generated OpenAPI document to a file (for Redocly lint and for publishing), building
// the app without a database connection being used.
import { writeFile } from 'node:fs/promises'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const out = process.argv[2] ?? 'openapi.json'
const config = loadConfig({}, { NODE_ENV: 'test', LOG_LEVEL: 'silent', RATE_LIMIT_ENABLED: false, MAX_EVENT_LOOP_DELAY_MS: 0 })
const app = await buildApp({ config, connectionString: 'postgres://unused@127.0.0.1:1/unused', logger: false })
try { await app.ready() } catch { /* no database needed to describe the routes */ }
await writeFile(out, JSON.stringify(app.swagger(), null, 2))
await app.close().catch(() => {})
console.log(`wrote ${out}`)
