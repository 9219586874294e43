import { describe, expect, it } from 'vitest'
import { addTotals, documentTotals, fromScaled, lineNet, normalize, roundDiv, stationPackPrice, sumAmounts, toScaled } from '../../src/lib/money.js'

describe('money', () => {
  it('parses and formats scaled decimals', () => {
    expect(toScaled('18.5', 4)).toBe(185000n)
    expect(toScaled('-0.00005', 4)).toBe(-1n)
    expect(toScaled('1.23456', 4)).toBe(12346n)
    expect(fromScaled(5n, 2)).toBe('0.05')
    expect(fromScaled(-5n, 2)).toBe('-0.05')
    expect(fromScaled(0n, 2)).toBe('0.00')
    expect(fromScaled(123n, 0)).toBe('123')
    expect(normalize('7', 2)).toBe('7.00')
    expect(() => toScaled('1e3', 2)).toThrow(TypeError)
  })

  it('rounds half-up, away from zero for negatives', () => {
    expect(roundDiv(125n, 1)).toBe(13n)
    expect(roundDiv(124n, 1)).toBe(12n)
    expect(roundDiv(-125n, 1)).toBe(-13n)
    expect(roundDiv(-124n, 1)).toBe(-12n)
    expect(roundDiv(7n, 0)).toBe(7n)
  })

  it('computes line nets to the cent with x.xx5 edge cases and large quantities', () => {
    expect(lineNet('0.0050', 1)).toBe('0.01')
    expect(lineNet('0.0049', 1)).toBe('0.00')
    expect(lineNet('1.0050', 1)).toBe('1.01')
    expect(lineNet('2.6749', 3)).toBe('8.02')
    expect(lineNet('54.0000', 10)).toBe('540.00')
    expect(lineNet('9999999999.9999', 1_000_000)).toBe('9999999999999900.00')
    expect(() => lineNet('1.00', 1.5)).toThrow(TypeError)
  })

  it('derives station prices with the fee, rounded to 4 decimals', () => {
    expect(stationPackPrice('50.0000', '8.00')).toBe('54.0000')
    expect(stationPackPrice('0.3333', '8.00')).toBe('0.3600')
    expect(stationPackPrice('1.2345', '7.50')).toBe('1.3271')
    expect(stationPackPrice('10', '0')).toBe('10.0000')
  })

  it('computes VAT per rate bucket', () => {
    const t = documentTotals([{ net: '0.05', vatRate: '20.00' }, { net: '0.05', vatRate: '20' }, { net: '10.10', vatRate: '5.50' }])
    // bucket 20 %: 0.10 × 0.20 = 0.02; bucket 5.5 %: 10.10 × 0.055 = 0.5555 → 0.56
    expect(t).toEqual({ net: '10.20', vat: '0.58', gross: '10.78' })
    expect(documentTotals([])).toEqual({ net: '0.00', vat: '0.00', gross: '0.00' })
    expect(sumAmounts(['1.10', '2.205'])).toBe('3.31')
    expect(addTotals([t, t])).toEqual({ net: '20.40', vat: '1.16', gross: '21.56' })
  })
})

describe('money edge cases (catalog and contracts)', () => {
  it('rounds x.xx5 line nets up, keeps 4-decimal prices exact over large quantities', () => {
    expect(lineNet('0.0125', 1)).toBe('0.01')
    expect(lineNet('0.0125', 2)).toBe('0.03')
    expect(lineNet('2.0050', 3)).toBe('6.02')
    expect(lineNet('2.0055', 1)).toBe('2.01')
    expect(lineNet('0.0001', 49)).toBe('0.00')
    expect(lineNet('0.0001', 50)).toBe('0.01')
    expect(lineNet('12.3456', 100_000_000)).toBe('1234560000.00')
  })

  it('station prices at the fee limits and with sub-cent supplier prices', () => {
    expect(stationPackPrice('0.0001', '8.00')).toBe('0.0001')
    expect(stationPackPrice('0.0005', '10.00')).toBe('0.0006')
    expect(stationPackPrice('99.9999', '100.00')).toBe('199.9998')
    expect(stationPackPrice('10.3333', '7.50')).toBe('11.1083')
  })

  it('rounds VAT once per rate bucket, not per line', () => {
    // three lines of 0.05 at 20 %: per-line rounding would give 3 × 0.01 = 0.03; the bucket gives 0.15 × 0.2 = 0.03
    // four lines of 0.03 at 5.5 %: per line 4 × 0.00 = 0.00; the bucket gives 0.12 × 0.055 = 0.0066 → 0.01
    const t = documentTotals([...Array.from({ length: 3 }, () => ({ net: '0.05', vatRate: '20.00' })), ...Array.from({ length: 4 }, () => ({ net: '0.03', vatRate: '5.5' }))])
    expect(t).toEqual({ net: '0.27', vat: '0.04', gross: '0.31' })
    expect(documentTotals([{ net: '0.25', vatRate: '10.00' }])).toEqual({ net: '0.25', vat: '0.03', gross: '0.28' })
  })
})
