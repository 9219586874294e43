// npm run db:seed — migrates, then loads the demo dataset (idempotent).
import { loadConfig } from '../config.js'
import { prepareDatabase, resolveDatabase } from '../runtime.js'

const config = loadConfig(process.env, { SEED_DEMO: true })
const database = await resolveDatabase(config, console.log)
try {
  await prepareDatabase(config, database.url, console.log)
} finally {
  await database.embedded?.stop()
}
