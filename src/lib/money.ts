// Exact decimal money arithmetic on scaled BigInts — never JavaScript floats. Pack prices carry 4
// decimals, amounts 2, percentages 2. Rounding is half-up (away from zero for negatives), as
// PRODUCT.md §4.4 prescribes. Values cross the API and the database as decimal strings.
//
// The one rounding rule (§4.4), applied by every caller through these functions and never
// re-implemented elsewhere (no SQL rounds money): a line net is rounded to the cent once; a
// document (a purchase order: one supplier's lines) rounds its VAT once per VAT-rate bucket; an
// order split over several suppliers (a master order, and the cart quote that previews it) totals
// the sum of its per-supplier documents — it is never re-rounded as one document (`splitTotals`).

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/

/** Parses a decimal string into an integer scaled by 10^scale, rounding half-up when it has more decimals. */
export function toScaled (value: string, scale: number): bigint {
  const m = DECIMAL.exec(value.trim())
  if (m === null) throw new TypeError(`Not a decimal: ${value}`)
  const negative = m[1] === '-'
  const intPart = m[2] ?? '0'
  const frac = m[3] ?? ''
  let n: bigint
  if (frac.length <= scale) {
    n = BigInt(intPart + frac.padEnd(scale, '0'))
  } else {
    const kept = BigInt(intPart + frac.slice(0, scale))
    const next = Number(frac[scale])
    n = next >= 5 ? kept + 1n : kept
  }
  return negative ? -n : n
}

/** Formats an integer scaled by 10^scale as a decimal string with exactly `scale` decimals. */
export function fromScaled (n: bigint, scale: number): string {
  const negative = n < 0n
  const abs = (negative ? -n : n).toString().padStart(scale + 1, '0')
  const s = scale === 0 ? abs : `${abs.slice(0, abs.length - scale)}.${abs.slice(abs.length - scale)}`
  return negative && n !== 0n ? `-${s}` : s
}

/** Divides by 10^digits rounding half-up (away from zero). */
export function roundDiv (n: bigint, digits: number): bigint {
  if (digits <= 0) return n
  const d = 10n ** BigInt(digits)
  const q = n / d
  const r = n % d
  const half = d / 2n
  if (n >= 0n) return r >= half ? q + 1n : q
  return -r >= half ? q - 1n : q
}

/** Normalises a decimal string to `scale` decimals (half-up). */
export function normalize (value: string, scale: number): string {
  return fromScaled(toScaled(value, scale), scale)
}

/** Station pack price = supplier pack price × (1 + fee% / 100), rounded half-up to 4 decimals. */
export function stationPackPrice (supplierPackPrice: string, feePct: string): string {
  const price = toScaled(supplierPackPrice, 4) // 1e-4
  const factor = 10_000n + toScaled(feePct, 2) // (100 + fee) in 1e-2 → ×100
  return fromScaled(roundDiv(price * factor, 4), 4)
}

/** Line net = round-half-up(pack price × packs, 2 decimals). */
export function lineNet (packPrice: string, packs: number): string {
  if (!Number.isSafeInteger(packs)) throw new TypeError('packs must be an integer')
  return fromScaled(roundDiv(toScaled(packPrice, 4) * BigInt(packs), 2), 2)
}

export interface TaxedLine { net: string, vatRate: string }
export interface Totals { net: string, vat: string, gross: string }

/** Document totals: net = Σ line nets; VAT = Σ over rate buckets of round-half-up(bucket net × rate); gross = net + VAT. */
export function documentTotals (lines: readonly TaxedLine[]): Totals {
  const buckets = new Map<string, bigint>()
  let net = 0n
  for (const l of lines) {
    const n = toScaled(l.net, 2)
    net += n
    const rate = normalize(l.vatRate, 2)
    buckets.set(rate, (buckets.get(rate) ?? 0n) + n)
  }
  let vat = 0n
  for (const [rate, bucketNet] of buckets) vat += roundDiv(bucketNet * toScaled(rate, 2), 4)
  return { net: fromScaled(net, 2), vat: fromScaled(vat, 2), gross: fromScaled(net + vat, 2) }
}

export interface SupplierTaxedLine extends TaxedLine { supplierId: string }

/**
 * Totals of an order split into one document per supplier: each supplier's lines are rounded as
 * one document (`documentTotals`), in first-seen order, and the order's totals are the sums of the
 * documents' totals. The cart quote and checkout both call this, so the quote shows to the cent
 * what checkout writes.
 */
export function splitTotals (lines: readonly SupplierTaxedLine[]): { bySupplier: Map<string, Totals>, total: Totals } {
  const groups = new Map<string, TaxedLine[]>()
  for (const l of lines) {
    const g = groups.get(l.supplierId)
    if (g === undefined) groups.set(l.supplierId, [l])
    else g.push(l)
  }
  const bySupplier = new Map([...groups].map(([supplierId, g]) => [supplierId, documentTotals(g)] as const))
  return { bySupplier, total: addTotals([...bySupplier.values()]) }
}

/** Σ of amounts (2 decimals). */
export function sumAmounts (values: readonly string[]): string {
  return fromScaled(values.reduce((acc, v) => acc + toScaled(v, 2), 0n), 2)
}

export function addTotals (items: readonly Totals[]): Totals {
  return { net: sumAmounts(items.map(t => t.net)), vat: sumAmounts(items.map(t => t.vat)), gross: sumAmounts(items.map(t => t.gross)) }
}
