WITH w AS (
  SELECT c.id AS contract_id, c.number AS contract_number, c.name AS contract_name, c.supplier_id, c.valid_until,
  (c.valid_until - $1::date) AS days_left,
  count(cl.id) FILTER (WHERE cl.committed_packs IS NOT NULL AND cl.ordered_packs * 100 >= cl.committed_packs * $2::int) AS lines_near_cap,
  max(round(100.0 * cl.ordered_packs / cl.committed_packs, 2)) AS max_used_pct,
  c.valid_until <= $3::date + $4::int AS ending_soon
  FROM contracts c LEFT JOIN contract_lines cl ON cl.contract_id = c.id
  WHERE c.status = 'ACTIVE' AND c.valid_until >= $5::date 
  GROUP BY c.id),
  h AS (SELECT * FROM w WHERE w.lines_near_cap > 0 OR w.ending_soon)
  SELECT h.*, s.name AS supplier_name, count(*) OVER () AS total,
  count(*) FILTER (WHERE h.lines_near_cap > 0) OVER () AS near_cap_total,
  count(*) FILTER (WHERE h.ending_soon) OVER () AS ending_soon_total
  FROM h JOIN suppliers s ON s.id = h.supplier_id
  ORDER BY h.ending_soon DESC, CASE WHEN h.ending_soon THEN h.valid_until END, h.max_used_pct DESC NULLS LAST, h.valid_until, h.contract_number
  LIMIT $6
