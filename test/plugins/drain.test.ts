// The drain before a shutdown, in process: readiness turns 503 at once, responses close their
// connection, and an idle keep-alive socket is closed at the end of the window (it would otherwise
// hold http.Server#close open).
import { createConnection } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createTestApp, expectProblem } from '../helpers/app.js'

describe('drain', () => {
  it('turns readiness off, closes connections after their response and idle ones at the end of the window', async () => {
    const app = await createTestApp()
    const base = await app.listen({ host: '127.0.0.1', port: 0 })
    const port = Number(new URL(base).port)
    try {
      expect((await fetch(`${base}/health/ready`)).status).toBe(200)
      const idle = createConnection({ host: '127.0.0.1', port })
      const idleClosed = new Promise(resolve => idle.once('close', resolve))
      idle.on('error', () => {})
      await new Promise(resolve => idle.once('connect', resolve))

      const drained = app.drain(400)
      expect(app.draining()).toBe(true)
      const ready = await app.inject({ method: 'GET', url: '/health/ready' })
      expectProblem(ready, 503, 'SERVICE_UNAVAILABLE')
      const live = await app.inject({ method: 'GET', url: '/health/live' })
      expect(live.statusCode).toBe(200)
      expect(live.headers.connection).toBe('close')

      const result = await drained
      expect(result.ms).toBeGreaterThanOrEqual(350)
      await idleClosed
      expect(app.server.listening).toBe(false)
    } finally {
      await app.close()
    }
  })

  it('ends at once when no client is connected', async () => {
    const app = await createTestApp()
    await app.listen({ host: '127.0.0.1', port: 0 })
    try {
      const result = await app.drain(10_000)
      expect(result).toMatchObject({ socketsLeft: 0 })
      expect(result.ms).toBeLessThan(5000)
    } finally {
      await app.close()
    }
  })
})
