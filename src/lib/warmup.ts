// The warm-up after `listen` (src/server.ts): what would make a fresh instance's first requests slow
// is done before readiness turns 200, so a load balancer sends it traffic only once it serves as
// fast as a warm one — the route schemas left to compile (src/lib/lazy-compile.ts: compiling them
// under traffic put an article read's p99 at 246 ms in the first seconds). Liveness and `listen`
// never wait for it. An app nobody warms up (tests, the worker) is ready as before.

export type WarmupState = 'none' | 'expected' | 'running' | 'done'

export class Warmup {
  #state: WarmupState = 'none'

  get state (): WarmupState { return this.#state }

  /** True while readiness must answer 503: from `expect()` until the work given to `run()` settles. */
  get pending (): boolean { return this.#state === 'expected' || this.#state === 'running' }

  /** Readiness waits from now on (called before `listen`, so no probe sees 200 before the warm-up). */
  expect (): void {
    if (this.#state === 'none') this.#state = 'expected'
  }

  /**
   * Runs the warm-up; readiness turns 200 when it settles, failed or not. A failure (a schema that
   * does not compile) is the caller's to log: the instance must not stay unready forever for it —
   * the route concerned fails the same way on its first request, every other route serves.
   */
  async run<T> (work: () => Promise<T>): Promise<T> {
    this.#state = 'running'
    try {
      return await work()
    } finally {
      this.#state = 'done'
    }
  }
}
