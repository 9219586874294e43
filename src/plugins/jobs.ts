// Background work. Three kinds, each where it belongs:
// - sub-minute loops in every process (`add` with intervalMs < 60 s): the audit sealer (every
//   300 ms, below any queue's cron resolution; single across instances through its advisory lock,
//   with its anchor memory in the process; it runs once more at shutdown — `runOnClose`);
// - the job queue (graphile-worker, src/lib/queue.ts), where the worker runs: queue tasks
//   (`task`: webhook deliveries and their retries, enqueued by SQL in the enqueuing transaction)
//   and periodic sweeps (`add` with intervalMs ≥ 60 s: the idempotency-key sweep, contract expiry,
//   auth and document sweeps, the outbox purge), turned into cron items that run once per slot
//   across all instances;
// - loops that run only where the worker runs (`workerLoop`): the outbox dispatcher, which polls
//   every few hundred milliseconds (a mutation's transaction must not NOTIFY or enqueue; README).
// The worker runs in the API process (WORKER_MODE=in-process, the default) and in `npm run worker`
// processes; WORKER_MODE=off leaves it to the latter. Loops run single-flight per process; errors
// are logged once per run of failures and retried on the next tick (a database outage must not
// crash the process). On close, loops and the queue stop, in-flight work finishes, and `runOnClose`
// jobs get one final run (so the audit chain is sealed at shutdown).
import fp from 'fastify-plugin'
import { sql } from 'kysely'
import { ChainRewoundError, hasUnsealed, sealPending, type SealAnchor } from '../domains/audit/audit.service.js'
import { cronPattern, startQueue, type Queue, type QueueTask } from '../lib/queue.js'

export interface Job {
  name: string
  intervalMs: number
  run: () => Promise<unknown>
  runOnClose?: boolean
}

export interface Jobs {
  /** periodic work: under a minute a loop in every process, else a cron sweep of the worker (see above) */
  add: (job: Job) => void
  /** a queue task, run by the worker; enqueued with graphile_worker.add_job(s) */
  task: (identifier: string, run: QueueTask) => void
  /** a loop that runs only where the worker runs */
  workerLoop: (job: Job) => void
  /** runs a job now (and waits for it); used at shutdown and by tests */
  runNow: (name: string) => Promise<void>
  /** true when this process runs the worker (WORKER_MODE=in-process) */
  readonly workerEnabled: boolean
  /** the queue, once this process's worker has started */
  queue: () => Queue | undefined
}

declare module 'fastify' {
  interface FastifyInstance { jobs: Jobs }
}

export interface JobsOptions {
  /** the service's connection string: the queue runner opens its own small pool */
  connectionString: string
}

/** Periodic jobs of at least this interval are cron sweeps of the queue. */
const CRON_MIN_INTERVAL_MS = 60_000

export default fp<JobsOptions>(async function jobsPlugin (app, opts) {
  const conf = app.conf
  const workerEnabled = conf.WORKER_MODE === 'in-process'
  const all = new Map<string, Job>()
  const loops = new Map<string, Job>()
  const workerLoops = new Map<string, Job>()
  const crons = new Map<string, Job>()
  const tasks = new Map<string, QueueTask>()
  const timers = new Map<string, NodeJS.Timeout>()
  const running = new Map<string, Promise<void>>()
  const failing = new Map<string, number>()
  let started = false
  let stopped = false
  let queue: Queue | undefined
  /** runners that ended by themselves, still stopping */
  const retiring = new Set<Queue>()
  let queueStarting: Promise<void> | undefined
  let loopsStarted = false

  const runOnce = async (job: Job): Promise<void> => {
    const current = running.get(job.name)
    if (current !== undefined) { await current; return }
    const p = (async () => {
      try {
        await job.run()
        const n = failing.get(job.name)
        if (n !== undefined) { failing.delete(job.name); app.log.info({ job: job.name, failedRuns: n }, 'background job recovered') }
      } catch (err) {
        // one warning per run of failures (a database outage fails every tick until it ends)
        const n = failing.get(job.name) ?? 0
        failing.set(job.name, n + 1)
        if (n === 0) app.log.warn({ err, job: job.name }, 'background job failed; retried every tick')
      }
    })()
    running.set(job.name, p)
    try { await p } finally { running.delete(job.name) }
  }
  const schedule = (job: Job): void => {
    if (stopped) return
    const t = setTimeout(() => { void runOnce(job).finally(() => schedule(job)) }, job.intervalMs)
    t.unref()
    timers.set(job.name, t)
  }

  const startWorker = async (): Promise<void> => {
    let failures = 0
    for (;;) {
      if (stopped || queue !== undefined) break
      try {
        queue = await startQueue({
          connectionString: opts.connectionString,
          concurrency: conf.WORKER_CONCURRENCY,
          pollMs: conf.WORKER_POLL_MS,
          connectTimeoutMs: conf.DATABASE_CONNECT_TIMEOUT_MS,
          log: app.log,
          tasks: Object.fromEntries([
            ...tasks,
            ...[...crons.values()].map(job => [`cron:${job.name}`, async () => { await runOnce(job) }] as const)
          ]),
          cron: [...crons.values()].map(job => ({ identifier: `cron:${job.name}`, pattern: cronPattern(job.intervalMs) }))
        })
        if (failures > 0) app.log.info({ attempts: failures }, 'job queue started')
        // a runner that ends by itself (it could not record a job's outcome: the database went
        // away) is replaced by a new one at once (which starts when the database answers again),
        // while the old one finishes its in-flight jobs, if any, and closes its pool
        const current = queue
        void current.ended.then(err => {
          if (stopped || queue !== current) return
          app.log.warn({ err }, 'job queue runner ended; restarting it')
          queue = undefined
          retiring.add(current)
          void current.stop().finally(() => retiring.delete(current))
          queueStarting = startWorker()
        })
      } catch (err) {
        if (failures++ === 0) app.log.warn({ err }, 'job queue could not start; retrying every second')
        await new Promise(resolve => setTimeout(resolve, 1000).unref())
      }
    }
    if (stopped) { await queue?.stop(); return }
    if (!loopsStarted) {
      loopsStarted = true
      for (const job of workerLoops.values()) schedule(job)
    }
  }

  app.decorate('jobs', {
    add (job: Job) {
      all.set(job.name, job)
      if (job.intervalMs < CRON_MIN_INTERVAL_MS || job.runOnClose === true) {
        loops.set(job.name, job)
        if (started) schedule(job)
      } else {
        if (started && workerEnabled) throw new Error(`jobs.add(${job.name}): cron sweeps are registered before the app is ready`)
        crons.set(job.name, job)
      }
    },
    task (identifier: string, run: QueueTask) {
      if (started && workerEnabled) throw new Error(`jobs.task(${identifier}): queue tasks are registered before the app is ready`)
      tasks.set(identifier, run)
    },
    workerLoop (job: Job) {
      all.set(job.name, job)
      workerLoops.set(job.name, job)
      if (loopsStarted) schedule(job)
    },
    async runNow (name: string) {
      const job = all.get(name)
      if (job === undefined) return
      await running.get(name)
      await runOnce(job)
    },
    workerEnabled,
    queue: () => queue
  })

  const sealerMemory: { last?: SealAnchor } = {}
  // while nothing was sealed last time, a tick first probes the queue (one statement) instead of
  // opening the locked sealing transaction (three round trips) to find it empty
  let sealerIdle = false
  app.jobs.add({
    name: 'audit-sealer',
    intervalMs: conf.AUDIT_SEAL_INTERVAL_MS,
    runOnClose: true,
    run: async () => {
      if (sealerIdle && !await hasUnsealed(app.db)) return
      // drain in batches so a burst is sealed within about one interval
      const before = sealerMemory.last
      let sealed = 0
      try {
        for (let i = 0; i < 20; i++) {
          const n = await sealPending(app.db, conf.auditChainKeys, 2000, sealerMemory)
          sealed += n
          if (n < 2000) break
        }
        sealerIdle = sealed === 0
      } catch (err) {
        if (err instanceof ChainRewoundError) app.log.error({ err }, 'the audit chain was cut back or rewritten under the sealer; sealing stopped')
        throw err
      }
      // the head, logged: an anchor outside the database for GET /v1/audit-events/verify?anchor=
      if (sealerMemory.last !== undefined && sealerMemory.last !== before) app.log.info({ auditChainHead: `${sealerMemory.last.seq}:${sealerMemory.last.hash}` }, 'audit chain sealed')
    }
  })
  app.jobs.add({
    name: 'idempotency-sweep',
    intervalMs: 10 * 60_000,
    run: async () => await sql`DELETE FROM idempotency_keys WHERE expires_at < now()`.execute(app.db)
  })

  app.addHook('onReady', async () => {
    started = true
    for (const job of loops.values()) schedule(job)
    // in the background: readiness never waits for the queue, and a database that is down at boot
    // delays the worker, not the service
    if (workerEnabled) queueStarting = startWorker()
  })
  app.addHook('preClose', async () => {
    stopped = true
    for (const t of timers.values()) clearTimeout(t)
    // in-flight deliveries finish (each bounded by WEBHOOK_TIMEOUT_MS); nothing new starts
    await queueStarting
    await Promise.all([queue?.stop(), ...[...retiring].map(async q => { await q.stop() })])
  })
  // after in-flight requests have finished, before the pool closes
  app.addHook('onClose', async () => {
    await Promise.all([...running.values()])
    for (const job of loops.values()) if (job.runOnClose === true) await runOnce(job)
  })
}, { name: 'jobs' })
