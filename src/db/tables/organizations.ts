// Table types of migration 0002 (organizations).
import type { ColumnType, Generated } from 'kysely'

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>

interface Address {
  addressLine1: string | null
  addressLine2: string | null
  postalCode: string | null
  city: string | null
  country: Generated<string>
}

export interface StationGroupsTable {
  id: Generated<string>
  name: string
  description: string | null
  isActive: Generated<boolean>
  version: Generated<number>
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface StationsTable extends Address {
  id: string
  code: string
  name: string
  groupId: string | null
  phone: string | null
  email: string | null
  isActive: Generated<boolean>
  version: Generated<number>
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface SuppliersTable extends Address {
  id: string
  name: string
  siret: string | null
  email: string | null
  phone: string | null
  website: string | null
  isActive: Generated<boolean>
  version: Generated<number>
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface SupplierSitesTable extends Address {
  id: Generated<string>
  supplierId: string
  name: string
  isPrimary: Generated<boolean>
  version: Generated<number>
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface ContactsTable {
  id: Generated<string>
  organizationId: string
  fullName: string
  position: string | null
  phone: string | null
  email: string | null
  isPrimary: Generated<boolean>
  isActive: Generated<boolean>
  version: Generated<number>
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface PasswordResetTokensTable {
  id: Generated<string>
  userId: string
  tokenHash: string
  expiresAt: Date | string
  usedAt: Date | null
  createdAt: Timestamp
}

export interface OrganizationTables {
  stationGroups: StationGroupsTable
  stations: StationsTable
  suppliers: SuppliersTable
  supplierSites: SupplierSitesTable
  contacts: ContactsTable
  passwordResetTokens: PasswordResetTokensTable
}
