// Platform settings (PRODUCT.md §12): one row, read by platform staff, written by ADMIN.
import { Type, type Static } from '@sinclair/typebox'
import { DateTime, Percent, Version } from '../../lib/schemas.js'

const fields = {
  defaultFeePct: Percent({ description: 'Platform fee % applied to catalog prices and proposed for new contracts' }),
  allowCatalogFallback: Type.Boolean({ description: 'When no ACTIVE contract prices an article, use the offer\'s catalog price (else NO_CONTRACT_PRICE)' }),
  receivingTolerancePct: Percent({ description: 'How far above the ordered packs a reception may go' }),
  lockoutThreshold: Type.Integer({ format: 'int32', minimum: 1, maximum: 100, description: 'Failed logins before an account is locked' }),
  lockoutMinutes: Type.Integer({ format: 'int32', minimum: 1, maximum: 1440, description: 'Lockout duration' }),
  rateLimitPerMinute: Type.Integer({ format: 'int32', minimum: 1, maximum: 1_000_000, description: 'Requests per user per minute' })
}

export const SettingsSchema = Type.Object({
  ...fields,
  version: Version(),
  updatedAt: DateTime()
}, { $id: 'Settings', additionalProperties: false, description: 'The platform settings' })
export type Settings = Static<typeof SettingsSchema>

export const SettingsPatchSchema = Type.Partial(Type.Object(fields), {
  additionalProperties: false,
  minProperties: 1,
  examples: [{ defaultFeePct: '7.50', allowCatalogFallback: false }]
})
export type SettingsPatch = Static<typeof SettingsPatchSchema>
