// config → (embedded PostgreSQL if no DATABASE_URL) → migrate → buildApp → listen, and a graceful
// shutdown: drain (readiness 503, every response closes its connection, at most
// SHUTDOWN_DRAIN_MS), stop accepting, finish in-flight requests (new ones get 503), seal the audit
// chain, close the pool and the embedded database, exit.
import closeWithGrace from 'close-with-grace'
import { ConfigError, loadConfig } from './config.js'
import { buildApp } from './app.js'
import { prepareDatabase, resolveDatabase, type Database } from './runtime.js'
import { compilePending } from './lib/lazy-compile.js'

async function main (): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) { console.error(err.message); process.exit(78) }
    throw err
  }
  const say = (msg: string): void => { if (config.LOG_LEVEL !== 'silent') console.log(msg) }
  // Signals are handled from the start, in order: stop accepting and finish in-flight requests,
  // seal the audit chain and close the pool (app.close), then stop the embedded database.
  let app: Awaited<ReturnType<typeof buildApp>> | undefined
  const started: { database?: Database } = {}
  const warmup = new AbortController()
  // The grace covers the drain window plus in-flight work, the final seal and the pool's close.
  closeWithGrace({ delay: config.SHUTDOWN_DRAIN_MS + 10_000 }, async ({ signal, err }) => {
    warmup.abort()
    if (err !== undefined) {
      if (app !== undefined) app.log.error({ err }, 'shutting down after an error')
      else console.error(err)
    } else app?.log.info({ signal }, 'shutting down')
    if (app !== undefined && err === undefined) {
      const drained = await app.drain(config.SHUTDOWN_DRAIN_MS)
      app.log.info(drained, 'connections drained')
    }
    await app?.close()
    await started.database?.embedded?.stop()
  })
  const database = await resolveDatabase(config, say, { ownSignals: true })
  started.database = database
  try {
    // migrations, grants and the bootstrap admin need a session (advisory locks, named
    // statements): the direct connection when DATABASE_URL goes through a transaction pooler
    const direct = config.DATABASE_DIRECT_URL ?? database.url
    await prepareDatabase(config, direct, say)
    app = await buildApp({ config, connectionString: database.url, directConnectionString: direct })
    const address = await app.listen({ host: config.HOST, port: config.PORT })
    const base = address.replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost')
    say(`Gestion Emballages API listening on ${base} — API docs: ${base}/docs`)
    // Ready first, then compile the remaining validators/serializers without blocking requests.
    const t0 = performance.now()
    const ready = app
    compilePending({ signal: warmup.signal })
      .then(n => { ready.log.debug({ schemas: n, ms: Math.round(performance.now() - t0) }, 'schemas compiled in the background') })
      .catch((err: unknown) => { ready.log.error({ err }, 'a route schema failed to compile') })
  } catch (err) {
    await database.embedded?.stop()
    throw err
  }
}

main().catch(err => {
  console.error(err)
  process.exit(1)
})
