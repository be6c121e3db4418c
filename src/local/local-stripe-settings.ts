import { join } from 'node:path'
import { loadBillingConfig } from '../lib/billing/billing-config'
import { readEnv, type Env } from '../lib/runtime/env'
import { ConfigError } from '../lib/runtime/errors'
import { DEFAULT_STRIPE_CATALOG, type StripeCatalog } from './stripe/catalog'

/**
 * Stripe mode of the local stack (`APP_PAYMENT_PROVIDER=stripe npm start`):
 * which Stripe it talks to, where the local stand-in keeps its state, and
 * what it sells. No server here: the console's function and the `stripe`
 * command import this too.
 */

/** The stand-in's state file inside the state folder (`LOCAL_STATE_DIR`): its API key, webhook secret, customers. */
export const STRIPE_STATE_FILE = 'stripe.json'

/** The stack's webhook route (serverless.yml `stripeWebhook`). */
export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe'

/**
 * The stand-in's state file for a state folder.
 *
 * @example
 * stripeStatePath('.local') // '.local/stripe.json'
 */
export function stripeStatePath(stateDir: string): string {
  return join(stateDir, STRIPE_STATE_FILE)
}

/** What `npm start` does about Stripe. */
export type LocalStripePlan =
  /** `APP_PAYMENT_PROVIDER` unset, `none`, or another provider that needs no Stripe. */
  | { readonly kind: 'off' }
  /** Stripe mode with the local stand-in; `ignored` are the Stripe secrets set in the environment that it replaces. */
  | { readonly kind: 'stand-in'; readonly ignored: readonly string[] }
  /** Stripe mode against `STRIPE_API_BASE`, with the environment's key and webhook secret. */
  | { readonly kind: 'external'; readonly apiBase: string }

/** What the stand-in replaces: a key or secret meant for another Stripe, and the secret-store names that would fetch one. */
const REPLACED_BY_STAND_IN = ['STRIPE_API_KEY', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_API_KEY_SSM_PARAMETER', 'STRIPE_WEBHOOK_SECRET_SSM_PARAMETER']

/** The webhook secret rule src/lib/billing/stripe-webhook.ts applies on the first webhook, checked at start instead. */
const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/=_-]{8,}$/

/**
 * Decide, before anything starts, what `npm start` does about Stripe, and
 * throw the `ConfigError` a function would answer every request with:
 * an unknown `APP_PAYMENT_PROVIDER`, a bad `STRIPE_ALLOWED_STATUSES` or
 * `STRIPE_TIMEOUT_MS`, and with `STRIPE_API_BASE` set, a missing or malformed
 * `STRIPE_API_KEY` or `STRIPE_WEBHOOK_SECRET`.
 *
 * @example
 * planLocalStripe({ APP_PAYMENT_PROVIDER: 'stripe' }) // { kind: 'stand-in', ignored: [] }
 */
export function planLocalStripe(env: Env): LocalStripePlan {
  const provider = (readEnv(env, 'APP_PAYMENT_PROVIDER') ?? 'none').toLowerCase()
  if (provider !== 'stripe') {
    // Another provider the functions know (none, custom) needs no Stripe; an unknown one is refused here, with the variable's name.
    loadBillingConfig(env)
    return { kind: 'off' }
  }
  const apiBase = readEnv(env, 'STRIPE_API_BASE')
  if (apiBase === undefined) {
    // The stand-in's own key and base are filled in later: a placeholder lets every other Stripe setting be judged now.
    loadBillingConfig({ ...env, STRIPE_API_KEY: 'sk_test_placeholder', STRIPE_API_BASE: 'http://127.0.0.1' })
    return { kind: 'stand-in', ignored: REPLACED_BY_STAND_IN.filter((name) => readEnv(env, name) !== undefined) }
  }
  if (readEnv(env, 'STRIPE_API_KEY') === undefined) {
    throw new ConfigError(
      'STRIPE_API_KEY',
      'set when STRIPE_API_BASE is (a secret key of that Stripe; unset STRIPE_API_BASE to use the local stand-in)'
    )
  }
  loadBillingConfig(env)
  if (!WEBHOOK_SECRET.test(readEnv(env, 'STRIPE_WEBHOOK_SECRET') ?? '')) {
    throw new ConfigError(
      'STRIPE_WEBHOOK_SECRET',
      "set when STRIPE_API_BASE is: the webhook endpoint's signing secret (whsec_..., what `stripe listen` prints); unset STRIPE_API_BASE to use the local stand-in"
    )
  }
  return { kind: 'external', apiBase }
}

/** A price the console and the `stripe` command offer. */
export interface SellablePrice {
  readonly id: string
  /** For people: `Basic monthly: $19.00 a month`. */
  readonly label: string
}

function amount(price: StripeCatalog['prices'][number]): string {
  if (price.unit_amount === null) return 'tiered'
  const major = (price.unit_amount / 100).toFixed(2)
  const money = price.currency === 'usd' ? `$${major}` : `${major} ${price.currency.toUpperCase()}`
  const per = price.recurring?.usage_type === 'metered' ? ' per unit' : ''
  const interval =
    price.recurring === null ? '' : ` a ${price.recurring.interval_count > 1 ? `${price.recurring.interval_count} ` : ''}${price.recurring.interval}`
  return `${money}${per}${interval}`
}

/**
 * The prices one can subscribe to at the stand-in `npm start` runs (its
 * default catalog): active and recurring.
 *
 * @example
 * sellablePrices()[0] // { id: 'price_basic', label: 'Basic monthly: $19.00 a month' }
 */
export function sellablePrices(catalog: StripeCatalog = DEFAULT_STRIPE_CATALOG): SellablePrice[] {
  return catalog.prices
    .filter((price) => price.active && price.recurring !== null)
    .map((price) => ({ id: price.id, label: `${price.nickname ?? price.id}: ${amount(price)}` }))
}
