// Seeded pseudo-random numbers for the dataset and the scenarios: mulberry32 (32-bit state, fast,
// good enough for test data) plus the few distributions the generator needs. Never for security.

export interface Rng {
  /** uniform in [0, 1) */
  next: () => number
  /** integer in [min, max] */
  int: (min: number, max: number) => number
  pick: <T>(items: readonly T[]) => T
  /** Pareto-like weight (heavy tail): x_m / U^(1/alpha) */
  pareto: (alpha: number, xm?: number) => number
  shuffle: <T>(items: T[]) => T[]
}

export function mulberry32 (seed: number): Rng {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1))
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from an empty list')
      return items[Math.floor(next() * items.length)] as T
    },
    pareto: (alpha: number, xm = 1) => xm / Math.pow(1 - next(), 1 / alpha),
    shuffle: <T>(items: T[]): T[] => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1))
        const tmp = items[i] as T
        items[i] = items[j] as T
        items[j] = tmp
      }
      return items
    }
  }
}

/** Derives an independent stream from a seed and a label (so adding a stream never shifts another). */
export function streamSeed (seed: number, label: string): number {
  let h = (seed ^ 0x9E3779B9) >>> 0
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0
  return h
}

/** Cumulative weights for O(log n) weighted picks. */
export function cumulative (weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length)
  let acc = 0
  weights.forEach((w, i) => { acc += w; out[i] = acc })
  return out
}

export function weightedIndex (cum: Float64Array, u: number): number {
  const target = u * (cum[cum.length - 1] ?? 0)
  let lo = 0
  let hi = cum.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((cum[mid] ?? 0) < target) lo = mid + 1
    else hi = mid
  }
  return lo
}
