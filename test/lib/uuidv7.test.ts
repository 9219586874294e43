import { describe, expect, it } from 'vitest'
import { uuidv7 } from '../../src/lib/ids.js'

describe('uuidv7', () => {
  it('is a version-7, RFC 9562-variant UUID carrying the current time, unique and monotonic within a burst', () => {
    const before = Date.now()
    const ids = Array.from({ length: 10_000 }, () => uuidv7())
    const after = Date.now()
    expect(new Set(ids).size).toBe(ids.length)
    const millis = new Set<number>()
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16)
      expect(ms).toBeGreaterThanOrEqual(before)
      expect(ms).toBeLessThanOrEqual(after)
      millis.add(ms)
    }
    // many ids share a millisecond (10 000 in a tight loop), and still sort in the order they were
    // made: string order is generation order, so time-ordered keys stay ordered within a checkout
    expect(millis.size).toBeLessThan(ids.length)
    for (let i = 1; i < ids.length; i++) expect((ids[i - 1] as string) < (ids[i] as string)).toBe(true)
  })
})
