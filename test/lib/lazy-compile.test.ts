import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Ajv } from 'ajv'
import { compilePending, lazySerializer, lazyValidator, pendingCompilations } from '../../src/lib/lazy-compile.js'
import type { App } from '../../src/lib/route.js'
import { createTestApp } from '../helpers/app.js'

describe('lazy schema compilation', () => {
  let app: App
  beforeAll(async () => { app = await createTestApp() })
  afterAll(async () => { await app.close() })

  it('leaves schemas uncompiled at ready, and every schema of every route compiles afterwards', async () => {
    expect(pendingCompilations()).toBeGreaterThan(100)
    const compiled = await compilePending()
    expect(compiled).toBeGreaterThan(100)
    expect(pendingCompilations()).toBe(0)
  })

  it('a lazy validator compiles once and exposes the errors of its last call, as Fastify reads them', () => {
    let compilations = 0
    const validate = lazyValidator(() => { compilations++; return new Ajv().compile({ type: 'object', required: ['a'], properties: { a: { type: 'integer' } } }) })
    expect(compilations).toBe(0)
    expect(validate({ a: 'x' })).toBe(false)
    expect(validate.errors).toEqual([expect.objectContaining({ instancePath: '/a', keyword: 'type' })])
    expect(validate({ a: 1 })).toBe(true)
    expect(validate.errors).toBeNull()
    expect(compilations).toBe(1)
  })

  it('a schema that fails to compile fails the background pass and its first use, and stays pending', async () => {
    const serialize = lazySerializer<unknown>(() => { throw new Error('bad schema') })
    const ok = lazySerializer<number>(() => n => String(n))
    await expect(compilePending()).rejects.toThrow('bad schema')
    expect(() => serialize(1)).toThrow('bad schema')
    expect(ok(2)).toBe('2')
    expect(pendingCompilations()).toBe(1)
  })

  it('given onError, the background pass hands it each failure and compiles every other schema', async () => {
    const bad = lazySerializer<unknown>(() => { throw new Error('still bad') })
    const good = [1, 2, 3].map(k => lazySerializer<number>(() => n => String(n * k)))
    const errors: unknown[] = []
    // the schema left pending by the previous test fails too
    expect(await compilePending({ onError: err => { errors.push(err) } })).toBe(3)
    expect(errors.map(e => (e as Error).message).sort()).toEqual(['bad schema', 'still bad'])
    expect(pendingCompilations()).toBe(2)
    expect(good.map(s => s(2))).toEqual(['2', '4', '6'])
    expect(() => bad(1)).toThrow('still bad')
  })
})
