// The first boot as a new user sees it (the server process, zero configuration, a fresh embedded
// database): every step with its time (initdb, PostgreSQL, migrations, demo data, listening), then
// the URL of /docs, the demo accounts and the embedded database's connection URL — which works.
// A second start on the same data is quicker and, with LOG_PRETTY=false, writes JSON lines only.
import { spawn } from 'node:child_process'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ge-first-boot-'))
  // as root, PostgreSQL runs as the postgres OS user: it must reach the data folder (a private one
  // would be relocated to /var/tmp, src/db/embedded.ts, and outlive this test)
  await chmod(dir, 0o755)
})
afterAll(async () => { if (dir !== '') await rm(dir, { recursive: true, force: true }) })

interface Boot { lines: string[], exitCode: number | null, docs?: string, database?: string }

/** Starts src/server.ts, waits for its hints, checks them while it runs, then stops it with SIGTERM. */
async function boot (env: Record<string, string>, whileRunning: (lines: string[]) => Promise<void>): Promise<Boot> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ENV_FILE: 'none', NODE_ENV: 'development', PORT: '0', EMBEDDED_PG_DIR: join(dir, 'pg'), WORKER_MODE: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  try {
    const deadline = Date.now() + 150_000
    while (!/Embedded PostgreSQL: postgres:\/\//.test(out)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start:\n${out}`)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    await whileRunning(out.split('\n').filter(l => l !== ''))
  } finally {
    child.kill('SIGTERM')
  }
  const exitCode = await exited
  return { lines: out.split('\n').filter(l => l !== ''), exitCode }
}

const field = (lines: string[], pattern: RegExp): string => {
  for (const l of lines) { const m = pattern.exec(l); if (m?.[1] !== undefined) return m[1] }
  throw new Error(`no line matches ${String(pattern)}:\n${lines.join('\n')}`)
}

describe('first boot', () => {
  it('shows each step with its time, then the docs URL, the demo accounts and a working database URL', async () => {
    const first = await boot({ LOG_PRETTY: 'true' }, async lines => {
      const docs = field(lines, /API docs: (http:\/\/\S+\/docs)/)
      const page = await fetch(docs)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('swagger-ui')
      const url = field(lines, /Embedded PostgreSQL: (postgres:\/\/\S+)/)
      const client = new pg.Client(url)
      await client.connect()
      try {
        const admins = await client.query<{ n: string }>("SELECT count(*) AS n FROM users WHERE email = 'admin@bluewhale.example'")
        expect(admins.rows[0]?.n).toBe('1')
      } finally {
        await client.end()
      }
    })
    const text = first.lines.join('\n')
    const stamped = /^\[\s*\d+\.\d s\] /
    for (const step of [
      /No DATABASE_URL: starting embedded PostgreSQL in /,
      /initdb: created the database cluster in .* \(\d+\.\d s\)/,
      /PostgreSQL started on 127\.0\.0\.1:\d+ \(\d+\.\d s\)/,
      /Applied migrations: 0001-foundation, .* \(\d+\.\d s\)/,
      /Seeded the demo dataset \(\d+\.\d s\)/,
      /Gestion Emballages API listening on http:\/\/localhost:\d+ \(in \d+\.\d s\)/,
      /API docs: http:\/\/localhost:\d+\/docs/,
      /Demo accounts, password demo-packaging-2026: admin@bluewhale\.example/,
      /Embedded PostgreSQL: postgres:\/\/postgres:postgres@127\.0\.0\.1:\d+\/gestion_emballages/
    ]) {
      const line = first.lines.find(l => step.test(l))
      expect(line, `${String(step)} in\n${text}`).toBeDefined()
      expect(line).toMatch(stamped)
    }
    // in this order
    const order = ['initdb:', 'PostgreSQL started', 'Applied migrations', 'Seeded the demo dataset', 'listening on', 'API docs:'].map(s => first.lines.findIndex(l => l.includes(s)))
    expect([...order].sort((a, b) => a - b)).toEqual(order)
    expect(first.exitCode).toBe(0)
  }, 240_000)

  it('restarts on the same data without initdb, migrations or seeding; LOG_PRETTY=false writes JSON lines only', async () => {
    const second = await boot({ LOG_PRETTY: 'false' }, async () => {})
    const entries = second.lines.map(l => JSON.parse(l) as { msg?: string })
    const messages = entries.map(e => e.msg ?? '')
    expect(messages.some(m => m.startsWith('Gestion Emballages API listening on'))).toBe(true)
    expect(messages.some(m => m.startsWith('PostgreSQL started on'))).toBe(true)
    expect(messages.filter(m => /initdb|Applied migrations|Seeded/.test(m))).toEqual([])
    expect(second.exitCode).toBe(0)
  }, 240_000)
})
