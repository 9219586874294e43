// The one place that decides whether an order step may reference a document (PRODUCT.md §8: "a PO
// shipment or reception references a document the caller may read"). The documents domain does
// not exist yet, so today the check is the UUID format the route schemas already enforce; when
// documents land, tighten this function (existence + readability by `actor`) and every caller
// follows.
import type { Db } from '../../db/index.js'
import type { Actor } from '../../lib/permissions.js'
import { problem } from '../../lib/problems.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export async function assertDocumentReference (_db: Db, _actor: Actor, documentId: string, pointer: string): Promise<void> {
  if (!UUID.test(documentId)) {
    throw problem('REFERENCE_NOT_FOUND', 'The referenced document does not exist', { errors: [{ pointer, code: 'REFERENCE_NOT_FOUND', detail: 'not a document id' }] })
  }
}
