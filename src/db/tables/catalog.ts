// Table types of migration 0003 (catalog, settings, contracts). Money columns are numeric and
// arrive as exact decimal strings (see the type parsers in src/db/index.ts).
import type { ColumnType, Generated } from 'kysely'

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>
/** numeric: read as a decimal string, written as a string */
type Decimal = ColumnType<string, string, string>

export type ArticleCategory = 'TRAY' | 'CRATE' | 'PLATTER' | 'FILM' | 'CARDBOARD_BOX' | 'PLASTIC_BAG' | 'PAPER_BAG' | 'INSULATED' | 'LABEL' | 'OTHER'
export type ContractKind = 'ANNUAL' | 'MULTI_YEAR' | 'SEASONAL' | 'SPOT'
export type ContractStatus = 'DRAFT' | 'ACTIVE' | 'SUSPENDED' | 'TERMINATED' | 'EXPIRED'

export interface SettingsTable {
  id: Generated<boolean>
  defaultFeePct: Decimal
  allowCatalogFallback: boolean
  receivingTolerancePct: Decimal
  lockoutThreshold: number
  lockoutMinutes: number
  rateLimitPerMinute: number
  version: Generated<number>
  updatedAt: Timestamp
  updatedBy: string | null
}

export interface ArticlesTable {
  id: Generated<string>
  code: string
  name: string
  description: string | null
  category: ArticleCategory
  baseUnit: Generated<string>
  material: string | null
  dimensions: string | null
  vatRate: ColumnType<string, string | undefined, string>
  isActive: Generated<boolean>
  search: ColumnType<string, never, never>
  version: Generated<number>
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface OffersTable {
  id: Generated<string>
  articleId: string
  supplierId: string
  supplierRef: string
  packLabel: string
  unitsPerPack: number
  catalogPackPrice: Decimal
  moqPacks: Generated<number>
  packMultiple: Generated<number>
  leadTimeDays: Generated<number>
  isActive: Generated<boolean>
  version: Generated<number>
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface ContractsTable {
  id: Generated<string>
  number: string
  supplierId: string
  name: string
  kind: ContractKind
  status: Generated<ContractStatus>
  validFrom: string
  validUntil: string
  currency: Generated<string>
  feePct: Decimal
  paymentTerms: string | null
  deliverySlaDays: number | null
  notes: string | null
  createdBy: string
  approvedBy: string | null
  approvedAt: Date | null
  renewedFromId: string | null
  statusReason: string | null
  version: Generated<number>
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface ContractLinesTable {
  id: Generated<string>
  contractId: string
  articleId: string
  supplierId: string
  packPrice: Decimal
  committedPacks: number | null
  allowancePct: ColumnType<string, string | undefined, string>
  orderedPacks: Generated<number>
  createdAt: Timestamp
}

export interface CatalogTables {
  settings: SettingsTable
  articles: ArticlesTable
  offers: OffersTable
  contracts: ContractsTable
  contractLines: ContractLinesTable
}
