// Checkout: cart → one master order + one purchase order per supplier (PRODUCT.md §5.2), all in
// the caller's transaction (the audit plugin's, which also holds the Idempotency-Key claim).
//
// Round trips are the cost of an audited write, so the work is shaped around them: lock the cart,
// read its lines with every price in one statement, then insert the master order, its purchase
// orders, every frozen line, the status history, the outbox events, close the cart and reserve the
// contract caps in ONE statement, sent last so the contract lines' row locks are held only until the
// commit. Ids are generated here so that statement needs no RETURNING chain.
//
// The steps, in order (checkoutCart): lockOpenCart → priceCartLines → draftOrder →
// placeOrderStatement → assertCapsReserved → placedView: three statements on the way to an order
// (test/domains/carts/checkout-sql.test.ts counts them and snapshots their SQL).
import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../../db/index.js'
import type { Actor } from '../../lib/permissions.js'
import { lineNet, splitTotals, type Totals } from '../../lib/money.js'
import { problem, type ProblemItem } from '../../lib/problems.js'
import { businessDate, capsCte, cartLinesWithPrices, refusedCaps } from '../contracts/pricing.service.js'
import { priceKey, type ResolvedPrice } from '../contracts/pricing.types.js'
import { margin, type MasterOrderView, type PurchaseOrderLineView, type PurchaseOrderView } from '../orders/orders.views.js'
import { uuidv7 } from '../../lib/ids.js'
import { assertStationInScope, lineProblems, type CartLineRow } from './carts.service.js'

interface FrozenLine extends PurchaseOrderLineView {
  purchaseOrderId: string
  supplierId: string
}

interface PricedLine { line: CartLineRow, price: ResolvedPrice }

/** One purchase order of the draft: its frozen lines and both sides' totals. */
interface DraftPurchaseOrder {
  id: string
  supplierId: string
  lines: FrozenLine[]
  supplierTotals: Totals
  stationTotals: Totals
}

/** The order as it will be written: ids, frozen lines and totals, before any statement runs. */
interface OrderDraft {
  masterOrderId: string
  pos: DraftPurchaseOrder[]
  allLines: FrozenLine[]
  supplierTotals: Totals
  stationTotals: Totals
  /** packs per contract line, in cart order of first use */
  capItems: Array<[contractLineId: string, packs: number]>
}

interface PlacedRow { moNumber: string, createdAt: Date, pos: Array<{ id: string, number: string }>, reserved: string[] }

export async function checkoutCart (db: Db, actor: Actor, stationId: string): Promise<MasterOrderView> {
  // Station and supplier users are scoped without a query; for staff, an unknown station simply
  // has no cart, and is told apart (404) on that failure path only — one round trip saved.
  if (actor.role === 'STATION' || actor.role === 'SUPPLIER') await assertStationInScope(db, actor, stationId)
  const cartId = await lockOpenCart(db, actor, stationId)
  const priced = await priceCartLines(db, cartId)
  const draft = draftOrder(priced)
  const placed = await placeOrderStatement(actor, stationId, cartId, draft).execute(db)
  const row = placed.rows[0] as PlacedRow
  assertCapsReserved(priced, draft.capItems, row.reserved)
  return placedView(stationId, cartId, draft, row)
}

/** The statement that locks the station's open cart (see lockOpenCart). */
function lockOpenCartStatement (stationId: string): RawBuilder<{ id: string }> {
  return sql<{ id: string }>`
    SELECT id FROM carts WHERE station_id = ${stationId}::uuid AND status = 'OPEN' FOR UPDATE`
}

/**
 * Step 1. Locks the station's open cart and returns its id. Concurrent checkouts queue on its row;
 * once the first commits, the row no longer matches status = 'OPEN' when the others get it, so
 * they find no open cart and (the station having a checked-out cart) answer 409. The lines are
 * read in the next statement, after the lock, so a line change committed while we waited is never
 * missed. No open cart: 404 outside the caller's scope, 409 CART_ALREADY_CHECKED_OUT, or 422 CART_EMPTY.
 */
async function lockOpenCart (db: Db, actor: Actor, stationId: string): Promise<string> {
  const locked = await lockOpenCartStatement(stationId).execute(db)
  const cart = locked.rows[0]
  if (cart !== undefined) return cart.id
  await assertStationInScope(db, actor, stationId)
  const done = await db.selectFrom('carts').select('id').where('stationId', '=', stationId).where('status', '=', 'CHECKED_OUT').limit(1).executeTakeFirst()
  if (done !== undefined) throw problem('CART_ALREADY_CHECKED_OUT', 'The cart was already checked out; the next cart starts empty', { currentStatus: 'CHECKED_OUT' })
  throw problem('CART_EMPTY', 'The cart is empty')
}

/**
 * Step 2. Reads the lines with their prices (one statement), re-validates and prices every line;
 * any problem rejects the whole checkout with all of them (422 CHECKOUT_REJECTED, pointers
 * /lines/<index>/…). The business date is France's, as contract validity and offer views use it.
 */
async function priceCartLines (db: Db, cartId: string): Promise<PricedLine[]> {
  const today = businessDate()
  const { lines, prices } = await cartLinesWithPrices(db, cartId, today)
  if (lines.length === 0) throw problem('CART_EMPTY', 'The cart is empty')
  const problems = lineProblems(lines, prices, today)
  const errors: ProblemItem[] = problems.flatMap((ps, i) => ps.map(p => ({ pointer: `/lines/${i}${p.pointer}`, code: p.code, detail: p.detail })))
  if (errors.length > 0) {
    throw problem('CHECKOUT_REJECTED', `${new Set(errors.map(e => e.pointer.split('/')[2])).size} line(s) cannot be ordered`, { errors })
  }
  return lines.map(l => ({ line: l, price: prices.get(priceKey(l.articleId, l.supplierId)) as ResolvedPrice }))
}

/**
 * Step 3 (no statement). Groups the lines by supplier in cart order, freezes them (§4.3) and the
 * totals (§4.4): one document per supplier, the master order their sum (money.ts splitTotals, as
 * the quote); sums the packs taken from each contract line.
 */
function draftOrder (priced: readonly PricedLine[]): OrderDraft {
  const masterOrderId = uuidv7()
  const bySupplier = new Map<string, PricedLine[]>()
  for (const p of priced) {
    const group = bySupplier.get(p.line.supplierId)
    if (group === undefined) bySupplier.set(p.line.supplierId, [p])
    else group.push(p)
  }
  const drafts = [...bySupplier.entries()].map(([supplierId, group]) => {
    const id = uuidv7()
    return { id, supplierId, lines: group.map(({ line, price }, i) => frozenLine(id, supplierId, i + 1, line, price)) }
  })
  const allLines = drafts.flatMap(p => p.lines)
  const supplierSide = splitTotals(allLines.map(l => ({ supplierId: l.supplierId, net: l.supplierLineNet, vatRate: l.vatRate })))
  const stationSide = splitTotals(allLines.map(l => ({ supplierId: l.supplierId, net: l.lineNet, vatRate: l.vatRate })))
  const pos = drafts.map(p => ({
    ...p,
    supplierTotals: supplierSide.bySupplier.get(p.supplierId) as Totals,
    stationTotals: stationSide.bySupplier.get(p.supplierId) as Totals
  }))
  const perContractLine = new Map<string, number>()
  for (const { line, price } of priced) {
    if (price.contractLineId !== null) perContractLine.set(price.contractLineId, (perContractLine.get(price.contractLineId) ?? 0) + line.packs)
  }
  return { masterOrderId, pos, allLines, supplierTotals: supplierSide.total, stationTotals: stationSide.total, capItems: [...perContractLine.entries()] }
}

/** A cart line frozen into a purchase order line: the copies and prices it keeps forever. */
function frozenLine (purchaseOrderId: string, supplierId: string, lineNo: number, line: CartLineRow, price: ResolvedPrice): FrozenLine {
  return {
    id: uuidv7(),
    purchaseOrderId,
    supplierId,
    lineNo,
    articleId: line.articleId,
    articleCode: price.articleCode,
    articleName: price.articleName,
    supplierRef: price.supplierRef ?? '',
    packLabel: price.packLabel ?? '',
    unitsPerPack: price.unitsPerPack ?? 1,
    vatRate: price.vatRate,
    priceSource: price.priceSource as 'CONTRACT' | 'CATALOG',
    contractLineId: price.contractLineId,
    packs: line.packs,
    desiredDeliveryDate: line.desiredDeliveryDate,
    confirmedDeliveryDate: null,
    packsReceived: null,
    discrepancy: null,
    supplierPackPrice: price.supplierPackPrice as string,
    supplierLineNet: lineNet(price.supplierPackPrice as string, line.packs),
    feePct: price.feePct,
    stationPackPrice: price.stationPackPrice as string,
    lineNet: lineNet(price.stationPackPrice as string, line.packs)
  }
}

/**
 * Step 4. One statement: master order, purchase orders (numbers from the sequences), frozen lines,
 * status history, the cart closed and linked, the outbox events, and the contract caps consumed
 * (capsCte: one guarded update for every contract line of the cart, rows locked in id order so
 * two checkouts sharing lines cannot deadlock). Foreign keys between the CTEs are checked at the
 * end of the statement. It comes last, just before the commit, so the row locks on (popular)
 * contract lines are held for the shortest time; a refused cap throws in step 5 and the
 * transaction rolls back everything, reservations included.
 */
function placeOrderStatement (actor: Actor, stationId: string, cartId: string, draft: OrderDraft): RawBuilder<PlacedRow> {
  const { masterOrderId, pos, allLines, supplierTotals: moSupplier, stationTotals: moStation } = draft
  return sql<PlacedRow>`
    WITH ${capsCte(draft.capItems)},
    mseq AS (SELECT nextval('master_order_number_seq') AS n),
    mo AS (
      INSERT INTO master_orders (id, number, station_id, cart_id, status, supplier_count,
        supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross, created_by)
      SELECT ${masterOrderId}::uuid, 'MO-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-' || lpad(n::text, greatest(6, length(n::text)), '0'),
        ${stationId}::uuid, ${cartId}::uuid, 'PLACED', ${pos.length}::int,
        ${moSupplier.net}::numeric, ${moSupplier.vat}::numeric, ${moSupplier.gross}::numeric,
        ${moStation.net}::numeric, ${moStation.vat}::numeric, ${moStation.gross}::numeric, ${actor.userId}::uuid
      FROM mseq
      RETURNING number, created_at
    ),
    pseq AS (
      SELECT x.*, nextval('purchase_order_number_seq') AS n
      FROM unnest(${pos.map(p => p.id)}::uuid[], ${pos.map(p => p.supplierId)}::uuid[],
        ${pos.map(p => p.supplierTotals.net)}::numeric[], ${pos.map(p => p.supplierTotals.vat)}::numeric[], ${pos.map(p => p.supplierTotals.gross)}::numeric[],
        ${pos.map(p => p.stationTotals.net)}::numeric[], ${pos.map(p => p.stationTotals.vat)}::numeric[], ${pos.map(p => p.stationTotals.gross)}::numeric[])
        AS x(id, supplier_id, sn, sv, sg, tn, tv, tg)
    ),
    po AS (
      INSERT INTO purchase_orders (id, number, master_order_id, station_id, supplier_id,
        supplier_net, supplier_vat, supplier_gross, station_net, station_vat, station_gross, created_by)
      SELECT id, 'PO-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-' || lpad(n::text, greatest(6, length(n::text)), '0'),
        ${masterOrderId}::uuid, ${stationId}::uuid, supplier_id, sn, sv, sg, tn, tv, tg, ${actor.userId}::uuid
      FROM pseq
      RETURNING id, number, supplier_id
    ),
    pol AS (
      INSERT INTO purchase_order_lines (id, purchase_order_id, line_no, station_id, supplier_id, article_id, contract_line_id,
        article_code, article_name, supplier_ref, pack_label, units_per_pack, supplier_pack_price, fee_pct, station_pack_price,
        vat_rate, price_source, packs_ordered, supplier_line_net, station_line_net, desired_delivery_date)
      SELECT id, po_id, line_no, ${stationId}::uuid, supplier_id, article_id, contract_line_id,
        article_code, article_name, supplier_ref, pack_label, units_per_pack, supplier_pack_price, fee_pct, station_pack_price,
        vat_rate, price_source, packs, supplier_line_net, station_line_net, desired_delivery_date
      FROM unnest(
        ${allLines.map(l => l.id)}::uuid[], ${allLines.map(l => l.purchaseOrderId)}::uuid[], ${allLines.map(l => l.lineNo)}::int[],
        ${allLines.map(l => l.supplierId)}::uuid[], ${allLines.map(l => l.articleId)}::uuid[], ${allLines.map(l => l.contractLineId)}::uuid[],
        ${allLines.map(l => l.articleCode)}::text[], ${allLines.map(l => l.articleName)}::text[], ${allLines.map(l => l.supplierRef)}::text[],
        ${allLines.map(l => l.packLabel)}::text[], ${allLines.map(l => l.unitsPerPack)}::int[], ${allLines.map(l => l.supplierPackPrice)}::numeric[],
        ${allLines.map(l => l.feePct)}::numeric[], ${allLines.map(l => l.stationPackPrice)}::numeric[], ${allLines.map(l => l.vatRate)}::numeric[],
        ${allLines.map(l => l.priceSource)}::text[], ${allLines.map(l => l.packs)}::int[], ${allLines.map(l => l.supplierLineNet)}::numeric[],
        ${allLines.map(l => l.lineNet)}::numeric[], ${allLines.map(l => l.desiredDeliveryDate)}::date[])
        AS x(id, po_id, line_no, supplier_id, article_id, contract_line_id, article_code, article_name, supplier_ref, pack_label,
          units_per_pack, supplier_pack_price, fee_pct, station_pack_price, vat_rate, price_source, packs, supplier_line_net,
          station_line_net, desired_delivery_date)
    ),
    ev AS (
      INSERT INTO purchase_order_events (purchase_order_id, from_status, to_status, actor_user_id, actor_role)
      SELECT id, NULL, 'PLACED', ${actor.userId}::uuid, ${actor.role} FROM unnest(${pos.map(p => p.id)}::uuid[]) AS x(id)
    ),
    closed AS (
      UPDATE carts SET status = 'CHECKED_OUT', master_order_id = ${masterOrderId}::uuid, checked_out_at = now(), version = version + 1, updated_at = now()
      WHERE id = ${cartId}::uuid
    ),
    -- the outbox in the same statement: the station hears about the master order, each supplier
    -- about its own PO only
    ob AS (
      INSERT INTO outbox_events (type, organization_ids, payload)
      SELECT 'master_order.created', ARRAY[${stationId}::uuid], jsonb_build_object('masterOrderId', ${masterOrderId}::uuid, 'number', mo.number,
        'stationId', ${stationId}::uuid, 'purchaseOrderIds', to_jsonb(${pos.map(p => p.id)}::uuid[]))
      FROM mo
      UNION ALL
      SELECT 'purchase_order.placed', ARRAY[${stationId}::uuid, po.supplier_id], jsonb_build_object('purchaseOrderId', po.id, 'number', po.number,
        'stationId', ${stationId}::uuid, 'supplierId', po.supplier_id, 'status', 'PLACED', 'version', 1)
      FROM po
    )
    SELECT (SELECT number FROM mo) AS mo_number, (SELECT created_at FROM mo) AS created_at,
      (SELECT json_agg(json_build_object('id', id, 'number', number)) FROM po) AS pos,
      (SELECT coalesce(json_agg(id), '[]'::json) FROM caps) AS reserved`
}

/** Step 5. Every contract line had room for its packs, or 422 CONTRACT_CAP_EXCEEDED with a pointer per line. */
function assertCapsReserved (priced: readonly PricedLine[], capItems: OrderDraft['capItems'], reserved: readonly string[]): void {
  const refused = refusedCaps(capItems, reserved)
  if (refused.length > 0) {
    const over = new Set(refused)
    const capErrors = priced.flatMap(({ price, line }, i) => price.contractLineId !== null && over.has(price.contractLineId)
      ? [{ pointer: `/lines/${i}/packs`, code: 'CONTRACT_CAP_EXCEEDED', detail: `${line.packs} packs requested exceed what remains on contract ${price.contractNumber ?? ''}`.trim() }]
      : [])
    const contractNumbers = [...new Set(priced.filter(p => p.price.contractLineId !== null && over.has(p.price.contractLineId)).map(p => p.price.contractNumber ?? ''))].join(', ')
    throw problem('CONTRACT_CAP_EXCEEDED', `The cart exceeds the remaining quantity of contract ${contractNumbers}`.trim(), { errors: capErrors })
  }
}

/** Step 6 (no statement). The master order as created, with its purchase orders (ordered by number) and their lines. */
function placedView (stationId: string, cartId: string, draft: OrderDraft, placed: PlacedRow): MasterOrderView {
  const { masterOrderId, pos, supplierTotals: moSupplier, stationTotals: moStation } = draft
  const numbers = new Map(placed.pos.map(p => [p.id, p.number]))
  const createdAt = placed.createdAt
  const purchaseOrders: PurchaseOrderView[] = pos.map(p => ({
    id: p.id,
    number: numbers.get(p.id) as string,
    masterOrderId,
    stationId,
    supplierId: p.supplierId,
    status: 'PLACED',
    currency: 'EUR',
    totals: { ...p.stationTotals, currency: 'EUR' },
    supplierTotals: { ...p.supplierTotals, currency: 'EUR' },
    marginNet: margin(p.stationTotals.net, p.supplierTotals.net),
    invoicedTotals: null,
    invoicedSupplierTotals: null,
    carrier: null,
    trackingNumber: null,
    deliveryNoteDocumentId: null,
    signedDeliveryNoteDocumentId: null,
    invoiceNumber: null,
    invoiceDate: null,
    statusReason: null,
    createdAt,
    confirmedAt: null,
    shippedAt: null,
    receivedAt: null,
    closedAt: null,
    invoicedAt: null,
    archivedAt: null,
    cancelledAt: null,
    updatedAt: createdAt,
    version: 1,
    lines: p.lines.map(({ purchaseOrderId: _po, supplierId: _s, ...l }) => l)
  }))
  purchaseOrders.sort((a, b) => (a.number < b.number ? -1 : 1))
  return {
    id: masterOrderId,
    number: placed.moNumber,
    stationId,
    cartId,
    status: 'PLACED',
    supplierCount: pos.length,
    totals: { ...moStation, currency: 'EUR' },
    supplierTotals: { ...moSupplier, currency: 'EUR' },
    marginNet: margin(moStation.net, moSupplier.net),
    createdAt,
    updatedAt: createdAt,
    version: 1,
    purchaseOrders
  }
}
