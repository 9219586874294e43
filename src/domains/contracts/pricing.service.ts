// Price resolution and contract-cap consumption. Implemented by the catalog/contracts work
// (issue 4); the signatures are the contract the cart and checkout code against.
import type { Db } from '../../db/index.js'
import type { PriceRequest, ResolvedPrice } from './pricing.types.js'

/**
 * Resolves the price of every (article, supplier) pair on `onDate` (YYYY-MM-DD) in a constant
 * number of queries. Pairs whose article does not exist are absent from the map.
 */
export async function resolvePrices (_db: Db, _items: readonly PriceRequest[], _onDate: string): Promise<Map<string, ResolvedPrice>> {
  throw new Error('resolvePrices: not implemented yet (issue 4)')
}

/**
 * Atomically adds `packs` to a contract line's ordered packs when the cap allows it (one guarded
 * UPDATE … WHERE ordered_packs + n <= cap RETURNING). Returns false when the cap would be exceeded.
 */
export async function reserveContractPacks (_db: Db, _contractLineId: string, _packs: number): Promise<boolean> {
  throw new Error('reserveContractPacks: not implemented yet (issue 4)')
}

/** Gives packs back to a contract line (cancelled or declined PO, shortfall at close). */
export async function releaseContractPacks (_db: Db, _contractLineId: string, _packs: number): Promise<void> {
  throw new Error('releaseContractPacks: not implemented yet (issue 4)')
}
