// Drives a purchase order placed through the API to INVOICED as platform staff, with the
// documents shipping and receiving reference (uploaded by that staff user, who may read them).
import type { App } from '../../../src/lib/route.js'
import { act, type Party, type PlacedOrder } from '../orders/fixtures.js'
import { uploaded } from '../documents/fixtures.js'

export async function driveToInvoiced (app: App, staff: Party, o: PlacedOrder, received: number[], until = 'invoice'): Promise<void> {
  const who = { role: 'HANDLER' as const, userId: staff.userId, organizationId: staff.id, token: staff.token }
  const note = await uploaded(app, who, { type: 'DELIVERY_NOTE' })
  const signed = await uploaded(app, who, { type: 'SIGNED_DELIVERY_NOTE' })
  const steps: Array<[string, object]> = [
    ['confirm', { lines: o.lineIds.map(lineId => ({ lineId, confirmedDeliveryDate: '2099-06-01' })) }],
    ['ship', { carrier: 'Geodis', trackingNumber: 'T-1', deliveryNoteDocumentId: note.id }],
    ['receive', { signedDeliveryNoteDocumentId: signed.id, lines: o.lineIds.map((lineId, i) => ({ lineId, packsReceived: received[i] ?? 0 })) }],
    ['close', {}],
    ['invoice', { invoiceNumber: 'INV-R1', invoiceDate: '2099-07-01' }]
  ]
  for (const [verb, body] of steps) {
    const r = await act(app, staff.token, o.poId, verb, body)
    if (r.statusCode !== 200) throw new Error(`${verb}: ${r.body}`)
    if (verb === until) return
  }
}
