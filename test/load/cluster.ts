// `--workers N`: a bench-only cluster entry. The primary forks N workers that each run the
// service's own entry point (src/server.ts, or dist/src/server.js with --runtime dist) sharing the
// listening port; the service itself stays single-process. The primary restarts nothing: a dying
// worker fails the benchmark loudly instead of being hidden.
import cluster from 'node:cluster'
import { availableParallelism } from 'node:os'

const workers = Math.max(1, Math.min(64, Number(process.env.BENCH_WORKERS ?? availableParallelism())))
const entry = process.env.BENCH_SERVER_ENTRY ?? 'src/server.ts'
const execArgv = (process.env.BENCH_WORKER_EXEC_ARGV ?? '').split(' ').filter(a => a !== '')

if (cluster.isPrimary) {
  cluster.setupPrimary({ exec: entry, execArgv })
  let alive = 0
  for (let i = 0; i < workers; i++) { cluster.fork(); alive++ }
  let stopping = false
  cluster.on('exit', (w, code, signal) => {
    alive--
    if (!stopping) console.error(`worker ${w.process.pid ?? '?'} exited (${code ?? signal ?? '?'})`)
    if (alive === 0) process.exit(stopping ? 0 : 1)
  })
  const stop = (): void => {
    stopping = true
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM')
    setTimeout(() => process.exit(0), 15_000).unref()
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}
