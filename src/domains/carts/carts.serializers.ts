// The cart's registered response schemas and per-audience serializer, shared by the cart routes and
// by the replenishment → cart route of the forecasts domain (which answers the cart as GET cart
// does) — the same arrangement as orders.serializers.ts for checkout: another domain's routes use
// this module, never the cart routes or the cart schemas directly.
import type { App } from '../../lib/route.js'
import { views } from '../../lib/views.js'
import { CartLinePlatform, CartLineStation, CartPlatform, CartStation } from './carts.schemas.js'

// Suppliers never reach a cart (RBAC); the station view stands in for the supplier slot.
export const cartViews = views({ platform: CartPlatform, supplier: CartStation, station: CartStation }, [CartLinePlatform, CartLineStation])

/** Registers the cart view schemas in a plugin's context (domain plugins are encapsulated). */
export function addCartSchemas (app: App): void {
  for (const s of [CartLinePlatform, CartLineStation, CartPlatform, CartStation]) app.addSchema(s)
}
