// The committed table types (src/db/types.generated.ts) are what kysely-codegen makes of the
// migrated schema: a migration without `npm run db:types` fails here, in CI.
import { readFile } from 'node:fs/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { createDb } from '../../src/db/index.js'
import { GENERATED_FILE, generateTableTypes } from '../../scripts/db-types.js'
import { testDatabaseUrl } from '../helpers/db.js'

describe('generated table types', () => {
  let handle: ReturnType<typeof createDb> | undefined
  afterAll(async () => { await handle?.destroy() })

  it('match the migrated schema', async () => {
    handle = createDb({ connectionString: await testDatabaseUrl(), poolSize: 1, statementTimeoutMs: 30_000, connectTimeoutMs: 10_000 })
    const generated = await generateTableTypes(handle.db)
    const committed = await readFile(GENERATED_FILE, 'utf8')
    expect(committed, 'src/db/types.generated.ts is stale: run `npm run db:types` and commit it').toBe(generated)
  })

  it('turn CHECK (col IN …) columns and the columns that reference them into literal unions', async () => {
    const committed = await readFile(GENERATED_FILE, 'utf8')
    expect(committed).toMatch(/interface Users \{[^}]*organizationKind: "PLATFORM" \| "STATION" \| "SUPPLIER";/)
    expect(committed).toMatch(/interface PurchaseOrders \{[^}]*status: Generated<"PLACED" \| "CONFIRMED"/)
  })
})
