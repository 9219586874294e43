// Mixed realistic traffic: mostly reads (article, PO with lines, list pages, the caller's profile)
// with a share of audited writes. Entries whose endpoint is missing are dropped from the mix (and
// named in the notes).
import type autocannon from 'autocannon'
import { bearer, json, popularArticleIds, runId, sampleIds } from '../lib/helpers.js'
import { SkipScenario, type Scenario } from '../lib/types.js'

export const scenario: Scenario = {
  name: 'mixed',
  description: 'weighted mix: 40 % article GET, 20 % PO GET, 15 % PO list, 10 % article list, 10 % /v1/me, 5 % article create',
  order: 60,
  async setup (ctx) {
    const token = await ctx.token('MANAGER')
    const auth = bearer(token)
    const articles = await popularArticleIds(ctx)
    const pos = await sampleIds(ctx.pool, 'SELECT id FROM purchase_orders TABLESAMPLE SYSTEM (5) LIMIT 2000')
    const rng = ctx.rng('mixed')
    const prefix = `MIX-${runId()}`
    let n = 0
    const entries: Array<{ weight: number, probe: [string, string, unknown?], make: () => { method: string, path: string, body?: string } }> = [
      { weight: 40, probe: ['GET', `/v1/articles/${articles[0] ?? ''}`], make: () => ({ method: 'GET', path: `/v1/articles/${articles[Math.floor(rng.next() * articles.length)] ?? ''}` }) },
      { weight: 20, probe: ['GET', `/v1/purchase-orders/${pos[0] ?? ''}`], make: () => ({ method: 'GET', path: `/v1/purchase-orders/${pos[Math.floor(rng.next() * pos.length)] ?? ''}` }) },
      { weight: 15, probe: ['GET', '/v1/purchase-orders?limit=50'], make: () => ({ method: 'GET', path: '/v1/purchase-orders?limit=50' }) },
      { weight: 10, probe: ['GET', '/v1/articles?limit=50'], make: () => ({ method: 'GET', path: '/v1/articles?limit=50' }) },
      { weight: 10, probe: ['GET', '/v1/me'], make: () => ({ method: 'GET', path: '/v1/me' }) },
      {
        weight: 5,
        probe: ['POST', '/v1/articles', { code: `${prefix}-PROBE`, name: 'Probe', category: 'TRAY', baseUnit: 'piece', vatRate: '20.00' }],
        make: () => ({ method: 'POST', path: '/v1/articles', body: JSON.stringify({ code: `${prefix}-${(n++).toString(36).toUpperCase()}`, name: 'Mix', category: 'FILM', baseUnit: 'piece', vatRate: '20.00' }) })
      }
    ]
    const kept: typeof entries = []
    const dropped: string[] = []
    for (const e of entries) {
      try {
        const r = await ctx.requireEndpoint(e.probe[0], e.probe[1], { token, body: e.probe[2] })
        if (r.status >= 200 && r.status < 300) kept.push(e)
        else dropped.push(`${e.probe[0]} ${e.probe[1].split('?')[0] ?? ''} (answered ${r.status} ${String(r.body?.code ?? '')})`)
      } catch (err) {
        if (err instanceof SkipScenario) dropped.push(`${e.probe[0]} ${e.probe[1].split('?')[0] ?? ''} (endpoint missing)`)
        else throw err
      }
    }
    if (kept.length === 0) throw new SkipScenario('no endpoint of the mix exists yet')
    const total = kept.reduce((a, e) => a + e.weight, 0)
    const req = {
      method: 'GET',
      path: '/',
      headers: auth,
      setupRequest: (r: autocannon.Request) => {
        let u = rng.next() * total
        const e = kept.find(x => (u -= x.weight) < 0) ?? kept[0]
        const m = e?.make() ?? { method: 'GET', path: '/health/live' }
        return { ...r, method: m.method, path: m.path, body: m.body, headers: m.body !== undefined ? { ...auth, ...json } : auth } as autocannon.Request
      }
    } as autocannon.Request
    return { load: { url: ctx.serviceUrl, warmup: false, requests: [req] }, notes: dropped.length > 0 ? [`dropped from the mix: ${dropped.join(', ')}`] : [] }
  },
  target: { maxP99Ms: 40, maxRssMb: 200 }
}
