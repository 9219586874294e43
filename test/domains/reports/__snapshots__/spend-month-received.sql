WITH g AS (SELECT to_char(po.created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS key, count(*) AS purchase_orders, sum(x.station_net) AS station_net, sum(x.supplier_net) AS supplier_net
  FROM purchase_orders po
  CROSS JOIN LATERAL (
  SELECT sum(round(l.station_pack_price * l.packs_received, 2)) AS station_net,
  sum(round(l.supplier_pack_price * l.packs_received, 2)) AS supplier_net
  FROM purchase_order_lines l WHERE l.purchase_order_id = po.id) x
  WHERE po.created_at >= $1::timestamptz AND po.created_at < $2::timestamptz AND po.station_id = $3::uuid AND po.status IN ('RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED')
  GROUP BY 1) SELECT g.key, NULL::text AS code, g.key AS name, g.purchase_orders, NULL::int8 AS lines, NULL::int8 AS packs, g.station_net, g.supplier_net FROM g
