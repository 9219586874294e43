// A fresh instance takes no traffic it cannot serve well: the server process (src/server.ts, run
// through tsx as the other process tests here do) listens and answers liveness at once, while
// readiness answers 503 until the warm-up after listen — compiling the route schemas left — is
// over, which /metrics shows (schemas_pending_compilation, warmup_complete). The times from spawn
// to listening and to ready are printed, never asserted (they depend on the machine).
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { describe, expect, it, inject } from 'vitest'
import { freePort } from '../../src/db/embedded.js'
import { createDatabaseFromTemplate } from '../helpers/db.js'

interface Observation { at: number, live: number, ready: number, readyBody: string, readyType: string | null, retryAfter: string | null, pending?: number, complete?: number }

const gaugeOf = (text: string, name: string): number | undefined => {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
  return m === null ? undefined : Number(m[1])
}

describe('server process start', () => {
  it('answers liveness before readiness, and readiness only once the schema warm-up is done', { timeout: 180_000 }, async () => {
    const databaseUrl = await createDatabaseFromTemplate(`${inject('dbPrefix')}_startup_ready`)
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const env: Record<string, string | undefined> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ENV_FILE: 'none',
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      JWT_SECRET: randomBytes(32).toString('base64url'),
      AUDIT_CHAIN_KEY: randomBytes(32).toString('base64url'),
      LOG_LEVEL: 'warn',
      LOG_PRETTY: 'false',
      LOG_REQUESTS: 'false',
      RATE_LIMIT_ENABLED: 'false',
      SEED_DEMO: 'false',
      WORKER_MODE: 'off'
    }
    const spawned = performance.now()
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let listeningAt: number | undefined
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); if (listeningAt === undefined && out.includes('listening on')) listeningAt = performance.now() - spawned })
    child.stderr.on('data', (c: Buffer) => { out += c.toString() })
    const exited = new Promise<number | null>(resolve => child.on('exit', code => { resolve(code) }))
    const seen: Observation[] = []
    try {
      // each round: liveness, then readiness, then the metrics (after readiness: a 200 must find
      // the warm-up over in a scrape taken after it, the warm-up never going back)
      for (;;) {
        if (child.exitCode !== null) throw new Error(`the server exited during start:\n${out}`)
        if (performance.now() - spawned > 150_000) throw new Error(`not ready after 150 s:\n${out}`)
        const live = await fetch(`${base}/health/live`).catch(() => undefined)
        if (live === undefined || live.status !== 200) { await live?.arrayBuffer(); await new Promise(resolve => setTimeout(resolve, 20)); continue }
        await live.arrayBuffer()
        const at = performance.now() - spawned
        const ready = await fetch(`${base}/health/ready`)
        const readyBody = await ready.text()
        const metrics = await (await fetch(`${base}/metrics`)).text()
        seen.push({ at, live: live.status, ready: ready.status, readyBody, readyType: ready.headers.get('content-type'), retryAfter: ready.headers.get('retry-after'), pending: gaugeOf(metrics, 'schemas_pending_compilation'), complete: gaugeOf(metrics, 'warmup_complete') })
        if (ready.status === 200) break
        await new Promise(resolve => setTimeout(resolve, 20))
      }
      const readyAt = (seen.at(-1) as Observation).at
      const waiting = seen.slice(0, -1)
      // liveness answered while readiness still said 503, for the warm-up
      expect(waiting.length, out).toBeGreaterThan(0)
      for (const o of waiting) {
        expect(o.ready).toBe(503)
        expect(o.readyType).toBe('application/problem+json; charset=utf-8')
        expect(o.retryAfter).not.toBeNull()
        expect(JSON.parse(o.readyBody)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' })
      }
      expect(waiting.some(o => /warming up/.test(o.readyBody) && (o.pending ?? 0) > 0 && o.complete === 0)).toBe(true)
      // ready: the warm-up is over and every schema compiled
      const last = seen.at(-1) as Observation
      expect(JSON.parse(last.readyBody)).toMatchObject({ status: 'ready' })
      expect(last.complete).toBe(1)
      expect(last.pending).toBe(0)
      expect(out).toMatch(/Warmed up, ready for traffic: \d+ route schemas compiled/)
      expect(listeningAt).toBeDefined()
      console.log(`server start (tsx, this machine): spawn → listening ${Math.round(listeningAt ?? NaN)} ms, spawn → first liveness 200 ${Math.round(seen[0]?.at ?? NaN)} ms, spawn → ready ${Math.round(readyAt)} ms (${waiting.length} readiness 503s meanwhile)`)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  })
})
