// The contract between price resolution (contracts domain) and its callers (cart quote, checkout).
// PRODUCT.md §4.2: contract price when an ACTIVE contract of the supplier covers the date and has
// the article; else the offer's catalog price when settings allow fallback; else NO_CONTRACT_PRICE.

export interface PriceRequest {
  articleId: string
  supplierId: string
}

export interface ResolvedPrice {
  articleId: string
  supplierId: string
  /** null when the supplier has no offer for the article */
  offerId: string | null
  articleActive: boolean
  offerActive: boolean
  supplierActive: boolean
  /** frozen copies for order lines */
  articleCode: string
  articleName: string
  vatRate: string
  supplierRef: string | null
  packLabel: string | null
  unitsPerPack: number | null
  moqPacks: number | null
  packMultiple: number | null
  leadTimeDays: number | null
  /** null with problem NO_CONTRACT_PRICE */
  priceSource: 'CONTRACT' | 'CATALOG' | null
  contractId: string | null
  contractNumber: string | null
  contractLineId: string | null
  /** 4-decimal strings */
  supplierPackPrice: string | null
  feePct: string
  stationPackPrice: string | null
  /** packs still available under the contract line's cap (null: no cap) */
  remainingPacks: number | null
}

/** key of the map resolvePrices returns */
export const priceKey = (articleId: string, supplierId: string): string => `${articleId}:${supplierId}`
