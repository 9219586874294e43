// The multi-instance suite's tools: PostgreSQL (the machine's at 127.0.0.1:5432 when it answers, a
// database of its own dropped at the end; else a private embedded cluster from the reliability
// harness), PgBouncer in transaction mode in front of it (./pgbouncer.ts), Redis (a private
// redis-server the suite may kill and restart, when the binary exists; else the machine's through
// a proxy the suite can cut), and service instances — the built dist/server.mjs, each with
// DATABASE_URL through PgBouncer, DATABASE_DIRECT_URL direct, DATABASE_PREPARED_STATEMENTS=false,
// REDIS_URL, one shared JWT secret and audit chain key.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { connect } from 'node:net'
import pg from 'pg'
import { freePort } from '../../src/db/embedded.js'
import { FaultyProxy, JWT_SECRET, SERVER_ENTRY, sleep, TestPostgres, waitFor, type Service } from '../reliability/harness.js'
import { startPgBouncer, type PgBouncer } from './pgbouncer.js'

export const log = (m: string): void => { process.stderr.write(`[cluster] ${m}\n`) }

async function reachable (port: number, host = '127.0.0.1'): Promise<boolean> {
  return await new Promise(resolve => {
    const s = connect(port, host, () => { s.destroy(); resolve(true) })
    s.on('error', () => { resolve(false) })
    s.setTimeout(500, () => { s.destroy(); resolve(false) })
  })
}

// ---- PostgreSQL ---------------------------------------------------------------------------------

export interface ClusterDb {
  kind: 'machine' | 'embedded'
  /** the direct URL of the suite's database */
  url: string
  query: <T extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<T[]>
  stop: () => Promise<void>
}

export async function startDatabase (): Promise<ClusterDb> {
  const machine = process.env.CLUSTER_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  let admin: pg.Client | undefined
  if (process.env.CLUSTER_PG_EMBEDDED !== 'true' && await reachable(Number(new URL(machine).port || 5432), new URL(machine).hostname)) {
    admin = new pg.Client({ connectionString: machine, connectionTimeoutMillis: 2000 })
    try { await admin.connect() } catch { admin = undefined }
  }
  let kind: ClusterDb['kind']
  let url: string
  let stop: () => Promise<void>
  if (admin !== undefined) {
    const name = `ge_cluster_${randomBytes(4).toString('hex')}`
    await admin.query(`CREATE DATABASE ${name}`)
    const u = new URL(machine)
    u.pathname = `/${name}`
    kind = 'machine'
    url = u.toString()
    const a = admin
    stop = async () => {
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((err: Error) => { log(`drop ${name}: ${err.message}`) })
      await a.end()
    }
  } else {
    const db = await TestPostgres.start()
    kind = 'embedded'
    url = db.url
    stop = async () => { await db.stop() }
  }
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'cluster-suite' })
  pool.on('error', () => {})
  return {
    kind,
    url,
    query: async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) => (await pool.query<T>(text, values)).rows,
    stop: async () => { await pool.end(); await stop() }
  }
}

// ---- Redis --------------------------------------------------------------------------------------

export interface ClusterRedis {
  kind: 'private' | 'machine'
  url: string
  /** Redis stops answering (the private server is killed; the machine's is cut off at the proxy) */
  down: () => Promise<void>
  up: () => Promise<void>
  stop: () => Promise<void>
}

export async function startRedis (): Promise<ClusterRedis | undefined> {
  const binary = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(p => existsSync(p)) ??
    (spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim() || undefined)
  if (binary !== undefined) {
    const port = await freePort()
    let child: ChildProcess | undefined
    const launch = async (): Promise<void> => {
      child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: 'ignore' })
      await waitFor('redis-server to listen', async () => await reachable(port), 10_000, 20)
    }
    const kill = async (): Promise<void> => {
      const c = child
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) return
      const gone = new Promise(resolve => c.once('exit', resolve))
      c.kill('SIGKILL')
      await gone
    }
    await launch()
    return { kind: 'private', url: `redis://127.0.0.1:${port}`, down: kill, up: launch, stop: kill }
  }
  if (!await reachable(6379)) return undefined
  const proxy = await FaultyProxy.start(6379)
  return {
    kind: 'machine',
    url: `redis://127.0.0.1:${proxy.port}`,
    down: async () => { proxy.setMode({ kind: 'reset' }) },
    up: async () => { proxy.setMode({ kind: 'pass' }) },
    stop: async () => { await proxy.close() }
  }
}

// ---- service instances --------------------------------------------------------------------------

export interface Instance extends Service { name: string }

export interface ClusterEnv {
  db: ClusterDb
  bouncer: PgBouncer
  redis: ClusterRedis | undefined
  /** the environment every instance shares (secrets, URLs, limits) */
  env: Record<string, string>
}

export async function startCluster (): Promise<ClusterEnv> {
  const db = await startDatabase()
  log(`PostgreSQL: ${db.kind} (${new URL(db.url).host}${new URL(db.url).pathname})`)
  const bouncer = await startPgBouncer({ target: db.url, poolSize: 12, log })
  const redis = await startRedis()
  log(redis === undefined ? 'Redis: none reachable (rate limits per instance)' : `Redis: ${redis.kind} (${redis.url})`)
  const env: Record<string, string> = {
    DATABASE_DIRECT_URL: db.url,
    DATABASE_PREPARED_STATEMENTS: 'false',
    DATABASE_POOL_SIZE: '8',
    ...(redis !== undefined ? { REDIS_URL: redis.url } : {}),
    RATE_LIMIT_ENABLED: 'true',
    RATE_LIMIT_MAX: '1000000',
    // above the default 100 ms: the suite's machine is a loaded 2-core box, where a late answer is
    // more often the event loop's delay than Redis's
    REDIS_TIMEOUT_MS: '250',
    TRUST_PROXY: 'true',
    // every instance signs, verifies and seals with the same keys
    AUDIT_CHAIN_KEY: randomBytes(32).toString('base64url'),
    AUDIT_CHAIN_KEY_ID: 'cluster',
    SHUTDOWN_DRAIN_MS: '2000',
    WORKER_CONCURRENCY: '1',
    LOG_LEVEL: 'warn'
  }
  return { db, bouncer, redis, env }
}

/**
 * Starts the built server as the reliability harness does (same environment: NODE_ENV=development,
 * the harness's JWT secret, demo seed) and waits until it answers readiness, as a load balancer
 * would (readiness waits for the warm-up after listen: the route schemas are compiled by then).
 */
export async function startInstance (c: ClusterEnv, name: string, extra: Record<string, string> = {}): Promise<Instance> {
  if (!existsSync(SERVER_ENTRY)) throw new Error('dist/server.mjs is missing: run `npm run build` (npm run test:cluster does)')
  const port = await freePort()
  const env: Record<string, string | undefined> = {
    ...process.env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: c.bouncer.url,
    JWT_SECRET,
    LOG_REQUESTS: 'false',
    SEED_DEMO: 'true',
    ...c.env,
    ...extra
  }
  delete env.TEST_DATABASE_URL
  const child = spawn(process.execPath, ['--max-old-space-size=256', SERVER_ENTRY], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => child.once('exit', (code, signal) => { resolve({ code, signal }) }))
  const base = `http://127.0.0.1:${port}`
  const instance: Instance = { name, base, port, child, output: () => out, exited, alive: () => child.exitCode === null && child.signalCode === null }
  await waitFor(`${name} ready`, async () => {
    if (!instance.alive()) throw new Error(`${name} exited during start:\n${out}`)
    const r = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(1000) })
    await r.arrayBuffer()
    return r.status === 200
  }, 180_000, 50).catch((err: unknown) => { throw instance.alive() ? err : new Error(`${name} exited during start:\n${out}`) })
  return instance
}

export async function metric (base: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text()
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)
  return m === null ? undefined : Number(m[1])
}

// ---- who holds the sealer's lock ----------------------------------------------------------------

/** src/domains/audit/audit.service.ts SEALER_LOCK (pg_try_advisory_xact_lock(7310001)) */
export const SEALER_LOCK = 7_310_001

// pg_locks is the whole server's: other databases on it run their own sealers
const SEALER_LOCK_ROWS = `l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = 0 AND l.objid = ${SEALER_LOCK} AND l.objsubid = 1 AND l.granted`

/** The backend holding the sealer's transaction-level advisory lock now, with its client port (PgBouncer's side). */
export async function sealerHolder (db: ClusterDb): Promise<{ pid: number, port: number } | undefined> {
  const rows = await db.query<{ pid: number, port: number }>(`
    SELECT l.pid, a.client_port AS port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE ${SEALER_LOCK_ROWS}`)
  return rows[0]
}

/** How many backends of this database hold the sealer's lock now (PostgreSQL allows one). */
export async function sealerHolders (db: ClusterDb): Promise<number> {
  const rows = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks l WHERE ${SEALER_LOCK_ROWS}`)
  return rows[0]?.n ?? 0
}

/**
 * Which instance a PostgreSQL backend works for, through PgBouncer: the backend's client port is
 * PgBouncer's server-side socket (SHOW SERVERS local_port), linked to a client (SHOW CLIENTS ptr),
 * whose address is the instance's own socket — found among the instance processes' descriptors.
 */
export async function instanceOfBackend (bouncer: PgBouncer, backendPort: number, instances: Instance[]): Promise<Instance | undefined> {
  const admin = new pg.Client({ host: '127.0.0.1', port: bouncer.port, user: 'postgres', database: 'pgbouncer' })
  await admin.connect()
  let clientPort: number | undefined
  try {
    const servers = (await admin.query<{ local_port: string, link: string }>('SHOW SERVERS')).rows
    const link = servers.find(s => Number(s.local_port) === backendPort)?.link
    if (link === undefined || link === '') return undefined
    const clients = (await admin.query<{ ptr: string, port: string }>('SHOW CLIENTS')).rows
    const port = clients.find(c => c.ptr === link)?.port
    clientPort = port === undefined ? undefined : Number(port)
  } finally { await admin.end() }
  if (clientPort === undefined) return undefined
  const inode = socketInode(clientPort, bouncer.port)
  if (inode === undefined) return undefined
  return instances.find(i => i.alive() && i.child.pid !== undefined && ownsSocket(i.child.pid, inode))
}

function socketInode (localPort: number, remotePort: number): string | undefined {
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try { text = readFileSync(file, 'utf8') } catch { continue }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length < 10) continue
      const lp = parseInt((f[1] ?? '').split(':')[1] ?? '', 16)
      const rp = parseInt((f[2] ?? '').split(':')[1] ?? '', 16)
      if (lp === localPort && rp === remotePort) return f[9]
    }
  }
  return undefined
}

function ownsSocket (pid: number, inode: string): boolean {
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try { if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return true } catch { /* closed meanwhile */ }
    }
  } catch { /* process gone */ }
  return false
}

export { sleep, waitFor }
