WITH k AS (
  SELECT c.id, c.number, CASE WHEN c.status = 'ACTIVE' AND c.valid_until < $1::date THEN 'EXPIRED' ELSE c.status END AS status, c.valid_from, c.valid_until FROM contracts c WHERE (CASE WHEN c.status = 'ACTIVE' AND c.valid_until < $2::date THEN 'EXPIRED' ELSE c.status END) = ANY ($3::text[])
  ), g AS (
  SELECT l.contract_line_id, sum(l.packs_ordered) AS ordered, sum(l.packs_received) AS received
  FROM purchase_order_lines l
  WHERE l.purchase_order_id = ANY (ARRAY(
  SELECT po.id FROM purchase_orders po
  WHERE po.station_id = $4::uuid AND po.status NOT IN ('CANCELLED', 'DECLINED')
  AND po.created_at >= (SELECT min(k.valid_from) - 1 FROM k)::timestamp AT TIME ZONE 'UTC'))
  AND l.contract_line_id IS NOT NULL
  GROUP BY l.contract_line_id)
  SELECT k.id AS contract_id, k.number AS contract_number, k.status, k.valid_from, k.valid_until,
  cl.article_id, a.code AS article_code, a.name AS article_name, g.ordered AS ordered_packs, g.received AS received_packs
  FROM g
  JOIN contract_lines cl ON cl.id = g.contract_line_id
  JOIN k ON k.id = cl.contract_id
  JOIN articles a ON a.id = cl.article_id
  ORDER BY k.number, a.code
  LIMIT $5
