WITH g AS (SELECT l.article_id, count(*) AS lines, sum(l.packs_ordered) AS packs, sum(l.station_line_net) AS station_net, sum(l.supplier_line_net) AS supplier_net
  FROM purchase_order_lines l
  WHERE l.purchase_order_id = ANY (ARRAY(SELECT po.id FROM purchase_orders po WHERE po.created_at >= $1::timestamptz AND po.created_at < $2::timestamptz AND po.status NOT IN ('CANCELLED', 'DECLINED')))
  GROUP BY l.article_id)
  SELECT a.category AS key, a.category AS code, a.category AS name, NULL::int8 AS purchase_orders,
  sum(g.lines)::int8 AS lines, sum(g.packs)::int8 AS packs, sum(g.station_net) AS station_net, sum(g.supplier_net) AS supplier_net
  FROM g JOIN articles a ON a.id = g.article_id
  GROUP BY a.category
