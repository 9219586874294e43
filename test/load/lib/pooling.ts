// The --scenario pooling pairs: what going through PgBouncer (transaction pooling, the service with
// DATABASE_PREPARED_STATEMENTS=false and DATABASE_DIRECT_URL direct) costs, measured as a same-run
// ratio between two FRESH service processes started the same way — one straight to PostgreSQL,
// one through PgBouncer 1.18 (the Debian package; test/cluster/pgbouncer.ts starts it, installing
// it when missing) — running the same load. Fresh both: the main bench service has run every
// earlier scenario (its heap, its JIT state, its prepared statements), a new process has not.
import { startPgBouncer } from '../../cluster/pgbouncer.js'
import { BENCH_METRICS_TOKEN, type RunningProcess } from './service.js'
import type { BenchContext } from './types.js'

/** server connections PgBouncer opens: the same as the direct service's pool (DATABASE_POOL_SIZE 10) */
export const POOLER_SIZE = 10

export async function startFreshService (ctx: BenchContext, via: 'direct' | 'pgbouncer'): Promise<{ service: RunningProcess, notes: string[], stop: () => Promise<void> }> {
  const bouncer = via === 'pgbouncer' ? await startPgBouncer({ target: ctx.databaseUrl, poolSize: POOLER_SIZE, log: ctx.log }) : undefined
  try {
    const service = await ctx.startService({
      workers: 1,
      name: `fresh service (${via})`,
      ...(bouncer !== undefined
        ? { databaseUrl: bouncer.url, extraEnv: { DATABASE_DIRECT_URL: ctx.databaseUrl, DATABASE_PREPARED_STATEMENTS: 'false' } }
        : {})
    })
    // its remaining route schemas compile in the background after it starts: not measured
    for (let i = 0; i < 240; i++) {
      const metrics = await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } }).then(async r => await r.text()).catch(() => '')
      if (/^schemas_pending_compilation 0$/m.test(metrics)) break
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    return {
      service,
      notes: [bouncer !== undefined
        ? `${bouncer.version}, pool_mode=transaction, default_pool_size=${POOLER_SIZE}; a fresh service process with DATABASE_PREPARED_STATEMENTS=false`
        : 'a fresh service process straight to PostgreSQL (named statements), started like the PgBouncer one'],
      stop: async () => { await service.stop(); await bouncer?.stop() }
    }
  } catch (err) {
    await bouncer?.stop()
    throw err
  }
}
