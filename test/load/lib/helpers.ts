// Small building blocks for scenario files.
import type autocannon from 'autocannon'
import type pg from 'pg'
import type { BenchContext } from './types.js'

export const json = { 'content-type': 'application/json' }
export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

/** A GET request whose path cycles through `paths` (one per request, shared by all connections). */
export function rotatingGet (paths: readonly string[], headers: Record<string, string>): autocannon.Request {
  let i = 0
  return {
    method: 'GET',
    path: paths[0] ?? '/',
    headers,
    setupRequest: (req: autocannon.Request) => ({ ...req, path: paths[i++ % paths.length] ?? '/' })
  } as autocannon.Request
}

/** Ids in a deterministic but scattered order (popular rows are not all at the front). */
export async function sampleIds (pool: pg.Pool, sql: string, params: unknown[] = []): Promise<string[]> {
  return (await pool.query(sql, params)).rows.map(r => String((r as { id: string }).id))
}

export function shuffled<T> (ctx: BenchContext, label: string, items: T[]): T[] {
  return ctx.rng(label).shuffle([...items])
}

/** Article ids drawn with Pareto-like popularity (code order = popularity rank in the dataset). */
export async function popularArticleIds (ctx: BenchContext, n = 2000): Promise<string[]> {
  const all = await sampleIds(ctx.pool, "SELECT id FROM articles WHERE code LIKE 'ART-%' ORDER BY code")
  const rng = ctx.rng('article-popularity')
  return Array.from({ length: Math.min(n, all.length * 4) }, () => all[Math.floor(all.length * rng.next() ** 2.5)] ?? all[0] ?? '')
}

/**
 * The code prefixes of the articles the write scenarios create (ceiling-write, article-create):
 * each scenario drops its own run's afterwards, and a reused dataset drops any left (lib/database.ts).
 */
export const WRITTEN_ARTICLE_PREFIXES = { ceiling: 'CEIL', service: 'BENCH' } as const

export function runId (): string {
  return Date.now().toString(36).toUpperCase()
}
