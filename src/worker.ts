// `npm run worker`: the background work as its own process — the job queue's runner (webhook
// deliveries, retries, the cron sweeps), the outbox dispatcher and the audit sealer — for
// deployments that run the API with WORKER_MODE=off (or simply more workers). Any number may run
// at once: the queue runs each job on one worker, a cron slot once, the dispatcher claims with
// SKIP LOCKED under its feed lock, the sealer under its advisory lock.
//
// It builds the same app as the server (so every domain registers its jobs exactly as in the API
// process) but serves no API: it does not listen, except, when WORKER_HTTP_PORT is set, for
// /health/live, /health/ready and /metrics (same access rules as the API's) for probes and the
// scraper. It needs DATABASE_URL (an embedded database belongs to the process that started it).
// SIGTERM/SIGINT: the queue stops taking jobs, in-flight deliveries finish (each bounded by
// WEBHOOK_TIMEOUT_MS), the audit chain is sealed once more, the pool closes.
import http from 'node:http'
import closeWithGrace from 'close-with-grace'
import { ConfigError, loadConfig } from './config.js'
import { buildApp } from './app.js'
import { prepareDatabase } from './runtime.js'

const PROBES = new Set(['/health/live', '/health/ready', '/metrics'])

async function main (): Promise<void> {
  let config
  try {
    config = loadConfig(process.env, { WORKER_MODE: 'in-process' })
  } catch (err) {
    if (err instanceof ConfigError) { console.error(err.message); process.exit(78) }
    throw err
  }
  if (config.DATABASE_URL === undefined) {
    console.error('npm run worker needs DATABASE_URL (the API started with the embedded database runs its worker in-process)')
    process.exit(78)
  }
  const say = (msg: string): void => { if (config.LOG_LEVEL !== 'silent') console.log(msg) }
  const running: { app?: Awaited<ReturnType<typeof buildApp>>, probes?: http.Server } = {}
  closeWithGrace({ delay: config.WEBHOOK_TIMEOUT_MS + 10_000 }, async ({ signal, err }) => {
    if (err !== undefined) console.error(err)
    else running.app?.log.info({ signal }, 'worker shutting down')
    running.probes?.close()
    await running.app?.close()
  })
  const direct = config.DATABASE_DIRECT_URL ?? config.DATABASE_URL
  await prepareDatabase(config, direct, say)
  const app = await buildApp({ config, connectionString: config.DATABASE_URL, directConnectionString: direct })
  running.app = app
  await app.ready()
  if (config.WORKER_HTTP_PORT !== undefined) {
    const probes = http.createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0] ?? ''
      if (req.method !== 'GET' || !PROBES.has(path)) { res.writeHead(404).end(); return }
      const headers = req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }
      app.inject({ method: 'GET', url: path, headers }).then(r => {
        res.writeHead(r.statusCode, { 'content-type': String(r.headers['content-type'] ?? 'text/plain') }).end(r.body)
      }, () => { res.writeHead(500).end() })
    })
    running.probes = probes
    await new Promise<void>(resolve => probes.listen(config.WORKER_HTTP_PORT, config.HOST, resolve))
  }
  say(`Gestion Emballages worker running (concurrency ${config.WORKER_CONCURRENCY})${config.WORKER_HTTP_PORT === undefined ? '' : `; probes and metrics on ${config.HOST}:${config.WORKER_HTTP_PORT}`}`)
}

main().catch(err => {
  console.error(err)
  process.exit(1)
})
