// A typed client of the API for TypeScript integrators: openapi-fetch over the types
// openapi-typescript generates from the OpenAPI document (schema.d.ts, `npm run client:types`;
// `npm run lint:openapi` fails when the committed file no longer matches the document). Every
// path, parameter, body and answer is checked by the compiler; the runtime is a thin fetch wrapper.
//
//   const api = createApiClient('https://api.example.com')
//   const { data } = await api.POST('/v1/auth/login', { body: { email, password } })
//   api.setToken(data?.accessToken)
//   const { data: cart } = await api.GET('/v1/stations/{stationId}/cart', { params: { path: { stationId } } })
import createClient, { type Client } from 'openapi-fetch'
import type { components, operations, paths } from './schema.js'

export type { components, operations, paths }
/** A named schema of the document, e.g. `Schema<'Problem'>`. */
export type Schema<N extends keyof components['schemas']> = components['schemas'][N]

export interface ApiClient extends Client<paths> {
  /** The bearer token sent from now on (undefined: none). */
  setToken: (token: string | undefined) => void
}

export function createApiClient (baseUrl: string, options: { fetch?: typeof fetch, headers?: Record<string, string> } = {}): ApiClient {
  const client = createClient<paths>({ baseUrl, ...(options.fetch !== undefined ? { fetch: options.fetch } : {}), ...(options.headers !== undefined ? { headers: options.headers } : {}) })
  let token: string | undefined
  client.use({
    onRequest ({ request }) {
      if (token !== undefined && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`)
      return request
    }
  })
  return Object.assign(client, { setToken (t: string | undefined) { token = t } })
}
