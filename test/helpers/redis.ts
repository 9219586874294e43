// Whether a Redis answers on REDIS_TEST_URL (default the machine's 127.0.0.1:6379). A fresh user's
// machine has none: the tests that need one say so and are skipped there (CI has one).
import { connect } from 'node:net'

export const REDIS_TEST_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'

export async function redisReachable (url = REDIS_TEST_URL): Promise<boolean> {
  const u = new URL(url)
  return await new Promise<boolean>(resolve => {
    const s = connect(Number(u.port === '' ? 6379 : u.port), u.hostname, () => { s.end(); resolve(true) })
    s.on('error', () => { resolve(false) })
    s.setTimeout(500, () => { s.destroy(); resolve(false) })
  })
}
