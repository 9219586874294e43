// Live events for the Server-Sent Events streams of this instance. One dedicated connection
// LISTENs on `outbox_feed` (the dispatcher NOTIFYs the last position it made visible — from its
// own transaction, never from a mutation's); on a notice, and every second in case one was missed
// (a reconnect), the hub reads what follows its position once, for all streams, and hands each
// stream the events its caller may receive. The listener follows the token listener's pattern
// (src/plugins/auth.ts): bounded connect, quick reconnect, one warning per outage, a heartbeat
// query that notices a silently dead connection. It runs only while a stream is open.
import pg from 'pg'
import type { Db } from '../../db/index.js'
import { FEED_CHANNEL } from '../webhooks/dispatcher.js'
import { lastSequence, readAll, type FeedRow } from './events.reads.js'

export interface HubLog { warn: (obj: object, msg: string) => void, info: (obj: object, msg: string) => void }

export interface Listener {
  /** events after the hub's position, in feed order (the listener filters and deduplicates) */
  push: (rows: FeedRow[]) => void
}

const POLL_MS = 1000
const HEARTBEAT_MS = 10_000
const BATCH = 1000

export class EventsHub {
  readonly #db: Db
  readonly #connectionString: string
  readonly #connectTimeoutMs: number
  readonly #log: HubLog
  readonly #listeners = new Set<Listener>()
  #position: number | undefined
  #client: pg.Client | undefined
  #running = false
  #stopped = false
  #pumping: Promise<void> | undefined
  #again = false
  #failures = 0
  #poll: NodeJS.Timeout | undefined
  #heartbeat: NodeJS.Timeout | undefined
  #retry: NodeJS.Timeout | undefined

  constructor (db: Db, connectionString: string, connectTimeoutMs: number, log: HubLog) {
    this.#db = db
    this.#connectionString = connectionString
    this.#connectTimeoutMs = connectTimeoutMs
    this.#log = log
  }

  get size (): number { return this.#listeners.size }

  /** The hub's position: a new stream catches up to at least here by itself, then gets pushes. */
  async position (): Promise<number> {
    this.#position ??= await lastSequence(this.#db)
    return this.#position
  }

  add (listener: Listener): () => void {
    this.#listeners.add(listener)
    if (!this.#running && !this.#stopped) this.#start()
    return () => {
      this.#listeners.delete(listener)
      if (this.#listeners.size === 0) this.#idle()
    }
  }

  /** Reads what follows the position and hands it out; single-flight, re-run when asked meanwhile. */
  pump (): Promise<void> {
    if (this.#pumping !== undefined) { this.#again = true; return this.#pumping }
    this.#pumping = (async () => {
      try {
        do {
          this.#again = false
          const from = await this.position()
          const rows = await readAll(this.#db, from, BATCH)
          if (rows.length === 0) continue
          this.#position = (rows[rows.length - 1] as FeedRow).sequence
          for (const l of this.#listeners) l.push(rows)
          if (rows.length === BATCH) this.#again = true
        } while (this.#again && !this.#stopped)
      } catch {
        // the next notice or poll tries again
      } finally {
        this.#pumping = undefined
      }
    })()
    return this.#pumping
  }

  #start (): void {
    this.#running = true
    this.#poll = setInterval(() => { void this.pump() }, POLL_MS)
    this.#poll.unref()
    void this.#connect()
  }

  /** No stream left: the connection and the poll stop until the next stream. */
  #idle (): void {
    if (!this.#running) return
    this.#running = false
    this.#position = undefined
    clearInterval(this.#poll)
    clearInterval(this.#heartbeat)
    clearTimeout(this.#retry)
    const c = this.#client
    this.#client = undefined
    if (c !== undefined) void c.end().catch(() => {})
  }

  async #connect (): Promise<void> {
    if (!this.#running) return
    const c = new pg.Client({ connectionString: this.#connectionString, application_name: 'gestion-emballages-api:events', connectionTimeoutMillis: this.#connectTimeoutMs, keepAlive: true })
    c.on('error', () => { /* handled by 'end' */ })
    c.on('end', () => {
      if (this.#client === c) { this.#client = undefined; clearInterval(this.#heartbeat) }
      if (this.#running) this.#retry = setTimeout(() => { void this.#connect() }, 100)
    })
    c.on('notification', () => { void this.pump() })
    try {
      await c.connect()
      await c.query(`LISTEN ${FEED_CHANNEL}`)
      if (!this.#running) { await c.end(); return }
      this.#client = c
      clearInterval(this.#heartbeat)
      this.#heartbeat = setInterval(() => {
        const deadline = setTimeout(() => { c.connection.stream.destroy() }, HEARTBEAT_MS / 2)
        c.query('SELECT 1').catch(() => {}).finally(() => { clearTimeout(deadline) })
      }, HEARTBEAT_MS)
      this.#heartbeat.unref()
      if (this.#failures > 0) this.#log.info({ attempts: this.#failures }, 'events listener reconnected')
      this.#failures = 0
      // notices sent while disconnected are lost: read what is there
      void this.pump()
    } catch (err) {
      if (this.#failures++ === 0) this.#log.warn({ err }, 'events listener could not connect; retrying every 250 ms (streams are fed by polling meanwhile)')
      c.removeAllListeners('end')
      await c.end().catch(() => {})
      if (this.#running) this.#retry = setTimeout(() => { void this.#connect() }, 250)
    }
  }

  async stop (): Promise<void> {
    this.#stopped = true
    this.#idle()
    await this.#pumping
  }
}
