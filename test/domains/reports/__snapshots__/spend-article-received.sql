WITH g AS (SELECT l.article_id, count(*) AS lines, sum(l.packs_received) AS packs, sum(round(l.station_pack_price * l.packs_received, 2)) AS station_net,
  sum(round(l.supplier_pack_price * l.packs_received, 2)) AS supplier_net
  FROM purchase_order_lines l
  WHERE l.purchase_order_id = ANY (ARRAY(SELECT po.id FROM purchase_orders po WHERE po.created_at >= $1::timestamptz AND po.created_at < $2::timestamptz AND po.supplier_id = $3::uuid AND po.status IN ('RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED')))
  GROUP BY l.article_id)
  SELECT a.id::text AS key, a.code, a.name, NULL::int8 AS purchase_orders, g.lines, g.packs, g.station_net, g.supplier_net
  FROM g JOIN articles a ON a.id = g.article_id
