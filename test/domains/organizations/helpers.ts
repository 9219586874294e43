// Shared setup of the organizations tests: one app per file, callers of every role, request helpers.
import type { App } from '../../../src/lib/route.js'
import type { Role } from '../../../src/lib/permissions.js'
import { bearer, tokenFor } from '../../helpers/app.js'

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

export interface Caller { role: Role, token: string, organizationId?: string }

export function callerFor (app: App, role: Role, organizationId?: string, userId?: string): Caller {
  return { role, organizationId, token: tokenFor(app, { role, ...(organizationId !== undefined ? { organizationId } : {}), ...(userId !== undefined ? { userId } : {}) }) }
}

export function client (app: App) {
  return async function call (caller: Caller, method: Method, url: string, payload?: unknown, headers: Record<string, string> = {}) {
    const res = await app.inject({ method, url, headers: { ...bearer(caller.token), ...headers }, ...(payload !== undefined ? { payload: payload as object } : {}) })
    return res
  }
}

export const address = { line1: '1 rue des Tests', postalCode: '49000', city: 'Angers', country: 'FR' }
