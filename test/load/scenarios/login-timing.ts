// Login timing (QUALITY.md API2): a sign-in with an unknown email must cost what a wrong password
// costs, so response times do not reveal which accounts exist. Both runs answer 401; the unknown
// one's median must be within ±20 % of the wrong-password one's. Wrong passwords rotate over the
// generated users (excluding the bench accounts other scenarios sign in with), and their failure
// counters are reset every 250 ms during the run, so no account reaches the lockout threshold
// (which would answer 429 without hashing) however few accounts the dataset has.
import { json } from '../lib/helpers.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'login-wrong-password',
  description: 'POST /v1/auth/login with existing emails and a wrong password (401, one argon2 verify each)',
  order: 55,
  async setup (ctx) {
    const { rows } = await ctx.pool.query<{ email: string }>("SELECT email FROM users WHERE email NOT LIKE 'bench-%' AND is_active ORDER BY email LIMIT 400")
    if (rows.length === 0) throw new Error('no generated users to sign in as')
    const emails = rows.map(r => r.email)
    let i = 0
    const reset = setInterval(() => {
      // failures are counted per email string (known or not) in login_throttles: keep every
      // address unlocked so the scenario times the sign-in, not the lockout
      ctx.pool.query('DELETE FROM login_throttles').catch(() => {})
    }, 250)
    return {
      teardown: async () => {
        clearInterval(reset)
        await ctx.pool.query('DELETE FROM login_throttles')
      },
      load: {
        label: 'wrong password',
        url: ctx.serviceUrl,
        connections: 4,
        warmup: false,
        requests: [{ method: 'POST', path: '/v1/auth/login', headers: json, setupRequest: (r) => ({ ...r, body: JSON.stringify({ email: emails[i++ % emails.length], password: 'definitely-not-the-password' }) }) }]
      },
      notes: [`rotating over ${emails.length} accounts`]
    }
  },
  target: { maxNon2xxShare: 1, maxRssMb: 200 }
}
