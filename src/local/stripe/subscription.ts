import { stripeId } from './ids'
import type { WirePrice, WireSubscription, WireSubscriptionItem } from './wire'

/** One item of a new subscription. */
export interface NewSubscriptionItem {
  price: WirePrice
  /** Licensed prices only; a metered item has no quantity. Defaults to 1 for a licensed price. */
  quantity?: number | null
}

/** What a new subscription is made of: a customer and one or more prices of the same interval and currency. */
export interface NewSubscription {
  customer: string
  items: NewSubscriptionItem[]
  metadata?: Record<string, string>
  /** Unix seconds: the start of the first billing period. */
  created: number
  /** Defaults to `'active'`. */
  status?: WireSubscription['status']
}

/**
 * `start` plus `count` billing intervals (calendar months and years, in UTC; day 31 clamps to the month's end, as Stripe does).
 *
 * @example
 * addInterval(1767225600, 'month', 1) // 1769904000 (2026-02-01T00:00:00Z)
 */
export function addInterval(start: number, interval: string, count: number): number {
  const date = new Date(start * 1000)
  if (interval === 'day') return start + count * 86_400
  if (interval === 'week') return start + count * 7 * 86_400
  const months = interval === 'year' ? 12 * count : count
  const day = date.getUTCDate()
  const target = new Date(
    Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds())
  )
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate()
  target.setUTCDate(Math.min(day, lastDay))
  return Math.floor(target.getTime() / 1000)
}

/**
 * The price as a subscription item embeds it: without `tiers`, which Stripe includes only when expanded.
 *
 * @example
 * embeddedPrice(catalogPrice).tiers // undefined
 */
export function embeddedPrice(price: WirePrice): WirePrice {
  const copy = structuredClone(price)
  delete copy.tiers
  return copy
}

function planOf(price: WirePrice): WireSubscriptionItem['plan'] {
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: price.recurring?.interval ?? 'month',
    interval_count: price.recurring?.interval_count ?? 1,
    livemode: false,
    metadata: { ...price.metadata },
    meter: price.recurring?.meter ?? null,
    nickname: price.nickname,
    product: typeof price.product === 'string' ? price.product : price.product.id,
    tiers_mode: price.tiers_mode,
    transform_usage: null,
    trial_period_days: null,
    usage_type: price.recurring?.usage_type ?? 'licensed'
  }
}

function newItem(subscription: string, spec: NewSubscriptionItem, created: number): WireSubscriptionItem {
  const price = embeddedPrice(spec.price)
  const item: WireSubscriptionItem = {
    id: stripeId('subscriptionItem'),
    object: 'subscription_item',
    billing_thresholds: null,
    created,
    current_period_end: addInterval(created, price.recurring?.interval ?? 'month', price.recurring?.interval_count ?? 1),
    current_period_start: created,
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: planOf(price),
    price,
    subscription,
    tax_rates: []
  }
  if (price.recurring?.usage_type !== 'metered') item.quantity = spec.quantity ?? 1
  return item
}

/**
 * A new subscription as Stripe has it right after it started: status
 * `active`, the first billing period from `created` (on each item, and on the
 * subscription too, for callers of API versions before 2025-03-31.basil).
 *
 * @example
 * newSubscription({ customer: 'cus_NffrFeUfNV2Hib', items: [{ price: basicPrice }], created: 1767225600 }).items.data[0].quantity // 1
 */
export function newSubscription(fields: NewSubscription): WireSubscription {
  const id = stripeId('subscription')
  const items = fields.items.map((spec) => newItem(id, spec, fields.created))
  const first = items[0]
  if (first === undefined) throw new Error('a subscription needs at least one item')
  const price = first.price
  const periodEnd = first.current_period_end
  return {
    id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: fields.created,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: { proration_discounts: 'included' }, type: 'flexible', updated_at: fields.created },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: 'charge_automatically',
    created: fields.created,
    currency: price.currency,
    current_period_end: periodEnd,
    current_period_start: fields.created,
    customer: fields.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: 'self' } },
    items: { object: 'list', data: items, has_more: false, url: `/v1/subscription_items?subscription=${id}` },
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: { ...fields.metadata },
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: fields.created,
    status: fields.status ?? 'active',
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: 'create_invoice' } },
    trial_start: null
  }
}
