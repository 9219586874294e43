// PgBouncer from the Debian package (1.18 on bookworm) in transaction pooling mode, for the cluster
// suite and the bench's --pgbouncer scenarios: found on PATH or in /usr/sbin, installed with
// apt-get when missing (as root), configured in a temporary directory, run in the foreground as a
// child process (as the `postgres` OS user when this process is root: PgBouncer refuses to run as
// root) and stopped with it.
//
// What the ini says, and why (the same settings as deploy/compose.yaml and deploy/kubernetes):
// - pool_mode = transaction: a server connection belongs to a client for one transaction only. The
//   service runs with DATABASE_PREPARED_STATEMENTS=false behind it (no named statements, no
//   startup parameters) and keeps LISTEN and session locks on DATABASE_DIRECT_URL.
// - connect_query sets statement_timeout and idle_in_transaction_session_timeout on each server
//   connection PgBouncer opens: the session settings the service sends as startup parameters on a
//   direct connection, which PgBouncer 1.18 refuses from clients ("unsupported startup parameter").
// - the database entry names the server's user and password, so clients are trusted on loopback
//   (auth_type = trust; a real deployment uses scram-sha-256 with an auth_file or auth_query).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:net'
import { freePort } from '../../src/db/embedded.js'

const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']

/** The pgbouncer binary, installing the Debian package first when it is missing and `install` allows it. */
export function findPgBouncer (opts: { install?: boolean, log?: (m: string) => void } = {}): string | undefined {
  const found = (): string | undefined => CANDIDATES.find(p => existsSync(p)) ??
    (spawnSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' }).stdout.trim() || undefined)
  const first = found()
  if (first !== undefined || opts.install !== true || process.getuid?.() !== 0) return first
  opts.log?.('pgbouncer is missing: apt-get install -y pgbouncer')
  const r = spawnSync('sh', ['-c', 'apt-get install -y -qq pgbouncer >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq pgbouncer >/dev/null 2>&1)'],
    { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: 'ignore', timeout: 300_000 })
  if (r.status !== 0) opts.log?.(`apt-get install pgbouncer failed (${String(r.status ?? r.signal)})`)
  return found()
}

export interface PgBouncerOptions {
  /** the direct PostgreSQL URL PgBouncer connects to (its database, user and password are used) */
  target: string
  /** server connections per database/user pair (default_pool_size) */
  poolSize?: number
  statementTimeoutMs?: number
  binary?: string
  log?: (m: string) => void
}

export interface PgBouncer {
  port: number
  /** the target URL with PgBouncer's host and port: what DATABASE_URL is set to */
  url: string
  /** PgBouncer's own version line */
  version: string
  logTail: () => Promise<string>
  stop: () => Promise<void>
}

const quote = (v: string): string => `'${v.replace(/'/g, "''")}'`

export async function startPgBouncer (opts: PgBouncerOptions): Promise<PgBouncer> {
  const binary = opts.binary ?? findPgBouncer({ install: true, log: opts.log })
  if (binary === undefined) throw new Error('pgbouncer not found (apt-get install pgbouncer)')
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '?'
  const target = new URL(opts.target)
  const dbname = decodeURIComponent(target.pathname.slice(1))
  const user = decodeURIComponent(target.username || 'postgres')
  const password = decodeURIComponent(target.password)
  const dir = await mkdtemp(join(tmpdir(), 'ge-pgbouncer-'))
  await chmod(dir, 0o777)
  const port = await freePort()
  const statementTimeout = opts.statementTimeoutMs ?? 5000
  const server = [
    `host=${target.hostname}`, `port=${target.port || '5432'}`, `dbname=${dbname}`, `user=${user}`,
    ...(password !== '' ? [`password=${password}`] : []),
    `connect_query=${quote(`SET statement_timeout = ${statementTimeout}; SET idle_in_transaction_session_timeout = ${Math.max(statementTimeout * 2, 10_000)}`)}`
  ].join(' ')
  const ini = `[databases]
${dbname} = ${server}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${join(dir, 'userlist.txt')}
admin_users = ${user}
pool_mode = transaction
default_pool_size = ${opts.poolSize ?? 20}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 2000
max_db_connections = 0
server_reset_query =
server_check_delay = 10
query_wait_timeout = 10
server_connect_timeout = 5
server_login_retry = 1
ignore_startup_parameters = extra_float_digits
logfile = ${join(dir, 'pgbouncer.log')}
pidfile = ${join(dir, 'pgbouncer.pid')}
log_connections = 0
log_disconnections = 0
stats_period = 60
`
  await writeFile(join(dir, 'pgbouncer.ini'), ini, { mode: 0o644 })
  await writeFile(join(dir, 'userlist.txt'), `${JSON.stringify(user)} ""\n`, { mode: 0o644 })
  const asRoot = process.getuid?.() === 0
  const child: ChildProcess = spawn(binary, [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr?.on('data', (c: Buffer) => { out += c.toString() })
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  const logTail = async (): Promise<string> => (out + await readFile(join(dir, 'pgbouncer.log'), 'utf8').catch(() => '')).slice(-4000)
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`pgbouncer exited at start:\n${await logTail()}`)
    const up = await new Promise<boolean>(resolve => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.on('error', () => { resolve(false) })
    })
    if (up) break
    if (i > 200) { child.kill('SIGKILL'); throw new Error(`pgbouncer did not listen within 10 s:\n${await logTail()}`) }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const url = new URL(opts.target)
  url.host = `127.0.0.1:${port}`
  opts.log?.(`${version} on 127.0.0.1:${port} (transaction pooling, ${opts.poolSize ?? 20} server connections) → ${target.host}`)
  return {
    port,
    url: url.toString(),
    version,
    logTail,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT')
        const t = setTimeout(() => child.kill('SIGKILL'), 3000)
        await exited
        clearTimeout(t)
      }
      await rm(dir, { recursive: true, force: true })
    }
  }
}
