/**
 * Stripe's error responses as values: an HTTP status and the body
 * `{ error: { type, code?, message, param?, doc_url? } }` the SDK turns into
 * `StripeInvalidRequestError`, `StripeAuthenticationError`, `StripeAPIError`...
 */

/** The `error` object of a Stripe error response. */
export interface StripeErrorObject {
  type: 'invalid_request_error' | 'api_error' | 'idempotency_error'
  message: string
  code?: string
  param?: string
  doc_url?: string
}

/** An error answer: the HTTP status and the body Stripe would send. */
export interface StripeApiError {
  readonly status: number
  readonly body: { error: StripeErrorObject }
}

/** A value or the Stripe error answer that stands in for it. */
export type StripeResult<T> = { ok: true; value: T } | { ok: false; error: StripeApiError }

/**
 * Wrap a value as a success.
 *
 * @example
 * return ok(customer)
 */
export function ok<T>(value: T): StripeResult<T> {
  return { ok: true, value }
}

/**
 * Wrap an error answer as a failure.
 *
 * @example
 * return fail(resourceMissing('customer', id))
 */
export function fail<T>(error: StripeApiError): StripeResult<T> {
  return { ok: false, error }
}

function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}`
}

/**
 * 404 (or, by default, 400 for an id given as a parameter) `resource_missing`: "No such customer: 'cus_x'".
 *
 * @example
 * resourceMissing('customer', 'cus_nope') // 404, param 'id'
 * resourceMissing('price', 'price_nope', 'line_items[0][price]') // 400, param 'line_items[0][price]'
 */
export function resourceMissing(kind: string, id: string, param?: string, status?: 400 | 404): StripeApiError {
  return {
    status: status ?? (param === undefined ? 404 : 400),
    body: {
      error: {
        type: 'invalid_request_error',
        code: 'resource_missing',
        message: `No such ${kind}: '${id}'`,
        param: param ?? 'id',
        doc_url: docUrl('resource_missing')
      }
    }
  }
}

/**
 * 400 `invalid_request_error` about a parameter (`code` such as `parameter_missing`, `parameter_invalid_integer`).
 *
 * @example
 * invalidRequest('Missing required param: mode.', 'mode', 'parameter_missing')
 */
export function invalidRequest(message: string, param?: string, code?: string): StripeApiError {
  const error: StripeErrorObject = { type: 'invalid_request_error', message }
  if (code !== undefined) {
    error.code = code
    error.doc_url = docUrl(code)
  }
  if (param !== undefined) error.param = param
  return { status: 400, body: { error } }
}

/**
 * 400 `parameter_missing`: "Missing required param: email."
 *
 * @example
 * missingParam('line_items[0][quantity]')
 */
export function missingParam(param: string): StripeApiError {
  return invalidRequest(`Missing required param: ${param}.`, param, 'parameter_missing')
}

/**
 * 401 as Stripe answers a missing or wrong secret key (only the key's last four characters are echoed).
 *
 * @example
 * authenticationFailed(undefined) // "You did not provide an API key. ..."
 * authenticationFailed('sk_test_wrong1234') // "Invalid API Key provided: sk_test_*********1234"
 */
export function authenticationFailed(presented: string | undefined): StripeApiError {
  const message =
    presented === undefined || presented === ''
      ? "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."
      : `Invalid API Key provided: ${maskKey(presented)}`
  return { status: 401, body: { error: { type: 'invalid_request_error', message } } }
}

function maskKey(key: string): string {
  const prefix = /^(?:sk|rk|pk)_(?:test|live)_/.exec(key)?.[0] ?? ''
  const tail = key.length - prefix.length > 4 ? key.slice(-4) : ''
  return prefix + '*'.repeat(Math.max(0, Math.min(key.length - prefix.length - tail.length, 40))) + tail
}

/**
 * 404 for a path Stripe does not have (or the stand-in does not implement).
 *
 * @example
 * unrecognizedUrl('POST', '/v1/invoices')
 */
export function unrecognizedUrl(method: string, path: string): StripeApiError {
  return {
    status: 404,
    body: {
      error: {
        type: 'invalid_request_error',
        message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/. (The local Stripe stand-in answers only the calls the developer portal makes.)`
      }
    }
  }
}

/**
 * A 5xx `api_error`, or 429 `rate_limit`: what an injected fault answers.
 *
 * @example
 * serverError(500) // { status: 500, body: { error: { type: 'api_error', message: '...' } } }
 */
export function serverError(status: 429 | 500 | 502 | 503): StripeApiError {
  if (status === 429) {
    return {
      status,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'rate_limit',
          message: 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
          doc_url: docUrl('rate_limit')
        }
      }
    }
  }
  return { status, body: { error: { type: 'api_error', message: 'An unknown error occurred (injected by the local Stripe stand-in).' } } }
}
