// A strict RFC 4180 reader for the tests: CRLF records, quoted cells with doubled quotes; anything
// else (a bare LF, a quote inside an unquoted cell, an unterminated quote) throws.
export function parseCsv (text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let i = 0
  let quoted = false
  let wasQuoted = false
  while (i < text.length) {
    const ch = text[i] as string
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i += 2; continue }
      if (ch === '"') { quoted = false; i++; continue }
      cell += ch
      i++
      continue
    }
    if (ch === '"') {
      if (cell !== '' || wasQuoted) throw new Error(`quote inside an unquoted cell at ${i}`)
      quoted = true
      wasQuoted = true
      i++
    } else if (ch === ',') {
      row.push(cell); cell = ''; wasQuoted = false; i++
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell); rows.push(row); row = []; cell = ''; wasQuoted = false; i += 2
    } else if (ch === '\n' || ch === '\r') {
      throw new Error(`bare line break at ${i}`)
    } else {
      cell += ch
      i++
    }
  }
  if (quoted) throw new Error('unterminated quote')
  if (cell !== '' || row.length > 0) throw new Error('last record without CRLF')
  return rows
}
