// The other half of the login-timing check: unknown emails, compared with login-wrong-password.
import { json } from '../lib/helpers.js'
import type { Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'login-unknown-email',
  description: 'POST /v1/auth/login with unknown emails (401): median within ±20 % of login-wrong-password',
  order: 56,
  dependsOn: ['login-wrong-password'],
  async setup (ctx) {
    let i = 0
    return {
      load: {
        label: 'unknown email',
        url: ctx.serviceUrl,
        connections: 4,
        warmup: false,
        requests: [{ method: 'POST', path: '/v1/auth/login', headers: json, setupRequest: (r) => ({ ...r, body: JSON.stringify({ email: `nobody-${i++}@unknown.example`, password: 'definitely-not-the-password' }) }) }]
      }
    }
  },
  target: { maxNon2xxShare: 1, maxRssMb: 200, sameAs: { scenario: 'login-wrong-password', metric: 'p50', tolerance: 0.2 } }
}
