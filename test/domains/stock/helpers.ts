// Fixtures of the stock tests: stations with a user, staff and suppliers, articles, and HTTP
// helpers for the stock endpoints. Ledger checks read the tables directly.
import { sql } from 'kysely'
import type { App } from '../../../src/lib/route.js'
import { bearer, tokenFor } from '../../helpers/app.js'
import { createArticle, createStation, createSupplier, createUser } from '../../helpers/factories.js'

export interface Party { id: string, token: string, userId: string }

export async function station (app: App, over: { isActive?: boolean } = {}): Promise<Party> {
  const s = await createStation(app.db, over)
  const u = await createUser(app.db, 'STATION', s.id)
  return { id: s.id, userId: u.userId, token: tokenFor(app, { role: 'STATION', userId: u.userId, organizationId: s.id }) }
}

export async function supplier (app: App): Promise<Party> {
  const s = await createSupplier(app.db)
  const u = await createUser(app.db, 'SUPPLIER', s.id)
  return { id: s.id, userId: u.userId, token: tokenFor(app, { role: 'SUPPLIER', userId: u.userId, organizationId: s.id }) }
}

export async function staff (app: App, role: 'ADMIN' | 'MANAGER' | 'HANDLER' = 'HANDLER'): Promise<Party> {
  const u = await createUser(app.db, role)
  return { id: u.organizationId, userId: u.userId, token: tokenFor(app, { role, userId: u.userId }) }
}

export async function articles (app: App, n: number, over: Parameters<typeof createArticle>[1] = {}): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push((await createArticle(app.db, over)).id)
  // sorted: the order the service locks and reports in
  return out.sort()
}

type Body = Record<string, unknown>

export const stockUrl = (stationId: string, path = ''): string => `/v1/stations/${stationId}/stock${path}`

export async function post (app: App, token: string, url: string, payload: Body, headers: Record<string, string> = {}) {
  return await app.inject({ method: 'POST', url, headers: { ...bearer(token), ...headers }, payload })
}

export async function patch (app: App, token: string, url: string, payload: Body, headers: Record<string, string> = {}) {
  return await app.inject({ method: 'PATCH', url, headers: { ...bearer(token), ...headers }, payload })
}

export async function get (app: App, token: string, url: string, headers: Record<string, string> = {}) {
  return await app.inject({ method: 'GET', url, headers: { ...bearer(token), ...headers } })
}

export const adjust = async (app: App, p: Party, stationId: string, lines: Array<{ articleId: string, delta: number }>, headers: Record<string, string> = {}) =>
  await post(app, p.token, stockUrl(stationId, '/adjustments'), { reason: 'test', lines }, headers)
export const consume = async (app: App, p: Party, stationId: string, lines: Array<{ articleId: string, units: number }>) =>
  await post(app, p.token, stockUrl(stationId, '/consumptions'), { lines })
export const count = async (app: App, p: Party, stationId: string, lines: Array<{ articleId: string, counted: number }>) =>
  await post(app, p.token, stockUrl(stationId, '/counts'), { lines })

export interface LedgerRow { articleId: string, quantity: number | null, sum: number | null, movements: number }

/** Per article of the station: the level's quantity and Σ of its movements (null where either is missing). */
export async function ledger (app: App, stationId: string): Promise<LedgerRow[]> {
  const { rows } = await sql<LedgerRow>`
    SELECT coalesce(l.article_id, m.article_id) AS "articleId", l.quantity, m.sum::int AS sum, coalesce(m.n, 0)::int AS movements
    FROM (SELECT article_id, quantity FROM stock_levels WHERE station_id = ${stationId}::uuid) l
    FULL JOIN (SELECT article_id, sum(delta) AS sum, count(*) AS n FROM stock_movements WHERE station_id = ${stationId}::uuid GROUP BY article_id) m
      ON m.article_id = l.article_id
    ORDER BY 1`.execute(app.db)
  return rows
}

/** Everything a stock write may touch at a station, to prove a refusal changed nothing. */
export async function snapshot (app: App, stationId: string): Promise<unknown> {
  const { rows } = await sql<{ t: string }>`
    SELECT json_build_object(
      'levels', (SELECT json_agg(l ORDER BY article_id) FROM stock_levels l WHERE station_id = ${stationId}::uuid),
      'movements', (SELECT count(*) FROM stock_movements WHERE station_id = ${stationId}::uuid),
      'events', (SELECT count(*) FROM outbox_events WHERE ${stationId}::uuid = ANY(organization_ids)),
      'audit', (SELECT count(*) FROM audit_events WHERE action LIKE 'stock.%')
    )::text AS t`.execute(app.db)
  return rows[0]?.t
}

export async function lowEvents (app: App, stationId: string, articleId?: string): Promise<Array<Record<string, unknown>>> {
  const { rows } = await sql<{ payload: Record<string, unknown> }>`
    SELECT payload FROM outbox_events WHERE type = 'stock.low' AND ${stationId}::uuid = ANY(organization_ids)
      AND (${articleId ?? null}::uuid IS NULL OR payload->>'articleId' = ${articleId ?? null}::text)
    ORDER BY id`.execute(app.db)
  return rows.map(r => r.payload)
}
