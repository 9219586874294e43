-- statement 1
SELECT id FROM carts WHERE station_id = $1::uuid AND status = 'OPEN' FOR UPDATE;

-- statement 2
SELECT lj.cart_lines, p.*
    FROM (SELECT json_agg(json_build_object('id', id, 'articleId', article_id, 'supplierId', supplier_id, 'packs', packs,
            'desiredDeliveryDate', desired_delivery_date, 'note', note) ORDER BY created_at, id) AS cart_lines
          FROM cart_lines WHERE cart_id = $1::uuid) lj
    LEFT JOIN (
    SELECT
      a.id AS article_id, req.supplier_id, a.code AS article_code, a.name AS article_name, a.vat_rate,
      a.is_active AS article_active, sup.is_active AS supplier_active,
      o.id AS offer_id, o.is_active AS offer_active, o.supplier_ref, o.pack_label, o.units_per_pack,
      o.moq_packs, o.pack_multiple, o.lead_time_days, o.catalog_pack_price,
      cl.id AS contract_line_id, cl.contract_id, cl.number AS contract_number,
      cl.pack_price AS contract_pack_price, cl.fee_pct AS contract_fee_pct, cl.remaining_packs,
      s.default_fee_pct, s.allow_catalog_fallback
    FROM (SELECT DISTINCT article_id, supplier_id FROM cart_lines WHERE cart_id = $2::uuid) AS req
    JOIN articles a ON a.id = req.article_id
    CROSS JOIN settings s
    LEFT JOIN suppliers sup ON sup.id = req.supplier_id
    LEFT JOIN offers o ON o.article_id = req.article_id AND o.supplier_id = req.supplier_id
    LEFT JOIN LATERAL (
      SELECT l.id, l.contract_id, c.number, l.pack_price, c.fee_pct,
        CASE WHEN l.committed_packs IS NULL THEN NULL
             ELSE (floor(l.committed_packs * (1 + l.allowance_pct / 100)) - l.ordered_packs)::int END AS remaining_packs
      FROM contract_lines l
      JOIN contracts c ON c.id = l.contract_id
      WHERE l.article_id = req.article_id AND l.supplier_id = req.supplier_id
        AND c.status = 'ACTIVE' AND c.valid_from <= $3::date AND c.valid_until >= $4::date
      -- approval forbids overlaps, so at most one row qualifies; the order only makes it deterministic
      ORDER BY c.valid_from DESC, c.id
      LIMIT 1
    ) cl ON true) p ON true;

-- statement 3
WITH caps_req AS (SELECT * FROM unnest($1::uuid[], $2::int[]) AS r(id, n)),
    caps_locked AS (SELECT id FROM contract_lines WHERE id = ANY($3::uuid[]) ORDER BY id FOR NO KEY UPDATE),
    caps AS (
      UPDATE contract_lines cl SET ordered_packs = cl.ordered_packs + caps_req.n
      FROM caps_req
      WHERE cl.id = caps_req.id AND cl.id IN (SELECT id FROM caps_locked)
        AND (cl.committed_packs IS NULL OR cl.ordered_packs + caps_req.n <= floor(cl.committed_packs * (1 + cl.allowance_pct / 100)))
      RETURNING cl.id),
    mseq AS (SELECT nextval('master_order_number_seq') AS n),
    mo AS (
      INSERT INTO master_orders (id, number, station_id, cart_id, status, supplier_count,
        supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross, created_by)
      SELECT $4::uuid, 'MO-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-' || lpad(n::text, greatest(6, length(n::text)), '0'),
        $5::uuid, $6::uuid, 'PLACED', $7::int,
        $8::numeric, $9::numeric, $10::numeric,
        $11::numeric, $12::numeric, $13::numeric, $14::uuid
      FROM mseq
      RETURNING number, created_at
    ),
    pseq AS (
      SELECT x.*, nextval('purchase_order_number_seq') AS n
      FROM unnest($15::uuid[], $16::uuid[],
        $17::numeric[], $18::numeric[], $19::numeric[],
        $20::numeric[], $21::numeric[], $22::numeric[])
        AS x(id, supplier_id, sn, sv, sg, tn, tv, tg)
    ),
    po AS (
      INSERT INTO purchase_orders (id, number, master_order_id, station_id, supplier_id,
        supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross, created_by)
      SELECT id, 'PO-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-' || lpad(n::text, greatest(6, length(n::text)), '0'),
        $23::uuid, $24::uuid, supplier_id, sn, sv, sg, tn, tv, tg, $25::uuid
      FROM pseq
      RETURNING id, number, supplier_id
    ),
    pol AS (
      INSERT INTO purchase_order_lines (id, purchase_order_id, line_no, station_id, supplier_id, article_id, contract_line_id,
        article_code, article_name, supplier_ref, pack_label, units_per_pack, supplier_pack_price, fee_pct, station_pack_price,
        vat_rate, price_source, packs_ordered, supplier_line_net, station_line_net, desired_delivery_date)
      SELECT id, po_id, line_no, $26::uuid, supplier_id, article_id, contract_line_id,
        article_code, article_name, supplier_ref, pack_label, units_per_pack, supplier_pack_price, fee_pct, station_pack_price,
        vat_rate, price_source, packs, supplier_line_net, station_line_net, desired_delivery_date
      FROM unnest(
        $27::uuid[], $28::uuid[], $29::int[],
        $30::uuid[], $31::uuid[], $32::uuid[],
        $33::text[], $34::text[], $35::text[],
        $36::text[], $37::int[], $38::numeric[],
        $39::numeric[], $40::numeric[], $41::numeric[],
        $42::text[], $43::int[], $44::numeric[],
        $45::numeric[], $46::date[])
        AS x(id, po_id, line_no, supplier_id, article_id, contract_line_id, article_code, article_name, supplier_ref, pack_label,
          units_per_pack, supplier_pack_price, fee_pct, station_pack_price, vat_rate, price_source, packs, supplier_line_net,
          station_line_net, desired_delivery_date)
    ),
    ev AS (
      INSERT INTO purchase_order_events (purchase_order_id, from_status, to_status, actor_user_id, actor_role)
      SELECT id, NULL, 'PLACED', $47::uuid, $48 FROM unnest($49::uuid[]) AS x(id)
    ),
    closed AS (
      UPDATE carts SET status = 'CHECKED_OUT', master_order_id = $50::uuid, checked_out_at = now(), version = version + 1, updated_at = now()
      WHERE id = $51::uuid
    ),
    -- the outbox in the same statement: the station hears about the master order, each supplier
    -- about its own PO only
    ob AS (
      INSERT INTO outbox_events (type, organization_ids, payload)
      SELECT 'master_order.created', ARRAY[$52::uuid], jsonb_build_object('masterOrderId', $53::uuid, 'number', mo.number,
        'stationId', $54::uuid, 'purchaseOrderIds', to_jsonb($55::uuid[]))
      FROM mo
      UNION ALL
      SELECT 'purchase_order.placed', ARRAY[$56::uuid, po.supplier_id], jsonb_build_object('purchaseOrderId', po.id, 'number', po.number,
        'stationId', $57::uuid, 'supplierId', po.supplier_id, 'status', 'PLACED', 'version', 1)
      FROM po
    )
    SELECT (SELECT number FROM mo) AS mo_number, (SELECT created_at FROM mo) AS created_at,
      (SELECT json_agg(json_build_object('id', id, 'number', number)) FROM po) AS pos,
      (SELECT coalesce(json_agg(id), '[]'::json) FROM caps) AS reserved;
