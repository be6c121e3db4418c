/** The Stripe API of the stand-in, driven by the real `stripe` SDK pointed at it. */
import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStripeStandIn, STAND_IN_API_VERSION, type StripeStandIn } from '../../../src/local/stripe/stand-in'

let standIn: StripeStandIn
let stripe: Stripe

/** What an SDK call rejected with. */
async function rejection(promise: Promise<unknown>): Promise<InstanceType<typeof Stripe.errors.StripeError>> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(Stripe.errors.StripeError)
    return error as InstanceType<typeof Stripe.errors.StripeError>
  }
  throw new Error('expected the call to fail')
}

const CUSTOMER_ID = /^cus_[A-Za-z0-9]{14}$/

beforeAll(async () => {
  standIn = await startStripeStandIn()
  stripe = new Stripe(standIn.apiKey, { host: '127.0.0.1', port: standIn.port, protocol: 'http', maxNetworkRetries: 0 })
})
afterAll(async () => {
  await standIn?.close()
})

describe('the stand-in itself', () => {
  it('serves on 127.0.0.1 and mints a Stripe-shaped test key and webhook secret', () => {
    expect(standIn.url).toBe(`http://127.0.0.1:${standIn.port}`)
    expect(standIn.stripeConfig()).toEqual({ host: '127.0.0.1', port: standIn.port, protocol: 'http' })
    expect(standIn.apiKey).toMatch(/^sk_test_[A-Za-z0-9]{99}$/)
    expect(standIn.webhookSecret).toMatch(/^whsec_[A-Za-z0-9]{32}$/)
    // The account's version is the one the installed SDK pins, so events match what it expects.
    expect(STAND_IN_API_VERSION).toBe(Stripe.API_VERSION)
  })
})

describe('authentication', () => {
  it('refuses a wrong key with 401 StripeAuthenticationError, echoing only its last four characters', async () => {
    const intruder = new Stripe('sk_test_wrongwrongwrong1234', { ...standIn.stripeConfig(), maxNetworkRetries: 0 })
    const error = await rejection(intruder.customers.list())

    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError)
    expect(error.statusCode).toBe(401)
    expect(error.type).toBe('StripeAuthenticationError')
    expect(error.message).toBe('Invalid API Key provided: sk_test_***************1234')
    expect(error.requestId).toMatch(/^req_[A-Za-z0-9]{14}$/)
  })

  it("answers a call without a key with Stripe's error shape", async () => {
    const response = await fetch(`${standIn.url}/v1/customers`)
    const body = (await response.json()) as { error: { type: string; message: string } }

    expect(response.status).toBe(401)
    expect(body.error.type).toBe('invalid_request_error')
    expect(body.error.message).toMatch(/^You did not provide an API key/)
  })

  it('accepts the key as Basic auth user name, as Stripe does', async () => {
    const response = await fetch(`${standIn.url}/v1/prices/price_basic`, {
      headers: { authorization: `Basic ${Buffer.from(`${standIn.apiKey}:`).toString('base64')}` }
    })
    expect(response.status).toBe(200)
  })
})

describe('customers', () => {
  it('creates, retrieves, lists by email and searches by email', async () => {
    const email = 'alice@acme.test'
    const created = await stripe.customers.create({ email, name: 'Alice', metadata: { authUserId: 'auth0|alice', orgId: 'acme' } })

    expect(created).toMatchObject({
      object: 'customer',
      email,
      name: 'Alice',
      metadata: { authUserId: 'auth0|alice', orgId: 'acme' },
      livemode: false,
      balance: 0,
      delinquent: false
    })
    expect(created.id).toMatch(CUSTOMER_ID)
    expect(created.created).toBeTypeOf('number')
    expect(created.lastResponse.statusCode).toBe(200)

    const retrieved = await stripe.customers.retrieve(created.id)
    expect(retrieved.deleted).toBeUndefined()
    expect(retrieved).toMatchObject({ id: created.id, email, metadata: created.metadata })

    const listed = await stripe.customers.list({ email, limit: 3 })
    expect(listed).toMatchObject({ object: 'list', url: '/v1/customers', has_more: false })
    expect(listed.data.map((customer) => customer.id)).toEqual([created.id])
    // The list filter is exact and case-sensitive, as Stripe's.
    expect((await stripe.customers.list({ email: email.toUpperCase() })).data).toEqual([])

    for (const query of [`email:"${email}"`, `email:'${email}'`, `metadata["authUserId"]:"auth0|alice"`]) {
      const found = await stripe.customers.search({ query })
      expect(found).toMatchObject({ object: 'search_result', url: '/v1/customers/search', has_more: false, next_page: null })
      expect(found.data.map((customer) => customer.id)).toEqual([created.id])
    }
  })

  it('pages lists newest first with limit and starting_after', async () => {
    const ids: string[] = []
    for (const n of [1, 2, 3]) ids.push((await stripe.customers.create({ email: `pager-${n}@acme.test`, metadata: { batch: 'pager' } })).id)

    const first = await stripe.customers.list({ limit: 2 })
    expect(first.has_more).toBe(true)
    expect(first.data.map((customer) => customer.id)).toEqual([ids[2], ids[1]])
    const next = await stripe.customers.list({ limit: 2, starting_after: ids[1] })
    expect(next.data[0]?.id).toBe(ids[0])
    const found = await stripe.customers.search({ query: 'metadata["batch"]:"pager"', limit: 2 })
    expect(found.has_more).toBe(true)
    expect(found.next_page).toBeTypeOf('string')
    const rest = await stripe.customers.search({ query: 'metadata["batch"]:"pager"', limit: 2, page: found.next_page ?? '' })
    expect(rest.data.map((customer) => customer.id)).toEqual([ids[0]])
  })

  it('answers an unknown id with 404 resource_missing', async () => {
    const error = await rejection(stripe.customers.retrieve('cus_doesnotexist00'))

    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError)
    expect(error.statusCode).toBe(404)
    expect(error.code).toBe('resource_missing')
    expect(error.raw).toMatchObject({ param: 'id', message: "No such customer: 'cus_doesnotexist00'", type: 'invalid_request_error' })
  })

  it('answers a deleted customer as { id, object, deleted: true } and cancels its subscriptions', async () => {
    const customer = await stripe.customers.create({ email: 'leaving@acme.test' })
    const { ok: subscribed } = await standIn.subscribe({ email: 'leaving@acme.test', priceId: 'price_basic' })
    expect(subscribed).toBe(true)

    const deleted = await stripe.customers.del(customer.id)
    expect(deleted).toMatchObject({ id: customer.id, object: 'customer', deleted: true })
    const retrieved = await stripe.customers.retrieve(customer.id)
    expect(retrieved).toMatchObject({ id: customer.id, object: 'customer', deleted: true })
    const subscriptions = await stripe.subscriptions.list({ customer: customer.id, status: 'all' })
    expect(subscriptions.data.map((subscription) => subscription.status)).toEqual(['canceled'])
  })

  it('refuses a malformed search query with 400 on query', async () => {
    const error = await rejection(stripe.customers.search({ query: 'email=alice@acme.test' }))
    expect(error.statusCode).toBe(400)
    expect(error.param).toBe('query')
  })

  it('replays a POST with a used Idempotency-Key instead of running it twice', async () => {
    const first = await stripe.customers.create({ email: 'once@acme.test' }, { idempotencyKey: 'create-once' })
    const again = await stripe.customers.create({ email: 'once@acme.test' }, { idempotencyKey: 'create-once' })

    expect(again.id).toBe(first.id)
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true')
    expect((await stripe.customers.list({ email: 'once@acme.test' })).data).toHaveLength(1)
    const misuse = await rejection(stripe.customers.create({ email: 'other@acme.test' }, { idempotencyKey: 'create-once' }))
    expect(misuse).toBeInstanceOf(Stripe.errors.StripeIdempotencyError)
  })
})

describe('subscriptions', () => {
  it('lists a subscription with its items, prices and billing periods as Stripe documents them', async () => {
    const subscribed = await standIn.subscribe({ email: 'bob@acme.test', priceId: 'price_basic', metadata: { authUserId: 'auth0|bob' } })
    if (!subscribed.ok) throw new Error(subscribed.error.body.error.message)
    const customerId = subscribed.value.customer.id

    const listed = await stripe.subscriptions.list({ customer: customerId, status: 'all' })
    expect(listed).toMatchObject({ object: 'list', url: '/v1/subscriptions', has_more: false })
    const [subscription] = listed.data
    if (subscription === undefined) throw new Error('no subscription')

    expect(subscription.id).toMatch(/^sub_[A-Za-z0-9]{24}$/)
    expect(subscription).toMatchObject({
      object: 'subscription',
      customer: customerId,
      status: 'active',
      cancel_at_period_end: false,
      canceled_at: null,
      livemode: false,
      currency: 'usd',
      metadata: {}
    })
    expect(subscription.start_date).toBe(subscription.created)
    // Not in the SDK's type any more (moved to items in 2025-03-31.basil), but on the wire for older callers.
    const legacy = subscription as unknown as { current_period_start: number; current_period_end: number }
    expect(legacy.current_period_end).toBeGreaterThan(legacy.current_period_start)

    expect(subscription.items).toMatchObject({ object: 'list', has_more: false, url: `/v1/subscription_items?subscription=${subscription.id}` })
    const [item] = subscription.items.data
    expect(item?.id).toMatch(/^si_[A-Za-z0-9]{14}$/)
    expect(item).toMatchObject({
      object: 'subscription_item',
      quantity: 1,
      subscription: subscription.id,
      current_period_start: legacy.current_period_start,
      current_period_end: legacy.current_period_end,
      price: {
        id: 'price_basic',
        object: 'price',
        product: 'prod_basic',
        unit_amount: 1900,
        currency: 'usd',
        active: true,
        nickname: 'Basic monthly',
        recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed', meter: null }
      },
      plan: { id: 'price_basic', object: 'plan', amount: 1900, interval: 'month', usage_type: 'licensed' }
    })
    // The SDK turns the wire's decimal string into its Decimal type.
    expect(String(item?.price.unit_amount_decimal)).toBe('1900')
    // One calendar month.
    const days = ((item?.current_period_end ?? 0) - (item?.current_period_start ?? 0)) / 86_400
    expect(days).toBeGreaterThanOrEqual(28)
    expect(days).toBeLessThanOrEqual(31)
  })

  it('gives a metered item no quantity', async () => {
    const subscribed = await standIn.subscribe({ email: 'meter@acme.test', priceId: 'price_metered' })
    if (!subscribed.ok) throw new Error(subscribed.error.body.error.message)
    const subscription = await stripe.subscriptions.retrieve(subscribed.value.subscription.id)

    expect(subscription.items.data[0]?.quantity).toBeUndefined()
    expect(subscription.items.data[0]?.price.recurring).toMatchObject({ usage_type: 'metered', meter: 'mtr_test_api_calls' })
  })

  it('cancels: status canceled, gone from the default list, still in status=all, and a second cancel is a 404', async () => {
    const subscribed = await standIn.subscribe({ email: 'carol@acme.test', priceId: 'price_basic' })
    if (!subscribed.ok) throw new Error(subscribed.error.body.error.message)
    const { customer, subscription } = subscribed.value

    const canceled = await stripe.subscriptions.cancel(subscription.id)
    expect(canceled).toMatchObject({ id: subscription.id, status: 'canceled', cancellation_details: { reason: 'cancellation_requested' } })
    expect(canceled.canceled_at).toBeTypeOf('number')
    expect(canceled.ended_at).toBe(canceled.canceled_at)

    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toEqual([])
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'canceled' })).data).toHaveLength(1)
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data.map((s) => s.status)).toEqual(['canceled'])
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('canceled')

    const again = await rejection(stripe.subscriptions.cancel(subscription.id))
    expect(again.statusCode).toBe(404)
    expect(again.code).toBe('resource_missing')
  })

  it('schedules a cancellation at the period end', async () => {
    const subscribed = await standIn.subscribe({ email: 'dave@acme.test', priceId: 'price_basic_yearly' })
    if (!subscribed.ok) throw new Error(subscribed.error.body.error.message)
    const updated = await stripe.subscriptions.update(subscribed.value.subscription.id, { cancel_at_period_end: true })

    expect(updated.status).toBe('active')
    expect(updated.cancel_at_period_end).toBe(true)
    expect(updated.cancel_at).toBe(updated.items.data[0]?.current_period_end)
  })

  it('refuses an unknown status filter and an unknown id', async () => {
    const badStatus = await rejection(stripe.subscriptions.list({ status: 'nonsense' as 'all' }))
    expect(badStatus.statusCode).toBe(400)
    expect(badStatus.param).toBe('status')
    const missing = await rejection(stripe.subscriptions.retrieve('sub_doesnotexist'))
    expect(missing.statusCode).toBe(404)
    expect(missing.code).toBe('resource_missing')
  })
})

describe('Checkout Sessions', () => {
  it('creates an embedded subscription session and retrieves it', async () => {
    const customer = await stripe.customers.create({ email: 'erin@acme.test' })
    const session = await stripe.checkout.sessions.create({
      ui_mode: 'embedded_page',
      mode: 'subscription',
      customer: customer.id,
      line_items: [{ price: 'price_basic', quantity: 1 }],
      return_url: 'http://127.0.0.1:3000/billing/return?session_id={CHECKOUT_SESSION_ID}',
      subscription_data: { metadata: { authUserId: 'auth0|erin' } }
    })

    expect(session.id).toMatch(/^cs_test_[A-Za-z0-9]{58}$/)
    expect(session.client_secret?.startsWith(`${session.id}_secret_`)).toBe(true)
    expect(session).toMatchObject({
      object: 'checkout.session',
      status: 'open',
      mode: 'subscription',
      ui_mode: 'embedded_page',
      customer: customer.id,
      customer_email: null,
      customer_details: null,
      subscription: null,
      url: null,
      payment_status: 'unpaid',
      amount_total: 1900,
      currency: 'usd',
      redirect_on_completion: 'always',
      return_url: `http://127.0.0.1:3000/billing/return?session_id=${session.id}`
    })

    const retrieved = await stripe.checkout.sessions.retrieve(session.id, { expand: ['customer'] })
    expect(retrieved.id).toBe(session.id)
    expect(retrieved.customer).toMatchObject({ id: customer.id, object: 'customer', email: 'erin@acme.test' })
  })

  it('completes like the hosted form: the session is paid and names the new subscription', async () => {
    const customer = await stripe.customers.create({ email: 'frank@acme.test' })
    const session = await stripe.checkout.sessions.create({
      ui_mode: 'embedded_page',
      mode: 'subscription',
      customer: customer.id,
      line_items: [{ price: 'price_basic', quantity: 2 }],
      return_url: 'http://127.0.0.1:3000/billing/return',
      subscription_data: { metadata: { authUserId: 'auth0|frank' } }
    })
    const completed = await standIn.completeCheckout(session.id)
    if (!completed.ok) throw new Error(completed.error.body.error.message)
    expect(completed.value.events.map((event) => event.type)).toEqual(['customer.subscription.created', 'checkout.session.completed'])

    const after = await stripe.checkout.sessions.retrieve(session.id, { expand: ['subscription'] })
    expect(after).toMatchObject({ status: 'complete', payment_status: 'paid', customer: customer.id, customer_details: { email: 'frank@acme.test' } })
    expect(after.subscription).toMatchObject({
      object: 'subscription',
      status: 'active',
      customer: customer.id,
      metadata: { authUserId: 'auth0|frank' }
    })
    const subscriptions = await stripe.subscriptions.list({ customer: customer.id, status: 'all' })
    expect(subscriptions.data[0]?.items.data[0]?.quantity).toBe(2)

    const twice = await standIn.completeCheckout(session.id)
    expect(twice.ok).toBe(false)
  })

  it('refuses an unknown price with 400 resource_missing on line_items[0][price]', async () => {
    const error = await rejection(
      stripe.checkout.sessions.create({
        ui_mode: 'embedded_page',
        mode: 'subscription',
        line_items: [{ price: 'price_nope', quantity: 1 }],
        return_url: 'http://127.0.0.1:3000/billing/return'
      })
    )

    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError)
    expect(error.statusCode).toBe(400)
    expect(error.code).toBe('resource_missing')
    expect(error.param).toBe('line_items[0][price]')
    expect(error.message).toBe("No such price: 'price_nope'")
  })

  it('refuses what Stripe refuses: a quantity on a metered price, none on a licensed one, no return_url', async () => {
    const base = { ui_mode: 'embedded_page' as const, mode: 'subscription' as const, return_url: 'http://127.0.0.1:3000/r' }
    const metered = await rejection(stripe.checkout.sessions.create({ ...base, line_items: [{ price: 'price_metered', quantity: 1 }] }))
    expect(metered.param).toBe('line_items[0][quantity]')
    const licensed = await rejection(stripe.checkout.sessions.create({ ...base, line_items: [{ price: 'price_basic' }] }))
    expect([licensed.code, licensed.param]).toEqual(['parameter_missing', 'line_items[0][quantity]'])
    const noReturn = await rejection(
      stripe.checkout.sessions.create({ ui_mode: 'embedded_page', mode: 'subscription', line_items: [{ price: 'price_basic', quantity: 1 }] })
    )
    expect(noReturn.param).toBe('return_url')
    const meteredOnly = await stripe.checkout.sessions.create({ ...base, line_items: [{ price: 'price_metered' }] })
    expect(meteredOnly.amount_total).toBe(0)
  })

  it("follows the request's API version: ui_mode embedded is refused from 2026-03-25.dahlia on, accepted before", async () => {
    const params = {
      ui_mode: 'embedded' as 'embedded_page',
      mode: 'subscription' as const,
      line_items: [{ price: 'price_basic', quantity: 1 }],
      return_url: 'http://127.0.0.1:3000/r'
    }
    const current = await rejection(stripe.checkout.sessions.create(params))
    expect(current.param).toBe('ui_mode')

    const old = new Stripe(standIn.apiKey, {
      ...standIn.stripeConfig(),
      apiVersion: '2025-09-30.clover' as typeof Stripe.API_VERSION,
      maxNetworkRetries: 0
    })
    const session = await old.checkout.sessions.create(params)
    expect(session.ui_mode).toBe('embedded')
    expect(session.client_secret).toMatch(/_secret_/)
  })

  it('answers an unknown session id with 404', async () => {
    const error = await rejection(stripe.checkout.sessions.retrieve('cs_test_nope'))
    expect(error.statusCode).toBe(404)
    expect(error.message).toBe("No such checkout.session: 'cs_test_nope'")
  })
})

describe('prices and products', () => {
  it('lists active prices with their products expanded', async () => {
    const prices = await stripe.prices.list({ active: true, expand: ['data.product'], limit: 100 })

    expect(prices).toMatchObject({ object: 'list', url: '/v1/prices', has_more: false })
    expect(prices.data.map((price) => price.id)).toEqual(['price_basic', 'price_basic_yearly', 'price_metered'])
    const basic = prices.data[0]
    expect(basic?.product).toMatchObject({ id: 'prod_basic', object: 'product', name: 'Basic', active: true, default_price: 'price_basic' })
    expect(basic).toMatchObject({ unit_amount: 1900, currency: 'usd', type: 'recurring', recurring: { interval: 'month', usage_type: 'licensed' } })
    expect(prices.data[2]?.product).toMatchObject({ id: 'prod_metered', name: 'Pay as you go' })
  })

  it('retrieves a price and a product, and 404s unknown ones', async () => {
    expect(await stripe.prices.retrieve('price_basic_legacy')).toMatchObject({ id: 'price_basic_legacy', active: false })
    expect(await stripe.products.retrieve('prod_metered')).toMatchObject({ id: 'prod_metered', object: 'product', default_price: 'price_metered' })
    expect((await rejection(stripe.prices.retrieve('price_nope'))).statusCode).toBe(404)
    expect((await rejection(stripe.products.retrieve('prod_nope'))).statusCode).toBe(404)
  })

  it('refuses to expand what cannot be expanded', async () => {
    const error = await rejection(stripe.prices.list({ expand: ['data.currency'] }))
    expect(error.statusCode).toBe(400)
    expect(error.message).toMatch(/cannot be expanded/)
  })
})

describe('events', () => {
  it('keeps the events the calls caused, retrievable by id', async () => {
    const customer = await stripe.customers.create({ email: 'events@acme.test' })
    const events = await stripe.events.list({ type: 'customer.created', limit: 100 })
    const event = events.data.find((candidate) => (candidate.data.object as { id: string }).id === customer.id)

    expect(event).toMatchObject({ object: 'event', type: 'customer.created', api_version: STAND_IN_API_VERSION, livemode: false })
    expect(event?.request?.id).toBe(customer.lastResponse.requestId)
    expect((await stripe.events.retrieve(event?.id ?? '')).id).toBe(event?.id)
  })
})
