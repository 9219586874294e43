// The bench's ceiling server (test/load/ceiling-server.ts) runs the service's own checkout
// statements, copied as constant texts (the service builds them with Kysely's sql templates). Its
// ratio means something only while the copies are the service's SQL: every statement of the
// service's checkout snapshot (test/domains/carts/__snapshots__/checkout-contract.sql, the path the
// bench's contract-priced carts take) must appear in the ceiling, whitespace aside. When the
// service's checkout SQL changes, its snapshot changes, and this test names the copy to update.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const norm = (s: string): string => s.replace(/\s+/g, ' ').trim()

describe('the ceiling runs the service\'s checkout SQL', () => {
  const ceiling = norm(readFileSync('test/load/ceiling-server.ts', 'utf8'))
  const statements = readFileSync('test/domains/carts/__snapshots__/checkout-contract.sql', 'utf8')
    .split(/^-- statement \d+$/m).map(norm).filter(s => s !== '').map(s => s.replace(/;$/, ''))

  it('has every statement of the service\'s contract-priced checkout', () => {
    expect(statements.length).toBeGreaterThanOrEqual(3)
    for (const [i, s] of statements.entries()) expect(ceiling.includes(s), `checkout statement ${i + 1} is not in ceiling-server.ts (update its copy): ${s.slice(0, 120)}…`).toBe(true)
  })
})
