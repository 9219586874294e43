WITH g AS (SELECT po.supplier_id::text AS key, count(*) AS purchase_orders, sum(po.station_net) AS station_net, sum(po.supplier_net) AS supplier_net
  FROM purchase_orders po
  WHERE po.created_at >= $1::timestamptz AND po.created_at < $2::timestamptz AND po.station_id = $3::uuid AND po.status NOT IN ('CANCELLED', 'DECLINED')
  GROUP BY 1) SELECT g.key, NULL::text AS code, s.name, g.purchase_orders, NULL::int8 AS lines, NULL::int8 AS packs, g.station_net, g.supplier_net FROM g JOIN suppliers s ON s.id = g.key::uuid
