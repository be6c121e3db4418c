/**
 * Typed failures. Expected denials (a bad API key) are values, not errors; see
 * `verify-api-key.ts`. These classes are for real failures, each with a stable
 * `code` callers can switch on and an HTTP status.
 *
 * `expose` follows middy's HttpError: a 4xx message is safe to show the
 * client; a 5xx becomes a generic message and keeps the detail for the logs.
 */
/**
 * Every `code` an answer can carry, in one place: the portal and scripts
 * switch on these, so a new one is added here first.
 */
export type ErrorCode =
  // Server side: generic on the wire, detail in the log.
  | 'ERR_CONFIG'
  | 'ERR_INTERNAL'
  | 'ERR_UNAVAILABLE'
  | 'ERR_NO_AUTHORIZER_CONTEXT'
  | 'ERR_IDP_UNAVAILABLE'
  | 'ERR_BILLING_UNAVAILABLE'
  | 'ERR_MOESIF_UNAVAILABLE'
  // Client side.
  | 'ERR_REFUSED'
  | 'ERR_BAD_BODY'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_BAD_KEY_ID'
  | 'ERR_TOO_MANY_KEYS'
  | 'ERR_NO_SUBSCRIPTION'
  | 'ERR_EMAIL_REQUIRED'
  | 'ERR_EMAIL_NOT_VERIFIED'
  | 'ERR_BAD_SIGNATURE'
  | 'ERR_KEY_NOT_FOUND'
  | 'ERR_NOT_FOUND'
  | 'ERR_PORTAL_TOKEN_MISSING'
  | 'ERR_PORTAL_TOKEN_INVALID'
  | 'ERR_PORTAL_TOKEN_OBJECT'
  | 'ERR_BAD_QUERY'
  | 'ERR_BAD_PRICE'
  | 'ERR_BAD_SESSION_ID'
  | 'ERR_SESSION_NOT_YOURS'
  | 'ERR_NO_CUSTOMER'
  | 'ERR_NOT_IMPLEMENTED'
  // Local stack only.
  | 'ERR_LOCAL_IDP_NOT_IN_USE'
  | 'ERR_NO_LOCAL_COLLECTOR'
  | 'ERR_COLLECTOR_UNAVAILABLE'

export class DevPortalKeysError extends Error {
  /** Stable, machine-readable error code. */
  readonly code: ErrorCode
  /** HTTP status this failure maps to. */
  readonly statusCode: number
  /** Whether `message` may be shown to the client. */
  readonly expose: boolean

  constructor(code: ErrorCode, statusCode: number, message: string, options?: { cause?: unknown; expose?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.statusCode = statusCode
    this.expose = options?.expose ?? statusCode < 500
  }
}

/**
 * The deployment is misconfigured: a variable is missing or invalid. The
 * message names the variable and what was expected, never its value.
 *
 * @example
 * throw new ConfigError('JWT_ALGORITHM', 'one of HS256, RS256, ...')
 */
export class ConfigError extends DevPortalKeysError {
  /** The environment variable at fault. */
  readonly variable: string

  constructor(variable: string, expected: string, options?: { cause?: unknown }) {
    super('ERR_CONFIG', 500, `Invalid configuration: ${variable} must be ${expected}`, { ...options, expose: false })
    this.variable = variable
  }
}

/**
 * A client error with a status and a message that is safe to return.
 *
 * @example
 * throw new HttpError(400, 'ERR_BAD_BODY', 'Body must be a JSON object')
 */
export class HttpError extends DevPortalKeysError {
  constructor(statusCode: number, code: ErrorCode, message: string, options?: { cause?: unknown; expose?: boolean }) {
    super(code, statusCode, message, options)
  }
}
