// Fastify gives every request a child logger bound to its request id. Creating a pino child
// serializes (and redacts) the bindings — about 2 % of a hot read's CPU — although with request
// logging off most requests never log. This child is created on the first call at an enabled
// level instead; until then calls at disabled levels cost a level check.
import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions, Logger } from 'pino'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
type LogFn = (...args: unknown[]) => void

class LazyChildLogger implements FastifyBaseLogger {
  #child: Logger | undefined

  constructor (
    private readonly parent: Logger,
    private readonly childBindings: Bindings,
    private readonly options: ChildLoggerOptions
  ) {}

  get logger (): Logger {
    this.#child ??= this.parent.child(this.childBindings, this.options)
    return this.#child
  }

  #log (level: Level, args: unknown[]): void {
    const target = this.#child ?? this.parent
    if (target.isLevelEnabled(level)) (this.logger[level] as LogFn)(...args)
  }

  get level (): string { return (this.#child ?? this.parent).level }
  set level (value: string) { this.logger.level = value }
  isLevelEnabled (level: string): boolean { return (this.#child ?? this.parent).isLevelEnabled(level) }
  bindings (): Bindings { return this.logger.bindings() }
  child (bindings: Bindings, options?: ChildLoggerOptions): Logger { return this.logger.child(bindings, options) }
  silent (): void {}
  fatal (...args: unknown[]): void { this.#log('fatal', args) }
  error (...args: unknown[]): void { this.#log('error', args) }
  warn (...args: unknown[]): void { this.#log('warn', args) }
  info (...args: unknown[]): void { this.#log('info', args) }
  debug (...args: unknown[]): void { this.#log('debug', args) }
  trace (...args: unknown[]): void { this.#log('trace', args) }
}

/**
 * Fastify's `childLoggerFactory`: a route with its own log level gets its child at once. Fastify
 * types the parent as its minimal logger interface; buildApp configures Fastify's own pino, so the
 * parent is a pino Logger (isLevelEnabled, bindings), the one narrowing here.
 */
export function lazyChildLoggerFactory (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  if (options.level !== undefined) return logger.child(bindings, options)
  return new LazyChildLogger(logger as Logger, bindings, options)
}
