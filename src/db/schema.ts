// The database as Kysely sees it: generated from the migrated schema (src/db/types.generated.ts,
// `npm run db:types`), never written by hand. The named value types below are read off the
// generated columns, so a migration that adds a status changes them too.
import type { Selectable } from 'kysely'
import type { Articles, Contracts, DB, PurchaseOrders, StockMovements } from './types.generated.js'

export type Database = DB

export type ArticleCategory = Selectable<Articles>['category']
export type ContractKind = Selectable<Contracts>['kind']
export type ContractStatus = Selectable<Contracts>['status']
export type PurchaseOrderStatus = Selectable<PurchaseOrders>['status']
export type PriceSource = Selectable<Pick<DB['purchaseOrderLines'], 'priceSource'>>['priceSource']
export type StockReason = Selectable<StockMovements>['reason']
