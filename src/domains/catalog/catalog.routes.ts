// Articles and offers. Offer responses go through the per-audience serializers (PRODUCT.md §2.2),
// so a price a party may not see is absent from the JSON whatever the service returned.
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import { audienceSerializer } from '../../lib/audience.js'
import type { App } from '../../lib/route.js'
import { defineRoute } from '../../lib/define-route.js'
import { diffOf } from '../../lib/diff.js'
import { actorOf, dbOf, etagOf, expectedVersion, withEtag } from '../../lib/route.js'
import { IdParams, Page } from '../../lib/schemas.js'
import { createArticle, getArticle, listArticles, updateArticle } from './articles.service.js'
import {
  ArticleCreateSchema, ArticleListQuery, ArticlePatchSchema, ArticleSchema,
  OfferCreateSchema, OfferListQuery, OfferPatchSchema, OfferPlatformView, OfferStationView, OfferSupplierView
} from './catalog.schemas.js'
import { createOffer, getOffer, listOffers, updateOffer } from './offers.service.js'

async function catalogRoutes (app: App): Promise<void> {
  app.addSchema(ArticleSchema)
  for (const s of [OfferPlatformView, OfferSupplierView, OfferStationView]) app.addSchema(s)
  const ArticleRef = Type.Ref(ArticleSchema)
  const offerRefs = [Type.Ref(OfferPlatformView), Type.Ref(OfferSupplierView), Type.Ref(OfferStationView)]
  const offerViews = audienceSerializer({ platform: OfferPlatformView, supplier: OfferSupplierView, station: OfferStationView })
  const offerPageViews = audienceSerializer({
    platform: Page(OfferPlatformView, { $id: 'OfferPlatformPage' }),
    supplier: Page(OfferSupplierView, { $id: 'OfferSupplierPage' }),
    station: Page(OfferStationView, { $id: 'OfferStationPage' })
  })
  const OfferResponse = Type.Union(offerRefs, { description: 'The view depends on the caller: OfferPlatformView (staff), OfferSupplierView (the offer\'s supplier), OfferStationView (stations)' })
  const OfferPageResponse = Page(Type.Union(offerRefs), { description: 'Items in the caller\'s view (see OfferPlatformView, OfferSupplierView, OfferStationView)' })

  // ---- articles

  defineRoute(app, {
    method: 'GET',
    url: '/v1/articles',
    operationId: 'listArticles',
    tag: 'catalog',
    summary: 'Search articles',
    description: 'Everyone may call it. Stations see active articles only; a supplier sees only the articles it offers. `q` matches a code prefix, full-text words (as prefixes) on name, description and code, or a name fragment of 3+ characters (trigram index). Filters: `category`, `supplierId` (articles with an active offer of that supplier), `active`. Ordered by code, keyset-paginated.',
    access: 'articles:read',
    querystring: ArticleListQuery,
    response: { 200: Page(ArticleRef) }
  }, async (request) => await listArticles(app.db, actorOf(request), request.query))

  defineRoute(app, {
    method: 'GET',
    url: '/v1/articles/:id',
    operationId: 'getArticle',
    tag: 'catalog',
    summary: 'Read an article',
    description: 'Everyone may call it, within their scope (stations: active articles; suppliers: articles they offer; otherwise 404). Returns an ETag.',
    access: 'articles:read',
    params: IdParams,
    notModified: true,
    response: { 200: ArticleRef }
  }, async (request, reply) => {
    const a = await getArticle(app.db, actorOf(request), request.params.id)
    if (withEtag(request, reply, a.version)) return null
    return a
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/articles',
    operationId: 'createArticle',
    tag: 'catalog',
    summary: 'Create an article',
    description: 'Platform staff (ADMIN, MANAGER, HANDLER). Creates a catalog article; the code is unique (409 DUPLICATE) and immutable afterwards; VAT rate defaults to 20.00.',
    access: 'articles:write',
    audit: { action: 'article.create', entity: 'article' },
    body: ArticleCreateSchema,
    response: { 201: ArticleRef }
  }, async (request, reply) => {
    const a = await createArticle(dbOf(request), actorOf(request), request.body)
    void reply.code(201).header('etag', etagOf(a.version))
    return a
  })

  defineRoute(app, {
    method: 'PATCH',
    url: '/v1/articles/:id',
    operationId: 'updateArticle',
    tag: 'catalog',
    summary: 'Update an article',
    description: 'Platform staff. Any subset of name, description, category, baseUnit, material, dimensions, vatRate, isActive (deactivating makes it unorderable and hides it from stations). If-Match with a stale ETag answers 412. Existing orders keep their frozen copies.',
    access: 'articles:write',
    audit: { action: 'article.update', entity: 'article' },
    params: IdParams,
    ifMatch: true,
    body: ArticlePatchSchema,
    response: { 200: ArticleRef }
  }, async (request, reply) => {
    const { before, after } = await updateArticle(dbOf(request), actorOf(request), request.params.id, request.body, expectedVersion(request))
    request.audit = { changes: diffOf(request.body, before, after) }
    void reply.header('etag', etagOf(after.version))
    return after
  })

  // ---- offers

  defineRoute(app, {
    method: 'GET',
    url: '/v1/offers',
    operationId: 'listOffers',
    tag: 'catalog',
    summary: 'List offers',
    description: 'Everyone may call it. Platform staff see every offer with the catalog price, today\'s station price and the fee; a supplier sees its own offers with its catalog price only; a station sees active offers of active articles with the station price it would pay today (the ACTIVE contract price when one covers today, else the catalog price when the fallback is allowed, plus the fee; null when neither applies). Filters: `articleId`, `supplierId`, `active`. Ordered by creation, keyset-paginated.',
    access: 'offers:read',
    querystring: OfferListQuery,
    response: { 200: OfferPageResponse }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const result = await listOffers(app.db, actor, request.query)
    offerPageViews.use(reply, actor)
    return result
  })

  defineRoute(app, {
    method: 'GET',
    url: '/v1/offers/:id',
    operationId: 'getOffer',
    tag: 'catalog',
    summary: 'Read an offer',
    description: 'Everyone may call it, within their scope (a supplier: its own offers; a station: active offers of active articles; otherwise 404), in the caller\'s price view. Returns an ETag.',
    access: 'offers:read',
    params: IdParams,
    notModified: true,
    response: { 200: OfferResponse }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const offer = await getOffer(app.db, actor, request.params.id)
    // today's station price is resolved at read time (contracts, settings): part of the ETag
    if (withEtag(request, reply, offer.version, `${offer.stationPackPrice ?? ''}|${offer.priceSource ?? ''}|${offer.feePct}`)) return null
    offerViews.use(reply, actor)
    return offer
  })

  defineRoute(app, {
    method: 'POST',
    url: '/v1/offers',
    operationId: 'createOffer',
    tag: 'catalog',
    summary: 'Create an offer',
    description: 'Platform staff (ADMIN, MANAGER, HANDLER) for any supplier (supplierId required). Suppliers get 403: creating an offer fixes its pack definition; they edit price, reference, MOQ, multiple and lead time of their own offers (PATCH). One offer per article × supplier (409 DUPLICATE); an unknown article or supplier is a 422.',
    access: 'offers:create',
    audit: { action: 'offer.create', entity: 'offer' },
    body: OfferCreateSchema,
    response: { 201: OfferResponse }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const offer = await createOffer(dbOf(request), actor, request.body)
    void reply.code(201).header('etag', etagOf(offer.version))
    offerViews.use(reply, actor)
    return offer
  })

  defineRoute(app, {
    method: 'PATCH',
    url: '/v1/offers/:id',
    operationId: 'updateOffer',
    tag: 'catalog',
    summary: 'Update an offer',
    description: 'Platform staff may change every field. A supplier may change only its own offers\' supplierRef, catalogPackPrice, moqPacks, packMultiple and leadTimeDays (any other field: 400 with pointers, nothing changed; another supplier\'s offer: 404). If-Match with a stale ETag answers 412. Existing orders keep their frozen prices.',
    access: 'offers:update',
    audit: { action: 'offer.update', entity: 'offer' },
    params: IdParams,
    ifMatch: true,
    body: OfferPatchSchema,
    response: { 200: OfferResponse }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const { before, after } = await updateOffer(dbOf(request), actor, request.params.id, request.body, expectedVersion(request))
    request.audit = { changes: diffOf(request.body, before, after) }
    void reply.header('etag', etagOf(after.version))
    offerViews.use(reply, actor)
    return after
  })
}

// Registered without encapsulation (fastify-plugin): a child context that calls addSchema gets a
// fresh schema controller built with Fastify's default Ajv (removeAdditional: true), which would
// silently drop unknown body fields instead of answering 400. At the root the app's validator stays.
export default fp(catalogRoutes, { name: 'catalog-routes' })
