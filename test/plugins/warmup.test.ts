// Readiness waits for the start's warm-up (src/lib/warmup.ts) only where one is expected — the
// server process (src/server.ts) — and turns 200 when it settles, failed or not; liveness never
// waits. An app built as the tests build it has no warm-up: ready at once, as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { Warmup } from '../../src/lib/warmup.js'
import { createTestApp, expectProblem } from '../helpers/app.js'

const gauge = async (app: App, name: string): Promise<string | undefined> =>
  new RegExp(`^${name} (\\S+)$`, 'm').exec((await app.inject({ method: 'GET', url: '/metrics' })).body)?.[1]

describe('the warm-up readiness waits for', () => {
  let app: App
  beforeAll(async () => { app = await createTestApp() })
  afterAll(async () => { await app.close() })

  it('is absent from an app nobody warms up: ready at once, warmup_complete 1', async () => {
    expect(app.warmup.state).toBe('none')
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200)
    expect(await gauge(app, 'warmup_complete')).toBe('1')
  })

  it('keeps readiness at 503 (problem, Retry-After) from expect() until the work settles; liveness 200 throughout', async () => {
    const warmup = app.warmup
    warmup.expect()
    const waiting = await app.inject({ method: 'GET', url: '/health/ready' })
    const body = expectProblem(waiting, 503, 'SERVICE_UNAVAILABLE')
    expect(body.detail).toMatch(/warming up/)
    expect(waiting.headers['retry-after']).toBe('1')
    expect(await gauge(app, 'warmup_complete')).toBe('0')
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200)

    let finish = (): void => {}
    const running = warmup.run(async () => await new Promise<void>(resolve => { finish = resolve }))
    expect(warmup.state).toBe('running')
    expectProblem(await app.inject({ method: 'GET', url: '/health/ready' }), 503, 'SERVICE_UNAVAILABLE')
    finish()
    await running
    expect(warmup.state).toBe('done')
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200)
    expect(await gauge(app, 'warmup_complete')).toBe('1')
  })
})

describe('Warmup', () => {
  it('a failed warm-up still ends the wait: the error goes to the caller, readiness no longer waits', async () => {
    const w = new Warmup()
    w.expect()
    expect(w.pending).toBe(true)
    await expect(w.run(async () => { throw new Error('bad schema') })).rejects.toThrow('bad schema')
    expect(w.pending).toBe(false)
    w.expect() // once over, never waited for again
    expect(w.pending).toBe(false)
  })
})
