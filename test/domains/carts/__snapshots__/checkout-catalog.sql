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
WITH caps AS (SELECT NULL::uuid AS id WHERE false),
    mseq AS (SELECT nextval('master_order_number_seq') AS n),
    mo AS (
      INSERT INTO master_orders (id, number, station_id, cart_id, status, supplier_count,
        supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross, created_by)
      SELECT $1::uuid, 'MO-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-' || lpad(n::text, greatest(6, length(n::text)), '0'),
        $2::uuid, $3::uuid, 'PLACED', $4::int,
        $5::numeric, $6::numeric, $7::numeric,
        $8::numeric, $9::numeric, $10::numeric, $11::uuid
      FROM mseq
      RETURNING number, created_at
    ),
    pseq AS (
      SELECT x.*, nextval('purchase_order_number_seq') AS n
      FROM unnest($12::uuid[], $13::uuid[],
        $14::numeric[], $15::numeric[], $16::numeric[],
        $17::numeric[], $18::numeric[], $19::numeric[])
        AS x(id, supplier_id, sn, sv, sg, tn, tv, tg)
    ),
    po AS (
      INSERT INTO purchase_orders (id, number, master_order_id, station_id, supplier_id,
        supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross, created_by)
      SELECT id, 'PO-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-' || lpad(n::text, greatest(6, length(n::text)), '0'),
        $20::uuid, $21::uuid, supplier_id, sn, sv, sg, tn, tv, tg, $22::uuid
      FROM pseq
      RETURNING id, number, supplier_id
    ),
    pol AS (
      INSERT INTO purchase_order_lines (id, purchase_order_id, line_no, station_id, supplier_id, article_id, contract_line_id,
        article_code, article_name, supplier_ref, pack_label, units_per_pack, supplier_pack_price, fee_pct, station_pack_price,
        vat_rate, price_source, packs_ordered, supplier_line_net, station_line_net, desired_delivery_date)
      SELECT id, po_id, line_no, $23::uuid, supplier_id, article_id, contract_line_id,
        article_code, article_name, supplier_ref, pack_label, units_per_pack, supplier_pack_price, fee_pct, station_pack_price,
        vat_rate, price_source, packs, supplier_line_net, station_line_net, desired_delivery_date
      FROM unnest(
        $24::uuid[], $25::uuid[], $26::int[],
        $27::uuid[], $28::uuid[], $29::uuid[],
        $30::text[], $31::text[], $32::text[],
        $33::text[], $34::int[], $35::numeric[],
        $36::numeric[], $37::numeric[], $38::numeric[],
        $39::text[], $40::int[], $41::numeric[],
        $42::numeric[], $43::date[])
        AS x(id, po_id, line_no, supplier_id, article_id, contract_line_id, article_code, article_name, supplier_ref, pack_label,
          units_per_pack, supplier_pack_price, fee_pct, station_pack_price, vat_rate, price_source, packs, supplier_line_net,
          station_line_net, desired_delivery_date)
    ),
    ev AS (
      INSERT INTO purchase_order_events (purchase_order_id, from_status, to_status, actor_user_id, actor_role)
      SELECT id, NULL, 'PLACED', $44::uuid, $45 FROM unnest($46::uuid[]) AS x(id)
    ),
    closed AS (
      UPDATE carts SET status = 'CHECKED_OUT', master_order_id = $47::uuid, checked_out_at = now(), version = version + 1, updated_at = now()
      WHERE id = $48::uuid
    ),
    -- the outbox in the same statement: the station hears about the master order, each supplier
    -- about its own PO only
    ob AS (
      INSERT INTO outbox_events (type, organization_ids, payload)
      SELECT 'master_order.created', ARRAY[$49::uuid], jsonb_build_object('masterOrderId', $50::uuid, 'number', mo.number,
        'stationId', $51::uuid, 'purchaseOrderIds', to_jsonb($52::uuid[]))
      FROM mo
      UNION ALL
      SELECT 'purchase_order.placed', ARRAY[$53::uuid, po.supplier_id], jsonb_build_object('purchaseOrderId', po.id, 'number', po.number,
        'stationId', $54::uuid, 'supplierId', po.supplier_id, 'status', 'PLACED', 'version', 1)
      FROM po
    )
    SELECT (SELECT number FROM mo) AS mo_number, (SELECT created_at FROM mo) AS created_at,
      (SELECT json_agg(json_build_object('id', id, 'number', number)) FROM po) AS pos,
      (SELECT coalesce(json_agg(id), '[]'::json) FROM caps) AS reserved;
