
  SELECT c.id AS contract_id, c.number AS contract_number, c.name AS contract_name, c.supplier_id, s.name AS supplier_name,
  CASE WHEN c.status = 'ACTIVE' AND c.valid_until < $1::date THEN 'EXPIRED' ELSE c.status END AS status, c.valid_from, c.valid_until,
  cl.id AS contract_line_id, cl.article_id, a.code AS article_code, a.name AS article_name,
  cl.committed_packs, cl.allowance_pct,
  CASE WHEN cl.committed_packs IS NULL THEN NULL ELSE floor(cl.committed_packs * (1 + cl.allowance_pct / 100))::int END AS cap_packs,
  cl.ordered_packs, coalesce(r.received, 0) AS received_packs
  FROM contracts c
  JOIN suppliers s ON s.id = c.supplier_id
  JOIN contract_lines cl ON cl.contract_id = c.id
  JOIN articles a ON a.id = cl.article_id
  LEFT JOIN LATERAL (SELECT sum(l.packs_received) AS received FROM purchase_order_lines l WHERE l.contract_line_id = cl.id) r ON true
  WHERE (CASE WHEN c.status = 'ACTIVE' AND c.valid_until < $2::date THEN 'EXPIRED' ELSE c.status END) = ANY ($3::text[])
  ORDER BY c.number, a.code
  LIMIT $4
