// /docs in a real headless Chromium over plain http on a non-loopback address (how the Docker
// image is reached: HOST=0.0.0.0): Swagger UI used to be a blank page there, its CSP carrying
// `upgrade-insecure-requests` (every asset then fetched over https, which fails) and blocking an
// inline style. The page must render the operations with no CSP violation, and "Try it out" must
// execute a request and show its response.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { createTestApp } from '../helpers/app.js'
import { canCreateNetworkNamespace, ensureChromium, launchChromium, type Browser, type CdpEvent } from './chromium.js'

const chromium = ensureChromium(msg => { console.log(`[browser test] ${msg}`) })
const namespaces = canCreateNetworkNamespace()
// CI must run this test: there, a Chromium that cannot be installed is a failure, not a skip
if (chromium.path === undefined && process.env.CI === 'true') throw new Error(`CI: ${chromium.reason ?? 'no chromium'}`)
if (chromium.path === undefined) console.warn(`[browser test] skipped: ${chromium.reason ?? 'no chromium'}`)
if (!namespaces) throw new Error('the browser test needs to create a network namespace (unshare --net: root or CAP_SYS_ADMIN)')

let app: App
let browser: Browser
let page: string
beforeAll(async () => {
  if (chromium.path === undefined) return
  app = await createTestApp()
  await app.listen({ host: '0.0.0.0', port: 0 })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  browser = await launchChromium(chromium.path, { host: '127.0.0.1', port })
  page = await browser.newPage()
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await app?.close()
})

const pageEvents = (): CdpEvent[] => browser.cdp.events.filter(e => e.sessionId === page)
const cspViolations = (): string[] => pageEvents()
  .filter(e => e.method === 'Log.entryAdded' || e.method === 'Runtime.consoleAPICalled')
  .map(e => JSON.stringify(e.params))
  .filter(text => /Content Security Policy|Refused to/i.test(text))
const failedRequests = (): string[] => pageEvents()
  .filter(e => e.method === 'Network.loadingFailed')
  .map(e => JSON.stringify(e.params))

async function until<T> (what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined && v !== null && v !== false) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; CSP: ${cspViolations().join(' | ')}; failed: ${failedRequests().join(' | ')}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

describe.skipIf(chromium.path === undefined)('/docs in headless Chromium over plain http on a non-loopback address', () => {
  it('renders every operation with no CSP violation and no failed asset', async () => {
    expect(browser.origin).toMatch(/^http:\/\/198\.51\.100\.7:\d+$/)
    await browser.cdp.send('Page.navigate', { url: `${browser.origin}/docs` }, page)
    const count = await until('the operations', async () => {
      const n = await browser.evaluate<number>(page, "document.querySelectorAll('.opblock').length")
      return n > 0 ? n : undefined
    })
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, unknown>> }>()
    const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).filter(k => ['get', 'post', 'put', 'patch', 'delete'].includes(k)).length, 0)
    expect(count).toBe(operations)
    expect(await browser.evaluate<string>(page, "document.querySelector('.info .title')?.textContent ?? ''")).toContain('Gestion Emballages API')
    expect(await browser.evaluate<string>(page, 'location.protocol')).toBe('http:')
    // the page's styles applied (the stylesheet loaded over http, not "upgraded" to a failing https)
    expect(await browser.evaluate<string>(page, "getComputedStyle(document.querySelector('.swagger-ui .opblock')).borderStyle")).toBe('solid')
    expect(cspViolations()).toEqual([])
    expect(failedRequests()).toEqual([])
  }, 60_000)

  it('"Try it out" executes GET /health/live and shows the 200 response', async () => {
    const opened = await browser.evaluate<boolean>(page, `(() => {
      const block = document.querySelector('.opblock-summary-path[data-path="/health/live"]')?.closest('.opblock')
      if (!block) return false
      if (!block.classList.contains('is-open')) block.querySelector('.opblock-summary-control')?.click()
      return true
    })()`)
    expect(opened).toBe(true)
    await until('the Try it out button', async () => await browser.evaluate<boolean>(page, `(() => {
      const block = document.querySelector('.opblock-summary-path[data-path="/health/live"]')?.closest('.opblock')
      const button = block?.querySelector('.try-out__btn')
      if (!button) return false
      // tryItOutEnabled: the form is open already (the button reads Cancel); otherwise open it
      if (button.textContent.trim() === 'Try it out') button.click()
      return true
    })()`))
    await until('the Execute button', async () => await browser.evaluate<boolean>(page, `(() => {
      const block = document.querySelector('.opblock-summary-path[data-path="/health/live"]')?.closest('.opblock')
      const button = block?.querySelector('.execute')
      if (!button) return false
      button.click()
      return true
    })()`))
    const result = await until('the live response', async () => await browser.evaluate<{ status: string, body: string } | false>(page, `(() => {
      const block = document.querySelector('.opblock-summary-path[data-path="/health/live"]')?.closest('.opblock')
      const row = block?.querySelector('.live-responses-table tbody .response')
      const status = row?.querySelector('.response-col_status')?.textContent?.trim()
      const body = row?.querySelector('.response-col_description .microlight, .response-col_description pre')?.textContent ?? ''
      return status && /^\\d{3}$/.test(status) ? { status, body } : false
    })()`))
    expect(result.status).toBe('200')
    expect(result.body).toContain('"status": "ok"')
    // the request went to the page's own origin, over http
    const sent = pageEvents().filter(e => e.method === 'Network.requestWillBeSent').map(e => String((e.params.request as { url: string }).url))
    expect(sent).toContain(`${browser.origin}/health/live`)
    expect(cspViolations()).toEqual([])
  }, 60_000)
})

describe("/docs' Content-Security-Policy", () => {
  it('upgrades insecure requests only when PUBLIC_URL is https, and allows the one inline style by its hash', async () => {
    const plainHttp = await createTestApp()
    const behindTls = await createTestApp({ PUBLIC_URL: 'https://api.example.com' })
    try {
      const csp = String((await plainHttp.inject({ method: 'GET', url: '/docs/' })).headers['content-security-policy'])
      expect(csp).not.toContain('upgrade-insecure-requests')
      expect(csp).toMatch(/style-src 'self' 'sha256-[A-Za-z0-9+/]+=*'/)
      expect(csp).not.toContain('unsafe-inline')
      expect(String((await behindTls.inject({ method: 'GET', url: '/docs/' })).headers['content-security-policy'])).toContain('upgrade-insecure-requests')
    } finally {
      await plainHttp.close()
      await behindTls.close()
    }
  })
})
