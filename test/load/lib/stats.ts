// Small statistics shared by the bench.

/** The median (the mean of the two middle values for an even count; NaN for none). */
export function median (xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const k = s.length
  if (k === 0) return Number.NaN
  return k % 2 === 1 ? (s[(k - 1) / 2] ?? 0) : ((s[k / 2 - 1] ?? 0) + (s[k / 2] ?? 0)) / 2
}
