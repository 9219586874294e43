// The PostgreSQL job queue (graphile-worker) behind webhook deliveries, their retries and the cron
// sweeps. Jobs are rows in the `graphile_worker` schema: whoever enqueues one does it with SQL
// (`graphile_worker.add_jobs(…)`) in its own transaction, so a job exists exactly when the change
// that needs it committed. A job runs on one worker at a time (rows claimed with SKIP LOCKED),
// and a cron slot is scheduled once whatever the number of instances (known_crontabs).
//
// The schema is installed by the owner (prepareDatabase, like the migrations); the service's
// restricted role only uses it (grants: src/db/roles.ts), and its runner's start-up check then
// reads the schema's version and changes nothing.
import pg from 'pg'
import { sql, type Kysely } from 'kysely'
import type { JobHelpers, Logger, Runner, TaskList } from 'graphile-worker'

export type { JobHelpers }
export type QueueTask = (payload: unknown, helpers: JobHelpers) => Promise<void>

/** The subset of a pino logger the queue writes to. */
export interface QueueLog {
  error: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  info: (obj: object, msg: string) => void
  debug: (obj: object, msg: string) => void
}

// loaded when first used (a process that never starts the queue never evaluates it)
const library = async (): Promise<typeof import('graphile-worker')> => await import('graphile-worker')

/** graphile-worker's logger, writing to ours (its `warning` level is pino's `warn`). */
async function queueLogger (log: QueueLog): Promise<Logger> {
  const { Logger } = await library()
  return new Logger(scope => (level, message, meta) => {
    const obj = { queue: { ...scope, ...(meta ?? {}) } }
    if (level === 'error') log.error(obj, message)
    else if (level === 'warning') log.warn(obj, message)
    else if (level === 'info') log.info(obj, message)
    else log.debug(obj, message)
  })
}

/**
 * A connection that dies (PostgreSQL restarting, a terminated backend) emits 'error': on an idle
 * client the pool forwards it, on a checked-out one only the client's own listener hears it, and
 * an unheard 'error' ends the process. The query in flight fails on its own and is retried.
 */
function withErrorHandlers (pool: pg.Pool, onError: (err: Error) => void): void {
  pool.on('error', onError)
  pool.on('connect', client => {
    client.on('error', onError)
    idempotentRelease(client)
  })
}

/**
 * graphile-worker 0.17 releases its LISTEN client a second time when it shuts down after that
 * client's connection failed; pg-pool throws on a second release, from a promise nobody awaits (an
 * unhandled rejection ends the process). The client's `release`, set anew by the pool at each
 * checkout, ignores any call after the first.
 */
function idempotentRelease (client: pg.PoolClient): void {
  let current: pg.PoolClient['release'] | undefined
  Object.defineProperty(client, 'release', {
    configurable: true,
    get: () => current,
    set: (release: pg.PoolClient['release']) => {
      let done = false
      current = (err?: Error | boolean) => {
        if (done) return
        done = true
        release(err)
      }
    }
  })
}

/** Waits for `p` (its failure ignored), at most `ms`. */
async function settlesWithin (p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([p.catch(() => {}), new Promise<void>(resolve => { timer = setTimeout(resolve, ms) })])
  clearTimeout(timer)
}

/** Ends a pool, waiting at most `ms` for clients still checked out (a runner that died may never return one). */
async function endPool (pool: pg.Pool, ms: number): Promise<void> {
  await settlesWithin(pool.end(), ms)
}

/** A runner whose polling fails this long without a success is replaced (see startQueue). */
const POLL_FAILING_MS = 10_000

/** How long stop() waits for the runner's in-flight jobs (above the webhook timeout's 30 s maximum). */
const STOP_WAIT_MS = 35_000

const silent: QueueLog = { error () {}, warn () {}, info () {}, debug () {} }

/** Installs or upgrades the queue's schema (idempotent; run as the schema owner). */
export async function migrateQueue (connectionString: string, log: QueueLog = silent): Promise<void> {
  const pool = new pg.Pool({ connectionString, max: 1, application_name: 'gestion-emballages-api:migrate' })
  withErrorHandlers(pool, () => {})
  try {
    const { runMigrations } = await library()
    await runMigrations({ pgPool: pool, logger: await queueLogger(log) })
  } finally {
    await pool.end()
  }
}

/**
 * A cron pattern firing every `intervalMs` (rounded to whole minutes, the queue's resolution):
 * every n minutes within the hour, every n hours within the day, or daily.
 */
export function cronPattern (intervalMs: number): string {
  const minutes = Math.max(1, Math.round(intervalMs / 60_000))
  if (minutes === 1) return '* * * * *'
  if (minutes < 60) return `*/${minutes} * * * *`
  const hours = Math.round(minutes / 60)
  if (hours === 1) return '0 * * * *'
  if (hours < 24) return `0 */${hours} * * *`
  return '0 0 * * *'
}

/**
 * Unlocks the jobs of the given tasks held by workers that died with them: a worker that has held
 * its every lock for longer than `olderThanMs` (far beyond any run of these tasks) is gone — a
 * crash, or a runner ended by a connection loss while recording an outcome. Without this the jobs
 * wait out the queue's own 4 h lock expiry. Through the queue's admin function
 * (force_unlock_workers) and its jobs view.
 */
export async function unlockAbandonedJobs (db: Kysely<any>, tasks: readonly string[], olderThanMs: number): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    WITH dead AS (
      SELECT locked_by, count(*)::int AS n FROM graphile_worker.jobs
      WHERE locked_by IS NOT NULL AND task_identifier = ANY(${tasks}::text[])
      GROUP BY locked_by HAVING max(locked_at) < now() - make_interval(secs => ${olderThanMs / 1000})
    ), unlocked AS (
      SELECT graphile_worker.force_unlock_workers(array_agg(locked_by)) FROM dead HAVING count(*) > 0
    )
    SELECT (SELECT coalesce(sum(n), 0)::int FROM dead) AS n, (SELECT count(*)::int FROM unlocked) AS calls`.execute(db)
  return rows[0]?.n ?? 0
}

export interface CronItemSpec {
  /** the task's identifier (also the cron item's) */
  identifier: string
  pattern: string
}

export interface QueueOptions {
  connectionString: string
  concurrency: number
  pollMs: number
  connectTimeoutMs: number
  log: QueueLog
  tasks: TaskList
  cron: CronItemSpec[]
}

export interface Queue {
  runner: Runner
  pool: pg.Pool
  /** settles when the runner ends by itself (after a fatal error), never after stop() */
  ended: Promise<unknown>
  /** removes jobs that used up their attempts (they stay visible until then for inspection) */
  deletePermanentlyFailed: () => Promise<void>
  stop: () => Promise<void>
}

/** Starts a runner (its own small pool: one LISTEN connection plus the job queries). */
export async function startQueue (opts: QueueOptions): Promise<Queue> {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.concurrency + 2,
    connectionTimeoutMillis: opts.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'gestion-emballages-api:worker'
  })
  withErrorHandlers(pool, err => { opts.log.warn({ err: err.message }, 'queue connection lost') })
  try {
    const { makeWorkerUtils, parseCronItems, run } = await library()
    const logger = await queueLogger(opts.log)
    const runner = await run({
      pgPool: pool,
      concurrency: opts.concurrency,
      pollInterval: opts.pollMs,
      noHandleSignals: true,
      logger,
      // completions and failures recorded through graphile-worker's batcher: a failure to record one
      // (the database gone) reaches its error handler — logged, the runner ends and is restarted
      // (src/plugins/jobs.ts) — where the unbatched path would leave an unhandled rejection
      preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
      taskList: opts.tasks,
      // no retries (the next slot runs it again), no backfill of slots missed while no worker
      // ran; no serial queue either (a worker dying with the job would hold the queue for the 4 h
      // lock expiry): the sweeps are idempotent set-based statements, an overlap is harmless
      parsedCronItems: parseCronItems(opts.cron.map(c => ({
        task: c.identifier,
        identifier: c.identifier,
        match: c.pattern,
        options: { backfillPeriod: 0, maxAttempts: 1 }
      })))
    })
    let stopped = false
    let ended = false
    let stopping: Promise<void> | undefined
    // The runner counts as ended (and is replaced: src/plugins/jobs.ts) when it can take no job
    // any more, which graphile-worker 0.17 (and 0.18) does not always end by itself:
    // - it shuts itself down (it could not record a job's outcome: the connection died) — from
    //   that moment, not when its promise settles: under repeated connection losses the graceful
    //   shutdown completes and the termination can hang for good;
    // - its task list lookup failed: the lookup is a promise cached for the runner's life, a
    //   rejected one included, so every later poll fails with that same error object and no job
    //   is ever taken (seen when a connection was terminated during the runner's first poll);
    // - polling has failed for longer than POLL_FAILING_MS without a success.
    const broken = new Promise<unknown>(resolve => {
      const end = (err: Error): void => { if (!stopped) resolve(err) }
      runner.events.on('pool:gracefulShutdown', ({ message }) => { end(new Error(message)) })
      const seen = new WeakSet<Error>()
      let failingSince: number | undefined
      runner.events.on('worker:getJob:error', ({ error }) => {
        const err = error instanceof Error ? error : new Error(String(error))
        if (seen.has(err)) { end(new Error(`job polling keeps failing with one cached error: ${err.message}`)); return }
        seen.add(err)
        failingSince ??= Date.now()
        if (Date.now() - failingSince > POLL_FAILING_MS) end(new Error(`job polling failing for ${POLL_FAILING_MS} ms: ${err.message}`))
      })
      const ok = (): void => { failingSince = undefined }
      runner.events.on('worker:getJob:empty', ok)
      runner.events.on('job:start', ok)
    })
    return {
      runner,
      pool,
      ended: Promise.race([runner.promise.then(err => err, (err: unknown) => err), broken]).then(async result => {
        ended = true
        if (stopped) return await new Promise(() => {})
        return result
      }),
      deletePermanentlyFailed: async () => {
        const utils = await makeWorkerUtils({ pgPool: pool, logger })
        try { await utils.cleanup({ tasks: ['DELETE_PERMAFAILED_JOBS'] }) } finally { await utils.release() }
      },
      stop: async () => {
        if (stopping === undefined) {
          stopped = true
          // in-flight jobs finish (each bounded by its own timeout); a runner whose end hangs
          // (above) is left behind after STOP_WAIT_MS: its jobs are freed by unlockAbandonedJobs
          stopping = (async () => {
            if (!ended) await settlesWithin(runner.stop(), STOP_WAIT_MS)
            await endPool(pool, 2000)
          })()
        }
        await stopping
      }
    }
  } catch (err) {
    await endPool(pool, 2000)
    throw err
  }
}
