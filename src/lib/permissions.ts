// Role → permission table, mirroring PRODUCT.md §2.1 row by row. The RBAC plugin answers 403 when
// a role lacks the permission a route declares; row scope ("own", "involved") is not decided here
// but by `where` clauses in the services, which answer 404 outside the caller's scope.

export const ROLES = ['ADMIN', 'MANAGER', 'HANDLER', 'STATION', 'SUPPLIER'] as const
export type Role = typeof ROLES[number]
export const PLATFORM_ROLES: readonly Role[] = ['ADMIN', 'MANAGER', 'HANDLER']
export type OrganizationKind = 'PLATFORM' | 'STATION' | 'SUPPLIER'

const A = 'ADMIN'
const M = 'MANAGER'
const H = 'HANDLER'
const S = 'STATION'
const P = 'SUPPLIER' // "P" for provider: the supplier role
const STAFF = [A, M, H] as const
const EVERYONE = [A, M, H, S, P] as const

export const PERMISSIONS = {
  'users:read': EVERYONE,
  'users:write': STAFF,
  'users:erase': [A],
  'organizations:read': EVERYONE,
  // suppliers see active stations and their own supplier, never the station groups (§2.1)
  'station_groups:read': [A, M, H, S],
  'organizations:create': [A, M],
  'organizations:activate': [A, M],
  // updates, one permission per kind of row, so a role the matrix never lets write a row is
  // refused here (403) and not deeper in a service: HANDLER "update only" (§2.1), a station its
  // own contacts, a supplier its own profile, sites and contacts (own: narrowed by the service)
  'stations:update': STAFF,
  'station_groups:update': STAFF,
  'suppliers:update': [A, M, H, P],
  'sites:update': [A, M, H, P],
  'contacts:update': [A, M, H, S, P],
  // creating / deleting sites and contacts: HANDLER may only update (§2.1 "update only")
  'sites:write': [A, M, P],
  'contacts:write': [A, M, S, P],
  'articles:read': EVERYONE,
  'articles:write': STAFF,
  'offers:read': EVERYONE,
  // offers are created by platform staff; a supplier edits its own (§2.1, §4.3)
  'offers:create': STAFF,
  'offers:update': [A, M, H, P],
  'contracts:read': [A, M, H, P],
  'contracts:write': [A, M],
  'contracts:approve': [A],
  'carts:read': [A, M, H, S],
  'carts:write': [A, M, H, S],
  'carts:checkout': [A, M, H, S],
  'master_orders:read': [A, M, H, S],
  'purchase_orders:read': EVERYONE,
  'purchase_orders:confirm': [A, M, H, P],
  'purchase_orders:decline': [A, M, H, P],
  'purchase_orders:ship': [A, M, H, P],
  'purchase_orders:receive': [A, M, H, S],
  'purchase_orders:close': [A, M, H, S],
  'purchase_orders:cancel': [A, M, H, S],
  'purchase_orders:invoice': STAFF,
  'purchase_orders:archive': STAFF,
  'stock:read': [A, M, H, S],
  'stock:write': [A, M, H, S],
  'transfers:read': [A, M, H, S],
  'transfers:create': [A, M, H, S],
  'transfers:station_step': [A, M, H, S],
  'transfers:platform_step': STAFF,
  // a station's own forecasts and replenishment; suppliers read only the aggregated demand (§2.1, §7)
  'forecasts:read': [A, M, H, S],
  'demand:read': [A, M, H, P],
  'forecasts:write': [A, M, H, S],
  'documents:upload': EVERYONE,
  'documents:read': EVERYONE,
  'webhooks:manage': [A, M, S, P],
  // the events feed: each organization its own events, platform staff all (§10)
  'events:read': EVERYONE,
  'reports:read': EVERYONE,
  'audit:read': [A, M],
  'settings:read': STAFF,
  'settings:write': [A],
  'me:read': EVERYONE,
  'me:write': EVERYONE,
  'sessions:write': EVERYONE
} as const satisfies Record<string, readonly Role[]>

export type Permission = keyof typeof PERMISSIONS
export type Access = 'public' | Permission

const grants = new Map<Role, Set<string>>(ROLES.map(r => [r, new Set<string>()]))
for (const [perm, roles] of Object.entries(PERMISSIONS)) {
  for (const r of roles) grants.get(r)?.add(perm)
}

export function can (role: Role, permission: Permission): boolean {
  return grants.get(role)?.has(permission) ?? false
}

export function isPlatformRole (role: Role): boolean {
  return role === 'ADMIN' || role === 'MANAGER' || role === 'HANDLER'
}

export function kindForRole (role: Role): OrganizationKind {
  return role === 'STATION' ? 'STATION' : role === 'SUPPLIER' ? 'SUPPLIER' : 'PLATFORM'
}

/** Who is acting: what services receive instead of the request. */
export interface Actor {
  userId: string
  role: Role
  organizationId: string
  organizationKind: OrganizationKind
}

export const PLATFORM_ORGANIZATION_ID = '00000000-0000-7000-8000-000000000001'
