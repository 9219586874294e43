// Where webhooks may go (OWASP API7, SSRF). A receiver URL is http(s) — https only in production —
// without credentials, and every address its name resolves to must be a public unicast address:
// loopback, private (RFC 1918, IPv6 unique-local), link-local (incl. the 169.254.169.254 cloud
// metadata endpoint), carrier-grade NAT, documentation, benchmarking, multicast, reserved and the
// other special-purpose ranges are refused, for IPv4 and IPv6 alike, IPv4-mapped and NAT64 IPv6
// addresses by the IPv4 address they carry. WEBHOOK_ALLOW_PRIVATE=true lifts the refusal of the
// ranges a test or an internal receiver may use (never of unspecified, multicast or reserved ones).
//
// The check runs when a subscription is created or its URL changed (a clear 422 for the caller),
// and again at every delivery on the address actually connected to: the HTTP client resolves the
// name itself, checks every address and connects to a checked one, sending the name as Host and
// TLS SNI (DNS rebinding — a name answering a public address at creation and 127.0.0.1 later —
// gets nowhere).
import { lookup as dnsLookup } from 'node:dns'
import { isIP } from 'node:net'
import { AppError } from '../../lib/problems.js'

export interface ResolvedAddress { address: string, family: 4 | 6 }
/** Resolves a host name to all its addresses (dns.lookup by default; tests inject their own). */
export type ResolveAll = (hostname: string) => Promise<ResolvedAddress[]>

/** The system resolver, bounded: a name that takes longer than RESOLVE_TIMEOUT_MS does not resolve. */
export const RESOLVE_TIMEOUT_MS = 3000
export const resolveAll: ResolveAll = async (hostname) => await new Promise((resolve, reject) => {
  const timer = setTimeout(() => { reject(new Error('resolution timed out')) }, RESOLVE_TIMEOUT_MS)
  dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => {
    clearTimeout(timer)
    if (err !== null) reject(err)
    else resolve(addresses.map(a => ({ address: a.address, family: a.family === 6 ? 6 : 4 })))
  })
})

interface Range { base: bigint, bits: number, prefix: number, why: string, always?: true }

function v4 (a: string): bigint | undefined {
  const parts = a.split('.')
  if (parts.length !== 4) return undefined
  let n = 0n
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined
    n = (n << 8n) | BigInt(Number(p))
  }
  return n
}

function v6 (address: string): bigint | undefined {
  let a = address.split('%')[0] ?? ''
  // a trailing dotted quad (::ffff:1.2.3.4) is two groups
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a)
  if (dotted?.[1] !== undefined) {
    const n = v4(dotted[1])
    if (n === undefined) return undefined
    a = a.slice(0, -dotted[1].length) + (n >> 16n).toString(16) + ':' + (n & 0xffffn).toString(16)
  }
  const halves = a.split('::')
  if (halves.length > 2) return undefined
  const head = halves[0] === '' ? [] : (halves[0] ?? '').split(':')
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : (halves[1] ?? '').split(':')) : []
  const missing = 8 - head.length - tail.length
  if (halves.length === 1 ? head.length !== 8 : missing < 1) return undefined
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail]
  let n = 0n
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined
    n = (n << 16n) | BigInt(parseInt(g, 16))
  }
  return n
}

const r4 = (cidr: string, why: string, always?: true): Range => {
  const [base, prefix] = cidr.split('/') as [string, string]
  return { base: v4(base) ?? 0n, bits: 32, prefix: Number(prefix), why, ...(always === true ? { always } : {}) }
}
const r6 = (cidr: string, why: string, always?: true): Range => {
  const [base, prefix] = cidr.split('/') as [string, string]
  return { base: v6(base) ?? 0n, bits: 128, prefix: Number(prefix), why, ...(always === true ? { always } : {}) }
}

// IANA special-purpose registries (RFC 6890 and successors), plus cloud metadata endpoints
const V4_RANGES: Range[] = [
  r4('0.0.0.0/8', 'unspecified ("this network")', true),
  r4('10.0.0.0/8', 'private'),
  r4('100.64.0.0/10', 'carrier-grade NAT (incl. the 100.100.100.200 metadata endpoint)'),
  r4('127.0.0.0/8', 'loopback'),
  r4('169.254.0.0/16', 'link-local (incl. the 169.254.169.254 metadata endpoint)'),
  r4('172.16.0.0/12', 'private'),
  r4('192.0.0.0/24', 'IETF protocol assignments'),
  r4('192.0.2.0/24', 'documentation'),
  r4('192.88.99.0/24', '6to4 relay anycast'),
  r4('192.168.0.0/16', 'private'),
  r4('198.18.0.0/15', 'benchmarking'),
  r4('198.51.100.0/24', 'documentation'),
  r4('203.0.113.0/24', 'documentation'),
  r4('168.63.129.16/32', 'cloud metadata endpoint'),
  r4('224.0.0.0/4', 'multicast', true),
  r4('240.0.0.0/4', 'reserved (incl. broadcast)', true)
]
const V6_RANGES: Range[] = [
  r6('::/128', 'unspecified', true),
  r6('::1/128', 'loopback'),
  r6('::/96', 'IPv4-compatible (deprecated)'),
  r6('100::/64', 'discard-only'),
  r6('2001::/23', 'IETF protocol assignments (incl. Teredo)'),
  r6('2001:db8::/32', 'documentation'),
  r6('2002::/16', '6to4'),
  r6('64:ff9b:1::/48', 'local-use NAT64'),
  r6('fc00::/7', 'unique local (private; incl. the fd00:ec2::254 metadata endpoint)'),
  r6('fe80::/10', 'link-local'),
  r6('fec0::/10', 'site-local (deprecated)'),
  r6('ff00::/8', 'multicast', true)
]

const within = (n: bigint, r: Range): boolean => (n >> BigInt(r.bits - r.prefix)) === (r.base >> BigInt(r.bits - r.prefix))

export interface AddressVerdict { allowed: boolean, why?: string }

/** Whether a webhook may connect to this IP address (IPv4 or IPv6, mapped forms included). */
export function classifyAddress (address: string, allowPrivate: boolean): AddressVerdict {
  const refused = (r: Range): AddressVerdict => ({ allowed: allowPrivate && r.always !== true, why: r.why })
  const kind = isIP(address.split('%')[0] ?? '')
  if (kind === 4) {
    const n = v4(address) as bigint
    const r = V4_RANGES.find(x => within(n, x))
    return r === undefined ? { allowed: true } : refused(r)
  }
  if (kind !== 6) return { allowed: false, why: 'not an IP address' }
  const n = v6(address)
  if (n === undefined) return { allowed: false, why: 'not an IP address' }
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d): judged by the IPv4 address inside
  if ((n >> 32n) === 0xffffn || (n >> 32n) === (v6('64:ff9b::') as bigint) >> 32n) {
    const inner = n & 0xffffffffn
    const dotted = [24n, 16n, 8n, 0n].map(s => String((inner >> s) & 0xffn)).join('.')
    return classifyAddress(dotted, allowPrivate)
  }
  const r = V6_RANGES.find(x => within(n, x))
  return r === undefined ? { allowed: true } : refused(r)
}

export interface UrlPolicy {
  /** production: https only */
  requireHttps: boolean
  allowPrivate: boolean
  resolve?: ResolveAll
}

const refuse = (detail: string): AppError => new AppError('WEBHOOK_URL_NOT_ALLOWED', detail, { errors: [{ pointer: '/url', code: 'WEBHOOK_URL_NOT_ALLOWED', detail }] })

/** The URL's host as a name or a bare IP address (IPv6 without its brackets). */
export function hostOf (url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1')
}

/** Checks a receiver URL (scheme, credentials, every resolved address); returns it normalized, without fragment. */
export async function checkWebhookUrl (raw: string, policy: UrlPolicy): Promise<string> {
  let url: URL
  try { url = new URL(raw) } catch { throw refuse('Not an absolute URL') }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('Only http and https URLs are allowed')
  if (policy.requireHttps && url.protocol !== 'https:') throw refuse('Webhook URLs must use https')
  if (url.username !== '' || url.password !== '') throw refuse('Credentials in the URL are not allowed; authenticate the sender by its signature')
  const host = hostOf(url)
  if (host === '') throw refuse('The URL has no host')
  await checkHost(host, policy)
  url.hash = ''
  return url.href
}

/** Every address of the host allowed, or the refusal naming the first that is not. */
export async function checkHost (host: string, policy: Pick<UrlPolicy, 'allowPrivate' | 'resolve'>): Promise<ResolvedAddress[]> {
  let addresses: ResolvedAddress[]
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }]
  } else {
    try {
      addresses = await (policy.resolve ?? resolveAll)(host)
    } catch {
      throw refuse(`The host ${host} does not resolve`)
    }
    if (addresses.length === 0) throw refuse(`The host ${host} does not resolve`)
  }
  for (const a of addresses) {
    const verdict = classifyAddress(a.address, policy.allowPrivate)
    if (!verdict.allowed) throw refuse(`The host ${host} resolves to ${a.address}, a ${verdict.why ?? 'refused'} address`)
  }
  return addresses
}
