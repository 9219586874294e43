SELECT t.status, count(*) AS transfers FROM transfers t
  WHERE t.status NOT IN ('REJECTED', 'CANCELLED', 'ARCHIVED') AND (t.requesting_station_id = $1::uuid OR t.source_station_id = $2::uuid) GROUP BY t.status
