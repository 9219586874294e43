SELECT sl.station_id, st.code AS station_code, sl.article_id, a.code AS article_code, a.name AS article_name,
  sl.quantity, sl.alert_threshold, sl.critical_threshold
  FROM stock_levels sl
  JOIN stations st ON st.id = sl.station_id
  JOIN articles a ON a.id = sl.article_id
  WHERE sl.quantity <= sl.alert_threshold AND sl.station_id = $1::uuid
  ORDER BY sl.quantity = 0 DESC, sl.quantity <= sl.critical_threshold DESC,
  sl.quantity::float8 / nullif(sl.alert_threshold, 0) NULLS FIRST, st.code, a.code
  LIMIT $2
