import { isLoopbackUrl } from '../http/url'
import { readEnv, readList, readWholeNumber, type Env } from '../runtime/env'
import { ConfigError } from '../runtime/errors'

/**
 * How customers pay, by the reference portal's `APP_PAYMENT_PROVIDER`: `none`
 * issues keys to the IdP's company; `stripe` to the Stripe customer; `custom`
 * to the ID token's `sub`, once a subscription is registered with
 * `POST /register/custom` (the reference portal's custom billing).
 */
export type PaymentProvider = 'none' | 'stripe' | 'custom'

/** Where and how the Stripe SDK talks to Stripe (or to a stand-in on loopback). */
export interface StripeSettings {
  /** The secret API key (`sk_...` or `rk_...`). */
  readonly apiKey: string
  /** `STRIPE_API_BASE`: scheme, host and port only. */
  readonly apiBase: URL
  /** Subscription statuses that entitle a company to keys. */
  readonly allowedStatuses: readonly string[]
  /** Longest wait for one Stripe call before it counts as unreachable. */
  readonly timeoutMs: number
}

/** The billing settings: `stripe` is present exactly when `provider` is `stripe`. */
export interface BillingConfig {
  readonly provider: PaymentProvider
  readonly stripe: StripeSettings | undefined
}

/** Stripe's API, unless `STRIPE_API_BASE` points elsewhere. */
export const STRIPE_DEFAULT_API_BASE = 'https://api.stripe.com'

/**
 * The service secrets a function that resolves customers needs in the
 * configured mode: the Stripe API key in stripe mode, nothing otherwise.
 *
 * @example
 * await envWithSecrets(env, { keys: 'sign', services: billingSecrets(env) })
 */
export function billingSecrets(env: Env): Array<'STRIPE_API_KEY'> {
  return (readEnv(env, 'APP_PAYMENT_PROVIDER') ?? '').toLowerCase() === 'stripe' ? ['STRIPE_API_KEY'] : []
}

/** The statuses Stripe uses for a subscription; the allowed list is checked against them. */
const STRIPE_STATUSES = new Set(['active', 'trialing', 'past_due', 'unpaid', 'canceled', 'incomplete', 'incomplete_expired', 'paused'])

/**
 * Read the billing mode. `APP_PAYMENT_PROVIDER` unset or `none` keeps keys on
 * the identity provider's company; `stripe` makes the Stripe customer the
 * company and needs `STRIPE_API_KEY` (fetched from a secret store in a
 * deployment); `custom` makes the ID token's `sub` the company, as the
 * reference portal does. Nothing Stripe-related is read outside stripe mode.
 *
 * @example
 * loadBillingConfig({ APP_PAYMENT_PROVIDER: 'stripe', STRIPE_API_KEY: 'sk_test_x' }).stripe?.allowedStatuses // ['active', 'trialing']
 */
export function loadBillingConfig(env: Env): BillingConfig {
  const provider = (readEnv(env, 'APP_PAYMENT_PROVIDER') ?? 'none').toLowerCase()
  if (provider === 'none') return Object.freeze({ provider: 'none', stripe: undefined })
  // Custom billing: the provider is the operator's own; subscriptions are registered through POST /register/custom.
  if (provider === 'custom') return Object.freeze({ provider: 'custom', stripe: undefined })
  if (provider !== 'stripe') throw new ConfigError('APP_PAYMENT_PROVIDER', 'stripe or none (unset means none), or custom')
  const apiKey = readEnv(env, 'STRIPE_API_KEY')
  if (apiKey === undefined || !/^(sk|rk)_[A-Za-z0-9_]{8,}$/.test(apiKey)) {
    throw new ConfigError(
      'STRIPE_API_KEY',
      'a Stripe secret key (sk_... or rk_...) when APP_PAYMENT_PROVIDER=stripe; deployments fetch it with STRIPE_API_KEY_SSM_PARAMETER'
    )
  }
  const allowedStatuses = readList(env, 'STRIPE_ALLOWED_STATUSES') ?? ['active', 'trialing']
  if (allowedStatuses.some((status) => !STRIPE_STATUSES.has(status))) {
    throw new ConfigError('STRIPE_ALLOWED_STATUSES', `a comma-separated list of Stripe subscription statuses (${[...STRIPE_STATUSES].join(', ')})`)
  }
  return Object.freeze({
    provider: 'stripe',
    stripe: Object.freeze({
      apiKey,
      apiBase: parseApiBase(readEnv(env, 'STRIPE_API_BASE') ?? STRIPE_DEFAULT_API_BASE),
      allowedStatuses: Object.freeze(allowedStatuses),
      timeoutMs: readWholeNumber(env, 'STRIPE_TIMEOUT_MS', 5000, 100, 60_000)
    })
  })
}

function parseApiBase(value: string): URL {
  const expected = 'an https:// origin such as https://api.stripe.com (http:// only on 127.0.0.1 or localhost), with no path'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError('STRIPE_API_BASE', expected)
  }
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackUrl(url))
  if (!secure || url.pathname !== '/' || url.search !== '' || url.username !== '' || url.password !== '')
    throw new ConfigError('STRIPE_API_BASE', expected)
  return url
}
