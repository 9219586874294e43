// Micro-benchmark: UUIDv7 generation cost, the `uuid` package's v7() (what src/lib/ids.ts uses)
// against the hand-written generator it replaced (a 16-byte slice of a pooled random buffer
// refilled 256 ids at a time, copied below as the baseline) and crypto.randomUUID (v4, the floor
// Node offers). Not part of `npm test`:
//
//   npx tsx test/load/uuid-bench.ts [ids per round = 1e6] [rounds = 7]
//
// Prints the median ns/id of each generator over the rounds (after one warm-up round), then what
// that costs per request: only the checkout mints ids, 14 for the bench's 10-line / 3-supplier cart
// (master order, purchase orders, lines), against ≈ 5–7 ms of Node CPU per checkout (README); and
// the share of one core at a pessimistic 5000 req/s × 5 ids.
import { randomFillSync, randomUUID } from 'node:crypto'
import { v7 } from 'uuid'

const POOL_IDS = 256
const pool = Buffer.alloc(16 * POOL_IDS)
let next = POOL_IDS
function pooledV7 (): string {
  if (next === POOL_IDS) {
    randomFillSync(pool)
    next = 0
  }
  const b = pool.subarray(next * 16, next * 16 + 16)
  next++
  b.writeUIntBE(Date.now(), 0, 6)
  b[6] = ((b[6] as number) & 0x0f) | 0x70
  b[8] = ((b[8] as number) & 0x3f) | 0x80
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

const generators: Record<string, () => string> = {
  'uuid v7()': () => v7(),
  'hand-written pooled v7': pooledV7,
  'crypto.randomUUID (v4)': () => randomUUID()
}

const n = Number(process.argv[2] ?? 1e6)
const rounds = Number(process.argv[3] ?? 7)
let sink = 0 // keeps the results observable so the loop is not optimized away

function round (gen: () => string): number {
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) sink += gen().length
  return Number(process.hrtime.bigint() - t0) / n
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

const samples = new Map<string, number[]>(Object.keys(generators).map((k) => [k, []]))
for (const gen of Object.values(generators)) round(gen) // warm-up (JIT)
for (let r = 0; r < rounds; r++) {
  // interleave the generators so drift (thermal, neighbours) hits all of them alike
  for (const [name, gen] of Object.entries(generators)) samples.get(name)?.push(round(gen))
}

console.log(`node ${process.version}, ${n} ids × ${rounds} rounds (+1 warm-up), ns/id`)
for (const [name, xs] of samples) {
  const m = median(xs)
  const checkoutUs = (m * 14) / 1000
  const coreShare = (m * 5 * 5000) / 1e9
  console.log(
    `${name.padEnd(24)} median ${m.toFixed(1).padStart(6)}  min ${Math.min(...xs).toFixed(1).padStart(6)}  max ${Math.max(...xs).toFixed(1).padStart(6)}` +
    `  → ${checkoutUs.toFixed(1)} µs per checkout (${((checkoutUs / 7000) * 100).toFixed(2)}–${((checkoutUs / 5000) * 100).toFixed(2)} % of its CPU),` +
    ` ${(coreShare * 100).toFixed(2)} % of a core at 5000 req/s × 5 ids`
  )
}
if (sink === 0) console.log('(no output)')
