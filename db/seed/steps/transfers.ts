// Demo transfers: one in every status of the §6 workflow between the demo stations, so the list
// and the history show each step — requested, confirmed, rejected, cancelled, in preparation,
// shipped (in transit), received with a loss, closed, settled and archived. Made with the transfer
// services themselves (request → transitions), so the numbering, history, outbox events and the
// stock (TRANSFER_OUT at the source, TRANSFER_IN at the destination, Σ movements = quantity) are
// what the API would produce. Station steps are acted by the stations' demo users, platform steps
// by the demo HANDLER. Runs after the stock step: the sources lend what their opening count holds;
// should a source lack the units (no stock step), an ADJUSTMENT movement provides them first.
// Transfers whose stations or articles are missing from ctx.ids are skipped. Shipping references a
// delivery note the source station uploaded, receiving a signed note the requesting station
// uploaded: small real PDFs (db/seed/documents.ts), which both stations may read.
import { randomUUID } from 'node:crypto'
import type { SeedContext } from '../context.js'
import { demoPdf, seedDocument } from '../documents.js'
import type { Db } from '../../../src/db/index.js'
import { PLATFORM_ORGANIZATION_ID, type Actor } from '../../../src/lib/permissions.js'
import { applyStockDeltas } from '../../../src/domains/stock/stock.service.js'
import { createTransfer } from '../../../src/domains/transfers/transfers.create.js'
import type { TransferDetailView } from '../../../src/domains/transfers/transfers.reads.js'
import type { TransferVerb } from '../../../src/domains/transfers/transfers.rules.js'
import { transitionTransfer, type TransferTransitionInput } from '../../../src/domains/transfers/transfers.transitions.js'

interface DemoTransfer {
  key: string
  requesting: string
  source: string
  /** [article code, units requested, units granted, units received] */
  lines: Array<[string, number, number, number]>
  reason: string
  steps: TransferVerb[]
}

const TO_CLOSED: TransferVerb[] = ['confirm', 'prepare', 'ship', 'receive', 'close']

const TRANSFERS: DemoTransfer[] = [
  { key: 'requested', requesting: 'ST-TOURS', source: 'ST-ANJOU', lines: [['PLAT-CART-30X40', 400, 400, 400]], reason: 'Pic de récolte, livraison fournisseur dans 5 jours', steps: [] },
  { key: 'confirmed', requesting: 'ST-SAUMUR', source: 'ST-ANJOU', lines: [['BARQ-250-PET', 3000, 3000, 3000]], reason: 'Fraises en avance', steps: ['confirm'] },
  { key: 'rejected', requesting: 'ST-CAVAILLON', source: 'ST-AVIGNON', lines: [['CAG-BOIS-30X40', 500, 0, 0]], reason: 'Melons : cagettes manquantes', steps: ['reject'] },
  { key: 'cancelled', requesting: 'ST-ANJOU', source: 'ST-SAUMUR', lines: [['BARQ-125-PULPE', 1200, 0, 0]], reason: 'Framboises', steps: ['cancel'] },
  { key: 'in-preparation', requesting: 'ST-AVIGNON', source: 'ST-CAVAILLON', lines: [['PLAT-CART-40X60', 300, 300, 300]], reason: 'Commande client imprévue', steps: ['confirm', 'prepare'] },
  {
    // a partial grant, on the road
    key: 'shipped', requesting: 'ST-CAVAILLON', source: 'ST-AVIGNON', lines: [['CART-TELESC-60X40', 200, 150, 150], ['CAG-BOIS-30X40', 100, 100, 100]], reason: 'Expédition export avancée', steps: ['confirm', 'prepare', 'ship']
  },
  { key: 'received', requesting: 'ST-TOURS', source: 'ST-SAUMUR', lines: [['BARQ-125-PULPE', 2400, 2400, 2350]], reason: 'Essai barquettes pulpe', steps: ['confirm', 'prepare', 'ship', 'receive'] },
  { key: 'closed', requesting: 'ST-SAUMUR', source: 'ST-TOURS', lines: [['CART-EXPED-POMME', 100, 100, 100]], reason: 'Pommes précoces', steps: TO_CLOSED },
  { key: 'settled', requesting: 'ST-ANJOU', source: 'ST-TOURS', lines: [['BARQ-1KG-CART', 400, 400, 400]], reason: 'Panachage carton', steps: [...TO_CLOSED, 'settle'] },
  { key: 'archived', requesting: 'ST-AVIGNON', source: 'ST-ANJOU', lines: [['PLAT-CART-30X40', 600, 600, 600]], reason: 'Dépannage fin de saison', steps: [...TO_CLOSED, 'settle', 'archive'] }
]

const stationActor = (ctx: SeedContext, code: string, fallback: Actor): Actor => {
  const userId = ctx.ids[`user:station:${code}`]
  const stationId = ctx.ids[`station:${code}`]
  return userId === undefined || stationId === undefined ? fallback : { userId, role: 'STATION', organizationId: stationId, organizationKind: 'STATION' }
}

/** The document a ship (the source's delivery note) or a receive (the requester's signed note) references, uploaded by `by`. */
async function documentFor (db: Db, verb: 'ship' | 'receive', t: TransferDetailView, by: Actor): Promise<string> {
  const lines = t.lines.map(l => `${l.articleCode} - ${l.articleName}: ${l.unitsShipped ?? l.unitsGranted ?? 0} ${l.baseUnit}`)
  return verb === 'ship'
    ? await seedDocument(db, by, 'DELIVERY_NOTE', `BL-${t.number}.pdf`, demoPdf(`Bon de livraison - transfert ${t.number}`, lines))
    : await seedDocument(db, by, 'SIGNED_DELIVERY_NOTE', `BL-signe-${t.number}.pdf`, demoPdf(`Bon de livraison signe - transfert ${t.number}`, [...lines, 'Recu et signe par la station demandeuse']))
}

function inputFor (verb: TransferVerb, t: TransferDetailView, demo: DemoTransfer, articleIds: string[], documentId: string): TransferTransitionInput {
  const lineOf = (i: number) => t.lines.find(l => l.articleId === articleIds[i])
  switch (verb) {
    case 'confirm': return { verb, body: { lines: demo.lines.map(([, , granted], i) => ({ lineId: lineOf(i)?.id ?? '', unitsGranted: granted })) } }
    case 'reject': return { verb, body: { reason: 'Stock réservé pour nos expéditions de la semaine' } }
    case 'cancel': return { verb, body: { reason: 'Livraison fournisseur avancée' } }
    case 'prepare': return { verb, body: { note: 'Enlèvement navette inter-stations mardi matin' } }
    case 'ship': return { verb, body: { deliveryNoteDocumentId: documentId } }
    case 'receive': return {
      verb,
      body: {
        signedDeliveryNoteDocumentId: documentId,
        lines: demo.lines.map(([, , granted, received], i) => ({ lineId: lineOf(i)?.id ?? '', unitsReceived: received, note: received < granted ? `${granted - received} unités abîmées au transport` : null }))
      }
    }
    case 'settle': return { verb, body: { settlementRef: `AV-${t.number}`, settlementAmount: '62.40' } }
    default: return { verb, body: {} }
  }
}

export async function seedTransfers (db: Db, ctx: SeedContext): Promise<void> {
  const userId = ctx.ids['user:HANDLER'] ?? ctx.ids['user:ADMIN']
  if (userId === undefined) return
  const staff: Actor = { userId, role: ctx.ids['user:HANDLER'] !== undefined ? 'HANDLER' : 'ADMIN', organizationId: PLATFORM_ORGANIZATION_ID, organizationKind: 'PLATFORM' }

  for (const demo of TRANSFERS) {
    const requestingId = ctx.ids[`station:${demo.requesting}`]
    const sourceId = ctx.ids[`station:${demo.source}`]
    const articleIds = demo.lines.map(([code]) => ctx.ids[`article:${code}`])
    if (requestingId === undefined || sourceId === undefined || articleIds.some(a => a === undefined)) continue
    const articles = articleIds.filter((a): a is string => a !== undefined)
    const requester = stationActor(ctx, demo.requesting, staff)
    const lender = stationActor(ctx, demo.source, staff)

    let t = await createTransfer(db, requester, {
      ...(requester.role === 'STATION' ? {} : { requestingStationId: requestingId }),
      sourceStationId: sourceId,
      lines: demo.lines.map(([, units], i) => ({ articleId: articles[i] as string, units })),
      reason: demo.reason
    })
    ctx.ids[`transfer:${demo.key}`] = t.id

    if (demo.steps.includes('confirm')) await ensureStock(db, staff, sourceId, articles, demo.lines.map(([, , granted]) => granted))
    for (const verb of demo.steps) {
      const actor = verb === 'prepare' || verb === 'settle' || verb === 'archive'
        ? staff
        : verb === 'confirm' || verb === 'reject' || verb === 'ship' ? lender : requester
      const documentId = verb === 'ship' || verb === 'receive' ? await documentFor(db, verb, t, actor) : ''
      t = await transitionTransfer(db, actor, t.id, inputFor(verb, t, demo, articles, documentId))
    }
  }
}

/** Gives the source the units it is about to lend when it does not hold them (an ADJUSTMENT movement). */
async function ensureStock (db: Db, actor: Actor, stationId: string, articleIds: string[], units: number[]): Promise<void> {
  const levels = await db.selectFrom('stockLevels').select(['articleId', 'quantity']).where('stationId', '=', stationId).where('articleId', 'in', articleIds).execute()
  const held = new Map(levels.map(l => [l.articleId, l.quantity]))
  const missing = articleIds.map((articleId, i) => ({ articleId, delta: Math.max(0, (units[i] ?? 0) - (held.get(articleId) ?? 0)) })).filter(m => m.delta > 0)
  if (missing.length > 0) await applyStockDeltas(db, actor, stationId, missing, { reason: 'ADJUSTMENT', refType: 'SEED', refId: randomUUID() })
}
