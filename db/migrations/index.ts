// Every migration, in order. Imported statically so the same list works from TypeScript sources
// (tests, tsx) and from the compiled build, with no directory scanning at runtime.
import type { Migration } from 'kysely'
import * as m0001 from './0001-foundation.js'
import * as m0002 from './0002-organizations.js'
import * as m0003 from './0003-catalog-contracts.js'
import * as m0004 from './0004-ordering-stock.js'
import * as m0005 from './0005-audit-integrity.js'
import * as m0006 from './0006-login-throttles-reset-delivery.js'
import * as m0007 from './0007-idempotency-claim.js'
import * as m0008 from './0008-transfers-forecasts.js'
import * as m0009 from './0009-documents.js'
import * as m0010 from './0010-replenishment-indexes.js'
import * as m0011 from './0011-webhooks.js'
import * as m0012 from './0012-report-indexes.js'
import * as m0013 from './0013-document-references.js'
import * as m0014 from './0014-stock-threshold-order.js'
import * as m0015 from './0015-transfer-line-units.js'
import * as m0016 from './0016-forecast-iso-week.js'
import * as m0017 from './0017-inbound-units-index.js'
import * as m0018 from './0018-covering-partial-indexes.js'

export const migrations: Record<string, Migration> = {
  '0001-foundation': m0001,
  '0002-organizations': m0002,
  '0003-catalog-contracts': m0003,
  '0004-ordering-stock': m0004,
  '0005-audit-integrity': m0005,
  '0006-login-throttles-reset-delivery': m0006,
  '0007-idempotency-claim': m0007,
  '0008-transfers-forecasts': m0008,
  '0009-documents': m0009,
  '0010-replenishment-indexes': m0010,
  '0011-webhooks': m0011,
  '0012-report-indexes': m0012,
  '0013-document-references': m0013,
  '0014-stock-threshold-order': m0014,
  '0015-transfer-line-units': m0015,
  '0016-forecast-iso-week': m0016,
  '0017-inbound-units-index': m0017,
  '0018-covering-partial-indexes': m0018
}
