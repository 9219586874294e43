import { describe, expect, it } from 'vitest'
import { uuidv7 } from '../../src/domains/orders/ids.js'

describe('uuidv7', () => {
  it('is a version-7, RFC 4122-variant UUID carrying the current time, unique across pool refills', () => {
    const before = Date.now()
    const ids = Array.from({ length: 1000 }, () => uuidv7())
    const after = Date.now()
    expect(new Set(ids).size).toBe(1000)
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16)
      expect(ms).toBeGreaterThanOrEqual(before)
      expect(ms).toBeLessThanOrEqual(after)
    }
  })
})
