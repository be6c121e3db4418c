/**
 * The JSON Stripe puts on the wire, typed from the official SDK's own types so
 * the compiler checks every object the stand-in answers with against what
 * `stripe` 23 declares. The SDK turns decimal strings (`unit_amount_decimal`,
 * `flat_amount_decimal`) into `Stripe.Decimal` objects as it parses a
 * response; on the wire they are strings, which is what {@link Wire} maps.
 */
import type Stripe from 'stripe'

/**
 * `T` as JSON: every `Stripe.Decimal` becomes the decimal string Stripe sends.
 *
 * @example
 * const price: Wire<Stripe.Price> = { ...fields, unit_amount_decimal: '1900' }
 */
export type Wire<T> = T extends Stripe.Decimal
  ? string
  : T extends string | number | boolean | null | undefined
    ? T
    : T extends readonly (infer U)[]
      ? Wire<U>[]
      : T extends object
        ? { [K in keyof T]: Wire<T[K]> }
        : T

/**
 * A customer as Stripe sends it.
 *
 * @example
 * const customer: WireCustomer = store.customer('cus_NffrFeUfNV2Hib')
 */
export type WireCustomer = Wire<Stripe.Customer>

/**
 * What Stripe answers for a deleted customer: `{ id, object: 'customer', deleted: true }`.
 *
 * @example
 * const gone: WireDeletedCustomer = { id: 'cus_NffrFeUfNV2Hib', object: 'customer', deleted: true }
 */
export type WireDeletedCustomer = Wire<Stripe.DeletedCustomer>

/**
 * A product as Stripe sends it.
 *
 * @example
 * const product: WireProduct = DEFAULT_STRIPE_CATALOG.products[0]
 */
export type WireProduct = Wire<Stripe.Product>

/**
 * A price as Stripe sends it (`product` is the product's id unless expanded).
 *
 * @example
 * const price: WirePrice = DEFAULT_STRIPE_CATALOG.prices[0]
 */
export type WirePrice = Wire<Stripe.Price>

/**
 * A subscription item as Stripe sends it: the billing period lives here since API version 2025-03-31.basil.
 *
 * @example
 * const period = subscription.items.data[0].current_period_end
 */
export type WireSubscriptionItem = Wire<Stripe.SubscriptionItem>

/**
 * A subscription as Stripe sends it. `current_period_start` / `current_period_end`
 * moved to the items in API version 2025-03-31.basil and are gone from the
 * SDK's type; the stand-in also sets them on the subscription, equal to its
 * single item's, for callers written against older versions.
 *
 * @example
 * const active: boolean = subscription.status === 'active'
 */
export type WireSubscription = Wire<Stripe.Subscription> & { current_period_start: number; current_period_end: number }

/**
 * A Checkout Session as Stripe sends it.
 *
 * @example
 * const secret: string | null = session.client_secret
 */
export type WireCheckoutSession = Wire<Stripe.Checkout.Session>

/**
 * A Stripe event (a webhook's payload, or what `GET /v1/events/:id` answers).
 * `data.object` is the object as it was when the event happened.
 *
 * @example
 * const event: WireEvent = { id: 'evt_...', object: 'event', type: 'customer.subscription.created', data: { object: subscription }, ... }
 */
export interface WireEvent {
  id: string
  object: 'event'
  api_version: string
  created: number
  type: string
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> }
  livemode: false
  pending_webhooks: number
  request: { id: string | null; idempotency_key: string | null }
}
