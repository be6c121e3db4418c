import type { StripeClient } from './stripe-client'
import { stripeCall } from './stripe-client'

/** Finds the Stripe customer for an email address; `undefined` when there is none. */
export type CustomerLookup = (email: string) => Promise<string | undefined>

/** How long a found customer id is trusted per container. "Not found" is never cached. */
export const CUSTOMER_CACHE_MS = 5 * 60_000

/** Most email→customer entries a container keeps; the oldest go first. */
const MAX_CACHED_CUSTOMERS = 10_000

/** Stripe's search syntax quotes a value with `"`; a quote or backslash inside it is escaped with `\`. */
function searchQuery(email: string): string {
  return `email:"${email.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

/**
 * The Stripe customer behind an email address, as the reference portal finds
 * it: `customers.search` on the email first, and, since Stripe's search is not
 * read-after-write (a new customer can take a minute or more to show),
 * `customers.list({ email })` when search finds nothing. A found id is cached
 * for {@link CUSTOMER_CACHE_MS}; "not found" is never cached, so a user told
 * to subscribe gets a key on the very next try. An outage is a 503
 * (`stripeCall`).
 *
 * @example
 * const lookup = createCustomerLookup(stripe)
 * await lookup('alice@acme.test') // 'cus_...'
 */
export function createCustomerLookup(stripe: StripeClient, options: { nowMs?: () => number } = {}): CustomerLookup {
  const now = options.nowMs ?? Date.now
  const cache = new Map<string, { id: string; at: number }>()
  return async (email) => {
    const key = email.toLowerCase()
    const cached = cache.get(key)
    if (cached !== undefined && now() - cached.at < CUSTOMER_CACHE_MS) return cached.id
    const found = await stripeCall('customers.search', () => stripe.customers.search({ query: searchQuery(email), limit: 1 }))
    let id = found.data[0]?.id
    if (id === undefined) {
      const listed = await stripeCall('customers.list', () => stripe.customers.list({ email, limit: 1 }))
      id = listed.data[0]?.id
    }
    if (id === undefined) return undefined
    cache.delete(key)
    cache.set(key, { id, at: now() })
    if (cache.size > MAX_CACHED_CUSTOMERS) cache.delete(cache.keys().next().value as string)
    return id
  }
}

/** What a key records of the subscription it was issued under. */
export interface SubscriptionPlan {
  readonly subscriptionId: string
  readonly status: string
  /** Stripe price ids of the subscription's items. */
  readonly priceIds: readonly string[]
  /** Stripe product ids of the subscription's items (the Moesif plan ids). */
  readonly productIds: readonly string[]
}

/**
 * The customer's first subscription whose status is allowed, read fresh from
 * Stripe (`subscriptions.list` with `status: 'all'`), or `undefined`.
 *
 * @example
 * const plan = await allowedSubscription(stripe, 'cus_123', ['active', 'trialing'])
 */
export async function allowedSubscription(
  stripe: StripeClient,
  customerId: string,
  allowedStatuses: readonly string[]
): Promise<SubscriptionPlan | undefined> {
  const list = await stripeCall('subscriptions.list', () => stripe.subscriptions.list({ customer: customerId, status: 'all', limit: 100 }))
  const subscription = list.data.find((candidate) => allowedStatuses.includes(candidate.status))
  if (subscription === undefined) return undefined
  const prices = subscription.items.data.map((item) => item.price)
  return {
    subscriptionId: subscription.id,
    status: subscription.status,
    priceIds: prices.map((price) => price.id),
    productIds: prices.map((price) => (typeof price.product === 'string' ? price.product : price.product.id))
  }
}
