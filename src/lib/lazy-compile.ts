// Compiling schemas is most of a cold start: Ajv validators and fast-json-stringify serializers for
// ~90 routes (bodies, querystrings, params, headers, every response status, three audience views)
// took ~4 of the 5 seconds from spawn to ready on the 2-core benchmark machine. The compilers here
// hand Fastify a function that compiles on its first call instead, so the server is ready as soon
// as the routes are registered; `compilePending()` then compiles whatever is left in the background
// after `listen`, one schema per macrotask, so steady traffic never pays a compilation and early
// requests are never blocked behind all of them. Compilation errors (an invalid schema) surface in
// `compilePending()` — a test runs it over the whole app — and on the route's first request.

type Pending = () => void

// Weak references: a schema whose route (or whole app — tests build hundreds) is gone is dropped
// instead of being compiled or kept alive.
const pending = new Set<WeakRef<Pending>>()

function track (compile: Pending): { ensure: Pending, done: () => void } {
  const ref = new WeakRef(compile)
  pending.add(ref)
  return { ensure: compile, done: () => { pending.delete(ref) } }
}

export interface LazyValidator {
  (data: unknown): boolean | Promise<unknown>
  errors?: unknown
}

/** A validator that compiles on first use; Fastify reads `.errors` after a failed call. */
export function lazyValidator (compile: () => LazyValidator): LazyValidator {
  let fn: LazyValidator | undefined
  const { ensure, done } = track(() => {
    if (fn !== undefined) return
    fn = compile()
    done()
  })
  const validate: LazyValidator = (data: unknown) => {
    if (fn === undefined) ensure()
    const result = (fn as LazyValidator)(data)
    validate.errors = (fn as LazyValidator).errors
    return result
  }
  return validate
}

/** A serializer (value → JSON text) that compiles on first use. */
export function lazySerializer<T = unknown> (compile: () => (value: T) => string): (value: T) => string {
  let fn: ((value: T) => string) | undefined
  const { ensure, done } = track(() => {
    if (fn !== undefined) return
    fn = compile()
    done()
  })
  return (value: T) => {
    if (fn === undefined) ensure()
    return (fn as (value: T) => string)(value)
  }
}

/** How many schemas are still uncompiled (all apps of the process together). */
export function pendingCompilations (): number {
  for (const ref of pending) if (ref.deref() === undefined) pending.delete(ref)
  return pending.size
}

/**
 * Compiles every pending schema, yielding to the event loop between two (`setImmediate`), so
 * requests arriving meanwhile are served. Resolves with the number compiled; rejects with the
 * first compilation error (the schema stays pending: its route's first request fails the same way)
 * — or, given `onError`, hands each error to it and compiles the others.
 */
export async function compilePending (opts: { signal?: AbortSignal, onError?: (err: unknown) => void } = {}): Promise<number> {
  let n = 0
  const failed = new Set<WeakRef<Pending>>()
  for (;;) {
    if (opts.signal?.aborted === true) return n
    let next: WeakRef<Pending> | undefined
    for (const ref of pending) if (!failed.has(ref)) { next = ref; break }
    if (next === undefined) return n
    const compile = next.deref()
    if (compile === undefined) { pending.delete(next); continue }
    try {
      compile()
    } catch (err) {
      if (opts.onError === undefined) throw err
      failed.add(next)
      opts.onError(err)
      continue
    }
    n++
    await new Promise(resolve => setImmediate(resolve))
  }
}
