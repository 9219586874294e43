// One webhook POST, with nothing of the receiver's answer trusted (OWASP API10): a deadline over
// the whole exchange (connect, TLS, headers, body), redirects never followed (a 3xx is a failure),
// at most RESPONSE_BODY_LIMIT bytes of the body kept and the rest not read, a fresh connection per
// delivery to an address checked just before connecting (url-policy.ts: the name is resolved here,
// every address checked, and the checked one connected to, with the name as Host and TLS SNI).
import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import { checkHost, hostOf, type ResolveAll } from './url-policy.js'

export const RESPONSE_BODY_LIMIT = 4096

export interface PostOptions {
  url: string
  headers: Record<string, string>
  body: string
  timeoutMs: number
  allowPrivate: boolean
  requireHttps: boolean
  resolve?: ResolveAll
  signal?: AbortSignal
}

export type PostResult =
  | { ok: true, status: number, body: string, ms: number }
  | { ok: false, status: number | null, body: string | null, error: string, reason: FailureReason, ms: number }

export type FailureReason = 'http_status' | 'redirect' | 'timeout' | 'refused_address' | 'network' | 'invalid_url'

class RefusedAddress extends Error {}

/** net.connect's `lookup`: resolve, refuse any disallowed address, hand over a checked one. */
function guardedLookup (allowPrivate: boolean, resolve: ResolveAll | undefined): LookupFunction {
  return (hostname, options, callback) => {
    checkHost(hostname, { allowPrivate, resolve }).then(addresses => {
      const wanted = options.family === 4 || options.family === 6 ? addresses.filter(a => a.family === options.family) : addresses
      const usable = wanted.length > 0 ? wanted : addresses
      if (options.all === true) callback(null, usable)
      else callback(null, (usable[0] as { address: string }).address, (usable[0] as { family: number }).family)
    }, (err: Error) => { callback(Object.assign(new RefusedAddress(err.message), { code: 'EWEBHOOKADDRESS' }), '', 0) })
  }
}

const clean = (s: string): string => s.replaceAll('\0', '').slice(0, RESPONSE_BODY_LIMIT)

export async function postWebhook (opts: PostOptions): Promise<PostResult> {
  const t0 = performance.now()
  const ms = (): number => Math.round(performance.now() - t0)
  let url: URL
  try { url = new URL(opts.url) } catch { return { ok: false, status: null, body: null, error: 'invalid URL', reason: 'invalid_url', ms: 0 } }
  if (opts.requireHttps && url.protocol !== 'https:') return { ok: false, status: null, body: null, error: 'https required', reason: 'invalid_url', ms: 0 }
  const host = hostOf(url)
  // a literal IP never goes through `lookup`: checked here
  try { await checkHost(host, { allowPrivate: opts.allowPrivate, resolve: opts.resolve }) } catch (err) {
    return { ok: false, status: null, body: null, error: (err as Error).message.slice(0, 500), reason: 'refused_address', ms: ms() }
  }
  const client = url.protocol === 'https:' ? https : http
  return await new Promise<PostResult>(resolve => {
    let settled = false
    let status: number | null = null
    const finish = (r: PostResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      resolve(r)
      req.destroy()
    }
    const fail = (reason: FailureReason, error: string, body: string | null = null): void => {
      finish({ ok: false, status, body, error: error.slice(0, 500), reason, ms: ms() })
    }
    const req = client.request({
      method: 'POST',
      protocol: url.protocol,
      hostname: host,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: { ...opts.headers, 'content-length': String(Buffer.byteLength(opts.body)) },
      agent: false,
      lookup: guardedLookup(opts.allowPrivate, opts.resolve),
      maxHeaderSize: 16 * 1024
    }, res => {
      status = res.statusCode ?? null
      const chunks: Buffer[] = []
      let size = 0
      const done = (): void => {
        const body = clean(Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8'))
        const code = status ?? 0
        if (code >= 200 && code < 300) finish({ ok: true, status: code, body, ms: ms() })
        else if (code >= 300 && code < 400) fail('redirect', `redirect to ${String(res.headers.location ?? '(no location)').slice(0, 300)} not followed`, body)
        else fail('http_status', `HTTP ${code}`, body)
      }
      res.on('data', (chunk: Buffer) => {
        if (size < RESPONSE_BODY_LIMIT) chunks.push(chunk)
        size += chunk.length
        // enough kept: the rest is not read
        if (size >= RESPONSE_BODY_LIMIT) done()
      })
      res.on('end', done)
      res.on('error', err => { fail('network', err.message) })
    })
    const timer = setTimeout(() => { fail('timeout', `no complete answer within ${opts.timeoutMs} ms`) }, opts.timeoutMs)
    const onAbort = (): void => { fail('network', 'delivery aborted (the worker is stopping)') }
    opts.signal?.addEventListener('abort', onAbort)
    req.on('error', err => {
      if (err instanceof RefusedAddress) fail('refused_address', err.message)
      else fail('network', err.message)
    })
    req.end(opts.body)
  })
}
