/**
 * The stand-in's admin side: subscribing, canceling and completing checkout
 * as happens outside the API, the signed webhooks that follow (verified by
 * the real SDK), search lag, and injected faults.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import Stripe from 'stripe'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { stripeStandInAdminClient, startStripeStandIn, type StripeStandIn } from '../../../src/local/stripe/stand-in'

/** A webhook endpoint on loopback that records what it receives and answers `status`. */
interface Receiver {
  url: string
  received: { body: string; signature: string; userAgent: string }[]
  status: number
  close(): Promise<void>
}

async function startReceiver(): Promise<Receiver> {
  const receiver: Omit<Receiver, 'url' | 'close'> = { received: [], status: 200 }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      receiver.received.push({
        body: Buffer.concat(chunks).toString('utf8'),
        signature: String(req.headers['stripe-signature']),
        userAgent: String(req.headers['user-agent'])
      })
      res.writeHead(receiver.status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/stripe/webhook`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  })
}

let receiver: Receiver
let standIn: StripeStandIn
let stripe: Stripe

beforeAll(async () => {
  receiver = await startReceiver()
  standIn = await startStripeStandIn({ webhookUrl: receiver.url })
  stripe = new Stripe(standIn.apiKey, { ...standIn.stripeConfig(), maxNetworkRetries: 0 })
})
afterAll(async () => {
  await standIn?.close()
  await receiver?.close()
})
afterEach(async () => {
  await standIn.setFault({ mode: 'none' })
  receiver.status = 200
})

describe('subscribe, cancel and their webhooks', () => {
  it('subscribe creates the customer with its metadata and an active subscription, and delivers signed events', async () => {
    receiver.received.length = 0
    const outcome = await standIn.subscribe({ email: 'gina@acme.test', priceId: 'price_basic', metadata: { authUserId: 'auth0|gina' } })
    if (!outcome.ok) throw new Error(outcome.error.body.error.message)
    const { customer, subscription, events, deliveries } = outcome.value

    expect(customer).toMatchObject({ email: 'gina@acme.test', metadata: { authUserId: 'auth0|gina' } })
    expect(subscription).toMatchObject({ customer: customer.id, status: 'active' })
    expect(events.map((event) => event.type)).toEqual(['customer.created', 'customer.subscription.created'])
    const created = events[1]
    expect(created).toMatchObject({
      object: 'event',
      api_version: Stripe.API_VERSION,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object: { id: subscription.id, object: 'subscription', status: 'active' } }
    })
    expect(created?.id).toMatch(/^evt_[A-Za-z0-9]{24}$/)
    expect(deliveries.map((delivery) => [delivery.ok, delivery.type])).toEqual([
      [true, 'customer.created'],
      [true, 'customer.subscription.created']
    ])

    // What the endpoint got verifies with the SDK, exactly as a real webhook handler would check it.
    expect(receiver.received).toHaveLength(2)
    const delivered = receiver.received[1]
    if (delivered === undefined) throw new Error('nothing delivered')
    expect(delivered.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
    expect(delivered.userAgent).toMatch(/^Stripe\/1\.0/)
    const event = stripe.webhooks.constructEvent(delivered.body, delivered.signature, standIn.webhookSecret, 300)
    expect(event.type).toBe('customer.subscription.created')
    expect(event.id).toBe(created?.id)
    if (event.type === 'customer.subscription.created') expect(event.data.object.items.data[0]?.price.id).toBe('price_basic')

    // A tampered body, or another secret, is refused.
    const tampered = delivered.body.replace('"active"', '"canceled"')
    expect(() => stripe.webhooks.constructEvent(tampered, delivered.signature, standIn.webhookSecret, 300)).toThrow(
      Stripe.errors.StripeSignatureVerificationError
    )
    expect(() => stripe.webhooks.constructEvent(delivered.body, delivered.signature, 'whsec_other', 300)).toThrow(
      Stripe.errors.StripeSignatureVerificationError
    )
  })

  it('subscribe reuses the existing customer of that email', async () => {
    const customer = await stripe.customers.create({ email: 'hank@acme.test', metadata: { authUserId: 'auth0|hank' } })
    const outcome = await standIn.subscribe({ email: 'hank@acme.test', priceId: 'price_metered' })
    if (!outcome.ok) throw new Error(outcome.error.body.error.message)

    expect(outcome.value.customer.id).toBe(customer.id)
    expect(outcome.value.events.map((event) => event.type)).toEqual(['customer.subscription.created'])
  })

  it('cancel cancels the active subscriptions (customer.subscription.deleted), or schedules them (updated)', async () => {
    const first = await standIn.subscribe({ email: 'ivy@acme.test', priceId: 'price_basic' })
    expect(first.ok).toBe(true)
    const scheduled = await standIn.cancel({ email: 'ivy@acme.test', atPeriodEnd: true })
    if (!scheduled.ok) throw new Error(scheduled.error.body.error.message)
    expect(scheduled.value.events.map((event) => event.type)).toEqual(['customer.subscription.updated'])
    expect(scheduled.value.events[0]?.data.previous_attributes).toMatchObject({ cancel_at_period_end: false, cancel_at: null })

    const now = await standIn.cancel({ email: 'ivy@acme.test' })
    if (!now.ok) throw new Error(now.error.body.error.message)
    expect(now.value.events.map((event) => event.type)).toEqual(['customer.subscription.deleted'])
    expect(now.value.subscriptions.map((subscription) => subscription.status)).toEqual(['canceled'])
    expect((await standIn.cancel({ email: 'ivy@acme.test' })).ok).toBe(true)

    const nobody = await standIn.cancel({ email: 'nobody@acme.test' })
    expect(nobody.ok ? 0 : nobody.error.status).toBe(404)
  })

  it('refuses an unknown or retired price as values', async () => {
    const unknown = await standIn.subscribe({ email: 'jo@acme.test', priceId: 'price_nope' })
    expect(unknown.ok ? undefined : unknown.error.body.error.code).toBe('resource_missing')
    const retired = await standIn.subscribe({ email: 'jo@acme.test', priceId: 'price_basic_legacy' })
    expect(retired.ok ? undefined : retired.error.body.error.message).toMatch(/inactive/)
  })

  it('setSubscriptionStatus moves a subscription to past_due with customer.subscription.updated', async () => {
    const outcome = await standIn.subscribe({ email: 'kim@acme.test', priceId: 'price_basic' })
    if (!outcome.ok) throw new Error(outcome.error.body.error.message)
    const moved = await standIn.setSubscriptionStatus(outcome.value.subscription.id, 'past_due')
    if (!moved.ok) throw new Error(moved.error.body.error.message)

    expect(moved.value.events[0]).toMatchObject({ type: 'customer.subscription.updated', data: { previous_attributes: { status: 'active' } } })
    expect((await stripe.subscriptions.retrieve(outcome.value.subscription.id)).status).toBe('past_due')
  })

  it('records a failed delivery without failing the action, and redelivers on demand', async () => {
    receiver.status = 500
    const outcome = await standIn.subscribe({ email: 'lee@acme.test', priceId: 'price_basic' })
    if (!outcome.ok) throw new Error(outcome.error.body.error.message)
    expect(outcome.value.deliveries.every((delivery) => !delivery.ok && delivery.status === 500)).toBe(true)

    receiver.status = 200
    const event = outcome.value.events[1]
    const again = await standIn.redeliver(event?.id ?? '')
    expect(again.ok && again.value.ok).toBe(true)
  })

  it('API calls deliver their events too, naming the request', async () => {
    receiver.received.length = 0
    const customer = await stripe.customers.create({ email: 'mo@acme.test' })
    await standIn.settled()
    const event = stripe.webhooks.constructEvent(receiver.received[0]?.body ?? '', receiver.received[0]?.signature ?? '', standIn.webhookSecret)

    expect(event.type).toBe('customer.created')
    expect(event.request?.id).toBe(customer.lastResponse.requestId)
  })
})

describe('the admin endpoints over HTTP', () => {
  it('drive the same operations with the same key, and refuse another', async () => {
    const admin = stripeStandInAdminClient({ url: standIn.url, apiKey: standIn.apiKey })
    const customer = await stripe.customers.create({ email: 'nia@acme.test' })
    const session = await stripe.checkout.sessions.create({
      ui_mode: 'embedded_page',
      mode: 'subscription',
      customer: customer.id,
      line_items: [{ price: 'price_basic', quantity: 1 }],
      return_url: 'http://127.0.0.1:3000/r'
    })

    const completed = await admin.completeCheckout(session.id)
    if (!completed.ok) throw new Error(completed.error.message)
    expect(completed.value.session).toMatchObject({ status: 'complete', payment_status: 'paid', subscription: completed.value.subscription.id })
    expect(completed.value.deliveries.map((delivery) => delivery.type)).toEqual(['customer.subscription.created', 'checkout.session.completed'])
    const event = completed.value.events.find((candidate) => candidate.type === 'checkout.session.completed')
    expect(event?.data.object).toMatchObject({
      id: session.id,
      object: 'checkout.session',
      status: 'complete',
      customer_details: { email: 'nia@acme.test' }
    })

    const canceled = await admin.cancel({ email: 'nia@acme.test' })
    expect(canceled.ok && canceled.value.events.map((e) => e.type)).toEqual(['customer.subscription.deleted'])
    const state = await admin.state()
    expect(state.ok && state.value.subscriptions.some((subscription) => subscription.id === completed.value.subscription.id)).toBe(true)

    const missing = await admin.completeCheckout('cs_test_nope')
    expect(missing.ok ? 0 : missing.status).toBe(404)
    const intruder = await stripeStandInAdminClient({ url: standIn.url, apiKey: 'sk_test_nope' }).state()
    expect(intruder.ok ? 0 : intruder.status).toBe(401)
  })
})

describe('faults', () => {
  it('answers 500 api_error while failing (StripeAPIError), and normally again after', async () => {
    await standIn.setFault({ mode: 'error' })
    const error = await stripe.customers.list().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError)
    expect((error as InstanceType<typeof Stripe.errors.StripeAPIError>).statusCode).toBe(500)

    await standIn.setFault({ mode: 'error', status: 429 })
    expect(await stripe.customers.list().catch((caught: unknown) => caught)).toBeInstanceOf(Stripe.errors.StripeRateLimitError)

    await standIn.setFault({ mode: 'none' })
    expect((await stripe.customers.list()).object).toBe('list')
  })

  it('stops listening when unreachable (StripeConnectionError), and listens again on the same port', async () => {
    await standIn.setFault({ mode: 'unreachable' })
    const error = await stripe.customers.list().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError)

    await standIn.setFault({ mode: 'none' })
    expect((await stripe.customers.list()).object).toBe('list')
  })

  it('goes unreachable over HTTP for a while, then comes back by itself', async () => {
    const admin = stripeStandInAdminClient({ url: standIn.url, apiKey: standIn.apiKey })
    expect((await admin.setFault({ mode: 'unreachable' })).ok).toBe(false)
    const set = await admin.setFault({ mode: 'unreachable', forMs: 300 })
    expect(set.ok).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await stripe.customers.list().catch((caught: unknown) => caught)).toBeInstanceOf(Stripe.errors.StripeConnectionError)
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect((await stripe.customers.list()).object).toBe('list')
  })

  it('hangs API calls until the caller gives up', async () => {
    await standIn.setFault({ mode: 'hang' })
    const impatient = new Stripe(standIn.apiKey, { ...standIn.stripeConfig(), maxNetworkRetries: 0, timeout: 200 })
    expect(await impatient.customers.list().catch((caught: unknown) => caught)).toBeInstanceOf(Stripe.errors.StripeConnectionError)
  })
})

describe('search lag', () => {
  it('hides a new customer from search until searchLagMs passed, but not from list or retrieve', async () => {
    let now = 1_767_225_600_000
    const lagging = await startStripeStandIn({ searchLagMs: 60_000, clock: () => now })
    try {
      const client = new Stripe(lagging.apiKey, { ...lagging.stripeConfig(), maxNetworkRetries: 0 })
      const customer = await client.customers.create({ email: 'new@acme.test' })

      expect((await client.customers.search({ query: 'email:"new@acme.test"' })).data).toEqual([])
      expect((await client.customers.list({ email: 'new@acme.test' })).data.map((c) => c.id)).toEqual([customer.id])
      expect((await client.customers.retrieve(customer.id)).id).toBe(customer.id)

      now += 60_000
      expect((await client.customers.search({ query: 'email:"NEW@acme.test"' })).data.map((c) => c.id)).toEqual([customer.id])
    } finally {
      await lagging.close()
    }
  })
})
