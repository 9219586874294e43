// The catalogue of problem codes clients branch on (RFC 9457 `code` extension). Each code has one
// HTTP status and one title; services throw `problem(code, detail)` and the errors plugin renders
// it. The catalogue is published in the OpenAPI description, so adding a code here documents it.

export const PROBLEMS = {
  VALIDATION_FAILED: { status: 400, title: 'Request validation failed' },
  MALFORMED_JSON: { status: 400, title: 'Malformed JSON body' },
  MALFORMED_REQUEST: { status: 400, title: 'Malformed HTTP request' },
  INVALID_CURSOR: { status: 400, title: 'Invalid pagination cursor' },
  IDEMPOTENCY_KEY_REQUIRED: { status: 400, title: 'Idempotency-Key header required' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  INVALID_TOKEN: { status: 401, title: 'Invalid or expired token' },
  INVALID_CREDENTIALS: { status: 401, title: 'Invalid email or password' },
  REFRESH_TOKEN_INVALID: { status: 401, title: 'Invalid refresh token' },
  PASSWORD_RESET_TOKEN_INVALID: { status: 401, title: 'Invalid, used or expired password reset token' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  SELF_APPROVAL_FORBIDDEN: { status: 403, title: 'A contract cannot be approved by its creator' },
  NOT_ALLOWED_FOR_PARTY: { status: 403, title: 'This step belongs to the other party of the workflow' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  ROUTE_NOT_FOUND: { status: 404, title: 'Route not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  NOT_ACCEPTABLE: { status: 406, title: 'Not acceptable' },
  CONFLICT: { status: 409, title: 'Conflict' },
  DUPLICATE: { status: 409, title: 'Resource already exists' },
  INVALID_TRANSITION: { status: 409, title: 'Invalid status transition' },
  IDEMPOTENCY_IN_PROGRESS: { status: 409, title: 'A request with this Idempotency-Key is in progress' },
  CONTRACT_OVERLAP: { status: 409, title: 'Contract overlaps an existing contract price' },
  CART_ALREADY_CHECKED_OUT: { status: 409, title: 'Cart already checked out' },
  CART_LINE_DUPLICATE: { status: 409, title: 'Cart already has a line for this article and supplier' },
  CONCURRENT_UPDATE: { status: 409, title: 'Concurrent update, retry the request' },
  REQUEST_TIMEOUT: { status: 408, title: 'Request timeout' },
  PRECONDITION_FAILED: { status: 412, title: 'Precondition failed (stale ETag)' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  URI_TOO_LONG: { status: 414, title: 'URI too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  RANGE_NOT_SATISFIABLE: { status: 416, title: 'Range not satisfiable' },
  BUSINESS_RULE_VIOLATED: { status: 422, title: 'Business rule violated' },
  REFERENCE_NOT_FOUND: { status: 422, title: 'Referenced resource does not exist' },
  DOCUMENT_NOT_USABLE: { status: 422, title: 'Document missing, not readable or of the wrong type' },
  WEBHOOK_URL_NOT_ALLOWED: { status: 422, title: 'Webhook URL not allowed' },
  CONSTRAINT_VIOLATED: { status: 422, title: 'Data constraint violated' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency-Key reused with a different request' },
  WEAK_PASSWORD: { status: 422, title: 'Password does not meet the policy' },
  CURRENT_PASSWORD_INCORRECT: { status: 422, title: 'The current password is incorrect' },
  ROLE_ORGANIZATION_MISMATCH: { status: 422, title: "Role does not match the organization's kind" },
  CART_EMPTY: { status: 422, title: 'Cart is empty' },
  CHECKOUT_REJECTED: { status: 422, title: 'Cart lines failed validation' },
  ARTICLE_INACTIVE: { status: 422, title: 'Article is inactive' },
  OFFER_INACTIVE: { status: 422, title: 'Offer is inactive' },
  SUPPLIER_INACTIVE: { status: 422, title: 'Supplier is inactive' },
  BELOW_MOQ: { status: 422, title: 'Quantity below minimum order' },
  NOT_A_MULTIPLE: { status: 422, title: 'Quantity is not a multiple of the pack multiple' },
  DELIVERY_DATE_TOO_EARLY: { status: 422, title: 'Delivery date earlier than the lead time allows' },
  NO_CONTRACT_PRICE: { status: 422, title: 'No contract price for this article' },
  CONTRACT_CAP_EXCEEDED: { status: 422, title: 'Contract cap exceeded' },
  INSUFFICIENT_STOCK: { status: 422, title: 'Insufficient stock' },
  THRESHOLDS_INVALID: { status: 422, title: 'Critical threshold above the alert threshold' },
  RECEIVED_EXCEEDS_ORDERED: { status: 422, title: 'Received quantity exceeds ordered beyond tolerance' },
  ACCOUNT_LOCKED: { status: 429, title: 'Account temporarily locked' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  HEADER_FIELDS_TOO_LARGE: { status: 431, title: 'Request header fields too large' },
  INTERNAL_ERROR: { status: 500, title: 'Internal server error' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service temporarily unavailable' }
} as const satisfies Record<string, { status: number, title: string }>

export type ProblemCode = keyof typeof PROBLEMS

export interface ProblemItem {
  pointer: string
  code: string
  detail: string
}

export interface ProblemExtras {
  errors?: ProblemItem[]
  currentStatus?: string
  retryAfterSeconds?: number
  headers?: Record<string, string>
}

export class AppError extends Error {
  readonly code: ProblemCode
  readonly status: number
  readonly title: string
  readonly errors: ProblemItem[] | undefined
  readonly currentStatus: string | undefined
  readonly headers: Record<string, string> | undefined
  constructor (code: ProblemCode, detail?: string, extras: ProblemExtras = {}) {
    const def = PROBLEMS[code]
    super(detail ?? def.title)
    this.name = 'AppError'
    this.code = code
    this.status = def.status
    this.title = def.title
    this.errors = extras.errors
    this.currentStatus = extras.currentStatus
    const headers = { ...extras.headers }
    if (extras.retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(extras.retryAfterSeconds)))
    this.headers = Object.keys(headers).length > 0 ? headers : undefined
  }
}

export function problem (code: ProblemCode, detail?: string, extras?: ProblemExtras): AppError {
  return new AppError(code, detail, extras)
}

export const notFound = (what = 'Resource'): AppError => new AppError('NOT_FOUND', `${what} not found`)

export function invalidTransition (entity: string, current: string, action: string): AppError {
  return new AppError('INVALID_TRANSITION', `Cannot ${action} a ${entity} in status ${current}`, { currentStatus: current })
}

export function problemType (code: string): string {
  return `https://gestion-emballages.dev/problems/${code.toLowerCase().replaceAll('_', '-')}`
}
