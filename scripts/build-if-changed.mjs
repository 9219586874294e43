// `npm start`'s build step: rebuilds (tsc, then the esbuild bundle: `npm run build`) only when an
// input changed since the last build, else says so and returns at once (a restart used to rebuild
// every time: ~8 s instead of ~2 s).
//
// The inputs are hashed by content (a checkout that only touches modification times costs nothing):
// src/, db/, the build scripts and configuration, package.json and package-lock.json (a dependency
// change can change the bundle). The hash of a successful build is kept in dist/.build-stamp, and
// the outputs must still be there. The hash is taken before building, so a file saved during the
// build makes the next start build again. `--force` always builds.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const INPUT_DIRS = ['src', 'db']
const INPUT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/bundle.mjs']
const OUTPUTS = ['dist/server.mjs', 'dist/worker.mjs', 'dist/cli/migrate.mjs']
const STAMP = 'dist/.build-stamp'

function filesUnder (dir) {
  const out = []
  if (!existsSync(dir)) return out
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...filesUnder(p))
    else if (entry.isFile()) out.push(p)
  }
  return out
}

/** sha256 over every input's path and content, in a stable order. */
export function inputsHash (root) {
  const files = [...INPUT_DIRS.flatMap(d => filesUnder(join(root, d))), ...INPUT_FILES.map(f => join(root, f)).filter(f => existsSync(f))]
    .map(f => relative(root, f).split('\\').join('/'))
    .sort()
  const hash = createHash('sha256')
  for (const f of files) {
    hash.update(`${f}\0`)
    hash.update(readFileSync(join(root, f)))
    hash.update('\0')
  }
  return hash.digest('hex')
}

/** Why a build is needed ('first build', 'sources changed'), or undefined when dist is up to date. */
export function buildNeeded (root, hash = inputsHash(root)) {
  const stamp = join(root, STAMP)
  const previous = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : ''
  if (previous === '' || !OUTPUTS.every(f => existsSync(join(root, f)))) return 'first build'
  return previous === hash ? undefined : 'sources changed'
}

export function writeStamp (root, hash) {
  mkdirSync(join(root, dirname(STAMP)), { recursive: true })
  writeFileSync(join(root, STAMP), `${hash}\n`)
}

function main () {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
  const started = performance.now()
  const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`
  const say = msg => { if (process.env.BUILD_QUIET !== 'true') console.log(msg) }
  const hash = inputsHash(root)
  const reason = process.argv.includes('--force') ? 'forced' : buildNeeded(root, hash)
  if (reason === undefined) {
    say(`build: up to date (${seconds()})`)
    return
  }
  say(`build: ${reason}, building (tsc, then the bundle)…`)
  const result = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit', env: { ...process.env, BUNDLE_QUIET: 'true' } })
  if (result.status !== 0) {
    console.error(`build: failed (${seconds()})`)
    process.exit(result.status ?? 1)
  }
  writeStamp(root, hash)
  say(`build: done in ${seconds()}`)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main()
