// The CSV cell rules (RFC 4180 quoting, OWASP CSV-injection neutralizing) and the Accept
// negotiation, as units.
import { describe, expect, it } from 'vitest'
import { csvCell, csvRow, csvStream } from '../../../src/domains/reports/reports.csv.js'
import { prefersCsv } from '../../../src/domains/reports/reports.routes.js'
import { parseCsv } from './csv-parse.js'

describe('csvCell', () => {
  it('neutralizes cells a spreadsheet would run as a formula, but not plain numbers', () => {
    for (const s of ['=1+1', '+33 6 12', '-cmd|calc', '@SUM(A1)', '\tx', '\rx']) expect(csvCell(s).replace(/^"|"$/g, '').startsWith(`'${s[0] as string}`), JSON.stringify(s)).toBe(true)
    for (const s of ['-12.50', '-3', '12', '0.0001']) expect(csvCell(s)).toBe(s)
    expect(csvCell('- 12')).toBe("'- 12")
    expect(csvCell(-7)).toBe('-7')
  })

  it('quotes a comma, a quote or a line break, doubling quotes; null is empty', () => {
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell('say "hi"')).toBe('"say ""hi"""')
    expect(csvCell('two\nlines')).toBe('"two\nlines"')
    expect(csvCell('=x,"y"')).toBe('"\'=x,""y"""')
    expect(csvCell(null)).toBe('')
    expect(csvCell(undefined)).toBe('')
    expect(csvRow(['a', 1, null, 'b,c'])).toBe('a,1,,"b,c"\r\n')
  })

  it('streams the header and the rows, readable back cell for cell', async () => {
    const rows = [['Cartonnerie "du Val", Angers', '=HYPERLINK("x")', '-1.00'], ['é ü 漢字 😀', 'line\r\nbreak', '']]
    let text = ''
    for await (const chunk of csvStream({ filename: 'x.csv', columns: ['a', 'b', 'c'], rows })) text += String(chunk)
    expect(parseCsv(text)).toEqual([['a', 'b', 'c'], ['Cartonnerie "du Val", Angers', '\'=HYPERLINK("x")', '-1.00'], ['é ü 漢字 😀', 'line\r\nbreak', '']])
  })
})

describe('prefersCsv', () => {
  it('takes CSV only when it is preferred over JSON and wildcards', () => {
    expect(prefersCsv(undefined)).toBe(false)
    expect(prefersCsv('*/*')).toBe(false)
    expect(prefersCsv('text/csv')).toBe(true)
    expect(prefersCsv('TEXT/CSV; charset=utf-8')).toBe(true)
    expect(prefersCsv('text/csv, application/json')).toBe(false)
    expect(prefersCsv('text/csv;q=0.9, application/json;q=0.5')).toBe(true)
    expect(prefersCsv('application/json;q=0.1, text/csv;q=0.2, */*;q=0.3')).toBe(false)
    expect(prefersCsv('text/csv;q=0')).toBe(false)
    expect(prefersCsv('text/csv;q=abc')).toBe(false)
  })
})
