// Fastify gives every request a child logger bound to its request id. Creating a pino child
// serializes (and redacts) the bindings — about 2 % of a hot read's CPU — although with request
// logging off most requests never log. This child is created on the first call at an enabled
// level instead; until then calls at disabled levels cost a level check.
import type { FastifyBaseLogger } from 'fastify'
import type { Logger } from 'pino'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
type LogFn = (...args: unknown[]) => void

class LazyChildLogger {
  #child: Logger | undefined

  constructor (
    private readonly parent: Logger,
    private readonly childBindings: Record<string, unknown>,
    private readonly options: Record<string, unknown>
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
  bindings (): Record<string, unknown> { return this.logger.bindings() }
  child (bindings: Record<string, unknown>, options?: Record<string, unknown>): Logger { return this.logger.child(bindings, options) }
  silent (): void {}
  fatal (...args: unknown[]): void { this.#log('fatal', args) }
  error (...args: unknown[]): void { this.#log('error', args) }
  warn (...args: unknown[]): void { this.#log('warn', args) }
  info (...args: unknown[]): void { this.#log('info', args) }
  debug (...args: unknown[]): void { this.#log('debug', args) }
  trace (...args: unknown[]): void { this.#log('trace', args) }
}

/** Fastify's `childLoggerFactory`: a route with its own log level gets its child at once. */
export function lazyChildLoggerFactory (logger: FastifyBaseLogger, bindings: Record<string, unknown>, options: Record<string, unknown>): FastifyBaseLogger {
  if (options.level !== undefined) return logger.child(bindings, options)
  return new LazyChildLogger(logger as unknown as Logger, bindings, options) as unknown as FastifyBaseLogger
}
