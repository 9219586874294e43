// One Server-Sent Events stream: catches up from its resume point with keyset reads of the feed,
// then sends what the hub pushes — each event once, in feed order, only those its caller may
// receive. Bounded: the writer closes a stream whose client does not read (more than
// MAX_BUFFERED bytes waiting), and the owner closes it at its deadline (a lifetime no longer than
// the access token's), on revocation and on shutdown. A client reconnects with Last-Event-ID.
import type { ServerResponse } from 'node:http'
import type { Db } from '../../db/index.js'
import type { Actor } from '../../lib/permissions.js'
import type { FeedRow } from './events.reads.js'
import { readFeed, seesEverything } from './events.reads.js'
import type { EventView } from './events.schemas.js'

const CATCH_UP_BATCH = 500
/** A client this far behind is disconnected (it resumes with Last-Event-ID). */
const MAX_BUFFERED = 1024 * 1024
const PAUSE_AT = 256 * 1024

export function frame (e: EventView): string {
  const message = JSON.stringify({ id: e.id, sequence: e.sequence, type: e.type, occurredAt: new Date(e.occurredAt).toISOString(), data: e.data })
  return `id: ${e.sequence}\nevent: ${e.type}\ndata: ${message}\n\n`
}

export class EventStream {
  readonly actor: Actor
  readonly tokenIssuedMs: number
  readonly deadline: number
  readonly #raw: ServerResponse
  readonly #types: ReadonlySet<string> | undefined
  #last: number
  #caughtUp = false
  #pending: FeedRow[] = []
  #closed = false
  #onClose: () => void

  constructor (raw: ServerResponse, actor: Actor, opts: { after: number, types?: readonly string[], deadline: number, tokenIssuedMs: number, onClose: () => void }) {
    this.#raw = raw
    this.actor = actor
    this.#last = opts.after
    this.#types = opts.types === undefined || opts.types.length === 0 ? undefined : new Set(opts.types)
    this.deadline = opts.deadline
    this.tokenIssuedMs = opts.tokenIssuedMs
    this.#onClose = opts.onClose
    raw.on('close', () => { this.close() })
  }

  get closed (): boolean { return this.#closed }

  #mayReceive (row: FeedRow): boolean {
    if (this.#types !== undefined && !this.#types.has(row.type)) return false
    return seesEverything(this.actor) || row.organizationIds.includes(this.actor.organizationId)
  }

  #write (text: string): boolean {
    if (this.#closed) return false
    this.#raw.write(text)
    if (this.#raw.writableLength > MAX_BUFFERED) { this.close(); return false }
    return true
  }

  /** Sends events after the stream's position (in order); earlier ones were sent already. */
  #send (rows: Array<EventView | FeedRow>, filtered: boolean): void {
    let out = ''
    for (const r of rows) {
      if (r.sequence <= this.#last) continue
      this.#last = r.sequence
      if (filtered && !this.#mayReceive(r as FeedRow)) continue
      out += frame(r)
    }
    if (out !== '') this.#write(out)
  }

  /** The hub's live events: held until the catch-up is done, then sent. */
  push (rows: FeedRow[]): void {
    if (this.#closed) return
    if (!this.#caughtUp) { this.#pending.push(...rows); return }
    this.#send(rows, true)
  }

  /** Sends everything from the resume point (as the feed reads it for this caller), then what the hub pushed meanwhile. */
  async catchUp (db: Db): Promise<void> {
    for (;;) {
      const rows = await readFeed(db, this.actor, this.#last, CATCH_UP_BATCH, this.#types === undefined ? undefined : [...this.#types])
      if (this.#closed) return
      this.#send(rows, false)
      if (rows.length < CATCH_UP_BATCH) break
      if (this.#raw.writableLength > PAUSE_AT) await new Promise<void>(resolve => { this.#raw.once('drain', resolve); this.#raw.once('close', resolve) })
    }
    this.#caughtUp = true
    const pending = this.#pending
    this.#pending = []
    this.#send(pending, true)
  }

  heartbeat (): void { this.#write(': keep-alive\n\n') }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#pending = []
    if (!this.#raw.writableEnded) this.#raw.end()
    this.#onClose()
  }
}
