// A real headless Chromium for the browser tests, driven over the Chrome DevTools Protocol on a
// pipe (--remote-debugging-pipe: no debugging port, no extra dependency), run in a network
// namespace of its own where the page reaches the server through a non-loopback address.
//
// Why a namespace: the point is a plain-http origin that is not loopback (browsers treat
// localhost as secure). The namespace holds only a loopback interface carrying the documentation
// address 198.51.100.7 (TEST-NET-2); a small relay inside it forwards each connection to a Unix
// socket, where this process connects it to the server. No packet goes to a real network address.
//
// Chromium comes from Debian's `chromium` package: ensureChromium() installs it (as root, with
// apt-get) when it is missing and returns undefined only if that is impossible.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect, createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'

export const PAGE_HOST = '198.51.100.7'

function chromiumPath (): string | undefined {
  for (const p of ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(p)) return p
  return undefined
}

/** The Chromium binary, installing Debian's package first when it is missing (root only). */
export function ensureChromium (log: (msg: string) => void = () => {}): { path?: string, reason?: string } {
  const found = chromiumPath()
  if (found !== undefined) return { path: found }
  if (process.getuid?.() !== 0) return { reason: 'chromium is not installed and installing it needs root (apt-get install chromium)' }
  log('installing chromium (apt-get install -y chromium)…')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const update = spawnSync('apt-get', ['update'], { env, encoding: 'utf8', timeout: 300_000 })
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env, encoding: 'utf8', timeout: 600_000 })
  const path = chromiumPath()
  if (path !== undefined) return { path }
  return { reason: `chromium could not be installed (apt-get update: ${update.status ?? update.error?.message}, apt-get install chromium: ${install.status ?? install.error?.message}: ${(install.stderr ?? '').trim().split('\n').slice(-2).join(' ')})` }
}

/** Whether this process may create a network namespace (root, or CAP_SYS_ADMIN). */
export function canCreateNetworkNamespace (): boolean {
  return spawnSync('unshare', ['--net', 'true']).status === 0
}

interface Pending { resolve: (v: Record<string, unknown>) => void, reject: (e: Error) => void, method: string }
export interface CdpEvent { method: string, params: Record<string, unknown>, sessionId?: string }

/** A Chrome DevTools Protocol connection over --remote-debugging-pipe (NUL-separated JSON). */
export class Cdp {
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  readonly events: CdpEvent[] = []
  private readonly waiters = new Set<{ match: (e: CdpEvent) => boolean, resolve: (e: CdpEvent) => void }>()

  constructor (private readonly out: Writable, input: Readable) {
    let buffer = ''
    input.setEncoding('utf8')
    input.on('data', (chunk: string) => {
      buffer += chunk
      let end
      while ((end = buffer.indexOf('\0')) >= 0) {
        const message = JSON.parse(buffer.slice(0, end)) as { id?: number, result?: Record<string, unknown>, error?: { message: string }, method?: string, params?: Record<string, unknown>, sessionId?: string }
        buffer = buffer.slice(end + 1)
        if (message.id !== undefined) {
          const p = this.pending.get(message.id)
          this.pending.delete(message.id)
          if (message.error !== undefined) p?.reject(new Error(`${p.method}: ${message.error.message}`))
          else p?.resolve(message.result ?? {})
        } else if (message.method !== undefined) {
          const event: CdpEvent = { method: message.method, params: message.params ?? {}, sessionId: message.sessionId }
          this.events.push(event)
          for (const w of this.waiters) if (w.match(event)) { this.waiters.delete(w); w.resolve(event) }
        }
      }
    })
  }

  async send (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++
    const result = new Promise<Record<string, unknown>>((resolve, reject) => { this.pending.set(id, { resolve, reject, method }) })
    this.out.write(`${JSON.stringify({ id, method, params, ...(sessionId !== undefined ? { sessionId } : {}) })}\0`)
    return await result
  }

  async waitFor (match: (e: CdpEvent) => boolean, timeoutMs: number, what: string): Promise<CdpEvent> {
    const seen = this.events.find(match)
    if (seen !== undefined) return seen
    return await new Promise((resolve, reject) => {
      const waiter = { match, resolve: (e: CdpEvent) => { clearTimeout(timer); resolve(e) } }
      const timer = setTimeout(() => { this.waiters.delete(waiter); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)) }, timeoutMs)
      this.waiters.add(waiter)
    })
  }
}

export interface Browser {
  cdp: Cdp
  /** the origin pages use to reach the server: http://198.51.100.7:<port> */
  origin: string
  /** a page (target) attached in flat mode, its session id */
  newPage: () => Promise<string>
  /** evaluates an expression in the page, returns its value (awaiting a promise) */
  evaluate: <T>(sessionId: string, expression: string) => Promise<T>
  close: () => Promise<void>
}

/**
 * Starts Chromium in its own network namespace where http://198.51.100.7:<port> reaches the
 * server listening at `target` (host:port, from this process's namespace).
 */
export async function launchChromium (chromium: string, target: { host: string, port: number }): Promise<Browser> {
  const dir = await mkdtemp(join(tmpdir(), 'ge-chromium-'))
  const socket = join(dir, 'relay.sock')
  // this process: Unix socket → the server
  const bridge: Server = createServer(client => {
    const upstream = connect(target.port, target.host)
    client.pipe(upstream).pipe(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
  })
  await new Promise<void>(resolve => bridge.listen(socket, resolve))
  // inside the namespace: 198.51.100.7:<port> → the Unix socket
  // (it exits when Chromium — the process that started it, by exec — is gone)
  const relay = `const p=process.ppid;setInterval(()=>{try{process.kill(p,0)}catch{process.exit(0)}},300);const net=require('node:net');net.createServer(c=>{const u=net.connect(${JSON.stringify(socket)});c.pipe(u).pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy())}).listen(${target.port},${JSON.stringify(PAGE_HOST)},()=>process.stdout.write('relay ready\\n'))`
  const script = [
    'set -e',
    'ip link set lo up',
    `ip addr add ${PAGE_HOST}/32 dev lo`,
    // the relay must not hold the DevTools pipes (fds 3 and 4) open
    `"${process.execPath}" -e "$RELAY" 3>&- 4>&- &`,
    // wait for the relay, then become Chromium (keeping fds 3 and 4)
    `for i in $(seq 1 100); do (exec 3<>/dev/tcp/${PAGE_HOST}/${target.port}) 2>/dev/null && break; sleep 0.05; done`,
    'exec "$@"'
  ].join('\n')
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check',
    '--disable-extensions', '--disable-background-networking', '--disable-sync', '--mute-audio', '--hide-scrollbars',
    `--user-data-dir=${join(dir, 'profile')}`, '--remote-debugging-pipe', 'about:blank'
  ]
  const child: ChildProcess = spawn('unshare', ['--net', '--', 'bash', '-c', script, 'bash', chromium, ...args], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, RELAY: relay }
  })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  const toBrowser = child.stdio[3] as Writable
  const fromBrowser = child.stdio[4] as Readable
  const cdp = new Cdp(toBrowser, fromBrowser)
  const exited = new Promise<never>((_resolve, reject) => child.once('exit', code => { reject(new Error(`chromium exited (${code}): ${stderr}`)) }))
  exited.catch(() => {})
  // the browser answers once it is up
  await Promise.race([cdp.send('Browser.getVersion'), exited])

  return {
    cdp,
    origin: `http://${PAGE_HOST}:${target.port}`,
    newPage: async () => {
      const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' })
      const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true })
      const session = String(sessionId)
      for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await cdp.send(`${domain}.enable`, {}, session)
      return session
    },
    evaluate: async <T>(sessionId: string, expression: string): Promise<T> => {
      const r = await cdp.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId)
      if (r.exceptionDetails !== undefined) throw new Error(`page exception: ${JSON.stringify(r.exceptionDetails)}`)
      return (r.result as { value: T }).value
    },
    close: async () => {
      try { await Promise.race([cdp.send('Browser.close'), new Promise(resolve => setTimeout(resolve, 3000))]) } catch {}
      if (child.exitCode === null) child.kill('SIGKILL')
      await new Promise<void>(resolve => bridge.close(() => resolve()))
      await rm(dir, { recursive: true, force: true })
    }
  }
}
