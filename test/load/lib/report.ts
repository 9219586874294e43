// Output: the console table, bench-results/<stamp>.json and a self-contained HTML report (inline
// SVG charts: latency percentiles and responses per second per scenario; no external assets).
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { LoadResult, ScenarioResult } from './types.js'
import type { ProfileSummary } from './profile.js'

export interface RunReport {
  startedAt: string
  finishedAt: string
  options: Record<string, unknown>
  environment: Record<string, unknown>
  dataset: Record<string, unknown>
  results: ScenarioResult[]
  profiles: ProfileSummary[]
  exitCode: number
}

const f0 = (n: number | undefined): string => n === undefined ? '—' : Math.round(n).toLocaleString('en-US')
const f1 = (n: number | undefined): string => n === undefined ? '—' : n.toFixed(1)
const f2 = (n: number | undefined): string => n === undefined ? '—' : n.toFixed(2)

export function targetText (r: ScenarioResult): string {
  const t = r.target
  const parts: string[] = []
  if (t.minRatio !== undefined) parts.push(`≥${t.minRatio}×ceil`)
  if (t.maxCpuRatio !== undefined) parts.push(`cpu≤${t.maxCpuRatio}×`)
  if (t.minRps !== undefined) parts.push(`≥${t.minRps}/s`)
  if (t.maxP99Ms !== undefined) parts.push(`p99≤${t.maxP99Ms}`)
  if (t.maxP99Degradation !== undefined) parts.push(`p99×≤${t.maxP99Degradation}`)
  if (t.sameAs !== undefined) parts.push(`${t.sameAs.metric}±${t.sameAs.tolerance * 100}%`)
  if (t.scaling !== undefined) parts.push(`≥${t.scaling.factor}×${t.scaling.scenario}`)
  if (t.maxRssMb !== undefined) parts.push(`RSS≤${t.maxRssMb}`)
  if (t.maxStartupMs !== undefined) parts.push(`listening≤${t.maxStartupMs}ms`)
  return parts.join(' ') + (t.informational === true ? ' (info)' : '')
}

/** Errors, non-2xx and RSS as the checks count them: over every round when there are several. */
function counted (r: ScenarioResult): { errors?: number, non2xx?: number, rssMaxMb?: number } {
  if (r.allRounds !== undefined) return r.allRounds
  const m = r.main
  return m === undefined ? {} : { errors: m.errors + m.timeouts, non2xx: m.non2xx, rssMaxMb: m.rssMaxMb }
}

/** "3" for a median of three rounds, "—" for a single run or none measured; "2 of 3" when a round failed. */
function roundsText (r: ScenarioResult): string {
  if (r.rounds === undefined) return '—'
  const measured = r.rounds.filter(x => x.main !== undefined).length
  if (measured === 0) return '—'
  return measured === r.rounds.length ? String(measured) : `${measured} of ${r.rounds.length}`
}

/** One line per scenario run in rounds: req/s, p99 and ratio of every round, the median one marked. */
export function roundsLine (r: ScenarioResult): string | undefined {
  if (r.rounds === undefined || r.medianRound === undefined) return undefined
  const cell = (x: NonNullable<ScenarioResult['rounds']>[number], v: (m: LoadResult) => string): string =>
    x.main === undefined ? x.status : `${v(x.main)}${x.round === r.medianRound ? '*' : ''}`
  // a round that measured nothing shows its status (error, skipped)
  const parts = [`req/s ${r.rounds.map(x => cell(x, m => f0(m.rps))).join(' · ')}`, `p99 ${r.rounds.map(x => cell(x, m => f1(m.latency.p99))).join(' · ')} ms`]
  if (r.rounds.some(x => x.ratio !== undefined)) parts.push(`ratio ${r.rounds.map(x => x.ratio === undefined ? '—' : f2(x.ratio)).join(' · ')} → median ${f2(r.ratio)}`)
  return `rounds ${parts.join('; ')} (* = the median round shown)`
}

export function formatTable (results: ScenarioResult[]): string {
  const multi = results.some(r => r.rounds !== undefined)
  const head = ['scenario', ...(multi ? ['rounds'] : []), 'gen', 'req/s', 'p50', 'p90', 'p99', 'errors', 'non-2xx', 'RSS MB', 'srv µs', 'pg µs', 'gen µs', 'box %', 'ratio', 'cpu×', 'pg×', 'target', 'result']
  const left = new Set([0, head.length - 2, head.length - 1])
  const rows = results.map(r => {
    const m = r.main
    const c = counted(r)
    const cpu = m?.cpu
    return [r.name, ...(multi ? [roundsText(r)] : []), m === undefined ? '—' : m.generator === 'wrk' ? 'wrk' : 'ac', f0(m?.rps), f1(m?.latency.p50), f1(m?.latency.p90), f1(m?.latency.p99), c.errors === undefined ? '—' : String(c.errors), c.non2xx === undefined ? '—' : String(c.non2xx),
      f0(c.rssMaxMb), f0(cpu?.serverUsPerReq), f0(cpu?.postgresUsPerReq), f0(cpu?.generatorUsPerReq), cpu === undefined ? '—' : `${f0(cpu.boxBusy * 100)}${cpu.saturated !== undefined ? '!' : ''}`,
      f2(r.ratio), f2(r.derived.cpuRatio), f2(r.derived.pgCpuRatio), targetText(r), r.status === 'skipped' || r.status === 'error' ? `${r.status}: ${r.reason ?? ''}` : r.status]
  })
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => Math.min(60, (r[i] ?? '').length))))
  const line = (cells: string[]): string => cells.map((c, i) => left.has(i) ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)).join('  ')
  const out: string[] = []
  if (multi) {
    const n = Math.max(...results.map(r => r.rounds?.length ?? 0))
    out.push(`medians of ${n} alternating rounds: req/s, latencies and CPU are the median round's (by req/s), ratio, cpu× and pg× the medians of the per-round values; errors, non-2xx and RSS count every round`)
  }
  out.push('gen: the load generator (wrk, or ac = autocannon for specs chaining requests); srv/pg/gen µs: CPU µs per request of the measured server, PostgreSQL and the generator; box %: the machine busy during the run (! = the generator or the machine saturated before the server); cpu× and pg×: server and PostgreSQL CPU per request ÷ the ceiling\'s')
  out.push(line(head), widths.map(w => '-'.repeat(w)).join('  '), ...rows.map(line))
  for (const r of results) {
    for (const c of r.checks.filter(x => !x.ok)) out.push(`  ${r.name}: missed ${c.what}${c.informational ? ' (informational)' : ''}`)
    const rl = roundsLine(r)
    if (rl !== undefined) out.push(`  ${r.name}: ${rl}`)
    if (r.baseline !== undefined && r.main !== undefined) out.push(`  ${r.name}: baseline p99 ${f1(r.baseline.latency.p99)} ms at ${f0(r.baseline.rps)}/s → ${f1(r.main.latency.p99)} ms with ${r.background?.label ?? 'background'} (${f0(r.background?.rps)}/s, p99 ${f1(r.background?.latency.p99)} ms)`)
    for (const n of r.notes) out.push(`  ${r.name}: ${n}`)
  }
  return out.join('\n')
}

const esc = (s: string): string => s.replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c)

function percentileSvg (series: Array<{ label: string, r: LoadResult, color: string }>): string {
  const W = 460; const H = 220; const L = 48; const B = 30
  const xs = (p: number): number => L + (Math.log10(100 / (100 - Math.min(p, 99.99))) / Math.log10(10_000)) * (W - L - 10)
  const maxY = Math.max(1, ...series.flatMap(s => s.r.percentiles.map(([, v]) => v)))
  const ys = (v: number): number => H - B - (v / maxY) * (H - B - 10)
  const grid = [50, 90, 99, 99.9, 99.99].map(p => `<line x1="${xs(p)}" x2="${xs(p)}" y1="10" y2="${H - B}" stroke="#ddd"/><text x="${xs(p)}" y="${H - B + 14}" font-size="10" text-anchor="middle">p${p}</text>`).join('')
  const yl = [0, 0.5, 1].map(k => `<text x="${L - 4}" y="${ys(maxY * k) + 3}" font-size="10" text-anchor="end">${(maxY * k).toFixed(maxY < 10 ? 1 : 0)}</text>`).join('')
  const lines = series.map(s => `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.r.percentiles.filter(([p]) => p >= 10).map(([p, v]) => `${xs(p).toFixed(1)},${ys(v).toFixed(1)}`).join(' ')}"/>`).join('')
  const legend = series.map((s, i) => `<text x="${L + 6}" y="${22 + i * 13}" font-size="11" fill="${s.color}">${esc(s.label)}</text>`).join('')
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><text x="4" y="12" font-size="10">ms</text>${grid}${yl}<line x1="${L}" x2="${W - 10}" y1="${H - B}" y2="${H - B}" stroke="#999"/>${lines}${legend}<text x="${W / 2}" y="${H - 4}" font-size="10" text-anchor="middle">latency percentile</text></svg>`
}

function throughputSvg (series: Array<{ label: string, r: LoadResult, color: string }>): string {
  const W = 460; const H = 220; const L = 48; const B = 30
  const n = Math.max(2, ...series.map(s => s.r.perSecond.length))
  const maxY = Math.max(1, ...series.flatMap(s => s.r.perSecond))
  const xs = (i: number): number => L + (i / (n - 1)) * (W - L - 10)
  const ys = (v: number): number => H - B - (v / maxY) * (H - B - 10)
  const lines = series.map(s => `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.r.perSecond.map((v, i) => `${xs(i).toFixed(1)},${ys(v).toFixed(1)}`).join(' ')}"/>`).join('')
  const yl = [0, 0.5, 1].map(k => `<text x="${L - 4}" y="${ys(maxY * k) + 3}" font-size="10" text-anchor="end">${Math.round(maxY * k)}</text>`).join('')
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><text x="4" y="12" font-size="10">req/s</text>${yl}<line x1="${L}" x2="${W - 10}" y1="${H - B}" y2="${H - B}" stroke="#999"/>${lines}<text x="${W / 2}" y="${H - 4}" font-size="10" text-anchor="middle">seconds</text></svg>`
}

export function renderHtml (rep: RunReport): string {
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd']
  const badge = (s: string): string => `<span class="b ${s}">${s}</span>`
  const multi = rep.results.some(r => r.rounds !== undefined)
  const summary = rep.results.map(r => {
    const c = counted(r)
    return `<tr><td><a href="#${r.name}">${esc(r.name)}</a></td>${multi ? `<td>${esc(roundsText(r))}</td>` : ''}<td>${f0(r.main?.rps)}</td><td>${f1(r.main?.latency.p50)}</td><td>${f1(r.main?.latency.p90)}</td><td>${f1(r.main?.latency.p99)}</td>
    <td>${c.errors ?? '—'}</td><td>${c.non2xx ?? '—'}</td><td>${f0(c.rssMaxMb)}</td><td>${f2(r.ratio)}</td><td>${esc(targetText(r))}</td><td>${badge(r.status)} ${esc(r.reason ?? '')}</td></tr>`
  }).join('')
  const roundsTable = (r: ScenarioResult): string => r.rounds === undefined
    ? ''
    : `<table><tr><th>round</th><th>req/s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>errors</th><th>non-2xx</th><th>RSS MB</th><th>ratio</th><th>result</th></tr>${r.rounds.map(x => {
      const m = x.main
      const missed = x.checks.filter(k => !k.ok).map(k => k.what)
      return `<tr${x.round === r.medianRound ? ' class="median"' : ''}><td>${x.round}${x.round === r.medianRound ? ' (median)' : ''}</td><td>${f0(m?.rps)}</td><td>${f1(m?.latency.p50)}</td><td>${f1(m?.latency.p90)}</td><td>${f1(m?.latency.p99)}</td><td>${m === undefined ? '—' : m.errors + m.timeouts}</td><td>${m?.non2xx ?? '—'}</td><td>${f0(m?.rssMaxMb)}</td><td>${f2(x.ratio)}</td><td>${badge(x.status)} ${esc([x.reason ?? '', ...missed].filter(Boolean).join('; '))}</td></tr>`
    }).join('')}<tr><td>median</td><td>${f0(r.main?.rps)}</td><td>${f1(r.main?.latency.p50)}</td><td>${f1(r.main?.latency.p90)}</td><td>${f1(r.main?.latency.p99)}</td><td>${r.allRounds?.errors ?? '—'} (all)</td><td>${r.allRounds?.non2xx ?? '—'} (all)</td><td>${f0(r.allRounds?.rssMaxMb)} (peak)</td><td>${f2(r.ratio)}</td><td>${badge(r.status)}</td></tr></table>`
  const cards = rep.results.map(r => {
    const series = [r.main, r.baseline, r.background].filter((x): x is LoadResult => x !== undefined).map((x, i) => ({ label: x.label !== '' ? x.label : r.name, r: x, color: colors[i] ?? '#333' }))
    const checks = r.checks.map(c => `<li class="${c.ok ? 'ok' : c.informational ? 'info' : 'ko'}">${c.ok ? '✔' : '✘'} ${esc(c.what)}${c.informational ? ' (informational)' : ''}</li>`).join('')
    const codes = r.main === undefined ? '' : Object.entries(r.main.statusCodes).map(([k, v]) => `${k}: ${v}`).join(', ')
    return `<section id="${esc(r.name)}"><h2>${esc(r.name)} ${badge(r.status)}</h2><p>${esc(r.description)}</p>
      ${r.reason !== undefined ? `<p class="reason">${esc(r.reason)}</p>` : ''}
      ${roundsTable(r)}${r.rounds !== undefined && r.medianRound !== undefined ? `<p>Charts: round ${r.medianRound}, the median by req/s.</p>` : ''}
      ${series.length > 0 ? `<div class="charts">${percentileSvg(series)}${throughputSvg(series)}</div>` : ''}
      <ul>${checks}${r.notes.map(n => `<li>${esc(n)}</li>`).join('')}${codes !== '' ? `<li>status codes: ${esc(codes)}; ${r.main?.connections ?? 0} connections, ${f1(r.main?.durationS)} s, ${f0(r.main?.total)} requests, p99.9 ${f1(r.main?.latency.p999)} ms, max ${f1(r.main?.latency.max)} ms</li>` : ''}</ul></section>`
  }).join('')
  const profiles = rep.profiles.map(p => `<section><h2>CPU profile</h2><p>${esc(p.file)} — ${(p.totalMs / 1000).toFixed(1)} s sampled</p><table><tr><th>self ms</th><th>%</th><th>function</th><th>where</th></tr>
    ${p.top.map(r => `<tr><td>${r.selfMs.toFixed(0)}</td><td>${(r.share * 100).toFixed(1)}</td><td>${esc(r.name)}</td><td>${esc(r.where)}</td></tr>`).join('')}</table>
    <table><tr><th>self ms</th><th>%</th><th>package</th></tr>${p.byPackage.map(r => `<tr><td>${r.selfMs.toFixed(0)}</td><td>${(r.share * 100).toFixed(1)}</td><td>${esc(r.name)}</td></tr>`).join('')}</table></section>`).join('')
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Gestion Emballages API — benchmark ${esc(rep.startedAt)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}td:first-child,th:first-child{text-align:left}
.b{padding:1px 6px;border-radius:4px;color:#fff;font-size:12px}.pass{background:#2a7}.fail{background:#c33}.info{background:#58a}.skipped{background:#999}.error{background:#a50}
section{border-top:1px solid #ddd;margin-top:16px}.charts{display:flex;gap:16px;flex-wrap:wrap}li.ok{color:#2a7}li.ko{color:#c33}li.info{color:#a70}tr.median{background:#eef6ff}.reason{color:#a50}pre{background:#f6f6f6;padding:8px}</style></head><body>
<h1>Gestion Emballages API — benchmark</h1>
<p>${esc(rep.startedAt)} → ${esc(rep.finishedAt)} · exit code ${rep.exitCode}</p>
<pre>${esc(JSON.stringify({ options: rep.options, environment: rep.environment, dataset: rep.dataset }, null, 2))}</pre>
${multi ? `<p>Medians of ${Math.max(...rep.results.map(r => r.rounds?.length ?? 0))} alternating rounds: req/s and latencies are the median round's (by req/s), ratio the median of the per-round ratios; errors, non-2xx and RSS count every round.</p>` : ''}
<table><tr><th>scenario</th>${multi ? '<th>rounds</th>' : ''}<th>req/s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>errors</th><th>non-2xx</th><th>RSS MB</th><th>ratio</th><th>target</th><th>result</th></tr>${summary}</table>
${cards}${profiles}</body></html>`
}

export function writeReports (dir: string, rep: RunReport): { json: string, html: string } {
  mkdirSync(dir, { recursive: true })
  const stamp = rep.startedAt.replace(/[:.]/g, '-')
  const json = join(dir, `bench-${stamp}.json`)
  const html = join(dir, `bench-${stamp}.html`)
  writeFileSync(json, JSON.stringify(rep, null, 2))
  writeFileSync(html, renderHtml(rep))
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(rep, null, 2))
  writeFileSync(join(dir, 'latest.html'), renderHtml(rep))
  return { json, html }
}
