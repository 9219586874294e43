// config → (embedded PostgreSQL if no DATABASE_URL) → migrate → buildApp → listen → warm-up (then
// ready: /health/ready answers 503 until the route schemas left are compiled), and a graceful
// shutdown: drain (readiness 503, every response closes its connection, at most
// SHUTDOWN_DRAIN_MS), stop accepting, finish in-flight requests (new ones get 503), seal the audit
// chain, close the pool and the embedded database, exit.
import closeWithGrace from 'close-with-grace'
import { ConfigError, loadConfig, type Config } from './config.js'
import { buildApp } from './app.js'
import { prepareDatabase, resolveDatabase, shouldSeedDemo, type Database } from './runtime.js'
import { usesPrettyLogs } from './plugins/request-log.js'
import { compilePending } from './lib/lazy-compile.js'
import type { App } from './lib/route.js'

async function main (): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) { console.error(err.message); process.exit(78) }
    throw err
  }
  // start-up progress, each step with its time (the line's stamp: seconds since the process
  // started): plain lines next to pretty logs, JSON lines like the logs everywhere else
  const pretty = usesPrettyLogs(config)
  const say = (msg: string): void => {
    if (config.LOG_LEVEL === 'silent') return
    console.log(pretty ? `[${(performance.now() / 1000).toFixed(1).padStart(5)} s] ${msg}` : JSON.stringify({ level: 30, time: Date.now(), msg }))
  }
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
    // readiness waits for the warm-up from before the first connection; liveness answers at once
    app.warmup.expect()
    const address = await app.listen({ host: config.HOST, port: config.PORT })
    const base = address.replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost')
    say(`Gestion Emballages API listening on ${base} (in ${(performance.now() / 1000).toFixed(1)} s)`)
    for (const line of await startupHints(config, base, database)) say(line)
    warmUp(app, warmup.signal, say)
  } catch (err) {
    await database.embedded?.stop()
    throw err
  }
}

/**
 * After listen, in the background: compiles the route validators and serializers left (one per
 * macrotask, so the requests that do arrive — probes, a developer's first call — are served
 * meanwhile), then readiness turns 200. A schema that fails to compile is logged and skipped, and
 * the instance turns ready all the same: it must never stay unready forever because of one route,
 * which then fails on its first request as it would have before the warm-up existed.
 */
function warmUp (app: App, signal: AbortSignal, say: (msg: string) => void): void {
  const t0 = performance.now()
  app.warmup.run(async () => await compilePending({ signal, onError: err => { app.log.error({ err }, 'a route schema failed to compile') } }))
    .then(n => {
      if (!signal.aborted) say(`Warmed up, ready for traffic: ${n} route schemas compiled in ${((performance.now() - t0) / 1000).toFixed(1)} s (ready in ${(performance.now() / 1000).toFixed(1)} s)`)
    })
    .catch((err: unknown) => { app.log.error({ err }, 'the warm-up failed; ready all the same') })
}

/** What a developer needs next: the docs, the demo accounts, the embedded database's URL. */
async function startupHints (config: Config, base: string, database: Database): Promise<string[]> {
  const lines = [`API docs: ${base}/docs (the OpenAPI document: ${base}/openapi.json)`]
  if (shouldSeedDemo(config)) {
    const { DEMO_ACCOUNTS, DEMO_PASSWORD } = await import('../db/seed/demo.js')
    lines.push(`Demo accounts, password ${DEMO_PASSWORD}: ${Object.values(DEMO_ACCOUNTS).join(', ')} (the station and supplier accounts: README.md, Demo accounts)`)
  }
  if (database.embedded !== undefined) {
    const url = new URL(database.embedded.url)
    url.pathname = new URL(database.url).pathname
    lines.push(`Embedded PostgreSQL: ${url.toString()} (superuser; data in ${database.embedded.dataDir}; the port changes at each start unless EMBEDDED_PG_PORT is set)`)
  }
  return lines
}

main().catch(err => {
  // a start that cannot succeed and says what to do (embedded.ts) needs no stack trace
  if (err instanceof Error && err.name === 'EmbeddedPostgresError') console.error(err.message)
  else console.error(err)
  process.exit(1)
})
