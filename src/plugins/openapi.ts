// The OpenAPI 3.1 document generated from the route schemas (registered before any route so every
// route is collected), served at /openapi.json, with Swagger UI at /docs under a strict CSP.
// Shared schemas are named components by their $id; protected operations carry the bearer
// security requirement derived from their `config.access`; lib/openapi-shape.ts finishes the
// document (response headers, problem media type, response descriptions, used tags only).
// `npm run lint:openapi` holds it to Redocly's and Spectral's OAS + OWASP rules (.spectral.yaml).
import fp from 'fastify-plugin'
import type { FastifySchema } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { shapeDocument, type OpenApiDocument } from '../lib/openapi-shape.js'
import { problemCatalogueMarkdown } from './errors.js'

const DESCRIPTION = `Backend of Blue Whale's B2B packaging procurement platform: stations buy packaging from
suppliers under master contracts; carts check out into a master order split into one purchase order
per supplier; suppliers confirm and ship; stations receive into stock; every change is audited.

**Conventions.** JSON in and out, camelCase. Money values are decimal strings ("18.5000" for pack
prices, "1250.00" for amounts). Lists are keyset-paginated (\`limit\`, \`cursor\` → \`nextCursor\`).
Errors are RFC 9457 problem details (\`application/problem+json\`) with a stable \`code\`.
\`Idempotency-Key\` is required on checkout and accepted on every audited POST (replays carry
\`Idempotent-Replayed: true\`). Single-resource GETs return an \`ETag\`; workflow actions accept \`If-Match\`.
A \`201\` carries \`Location\`. An action whose body fields are all optional may be sent without a
body (or \`Content-Type\`). A known path with an unsupported method is \`405\` with \`Allow\`.

**Query parameters.** A query parameter an operation does not declare is a \`400\` naming it, so a
misspelt filter never silently returns an unfiltered list; the one exception is \`_\`, the usual
cache-busting parameter (\`?_=1700000000000\`), which every operation ignores. Cache-busting is not
needed here: every \`/v1\` answer carries \`Cache-Control: no-store\`.

**Response headers.** Every answer carries \`X-Request-Id\`; when rate limiting is enabled, answers
carry \`RateLimit-Limit\`, \`RateLimit-Remaining\` and \`RateLimit-Reset\`, and \`429\` and \`503\` carry
\`Retry-After\`.

**Problem codes**

${problemCatalogueMarkdown()}
`

const ENVIRONMENT = { production: 'production', development: 'local development', test: 'test' } as const

export default fp(async function openapiPlugin (app) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Gestion Emballages API', version: '1.0.0', description: DESCRIPTION, license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' } },
      // the environment of the server (its audience, x-internal, is added by shapeDocument)
      servers: [{ url: app.conf.PUBLIC_URL ?? '/', description: `This server (${ENVIRONMENT[app.conf.NODE_ENV]})` }],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'Access token from POST /v1/auth/login: a JWS following RFC8725 (JWT best current practices) — HS256 pinned (`alg: none` and every other algorithm refused), issuer, audience and an explicit `typ: access` claim checked, expiry required, short-lived (refresh tokens are opaque and rotated), revocable.'
          }
        }
      },
      tags: [
        { name: 'auth', description: 'Sign-in, sessions and the caller' },
        { name: 'organizations', description: 'Stations, station groups, suppliers, sites and contacts' },
        { name: 'users', description: 'Users and their roles' },
        { name: 'catalog', description: 'Articles and supplier offers' },
        { name: 'contracts', description: 'Master contracts and their price lines' },
        { name: 'carts', description: "A station's cart with its live quote, and checkout" },
        { name: 'orders', description: 'Master orders and purchase orders' },
        { name: 'stock', description: 'Station stock, movements, counts and alerts' },
        { name: 'transfers', description: 'Stock lent between stations: request, confirm, ship, receive, settle' },
        { name: 'forecasts', description: 'Weekly demand forecasts, aggregated supplier demand and replenishment proposals' },
        { name: 'documents', description: 'Uploaded files (delivery notes, invoices, certificates, photos) and their content' },
        { name: 'webhooks', description: 'Signed HTTP callbacks of domain events: subscriptions, deliveries, replays' },
        { name: 'events', description: 'The domain events feed: pages and a live Server-Sent Events stream' },
        { name: 'reports', description: 'Spend, contract utilization, supplier performance and the dashboard (JSON or CSV)' },
        { name: 'audit', description: 'The tamper-evident audit trail' },
        { name: 'settings', description: 'Platform settings' },
        { name: 'operations', description: 'Health and metrics' }
      ]
    },
    refResolver: {
      buildLocalReference (json, _baseUri, _fragment, i) {
        return typeof json.$id === 'string' ? json.$id : `def-${i}`
      }
    },
    transform: ({ schema, url, route }) => {
      const access = route.config?.access
      const s: FastifySchema & Record<string, unknown> = { ...(schema ?? {}) }
      if (access !== undefined && access !== 'public') {
        s.security = [{ bearerAuth: [] }]
        const base = typeof s.description === 'string' ? s.description : ''
        if (!base.includes('Permission:')) s.description = `${base}${base === '' ? '' : '\n\n'}Permission: \`${access}\`.`
      } else if (access === 'public') {
        s.security = []
      }
      return { schema: s, url }
    },
    transformObject: (documentObject) => 'openapiObject' in documentObject ? shapeDocument(documentObject.openapiObject as OpenApiDocument) : documentObject.swaggerObject
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // The plugin's CSP ends with upgrade-insecure-requests: over plain http on any address but
    // localhost (HOST=0.0.0.0, the Docker image) every asset was then fetched over https and
    // failed — a blank page. Kept only when PUBLIC_URL says the service is served over https.
    // The hash allows the one inline <style> Swagger UI inserts (its top bar logo's SVG,
    // swagger-ui-standalone-preset.js), blocked on every load; test/browser/docs.test.ts fails
    // when an upgrade of Swagger UI changes it.
    transformStaticCSP: (csp: string) => (app.conf.PUBLIC_URL?.startsWith('https://') === true ? csp : csp.replace(/\s*upgrade-insecure-requests;?/, ''))
      .replace("style-src 'self'", "style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='"),
    uiConfig: { deepLinking: true, persistAuthorization: true, tryItOutEnabled: true }
  })
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger())
}, { name: 'openapi', dependencies: ['errors'] })
