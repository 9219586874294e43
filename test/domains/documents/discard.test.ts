// Both halves of the storage invariant (PRODUCT.md §8): every stored object is a document's or on
// the staging list (the sweep's), and every document has its object. The upload route discards the
// staged object whenever its answer is not the 201 of a committed document — but an answer can be
// an error although the document committed: the connection carrying the COMMIT fails after the
// server received it (the client sees an error, the server commits). Discarding must then leave
// the bytes alone: discardUpload() never removes the object of a document (one index probe on
// documents (storage, storage_key)), only its listing. Here 50 attached and 50 unattached uploads
// are discarded at once, as 100 such answers would: the documents keep their content, the others
// leave nothing behind.
import { Readable } from 'node:stream'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../src/lib/route.js'
import type { Actor } from '../../../src/lib/permissions.js'
import { createDocument, createStorages, discardUpload, stageUpload, type StagedUpload } from '../../../src/domains/documents/documents.service.js'
import { createTestApp } from '../../helpers/app.js'
import { pdfOfSize } from '../../helpers/multipart.js'
import { party, read, storedCounts, unaccountedBlobs, type Party } from './fixtures.js'

let app: App
let station: Party
beforeAll(async () => {
  app = await createTestApp()
  station = await party(app, 'STATION')
})
afterAll(async () => { await app.close() })

const PARALLEL = 50

async function documentsWithoutObject (): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM documents d
    WHERE d.storage = 'pg' AND NOT EXISTS (SELECT 1 FROM document_blobs b WHERE b.key::text = d.storage_key AND b.size_bytes IS NOT NULL)`.execute(app.db)
  return rows[0]?.n ?? -1
}

describe('discarding a staged upload', () => {
  it(`never removes a committed document's object: ${PARALLEL} attached and ${PARALLEL} unattached uploads discarded at once`, async () => {
    const storages = createStorages(app.db, app.conf)
    const actor: Actor = { userId: station.userId, role: 'STATION', organizationId: station.organizationId, organizationKind: 'STATION' }
    const before = await storedCounts(app)
    const stage = async (i: number): Promise<StagedUpload> => await stageUpload(app.db, storages.active, Readable.from([pdfOfSize(1000 + i)]), { fileName: `n${i}.pdf`, maxBytes: 1_000_000 })
    const attached: Array<{ staged: StagedUpload, id: string }> = []
    for (let i = 0; i < PARALLEL; i++) {
      const staged = await stage(i)
      // committed, as the audited transaction of an upload whose answer was lost
      const doc = await app.db.transaction().execute(async trx => await createDocument(trx, actor, staged, 'DELIVERY_NOTE'))
      attached.push({ staged, id: doc.id })
    }
    const loose: StagedUpload[] = []
    for (let i = 0; i < PARALLEL; i++) loose.push(await stage(PARALLEL + i))

    await Promise.all([...attached.map(a => a.staged), ...loose].map(async s => { await discardUpload(app.db, storages.of(s.storage), s.key) }))

    const after = await storedCounts(app)
    expect(after.documents).toBe(before.documents + PARALLEL)
    expect(after.staging).toBe(before.staging)
    expect(after.blobs).toBe(before.blobs + PARALLEL)
    expect(await documentsWithoutObject()).toBe(0)
    expect(await unaccountedBlobs(app)).toBe(0)
    const contents = await Promise.all(attached.map(async a => await read(app, station, `/v1/documents/${a.id}/content`)))
    contents.forEach((r, i) => {
      expect(r.statusCode, r.body.slice(0, 200)).toBe(200)
      expect(r.rawPayload.length).toBe(1000 + i)
    })
  }, 60_000)
})
