// Prepared state for the write scenarios, made directly in SQL during setup (never inside the
// measured loop): carts ready to check out, one per bench station, and PLACED purchase orders.
import type pg from 'pg'

export interface PreparedCart { stationId: string }

/**
 * Ensures `n` bench stations (code BENCH-nnnnnn) each hold an OPEN cart of exactly 10 lines over 3
 * suppliers (4 + 3 + 3 articles with active offers, packs honouring MOQ and pack multiple,
 * delivery in 30 days). Previous runs' stations are reused: their cart was checked out, so they get
 * a new one. Contract caps touched by the lines get headroom back so repeated runs never hit them.
 */
export async function prepareCheckoutCarts (pool: pg.Pool, n: number, userId: string): Promise<PreparedCart[]> {
  const c = await pool.connect()
  try {
    await c.query('SET statement_timeout = 0')
    await c.query('BEGIN')
    const have = Number(((await c.query("SELECT count(*)::int AS n FROM stations WHERE code LIKE 'BENCH-%'")).rows[0] as { n: number }).n)
    if (have < n) {
      await c.query(`WITH g AS (SELECT gen_random_uuid() AS id, 'BENCH-' || lpad(i::text, 6, '0') AS code FROM generate_series($1::int + 1, $2::int) AS i),
          o AS (INSERT INTO organizations (id, kind, name) SELECT id, 'STATION', 'Bench station ' || code FROM g RETURNING id)
        INSERT INTO stations (id, code, name, city) SELECT g.id, g.code, 'Bench station ' || g.code, 'Angers' FROM g JOIN o ON o.id = g.id`, [have, n])
    }
    const stations = (await c.query("SELECT id FROM stations WHERE code LIKE 'BENCH-%' ORDER BY code LIMIT $1", [n])).rows.map(r => (r as { id: string }).id)
    await c.query(`INSERT INTO carts (station_id, status, created_by) SELECT s, 'OPEN', $2 FROM unnest($1::uuid[]) AS s
      WHERE NOT EXISTS (SELECT 1 FROM carts c WHERE c.station_id = s AND c.status = 'OPEN')`, [stations, userId])
    await c.query("DELETE FROM cart_lines WHERE cart_id IN (SELECT id FROM carts WHERE status = 'OPEN' AND station_id = ANY($1::uuid[]))", [stations])
    // Candidate offers: active offer, article, supplier; suppliers with at least 4 such offers.
    await c.query('CREATE TEMP TABLE IF NOT EXISTS t_cand (sup_rank int, art_rank int, article_id uuid, supplier_id uuid, packs int, n_art int) ON COMMIT DROP')
    await c.query(`INSERT INTO t_cand
      SELECT dense_rank() OVER (ORDER BY s.id) - 1, row_number() OVER (PARTITION BY s.id ORDER BY a.code) - 1, o.article_id, o.supplier_id,
        o.pack_multiple * ceil(o.moq_packs::numeric / o.pack_multiple)::int * (1 + (abs(hashtext(o.id::text)) % 3)), 0
      FROM offers o JOIN articles a ON a.id = o.article_id AND a.is_active JOIN suppliers s ON s.id = o.supplier_id AND s.is_active
      WHERE o.is_active AND o.supplier_id IN (SELECT supplier_id FROM offers WHERE is_active GROUP BY 1 HAVING count(*) >= 4)`)
    await c.query('UPDATE t_cand t SET n_art = x.n FROM (SELECT sup_rank, count(*)::int AS n FROM t_cand GROUP BY 1) x WHERE x.sup_rank = t.sup_rank')
    const nSup = Number(((await c.query('SELECT count(DISTINCT sup_rank)::int AS n FROM t_cand')).rows[0] as { n: number }).n)
    if (nSup < 3) throw new Error('checkout fixture: fewer than 3 suppliers with 4 active offers')
    // cart k: suppliers (k, k+1, k+2) mod nSup; line j of supplier i: consecutive articles from a hashed start
    await c.query(`INSERT INTO cart_lines (cart_id, station_id, article_id, supplier_id, packs, desired_delivery_date)
      SELECT ct.id, ct.station_id, t.article_id, t.supplier_id, t.packs, current_date + 30
      FROM unnest($1::uuid[]) WITH ORDINALITY AS s(id, k)
      JOIN carts ct ON ct.station_id = s.id AND ct.status = 'OPEN'
      CROSS JOIN LATERAL (VALUES (0, 4), (1, 3), (2, 3)) AS sp(i, cnt)
      CROSS JOIN LATERAL generate_series(0, sp.cnt - 1) AS j
      JOIN LATERAL (SELECT * FROM t_cand WHERE sup_rank = ((s.k + sp.i) % $2)::int LIMIT 1) f ON true
      JOIN t_cand t ON t.sup_rank = f.sup_rank AND t.art_rank = ((abs(hashtext(s.id::text || sp.i)) % f.n_art) + j) % f.n_art`, [stations, nSup])
    await c.query(`UPDATE contract_lines cl SET committed_packs = cl.ordered_packs + 50000
      WHERE cl.committed_packs IS NOT NULL AND floor(cl.committed_packs * (1 + cl.allowance_pct / 100)) - cl.ordered_packs < 20000
        AND EXISTS (SELECT 1 FROM t_cand t WHERE t.article_id = cl.article_id AND t.supplier_id = cl.supplier_id)`)
    await c.query('COMMIT')
    return stations.map(stationId => ({ stationId }))
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {})
    throw err
  } finally { c.release() }
}

export interface PlacedPo { id: string, lineIds: string[] }

/** Up to `n` PLACED purchase orders with their line ids, newest first. */
export async function placedPurchaseOrders (pool: pg.Pool, n: number): Promise<PlacedPo[]> {
  const r = await pool.query(`SELECT p.id, array_agg(l.id ORDER BY l.line_no) AS line_ids FROM (
      SELECT id FROM purchase_orders WHERE status = 'PLACED' ORDER BY created_at DESC LIMIT $1) p
    JOIN purchase_order_lines l ON l.purchase_order_id = p.id GROUP BY p.id`, [n])
  return r.rows.map(x => ({ id: (x as { id: string }).id, lineIds: (x as { line_ids: string[] }).line_ids }))
}
