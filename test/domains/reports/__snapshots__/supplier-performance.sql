WITH g AS (
  SELECT po.supplier_id, count(*) AS purchase_orders,
  count(*) FILTER (WHERE po.status = 'DECLINED') AS declined,
  count(*) FILTER (WHERE po.status = 'CANCELLED') AS cancelled,
  count(po.confirmed_at) AS confirmed,
  count(po.received_at) AS received,
  round(avg(extract(epoch FROM po.confirmed_at - po.created_at)) / 3600, 2) AS avg_confirmation_hours,
  round(avg(extract(epoch FROM po.received_at - po.created_at)) / 86400, 2) AS avg_lead_time_days,
  sum(x.lines)::int8 AS received_lines, sum(x.dated)::int8 AS dated_lines, sum(x.on_time)::int8 AS on_time_lines,
  sum(x.ordered)::int8 AS ordered_packs, sum(x.received)::int8 AS received_packs
  FROM purchase_orders po
  LEFT JOIN LATERAL (
  SELECT count(*) AS lines, count(l.confirmed_delivery_date) AS dated,
  count(*) FILTER (WHERE (po.received_at AT TIME ZONE 'Europe/Paris')::date <= l.confirmed_delivery_date) AS on_time,
  sum(l.packs_ordered) AS ordered, sum(l.packs_received) AS received
  FROM purchase_order_lines l
  WHERE l.purchase_order_id = po.id AND po.received_at IS NOT NULL) x ON true
  WHERE po.created_at >= $1::timestamptz AND po.created_at < $2::timestamptz AND po.station_id = $3::uuid
  GROUP BY po.supplier_id)
  SELECT g.supplier_id, s.name AS supplier_name, g.purchase_orders, g.declined, g.cancelled, g.confirmed, g.received,
  g.avg_confirmation_hours, g.avg_lead_time_days, g.received_lines, g.dated_lines, g.on_time_lines, g.ordered_packs, g.received_packs
  FROM g JOIN suppliers s ON s.id = g.supplier_id
  ORDER BY s.name, g.supplier_id
