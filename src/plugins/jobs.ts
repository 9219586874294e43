// Periodic background work inside the API process: the audit sealer, the idempotency-key sweep and
// domain sweeps registered by domain plugins (`app.jobs.add`). Each job runs single-flight per
// process; jobs that must run once across instances take an advisory lock themselves. Errors are
// logged and retried on the next tick (a database outage must not crash the process). On close,
// jobs stop and each gets one final run (so the audit chain is sealed at shutdown).
import fp from 'fastify-plugin'
import { sql } from 'kysely'
import { ChainRewoundError, sealPending, type SealAnchor } from '../domains/audit/audit.service.js'

export interface Job {
  name: string
  intervalMs: number
  run: () => Promise<unknown>
  runOnClose?: boolean
}

export interface Jobs {
  add: (job: Job) => void
  /** runs a job now (and waits for it); used at shutdown and by tests */
  runNow: (name: string) => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance { jobs: Jobs }
}

export default fp(async function jobsPlugin (app) {
  const jobs = new Map<string, Job>()
  const timers = new Map<string, NodeJS.Timeout>()
  const running = new Map<string, Promise<void>>()
  const failing = new Map<string, number>()
  let started = false
  let stopped = false

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

  app.decorate('jobs', {
    add (job: Job) {
      jobs.set(job.name, job)
      if (started) schedule(job)
    },
    async runNow (name: string) {
      const job = jobs.get(name)
      if (job === undefined) return
      await running.get(name)
      await runOnce(job)
    }
  })

  const sealerMemory: { last?: SealAnchor } = {}
  app.jobs.add({
    name: 'audit-sealer',
    intervalMs: app.conf.AUDIT_SEAL_INTERVAL_MS,
    runOnClose: true,
    run: async () => {
      // drain in batches so a burst is sealed within about one interval
      const before = sealerMemory.last
      try {
        for (let i = 0; i < 20; i++) if (await sealPending(app.db, app.conf.auditChainKeys, 2000, sealerMemory) < 2000) break
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
    for (const job of jobs.values()) schedule(job)
  })
  app.addHook('preClose', async () => {
    stopped = true
    for (const t of timers.values()) clearTimeout(t)
  })
  // after in-flight requests have finished, before the pool closes
  app.addHook('onClose', async () => {
    await Promise.all([...running.values()])
    for (const job of jobs.values()) if (job.runOnClose === true) await runOnce(job)
  })
}, { name: 'jobs' })
