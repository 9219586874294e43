// Demo orders, so /docs "try it out" has real data: a few master orders in various states, made
// with the ordering services themselves (cart → checkout → transitions) so every invariant holds:
// frozen prices, totals, contract caps, status history, outbox events, stock and its movements.
// Acted by the demo HANDLER (platform staff act on behalf of stations and suppliers; the history
// records it). Orders whose station, supplier or article is missing from ctx.ids are skipped.
// Shipping references a delivery note the supplier uploaded, receiving a signed note the station
// uploaded: small real PDFs (db/seed/documents.ts), which both parties of the order may read.
import type { SeedContext } from '../context.js'
import { demoPdf, seedDocument } from '../documents.js'
import type { Db } from '../../../src/db/index.js'
import { PLATFORM_ORGANIZATION_ID, type Actor } from '../../../src/lib/permissions.js'
import { addCartLine, addDays } from '../../../src/domains/carts/carts.service.js'
import { businessDate } from '../../../src/domains/contracts/pricing.service.js'
import { checkoutCart } from '../../../src/domains/carts/checkout.service.js'
import { transitionPurchaseOrder, type PurchaseOrderVerb, type TransitionInput } from '../../../src/domains/orders/orders.transitions.js'
import type { PurchaseOrderView } from '../../../src/domains/orders/orders.views.js'

interface DemoOrder {
  station: string
  /** [article code, supplier key, packs] */
  lines: Array<[string, string, number]>
  /** supplier key → the steps its PO goes through; `receive` receives `shortBy` packs less on the first line */
  steps: Record<string, PurchaseOrderVerb[]>
  shortBy?: number
}

const ORDERS: DemoOrder[] = [
  {
    // one of each: a PO closed with a shortfall, one shipped, one still placed → PARTIALLY_CLOSED
    station: 'ST-ANJOU',
    lines: [['PLAT-CART-30X40', 'cartonnerie-du-val', 40], ['CART-US-40X30', 'cartonnerie-du-val', 20], ['BARQ-250-PET', 'plastiques-de-l-ouest', 10], ['FILM-ETIR-17', 'films-and-co', 8]],
    steps: { 'cartonnerie-du-val': ['confirm', 'ship', 'receive', 'close'], 'plastiques-de-l-ouest': ['confirm', 'ship'] },
    shortBy: 2
  },
  { station: 'ST-ANJOU', lines: [['ETIQ-THERM-100X150', 'films-and-co', 4]], steps: { 'films-and-co': ['confirm', 'ship', 'receive', 'close', 'invoice', 'archive'] } },
  { station: 'ST-SAUMUR', lines: [['SAC-PE-5KG', 'plastiques-de-l-ouest', 6]], steps: { 'plastiques-de-l-ouest': ['confirm'] } },
  { station: 'ST-SAUMUR', lines: [['CAG-BOIS-30X40', 'emballages-provence', 3]], steps: { 'emballages-provence': ['cancel'] } },
  {
    station: 'ST-AVIGNON',
    lines: [['SAC-KRAFT-1KG', 'cartonnerie-du-val', 5], ['BARQ-500-PET', 'plastiques-de-l-ouest', 5]],
    steps: { 'plastiques-de-l-ouest': ['decline'] }
  }
]

/** The demo user of the station or supplier (who uploads its documents), or staff when it has none. */
function userOf (ctx: SeedContext, key: string, organizationId: string, role: 'STATION' | 'SUPPLIER', fallback: Actor): Actor {
  const userId = ctx.ids[key]
  return userId === undefined ? fallback : { userId, role, organizationId, organizationKind: role }
}

/** The document a ship (the supplier's delivery note) or a receive (the station's signed note) references. */
async function documentFor (db: Db, verb: PurchaseOrderVerb, po: PurchaseOrderView, uploader: { supplier: Actor, station: Actor }): Promise<string> {
  const lines = (po.lines ?? []).map(l => `${l.articleCode} - ${l.articleName}: ${l.packs} colis`)
  if (verb === 'ship') {
    return await seedDocument(db, uploader.supplier, 'DELIVERY_NOTE', `BL-${po.number}.pdf`, demoPdf(`Bon de livraison - commande ${po.number}`, [`Transporteur Geodis, suivi GEO-${po.number}`, ...lines]))
  }
  return await seedDocument(db, uploader.station, 'SIGNED_DELIVERY_NOTE', `BL-signe-${po.number}.pdf`, demoPdf(`Bon de livraison signe - commande ${po.number}`, [...lines, 'Recu et signe par la station']))
}

function bodyFor (verb: PurchaseOrderVerb, po: PurchaseOrderView, shortBy: number, delivery: string, documentId: string): TransitionInput {
  switch (verb) {
    case 'confirm': return { verb, body: { lines: (po.lines ?? []).map(l => ({ lineId: l.id, confirmedDeliveryDate: delivery })) } }
    case 'decline': return { verb, body: { reason: 'Rupture de matière première jusqu\'au mois prochain' } }
    case 'cancel': return { verb, body: { reason: 'Commande passée en double' } }
    case 'ship': return { verb, body: { carrier: 'Geodis', trackingNumber: `GEO-${po.number}`, deliveryNoteDocumentId: documentId } }
    case 'receive': return {
      verb,
      body: {
        signedDeliveryNoteDocumentId: documentId,
        lines: (po.lines ?? []).map((l, i) => ({ lineId: l.id, packsReceived: i === 0 ? Math.max(0, l.packs - shortBy) : l.packs, discrepancy: i === 0 && shortBy > 0 ? `${shortBy} colis manquants` : null }))
      }
    }
    case 'invoice': return { verb, body: { invoiceNumber: `FA-${po.number}`, invoiceDate: delivery } }
    default: return { verb, body: {} }
  }
}

export async function seedOrders (db: Db, ctx: SeedContext): Promise<void> {
  const userId = ctx.ids['user:HANDLER'] ?? ctx.ids['user:ADMIN']
  if (userId === undefined) return
  const actor: Actor = { userId, role: ctx.ids['user:HANDLER'] !== undefined ? 'HANDLER' : 'ADMIN', organizationId: PLATFORM_ORGANIZATION_ID, organizationKind: 'PLATFORM' }
  const delivery = addDays(businessDate(), 30)

  for (const [n, order] of ORDERS.entries()) {
    const stationId = ctx.ids[`station:${order.station}`]
    const lines = order.lines.flatMap(([code, supplierKey, packs]) => {
      const articleId = ctx.ids[`article:${code}`]
      const supplierId = ctx.ids[`supplier:${supplierKey}`]
      return articleId !== undefined && supplierId !== undefined && ctx.ids[`offer:${code}:${supplierKey}`] !== undefined ? [{ articleId, supplierId, supplierKey, packs }] : []
    })
    if (stationId === undefined || lines.length === 0) continue
    for (const l of lines) await addCartLine(db, actor, stationId, { articleId: l.articleId, supplierId: l.supplierId, packs: l.packs, desiredDeliveryDate: delivery, note: null })
    const mo = await checkoutCart(db, actor, stationId)
    ctx.ids[`master_order:${n + 1}`] = mo.id
    for (const po of mo.purchaseOrders ?? []) {
      const supplierKey = lines.find(l => l.supplierId === po.supplierId)?.supplierKey
      if (supplierKey === undefined) continue
      ctx.ids[`purchase_order:${n + 1}:${supplierKey}`] = po.id
      const uploader = {
        supplier: userOf(ctx, `user:supplier:${supplierKey}`, po.supplierId, 'SUPPLIER', actor),
        station: userOf(ctx, `user:station:${order.station}`, stationId, 'STATION', actor)
      }
      let current = po
      for (const verb of order.steps[supplierKey] ?? []) {
        const documentId = verb === 'ship' || verb === 'receive' ? await documentFor(db, verb, current, uploader) : ''
        current = await transitionPurchaseOrder(db, actor, po.id, bodyFor(verb, current, order.shortBy ?? 0, delivery, documentId))
      }
    }
  }
}
