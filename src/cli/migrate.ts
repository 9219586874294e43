// npm run db:migrate — applies pending migrations (also usable as a one-shot container command).
import { loadConfig } from '../config.js'
import { prepareDatabase, resolveDatabase } from '../runtime.js'

const config = loadConfig(process.env, { SEED_DEMO: false })
const database = await resolveDatabase(config, console.log)
try {
  await prepareDatabase(config, database.url, console.log)
  console.log('Database is up to date')
} finally {
  await database.embedded?.stop()
}
