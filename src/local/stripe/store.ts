/**
 * The stand-in's Stripe account: customers, subscriptions, Checkout Sessions
 * and events, with the rules Stripe applies to them. Every operation answers
 * a value: the Stripe object, or the Stripe error answer (`StripeResult`).
 * Changes emit the events a real account would, and call `onChange` so the
 * owner can persist the state.
 */
import type Stripe from 'stripe'
import type { StripeCatalog } from './catalog'
import { newCheckoutSession, type CheckoutLineItem } from './checkout-session'
import { newCustomer } from './customer'
import { fail, invalidRequest, missingParam, ok, resourceMissing, type StripeResult } from './errors'
import { newEvent } from './event'
import { applyExpand, type ExpandResolver } from './expand'
import { customerMatches, type SearchQuery } from './search-query'
import { newSubscription } from './subscription'
import type { Wire, WireCheckoutSession, WireCustomer, WireDeletedCustomer, WireEvent, WirePrice, WireProduct, WireSubscription } from './wire'

/** A customer and when it was created, in milliseconds (search lag is finer than Stripe's `created` seconds). */
export interface StoredCustomer {
  object: WireCustomer | WireDeletedCustomer
  createdMs: number
}

/** A Checkout Session and what its completion needs that the session object does not show. */
export interface StoredCheckoutSession {
  session: WireCheckoutSession
  lineItems: CheckoutLineItem[]
  /** `subscription_data[metadata]`: the metadata of the subscription the session creates. */
  subscriptionMetadata: Record<string, string>
}

/** Everything the stand-in keeps, as saved to `statePath` (JSON). */
export interface StripeStandInState {
  version: 1
  apiKey: string
  webhookSecret: string
  customers: Record<string, StoredCustomer>
  subscriptions: Record<string, WireSubscription>
  checkoutSessions: Record<string, StoredCheckoutSession>
  /** Oldest first. */
  events: WireEvent[]
}

/** The API request behind a change, which the events it causes name. */
export interface RequestContext {
  requestId: string
  idempotencyKey: string | null
}

/** How the store behaves. */
export interface StoreOptions {
  /** Milliseconds since the epoch. */
  clock: () => number
  /** A customer is not found by search until this long after its creation. */
  searchLagMs: number
  /** The account's API version: what events carry. */
  accountApiVersion: string
  /** `pending_webhooks` of a new event. */
  pendingWebhooks: () => number
  /** Called with every new event, in order. */
  onEvent: (event: WireEvent) => void
  /** Called after every change. */
  onChange: () => void
  /** Keep this many newest events (default 1000). */
  retainEvents?: number
}

/** A page of a list, as Stripe's list endpoints answer it. */
export type WireList<T> = Wire<Stripe.ApiList<T>>

/** A page of search results, as Stripe's search endpoints answer it. */
export type WireSearchResult<T> = Wire<Stripe.ApiSearchResult<T>>

/** Pagination parameters of a list. */
export interface ListPage {
  limit?: number
  startingAfter?: string
  endingBefore?: string
}

/** A Checkout Session to create, its parameters already of the right types. */
export interface CheckoutSessionRequest {
  mode: string
  uiMode: string
  embedded: boolean
  customer?: string
  customerEmail?: string
  clientReferenceId?: string
  lineItems: { price?: string; quantity?: number }[]
  returnUrl?: string
  successUrl?: string
  cancelUrl?: string
  redirectOnCompletion?: 'always' | 'if_required' | 'never'
  metadata: Record<string, string>
  subscriptionMetadata: Record<string, string>
}

/** What the admin `subscribe` did. */
export interface SubscribeOutcome {
  customer: WireCustomer
  subscription: WireSubscription
  /** `customer.created` (when the customer was new) and `customer.subscription.created`. */
  events: WireEvent[]
}

/** What the admin `subscribe` takes: the customer's email (created if none) and the price to subscribe to. */
export interface SubscribeInput {
  email: string
  priceId: string
  metadata?: Record<string, string>
  name?: string
  quantity?: number
  subscriptionMetadata?: Record<string, string>
}

/** What the admin `cancel` did. */
export interface CancelOutcome {
  /** The subscriptions it canceled (or scheduled to cancel), as they are now. */
  subscriptions: WireSubscription[]
  /** `customer.subscription.deleted` per subscription, or `customer.subscription.updated` when scheduled at period end. */
  events: WireEvent[]
}

/** What the admin `completeCheckout` did. */
export interface CompleteCheckoutOutcome {
  session: WireCheckoutSession
  customer: WireCustomer
  subscription: WireSubscription
  /** `customer.created` (when Checkout created the customer), `customer.subscription.created`, `checkout.session.completed`. */
  events: WireEvent[]
}

/** What the admin `setSubscriptionStatus` did. */
export interface StatusOutcome {
  subscription: WireSubscription
  /** `customer.subscription.updated`, with the old status in `previous_attributes`. */
  events: WireEvent[]
}

const SUBSCRIPTION_STATUSES = ['active', 'all', 'canceled', 'ended', 'incomplete', 'incomplete_expired', 'past_due', 'paused', 'trialing', 'unpaid']
/**
 * Statuses the admin may set directly (canceling goes through `cancel`).
 *
 * @example
 * SETTABLE_STATUSES.includes('past_due') // true
 */
export const SETTABLE_STATUSES = ['active', 'incomplete', 'incomplete_expired', 'past_due', 'paused', 'trialing', 'unpaid'] as const
const CANCELABLE = new Set(['active', 'trialing', 'past_due', 'unpaid', 'paused', 'incomplete'])

function isDeleted(object: WireCustomer | WireDeletedCustomer): object is WireDeletedCustomer {
  return 'deleted' in object && object.deleted === true
}

function newestFirst<T>(values: T[]): T[] {
  return values.slice().reverse()
}

/**
 * One page of `items` (newest first), with Stripe's `starting_after` / `ending_before` cursors.
 *
 * @example
 * paginate(customers, { limit: 10 }, 'customer', '/v1/customers')
 */
export function paginate<T extends { id: string }>(items: T[], page: ListPage, kind: string, url: string): StripeResult<WireList<T>> {
  const limit = page.limit ?? 10
  let start = 0
  let end = items.length
  if (page.startingAfter !== undefined) {
    const index = items.findIndex((item) => item.id === page.startingAfter)
    if (index === -1) return fail(resourceMissing(kind, page.startingAfter, 'starting_after'))
    start = index + 1
    end = Math.min(items.length, start + limit)
  } else if (page.endingBefore !== undefined) {
    const index = items.findIndex((item) => item.id === page.endingBefore)
    if (index === -1) return fail(resourceMissing(kind, page.endingBefore, 'ending_before'))
    end = index
    start = Math.max(0, end - limit)
    return ok({ object: 'list', data: items.slice(start, end) as Wire<T>[], has_more: start > 0, url })
  } else {
    end = Math.min(items.length, limit)
  }
  return ok({ object: 'list', data: items.slice(start, end) as Wire<T>[], has_more: end < items.length, url })
}

/**
 * The stand-in's account (the HTTP server in stand-in.ts wraps one).
 *
 * @example
 * const store = new StripeStandInStore(emptyStandInState('sk_test_x', 'whsec_x'), DEFAULT_STRIPE_CATALOG, { clock: Date.now, searchLagMs: 0, accountApiVersion: STAND_IN_API_VERSION, pendingWebhooks: () => 0, onEvent: () => {}, onChange: () => {} })
 * store.subscribe({ email: 'alice@acme.test', priceId: 'price_basic' })
 */
export class StripeStandInStore {
  readonly #options: StoreOptions
  readonly #catalog: StripeCatalog
  #state: StripeStandInState

  constructor(state: StripeStandInState, catalog: StripeCatalog, options: StoreOptions) {
    this.#state = state
    this.#catalog = catalog
    this.#options = options
  }

  /** The state as it would be saved (live: do not modify). */
  get state(): StripeStandInState {
    return this.#state
  }

  /** The catalog the account sells. */
  get catalog(): StripeCatalog {
    return this.#catalog
  }

  #now(): number {
    return Math.floor(this.#options.clock() / 1000)
  }

  #emit(type: string, object: object, request: RequestContext | undefined, previousAttributes?: Record<string, unknown>): WireEvent {
    const event = newEvent({
      type,
      object,
      apiVersion: this.#options.accountApiVersion,
      created: this.#now(),
      pendingWebhooks: this.#options.pendingWebhooks(),
      ...(request === undefined ? {} : { request: { id: request.requestId, idempotencyKey: request.idempotencyKey } }),
      ...(previousAttributes === undefined ? {} : { previousAttributes })
    })
    this.#state.events.push(event)
    const retain = this.#options.retainEvents ?? 1000
    if (this.#state.events.length > retain) this.#state.events.splice(0, this.#state.events.length - retain)
    this.#options.onEvent(event)
    return event
  }

  #changed(): void {
    this.#options.onChange()
  }

  // Catalog

  /**
   * A price (`tiers` only when `includeTiers`, as Stripe includes them only when expanded).
   *
   * @example
   * store.price('price_basic')
   */
  price(id: string, includeTiers = false): StripeResult<WirePrice> {
    const price = this.#catalog.prices.find((candidate) => candidate.id === id)
    if (price === undefined) return fail(resourceMissing('price', id))
    const copy = structuredClone(price)
    if (!includeTiers) delete copy.tiers
    return ok(copy)
  }

  /**
   * A product.
   *
   * @example
   * store.product('prod_basic')
   */
  product(id: string): StripeResult<WireProduct> {
    const product = this.#catalog.products.find((candidate) => candidate.id === id)
    return product === undefined ? fail(resourceMissing('product', id)) : ok(structuredClone(product))
  }

  /**
   * `GET /v1/prices`: filters `active`, `product`, `type`, `currency`, `lookup_keys`.
   *
   * @example
   * store.listPrices({ active: true }, { limit: 100 })
   */
  listPrices(
    filter: { active?: boolean; product?: string; type?: string; currency?: string; lookupKeys?: string[] },
    page: ListPage
  ): StripeResult<WireList<WirePrice>> {
    const prices = this.#catalog.prices
      .filter((price) => filter.active === undefined || price.active === filter.active)
      .filter((price) => filter.product === undefined || price.product === filter.product)
      .filter((price) => filter.type === undefined || price.type === filter.type)
      .filter((price) => filter.currency === undefined || price.currency === filter.currency.toLowerCase())
      .filter((price) => filter.lookupKeys === undefined || (price.lookup_key !== null && filter.lookupKeys.includes(price.lookup_key)))
      .map((price) => {
        const copy = structuredClone(price)
        delete copy.tiers
        return copy
      })
    return paginate(prices, page, 'price', '/v1/prices')
  }

  /**
   * `GET /v1/products`: filters `active` and `ids`.
   *
   * @example
   * store.listProducts({ active: true }, {})
   */
  listProducts(filter: { active?: boolean; ids?: string[] }, page: ListPage): StripeResult<WireList<WireProduct>> {
    const products = this.#catalog.products
      .filter((product) => filter.active === undefined || product.active === filter.active)
      .filter((product) => filter.ids === undefined || filter.ids.includes(product.id))
      .map((product) => structuredClone(product))
    return paginate(products, page, 'product', '/v1/products')
  }

  // Customers

  /**
   * A customer, or `{ id, object: 'customer', deleted: true }` for a deleted one.
   *
   * @example
   * store.customer('cus_NffrFeUfNV2Hib')
   */
  customer(id: string): StripeResult<WireCustomer | WireDeletedCustomer> {
    const stored = this.#state.customers[id]
    return stored === undefined ? fail(resourceMissing('customer', id)) : ok(structuredClone(stored.object))
  }

  #liveCustomers(): WireCustomer[] {
    return newestFirst(Object.values(this.#state.customers))
      .map((stored) => stored.object)
      .filter((object): object is WireCustomer => !isDeleted(object))
  }

  /**
   * `GET /v1/customers`: newest first; `email` is an exact, case-sensitive filter, as in Stripe.
   *
   * @example
   * store.listCustomers({ email: 'alice@acme.test' }, { limit: 1 })
   */
  listCustomers(filter: { email?: string }, page: ListPage): StripeResult<WireList<WireCustomer>> {
    const customers = this.#liveCustomers().filter((customer) => filter.email === undefined || customer.email === filter.email)
    return paginate(structuredClone(customers), page, 'customer', '/v1/customers')
  }

  /**
   * `GET /v1/customers/search`. A customer created less than `searchLagMs`
   * ago is not found yet (Stripe's index lags its writes). `page` is the
   * `next_page` token of the previous page.
   *
   * @example
   * store.searchCustomers(parsed.query, 10, undefined)
   */
  searchCustomers(query: SearchQuery, limit: number, page: string | undefined): StripeResult<WireSearchResult<WireCustomer>> {
    let offset = 0
    if (page !== undefined) {
      const decoded = /^page_(\d{1,6})$/.exec(Buffer.from(page, 'base64url').toString('utf8'))
      if (decoded === null) return fail(invalidRequest(`Invalid page: ${page}`, 'page'))
      offset = Number(decoded[1])
    }
    const visibleBefore = this.#options.clock() - this.#options.searchLagMs
    const ids = new Set(
      Object.values(this.#state.customers)
        .filter((stored) => this.#options.searchLagMs <= 0 || stored.createdMs <= visibleBefore)
        .map((stored) => stored.object.id)
    )
    const matches = this.#liveCustomers().filter((customer) => ids.has(customer.id) && customerMatches(query, customer))
    const data = structuredClone(matches.slice(offset, offset + limit))
    const more = offset + limit < matches.length
    return ok({
      object: 'search_result',
      data,
      has_more: more,
      next_page: more ? Buffer.from(`page_${offset + limit}`).toString('base64url') : null,
      url: '/v1/customers/search'
    })
  }

  /**
   * `POST /v1/customers`. Emits `customer.created`.
   *
   * @example
   * store.createCustomer({ email: 'alice@acme.test', metadata: { authUserId: 'auth0|alice' } }, context)
   */
  createCustomer(
    fields: { email?: string; name?: string; description?: string; metadata?: Record<string, string> },
    request: RequestContext | undefined
  ): StripeResult<WireCustomer> {
    const metadata = Object.fromEntries(Object.entries(fields.metadata ?? {}).filter(([, value]) => value !== ''))
    const customer = newCustomer({
      email: fields.email ?? null,
      name: fields.name ?? null,
      description: fields.description ?? null,
      metadata,
      created: this.#now()
    })
    this.#state.customers[customer.id] = { object: customer, createdMs: this.#options.clock() }
    this.#emit('customer.created', customer, request)
    this.#changed()
    return ok(structuredClone(customer))
  }

  /**
   * `POST /v1/customers/:id`: `email`, `name`, `description`, and `metadata`
   * merged in (an empty value removes a key). Emits `customer.updated` when something changed.
   *
   * @example
   * store.updateCustomer('cus_NffrFeUfNV2Hib', { metadata: { plan: 'basic' } }, context)
   */
  updateCustomer(
    id: string,
    fields: { email?: string; name?: string; description?: string; metadata?: Record<string, string> },
    request: RequestContext | undefined
  ): StripeResult<WireCustomer> {
    const stored = this.#state.customers[id]
    if (stored === undefined || isDeleted(stored.object)) return fail(resourceMissing('customer', id))
    const customer = stored.object
    const previous: Record<string, unknown> = {}
    for (const field of ['email', 'name', 'description'] as const) {
      const value = fields[field]
      if (value !== undefined && value !== customer[field]) {
        previous[field] = customer[field] ?? null
        customer[field] = value
      }
    }
    if (fields.metadata !== undefined) {
      const before = { ...customer.metadata }
      for (const [key, value] of Object.entries(fields.metadata)) {
        if (value === '') delete customer.metadata[key]
        else customer.metadata[key] = value
      }
      if (JSON.stringify(before) !== JSON.stringify(customer.metadata)) previous.metadata = before
    }
    if (Object.keys(previous).length > 0) {
      this.#emit('customer.updated', customer, request, previous)
      this.#changed()
    }
    return ok(structuredClone(customer))
  }

  /**
   * `DELETE /v1/customers/:id`: cancels its subscriptions at once (each emits
   * `customer.subscription.deleted`), then emits `customer.deleted`.
   *
   * @example
   * store.deleteCustomer('cus_NffrFeUfNV2Hib', context) // ok({ id, object: 'customer', deleted: true })
   */
  deleteCustomer(id: string, request: RequestContext | undefined): StripeResult<WireDeletedCustomer> {
    const stored = this.#state.customers[id]
    if (stored === undefined || isDeleted(stored.object)) return fail(resourceMissing('customer', id))
    for (const subscription of Object.values(this.#state.subscriptions)) {
      if (subscription.customer === id && subscription.status !== 'canceled') this.#cancelNow(subscription, request)
    }
    const before = stored.object
    const deleted: WireDeletedCustomer = { id, object: 'customer', deleted: true }
    stored.object = deleted
    this.#emit('customer.deleted', before, request)
    this.#changed()
    return ok(structuredClone(deleted))
  }

  /**
   * Live customers with exactly this email, newest first.
   *
   * @example
   * store.customersByEmail('alice@acme.test')[0]?.id
   */
  customersByEmail(email: string): WireCustomer[] {
    return this.#liveCustomers().filter((customer) => customer.email === email)
  }

  // Subscriptions

  /**
   * A subscription (canceled ones too).
   *
   * @example
   * store.subscription('sub_1MowQVLkdIwHu7ixeRlqHVzs')
   */
  subscription(id: string): StripeResult<WireSubscription> {
    const subscription = this.#state.subscriptions[id]
    return subscription === undefined ? fail(resourceMissing('subscription', id)) : ok(structuredClone(subscription))
  }

  /**
   * `GET /v1/subscriptions`: newest first; `status` `all`, `ended` (canceled
   * or incomplete_expired) or one status; without it, every subscription that
   * is not canceled, as in Stripe.
   *
   * @example
   * store.listSubscriptions({ customer: 'cus_NffrFeUfNV2Hib', status: 'all' }, {})
   */
  listSubscriptions(filter: { customer?: string; status?: string; price?: string }, page: ListPage): StripeResult<WireList<WireSubscription>> {
    const status = filter.status
    if (status !== undefined && !SUBSCRIPTION_STATUSES.includes(status)) {
      return fail(invalidRequest(`Invalid status: must be one of ${SUBSCRIPTION_STATUSES.slice(0, -1).join(', ')}, or unpaid`, 'status'))
    }
    const subscriptions = newestFirst(Object.values(this.#state.subscriptions))
      .filter((subscription) => filter.customer === undefined || subscription.customer === filter.customer)
      .filter((subscription) => filter.price === undefined || subscription.items.data.some((item) => item.price.id === filter.price))
      .filter((subscription) => {
        if (status === undefined) return subscription.status !== 'canceled'
        if (status === 'all') return true
        if (status === 'ended') return subscription.status === 'canceled' || subscription.status === 'incomplete_expired'
        return subscription.status === status
      })
    return paginate(structuredClone(subscriptions), page, 'subscription', '/v1/subscriptions')
  }

  #cancelNow(subscription: WireSubscription, request: RequestContext | undefined): WireEvent {
    const now = this.#now()
    subscription.status = 'canceled'
    subscription.canceled_at = now
    subscription.ended_at = now
    subscription.cancellation_details = { comment: null, feedback: null, feedback_option: null, reason: 'cancellation_requested' }
    return this.#emit('customer.subscription.deleted', subscription, request)
  }

  /**
   * `DELETE /v1/subscriptions/:id`: cancel at once (status `canceled`,
   * `canceled_at`, `ended_at`); emits `customer.subscription.deleted`. An
   * already canceled subscription is a 404 `resource_missing`, as in Stripe.
   *
   * @example
   * store.cancelSubscription('sub_1MowQVLkdIwHu7ixeRlqHVzs', context)
   */
  cancelSubscription(id: string, request: RequestContext | undefined): StripeResult<WireSubscription> {
    const subscription = this.#state.subscriptions[id]
    if (subscription === undefined || subscription.status === 'canceled' || subscription.status === 'incomplete_expired') {
      return fail(resourceMissing('subscription', id))
    }
    this.#cancelNow(subscription, request)
    this.#changed()
    return ok(structuredClone(subscription))
  }

  #scheduleCancel(subscription: WireSubscription, atPeriodEnd: boolean, request: RequestContext | undefined): WireEvent | undefined {
    if (subscription.cancel_at_period_end === atPeriodEnd) return undefined
    const previous = {
      cancel_at: subscription.cancel_at,
      cancel_at_period_end: subscription.cancel_at_period_end,
      canceled_at: subscription.canceled_at,
      cancellation_details: structuredClone(subscription.cancellation_details)
    }
    subscription.cancel_at_period_end = atPeriodEnd
    subscription.cancel_at = atPeriodEnd ? subscription.current_period_end : null
    subscription.canceled_at = atPeriodEnd ? this.#now() : null
    subscription.cancellation_details = {
      comment: null,
      feedback: null,
      feedback_option: null,
      reason: atPeriodEnd ? 'cancellation_requested' : null
    }
    return this.#emit('customer.subscription.updated', subscription, request, previous)
  }

  /**
   * `POST /v1/subscriptions/:id`: `cancel_at_period_end` and `metadata`
   * (merged; an empty value removes a key). Emits `customer.subscription.updated` when something changed.
   *
   * @example
   * store.updateSubscription('sub_1MowQVLkdIwHu7ixeRlqHVzs', { cancelAtPeriodEnd: true }, context)
   */
  updateSubscription(
    id: string,
    fields: { cancelAtPeriodEnd?: boolean; metadata?: Record<string, string> },
    request: RequestContext | undefined
  ): StripeResult<WireSubscription> {
    const subscription = this.#state.subscriptions[id]
    if (subscription === undefined) return fail(resourceMissing('subscription', id))
    if (subscription.status === 'canceled' && fields.cancelAtPeriodEnd !== undefined) {
      return fail(invalidRequest('A canceled subscription can only update its cancellation_details and metadata.', 'cancel_at_period_end'))
    }
    let changed = false
    if (fields.metadata !== undefined) {
      const before = { ...subscription.metadata }
      for (const [key, value] of Object.entries(fields.metadata)) {
        if (value === '') delete subscription.metadata[key]
        else subscription.metadata[key] = value
      }
      if (JSON.stringify(before) !== JSON.stringify(subscription.metadata)) {
        this.#emit('customer.subscription.updated', subscription, request, { metadata: before })
        changed = true
      }
    }
    if (fields.cancelAtPeriodEnd !== undefined && this.#scheduleCancel(subscription, fields.cancelAtPeriodEnd, request) !== undefined) changed = true
    if (changed) this.#changed()
    return ok(structuredClone(subscription))
  }

  // Checkout

  /**
   * A Checkout Session.
   *
   * @example
   * store.checkoutSession('cs_test_a1...')
   */
  checkoutSession(id: string): StripeResult<WireCheckoutSession> {
    const stored = this.#state.checkoutSessions[id]
    return stored === undefined ? fail(resourceMissing('checkout.session', id)) : ok(structuredClone(stored.session))
  }

  #lineItems(request: CheckoutSessionRequest): StripeResult<{ items: CheckoutLineItem[]; currency: string; amount: number }> {
    if (request.lineItems.length === 0) return fail(missingParam('line_items'))
    const items: CheckoutLineItem[] = []
    let currency: string | undefined
    let amount = 0
    for (const [index, line] of request.lineItems.entries()) {
      const at = `line_items[${index}]`
      if (line.price === undefined) return fail(missingParam(`${at}[price]`))
      const price = this.#catalog.prices.find((candidate) => candidate.id === line.price)
      if (price === undefined) return fail(resourceMissing('price', line.price, `${at}[price]`))
      if (!price.active) return fail(invalidRequest('The price specified is inactive. This field only accepts active prices.', `${at}[price]`))
      if (request.mode === 'subscription' && price.recurring === null) {
        return fail(invalidRequest('You must provide at least one recurring price in `subscription` mode when using prices.', `${at}[price]`))
      }
      const metered = price.recurring?.usage_type === 'metered'
      if (metered && line.quantity !== undefined) {
        return fail(
          invalidRequest(`Quantity should not be specified where usage_type is \`metered\`. Remove quantity from \`${at}\`.`, `${at}[quantity]`)
        )
      }
      if (!metered && line.quantity === undefined) return fail(missingParam(`${at}[quantity]`))
      if (currency !== undefined && price.currency !== currency) {
        return fail(invalidRequest('All prices in a Checkout Session must have the same currency.', `${at}[price]`))
      }
      currency = price.currency
      if (!metered && price.unit_amount !== null) amount += price.unit_amount * (line.quantity ?? 1)
      items.push({ price: price.id, quantity: metered ? null : (line.quantity ?? 1) })
    }
    const intervals = new Set(items.map((item) => this.#catalog.prices.find((price) => price.id === item.price)?.recurring?.interval))
    if (intervals.size > 1)
      return fail(invalidRequest('All recurring prices in a Checkout Session must have the same billing interval.', 'line_items'))
    return ok({ items, currency: currency ?? 'usd', amount })
  }

  /**
   * `POST /v1/checkout/sessions` (subscription mode): checks the customer and
   * the line items as Stripe does (an unknown price is a 400
   * `resource_missing` on `line_items[i][price]`; a metered price takes no
   * quantity, a licensed one needs one), and answers an open session.
   *
   * @example
   * store.createCheckoutSession({ mode: 'subscription', uiMode: 'embedded_page', embedded: true, customer: 'cus_...', lineItems: [{ price: 'price_basic', quantity: 1 }], returnUrl: 'https://portal.test/return?session_id={CHECKOUT_SESSION_ID}', metadata: {}, subscriptionMetadata: {} })
   */
  createCheckoutSession(request: CheckoutSessionRequest): StripeResult<WireCheckoutSession> {
    if (request.customer !== undefined) {
      const customer = this.#state.customers[request.customer]
      if (customer === undefined || isDeleted(customer.object)) return fail(resourceMissing('customer', request.customer, 'customer'))
      if (request.customerEmail !== undefined) {
        return fail(invalidRequest('You may only specify one of these parameters: customer, customer_email.', 'customer_email'))
      }
    }
    const lines = this.#lineItems(request)
    if (!lines.ok) return lines
    const session = newCheckoutSession({
      mode: 'subscription',
      uiMode: request.uiMode,
      customer: request.customer ?? null,
      customerEmail: request.customerEmail ?? null,
      clientReferenceId: request.clientReferenceId ?? null,
      metadata: request.metadata,
      returnUrl: request.returnUrl ?? null,
      successUrl: request.successUrl ?? null,
      cancelUrl: request.cancelUrl ?? null,
      redirectOnCompletion: request.embedded ? (request.redirectOnCompletion ?? 'always') : null,
      currency: lines.value.currency,
      amount: lines.value.amount,
      created: this.#now()
    })
    this.#state.checkoutSessions[session.id] = { session, lineItems: lines.value.items, subscriptionMetadata: request.subscriptionMetadata }
    this.#changed()
    return ok(structuredClone(session))
  }

  /**
   * `POST /v1/checkout/sessions/:id/expire`: an open session becomes `expired`; emits `checkout.session.expired`.
   *
   * @example
   * store.expireCheckoutSession('cs_test_a1...', context)
   */
  expireCheckoutSession(id: string, request: RequestContext | undefined): StripeResult<WireCheckoutSession> {
    const stored = this.#state.checkoutSessions[id]
    if (stored === undefined) return fail(resourceMissing('checkout.session', id))
    if (stored.session.status !== 'open') {
      return fail(
        invalidRequest(
          `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${stored.session.status}".`
        )
      )
    }
    stored.session.status = 'expired'
    this.#emit('checkout.session.expired', stored.session, request)
    this.#changed()
    return ok(structuredClone(stored.session))
  }

  // Events

  /**
   * `GET /v1/events/:id`.
   *
   * @example
   * store.event('evt_1NG8Du2eZvKYlo2CUI79vXWy')
   */
  event(id: string): StripeResult<WireEvent> {
    const event = this.#state.events.find((candidate) => candidate.id === id)
    return event === undefined ? fail(resourceMissing('event', id)) : ok(structuredClone(event))
  }

  /**
   * `GET /v1/events`: newest first, filtered by `type` (`*` wildcards allowed, as in `customer.subscription.*`) or `types`.
   *
   * @example
   * store.listEvents({ types: ['checkout.session.completed'] }, { limit: 5 })
   */
  listEvents(filter: { type?: string; types?: string[] }, page: ListPage): StripeResult<WireList<WireEvent>> {
    const pattern =
      filter.type === undefined
        ? undefined
        : new RegExp(
            `^${filter.type
              .split('*')
              .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
              .join('.*')}$`
          )
    const events = newestFirst(this.#state.events)
      .filter((event) => pattern === undefined || pattern.test(event.type))
      .filter((event) => filter.types === undefined || filter.types.includes(event.type))
    return paginate(structuredClone(events), page, 'event', '/v1/events')
  }

  // Expansion

  /**
   * The resolver `expand[]` uses: ids of customers, subscriptions, prices,
   * products and Checkout Sessions expand to their objects; a price's `tiers` is includable.
   *
   * @example
   * applyExpand(answer, ['data.product'], store.expandResolver)
   */
  readonly expandResolver: ExpandResolver = (owner, field) => {
    if (owner.object === 'price' && field === 'tiers') {
      const tiers = this.#catalog.prices.find((price) => price.id === owner.id)?.tiers
      return tiers === undefined ? 'leave' : { value: tiers }
    }
    const id = owner[field]
    if (field === 'id' || typeof id !== 'string') return undefined
    const found = this.#lookup(id)
    return found === undefined ? undefined : { value: found }
  }

  #lookup(id: string): object | undefined {
    if (id.startsWith('cus_')) return this.#state.customers[id]?.object
    if (id.startsWith('sub_')) return this.#state.subscriptions[id]
    if (id.startsWith('cs_')) return this.#state.checkoutSessions[id]?.session
    if (id.startsWith('price_')) return this.price(id).ok ? (this.price(id) as { value: WirePrice }).value : undefined
    if (id.startsWith('prod_')) return this.#catalog.products.find((product) => product.id === id)
    return undefined
  }

  /**
   * Expand `paths` in a copy of `answer`.
   *
   * @example
   * store.expand(session, ['customer'])
   */
  expand<T extends object>(answer: T, paths: readonly string[]): StripeResult<T> {
    if (paths.length === 0) return ok(answer)
    const copy = structuredClone(answer) as T & Record<string, unknown>
    const result = applyExpand(copy, paths, this.expandResolver)
    return result.ok ? ok(copy) : result
  }

  // Admin: what happens outside the API (the hosted checkout form, the dashboard)

  #subscriptionPrice(priceId: string, param: string): StripeResult<WirePrice> {
    const price = this.#catalog.prices.find((candidate) => candidate.id === priceId)
    if (price === undefined) return fail(resourceMissing('price', priceId, param))
    if (!price.active) return fail(invalidRequest('The price specified is inactive. This field only accepts active prices.', param))
    if (price.recurring === null) return fail(invalidRequest('A subscription needs a recurring price.', param))
    return ok(price)
  }

  /**
   * Subscribe `email` to `priceId` as if the customer had paid: finds the
   * newest customer with that email or creates one (with `metadata`, `name`),
   * and starts an active subscription. Answers the events Stripe would send.
   *
   * @example
   * store.subscribe({ email: 'alice@acme.test', priceId: 'price_basic', metadata: { authUserId: 'auth0|alice' } })
   */
  subscribe(fields: SubscribeInput): StripeResult<SubscribeOutcome> {
    const price = this.#subscriptionPrice(fields.priceId, 'priceId')
    if (!price.ok) return price
    const events: WireEvent[] = []
    let customer = this.customersByEmail(fields.email)[0]
    if (customer === undefined) {
      const created = newCustomer({ email: fields.email, name: fields.name ?? null, metadata: fields.metadata ?? {}, created: this.#now() })
      this.#state.customers[created.id] = { object: created, createdMs: this.#options.clock() }
      events.push(this.#emit('customer.created', created, undefined))
      customer = created
    }
    const subscription = newSubscription({
      customer: customer.id,
      items: [{ price: price.value, quantity: fields.quantity ?? null }],
      metadata: fields.subscriptionMetadata ?? {},
      created: this.#now()
    })
    this.#state.subscriptions[subscription.id] = subscription
    events.push(this.#emit('customer.subscription.created', subscription, undefined))
    this.#changed()
    return ok({ customer: structuredClone(customer), subscription: structuredClone(subscription), events: structuredClone(events) })
  }

  /**
   * Cancel every subscription of the customers with `email` that is not
   * canceled yet: at once (`customer.subscription.deleted`), or at the end of
   * the period (`customer.subscription.updated` with `cancel_at_period_end`).
   * No customer with that email is a 404; no subscription to cancel is an empty outcome.
   *
   * @example
   * store.cancel({ email: 'alice@acme.test' })
   */
  cancel(fields: { email: string; atPeriodEnd?: boolean }): StripeResult<CancelOutcome> {
    const customers = this.customersByEmail(fields.email)
    if (customers.length === 0) return fail(resourceMissing('customer with email', fields.email, 'email', 404))
    const ids = new Set(customers.map((customer) => customer.id))
    const subscriptions = Object.values(this.#state.subscriptions).filter(
      (subscription) => ids.has(subscription.customer as string) && CANCELABLE.has(subscription.status)
    )
    const events: WireEvent[] = []
    for (const subscription of subscriptions) {
      const event = fields.atPeriodEnd === true ? this.#scheduleCancel(subscription, true, undefined) : this.#cancelNow(subscription, undefined)
      if (event !== undefined) events.push(event)
    }
    if (events.length > 0) this.#changed()
    return ok({ subscriptions: structuredClone(subscriptions), events: structuredClone(events) })
  }

  /**
   * Complete an open Checkout Session as the customer paying in Stripe's form
   * would: the customer (the session's, or a new one with `email`, the
   * session's `customer_email` by default) gets a subscription to the line
   * items, and the session becomes `complete` / `paid` (`no_payment_required`
   * when nothing is due up front).
   *
   * @example
   * store.completeCheckout('cs_test_a1...', {})
   */
  completeCheckout(id: string, fields: { email?: string; name?: string }): StripeResult<CompleteCheckoutOutcome> {
    const stored = this.#state.checkoutSessions[id]
    if (stored === undefined) return fail(resourceMissing('checkout.session', id))
    const session = stored.session
    if (session.status !== 'open') return fail(invalidRequest(`This Checkout Session is no longer open (status: ${session.status}).`, 'id'))
    const prices: WirePrice[] = []
    for (const line of stored.lineItems) {
      const price = this.#subscriptionPrice(line.price, 'line_items')
      if (!price.ok) return price
      prices.push(price.value)
    }
    const events: WireEvent[] = []
    let customer: WireCustomer
    if (typeof session.customer === 'string') {
      const existing = this.#state.customers[session.customer]
      if (existing === undefined || isDeleted(existing.object)) return fail(resourceMissing('customer', session.customer, 'customer'))
      customer = existing.object
    } else {
      const email = fields.email ?? session.customer_email
      if (email === undefined || email === null) {
        return fail(invalidRequest('This session has no customer and no customer_email: give the email the customer would type.', 'email'))
      }
      customer = newCustomer({ email, name: fields.name ?? null, created: this.#now() })
      this.#state.customers[customer.id] = { object: customer, createdMs: this.#options.clock() }
      events.push(this.#emit('customer.created', customer, undefined))
    }
    const subscription = newSubscription({
      customer: customer.id,
      items: stored.lineItems.map((line, index) => ({ price: prices[index] as WirePrice, quantity: line.quantity })),
      metadata: stored.subscriptionMetadata,
      created: this.#now()
    })
    this.#state.subscriptions[subscription.id] = subscription
    events.push(this.#emit('customer.subscription.created', subscription, undefined))
    session.status = 'complete'
    session.payment_status = (session.amount_total ?? 0) > 0 ? 'paid' : 'no_payment_required'
    session.customer = customer.id
    session.subscription = subscription.id
    session.customer_details = {
      address: null,
      business_name: null,
      email: customer.email,
      individual_name: null,
      name: fields.name ?? customer.name ?? null,
      phone: null,
      tax_exempt: 'none',
      tax_ids: []
    }
    events.push(this.#emit('checkout.session.completed', session, undefined))
    this.#changed()
    return ok({
      session: structuredClone(session),
      customer: structuredClone(customer),
      subscription: structuredClone(subscription),
      events: structuredClone(events)
    })
  }

  /**
   * Move a subscription to another status (`past_due` after a failed renewal,
   * `active` again after payment...); emits `customer.subscription.updated`.
   *
   * @example
   * store.setSubscriptionStatus('sub_1MowQVLkdIwHu7ixeRlqHVzs', 'past_due')
   */
  setSubscriptionStatus(id: string, status: string): StripeResult<StatusOutcome> {
    const subscription = this.#state.subscriptions[id]
    if (subscription === undefined) return fail(resourceMissing('subscription', id))
    if (!(SETTABLE_STATUSES as readonly string[]).includes(status)) {
      return fail(invalidRequest(`status must be one of ${SETTABLE_STATUSES.join(', ')} (cancel with the cancel call)`, 'status'))
    }
    if (subscription.status === 'canceled') return fail(invalidRequest('A canceled subscription cannot change status.', 'status'))
    if (subscription.status === status) return ok({ subscription: structuredClone(subscription), events: [] })
    const previous = { status: subscription.status }
    subscription.status = status
    const event = this.#emit('customer.subscription.updated', subscription, undefined, previous)
    this.#changed()
    return ok({ subscription: structuredClone(subscription), events: [structuredClone(event)] })
  }

  /**
   * Forget every customer, subscription, session and event (the keys stay).
   *
   * @example
   * store.reset()
   */
  reset(): void {
    this.#state = { ...this.#state, customers: {}, subscriptions: {}, checkoutSessions: {}, events: [] }
    this.#changed()
  }
}

/**
 * An empty account with these keys.
 *
 * @example
 * emptyStandInState('sk_test_...', 'whsec_...')
 */
export function emptyStandInState(apiKey: string, webhookSecret: string): StripeStandInState {
  return { version: 1, apiKey, webhookSecret, customers: {}, subscriptions: {}, checkoutSessions: {}, events: [] }
}
