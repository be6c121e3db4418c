/**
 * A company's subscriptions as Moesif's user search answers them
 * (`company.subscriptions`), built from Stripe subscriptions the way
 * Moesif's Stripe integration syncs them (see the Moesif portal's
 * `SubDisplay.jsx`): ISO dates, and per item the Moesif plan (the Stripe
 * product) and price.
 */
import type { WireSubscription } from '../stripe/wire'

/** One item of a Moesif subscription. */
export interface MoesifSubscriptionItem {
  subscription_item_id: string
  plan_id: string
  price_id: string
  status: string
}

/** A subscription as Moesif keeps it on a company. */
export interface MoesifSubscription {
  subscription_id: string
  company_id: string
  company_external_id: string
  status: string
  current_period_start: string
  current_period_end: string
  start_date: string
  provider: 'stripe'
  metadata: Record<string, string>
  items: MoesifSubscriptionItem[]
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString()

/**
 * Moesif's view of Stripe subscriptions, in the order given.
 *
 * @example
 * moesifSubscriptionsFromStripe([subscription])[0].items[0].plan_id // 'prod_basic'
 */
export function moesifSubscriptionsFromStripe(subscriptions: readonly WireSubscription[]): MoesifSubscription[] {
  return subscriptions.map((subscription) => {
    const customer = typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id
    const first = subscription.items.data[0]
    return {
      subscription_id: subscription.id,
      company_id: customer,
      company_external_id: customer,
      status: subscription.status,
      current_period_start: iso(first?.current_period_start ?? subscription.current_period_start),
      current_period_end: iso(first?.current_period_end ?? subscription.current_period_end),
      start_date: iso(subscription.start_date),
      provider: 'stripe',
      metadata: { ...subscription.metadata },
      items: subscription.items.data.map((item) => ({
        subscription_item_id: item.id,
        plan_id: typeof item.price.product === 'string' ? item.price.product : item.price.product.id,
        price_id: item.price.id,
        status: subscription.status
      }))
    }
  })
}
