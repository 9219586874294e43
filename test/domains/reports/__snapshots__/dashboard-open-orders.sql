SELECT po.status, count(*) AS purchase_orders, sum(po.station_net) AS station_net, sum(po.supplier_net) AS supplier_net
  FROM purchase_orders po WHERE po.status IN ('PLACED', 'CONFIRMED', 'SHIPPED', 'RECEIVED', 'CLOSED') AND po.station_id = $1::uuid GROUP BY po.status
