// The order responses' registered schemas and per-audience serializers, shared by the order routes
// and by checkout (which answers a master order).
import { Type, type TSchema } from '@sinclair/typebox'
import type { App } from '../../lib/route.js'
import { Page } from '../../lib/schemas.js'
import { views } from '../../lib/views.js'
import {
  MasterOrderDetailPlatform, MasterOrderDetailStation, MasterOrderPlatform, MasterOrderStation, PurchaseOrderEventSchema,
  PurchaseOrderLinePlatform, PurchaseOrderLineStation, PurchaseOrderLineSupplier, PurchaseOrderPlatform, PurchaseOrderStation,
  PurchaseOrderSupplier, orderRefs
} from './orders.schemas.js'

const pageOf = (item: TSchema, id: string) => Page(Type.Ref(item), { $id: id })

const PurchaseOrderPagePlatform = pageOf(PurchaseOrderPlatform, 'PurchaseOrderPagePlatform')
const PurchaseOrderPageSupplier = pageOf(PurchaseOrderSupplier, 'PurchaseOrderPageSupplier')
const PurchaseOrderPageStation = pageOf(PurchaseOrderStation, 'PurchaseOrderPageStation')
const MasterOrderPagePlatform = pageOf(MasterOrderPlatform, 'MasterOrderPagePlatform')
const MasterOrderPageStation = pageOf(MasterOrderStation, 'MasterOrderPageStation')
export const PurchaseOrderEventPage = pageOf(PurchaseOrderEventSchema, 'PurchaseOrderEventPage')

export const purchaseOrderViews = views({ platform: PurchaseOrderPlatform, supplier: PurchaseOrderSupplier, station: PurchaseOrderStation }, [PurchaseOrderLinePlatform, PurchaseOrderLineSupplier, PurchaseOrderLineStation])
export const purchaseOrderPageViews = views({ platform: PurchaseOrderPagePlatform, supplier: PurchaseOrderPageSupplier, station: PurchaseOrderPageStation }, orderRefs)
// Suppliers never reach master orders (RBAC 403); the station view stands in for the third slot.
export const masterOrderDetailViews = views({ platform: MasterOrderDetailPlatform, supplier: MasterOrderDetailStation, station: MasterOrderDetailStation }, orderRefs)
export const masterOrderPageViews = views({ platform: MasterOrderPagePlatform, supplier: MasterOrderPageStation, station: MasterOrderPageStation }, [MasterOrderPlatform, MasterOrderStation])

/** Registers the order view schemas in a plugin's context (domain plugins are encapsulated; checkout answers a master order too). */
export function addOrderSchemas (app: App): void {
  for (const s of [
    PurchaseOrderLinePlatform, PurchaseOrderLineSupplier, PurchaseOrderLineStation, PurchaseOrderPlatform, PurchaseOrderSupplier, PurchaseOrderStation,
    MasterOrderPlatform, MasterOrderStation, MasterOrderDetailPlatform, MasterOrderDetailStation, PurchaseOrderEventSchema,
    PurchaseOrderPagePlatform, PurchaseOrderPageSupplier, PurchaseOrderPageStation, MasterOrderPagePlatform, MasterOrderPageStation, PurchaseOrderEventPage
  ]) app.addSchema(s)
}
