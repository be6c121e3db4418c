import type Stripe from 'stripe'
import { HttpError } from '../runtime/errors'
import type { StripeSettings } from './billing-config'

/** The official SDK's client. */
export type StripeClient = Stripe

/**
 * The official Stripe SDK, pointed at `STRIPE_API_BASE` with the SDK's own
 * `host`/`port`/`protocol` settings (a stand-in on loopback locally and in
 * tests), with a bounded timeout and one network retry. The SDK is loaded on
 * first use: a function that never reaches billing never pays for it.
 *
 * @example
 * const stripe = await createStripeClient(config.stripe)
 * await stripe.customers.search({ query: 'email:"alice@acme.test"' })
 */
export async function createStripeClient(settings: StripeSettings): Promise<StripeClient> {
  const { default: StripeSdk } = await import('stripe')
  const base = settings.apiBase
  const protocol = base.protocol === 'http:' ? 'http' : 'https'
  return new StripeSdk(settings.apiKey, {
    host: base.hostname,
    port: base.port === '' ? (protocol === 'http' ? 80 : 443) : Number(base.port),
    protocol,
    timeout: settings.timeoutMs,
    maxNetworkRetries: 1,
    telemetry: false,
    appInfo: { name: 'dev-portal-keys' }
  })
}

/** Stripe error types that mean "Stripe could not answer now", as opposed to "this request is wrong". */
const UNAVAILABLE_TYPES = new Set(['StripeConnectionError', 'StripeAPIError', 'StripeRateLimitError'])

/**
 * Run one Stripe call and turn an outage (no answer, a timeout, a 5xx, rate
 * limiting) into a 503 `ERR_BILLING_UNAVAILABLE`, so a caller is told to retry
 * rather than that they have no subscription. Anything else (a bad API key,
 * a refused parameter) is a server fault and stays a 500; its detail reaches
 * the log through the error's cause, never the caller.
 *
 * @example
 * const result = await stripeCall('customers.search', () => stripe.customers.search({ query }))
 */
export async function stripeCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    const type = (error as { type?: unknown } | null)?.type
    const status = (error as { statusCode?: unknown } | null)?.statusCode
    const cause = new Error(
      `Stripe ${operation} failed: ${typeof type === 'string' ? type : 'no type'} (HTTP ${typeof status === 'number' ? status : 'none'})`
    )
    if ((typeof type === 'string' && UNAVAILABLE_TYPES.has(type)) || (typeof status === 'number' && status >= 500)) {
      throw new HttpError(503, 'ERR_BILLING_UNAVAILABLE', 'Billing is unavailable right now: try again in a minute', { cause, expose: true })
    }
    throw new HttpError(500, 'ERR_INTERNAL', 'Internal Server Error', { cause })
  }
}
