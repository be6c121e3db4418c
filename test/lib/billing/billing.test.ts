/**
 * Billing against the local Stripe stand-in, through the real Stripe SDK
 * (src/local/stripe speaks Stripe's wire format).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createBilling, type Billing, type BillingIdentity } from '../../../src/lib/billing/billing'
import { loadBillingConfig } from '../../../src/lib/billing/billing-config'
import { allowedSubscription, createCustomerLookup } from '../../../src/lib/billing/stripe-customers'
import { createStripeClient } from '../../../src/lib/billing/stripe-client'
import { startStripeStandIn, type StripeStandIn } from '../../../src/local/stripe/stand-in'

let stripe: StripeStandIn
beforeAll(async () => {
  stripe = await startStripeStandIn()
})
afterAll(async () => {
  await stripe?.close()
})
beforeEach(async () => {
  stripe.reset()
  await stripe.setFault({ mode: 'none' })
})

const env = (extra: Record<string, string> = {}) => ({
  APP_PAYMENT_PROVIDER: 'stripe',
  STRIPE_API_KEY: stripe.apiKey,
  STRIPE_API_BASE: stripe.url,
  ...extra
})
const identity = (email: string | undefined, extra: Partial<BillingIdentity> = {}): BillingIdentity => ({
  userId: 'auth0|alice',
  companyId: 'auth0|alice',
  email,
  emailVerified: true,
  ...extra
})
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('expected a refusal'),
    (error: unknown) => error
  )

async function subscribed(email: string, priceId = 'price_basic'): Promise<{ customerId: string; subscriptionId: string }> {
  const outcome = await stripe.subscribe({ email, priceId })
  if (!outcome.ok) throw new Error(`stand-in refused subscribe: ${JSON.stringify(outcome.error)}`)
  return { customerId: outcome.value.customer.id, subscriptionId: outcome.value.subscription.id }
}

describe('holderForNewKey in stripe mode', () => {
  let billing: Billing
  beforeAll(async () => {
    billing = await createBilling(loadBillingConfig(env()))
  })

  it('issues to the Stripe customer in both claims, with the subscription, price and product ids', async () => {
    const { customerId, subscriptionId } = await subscribed('alice@acme.test')
    const holder = await billing.holderForNewKey(identity('alice@acme.test'))
    expect(holder).toEqual({
      owner: { userId: customerId, companyId: customerId },
      portalUserId: 'auth0|alice',
      email: 'alice@acme.test',
      plan: { subscriptionId, status: 'active', priceIds: ['price_basic'], productIds: ['prod_basic'] }
    })
    expect(customerId).toMatch(/^cus_/)
  })

  it('answers 402 ERR_NO_SUBSCRIPTION without a customer, and without an allowed subscription', async () => {
    expect(await failure(billing.holderForNewKey(identity('nobody@acme.test')))).toMatchObject({
      statusCode: 402,
      code: 'ERR_NO_SUBSCRIPTION',
      message: 'Subscribe to a plan to create API keys'
    })
    await subscribed('bob@acme.test')
    await stripe.cancel({ email: 'bob@acme.test' })
    expect(await failure(billing.holderForNewKey(identity('bob@acme.test')))).toMatchObject({ statusCode: 402, code: 'ERR_NO_SUBSCRIPTION' })
  })

  it('reads the subscription fresh: a user told 402 gets a key right after subscribing', async () => {
    expect(await failure(billing.holderForNewKey(identity('carol@acme.test')))).toMatchObject({ statusCode: 402 })
    await subscribed('carol@acme.test')
    expect((await billing.holderForNewKey(identity('carol@acme.test'))).owner.companyId).toMatch(/^cus_/)
  })

  it('refuses an ID token without an email (401) or with email_verified false (403)', async () => {
    expect(await failure(billing.holderForNewKey(identity(undefined)))).toMatchObject({ statusCode: 401, code: 'ERR_EMAIL_REQUIRED' })
    expect(await failure(billing.holderForNewKey(identity('alice@acme.test', { emailVerified: false })))).toMatchObject({
      statusCode: 403,
      code: 'ERR_EMAIL_NOT_VERIFIED'
    })
  })

  it('answers 503 ERR_BILLING_UNAVAILABLE, exposed, when Stripe fails', async () => {
    await stripe.setFault({ mode: 'error', status: 500 })
    const error = await failure(billing.holderForNewKey(identity('dave@acme.test')))
    expect(error).toMatchObject({ statusCode: 503, code: 'ERR_BILLING_UNAVAILABLE', expose: true })
  })

  it('companyOf resolves the same customer, and undefined when there is none', async () => {
    const { customerId } = await subscribed('erin@acme.test')
    expect(await billing.companyOf(identity('erin@acme.test'))).toBe(customerId)
    expect(await billing.companyOf(identity('frank@acme.test'))).toBeUndefined()
  })
})

describe('createCustomerLookup', () => {
  it('falls back to customers.list while search lags behind a new customer', async () => {
    const lagging = await startStripeStandIn({ searchLagMs: 60_000 })
    try {
      const client = await createStripeClient(loadBillingConfig({ ...env(), STRIPE_API_KEY: lagging.apiKey, STRIPE_API_BASE: lagging.url }).stripe!)
      const outcome = await lagging.subscribe({ email: 'new@acme.test', priceId: 'price_basic' })
      if (!outcome.ok) throw new Error('subscribe failed')
      expect(await createCustomerLookup(client)('new@acme.test')).toBe(outcome.value.customer.id)
      const calls = lagging.requests.map((request) => request.url.split('?')[0])
      expect(calls).toEqual(['/v1/customers/search', '/v1/customers'])
    } finally {
      await lagging.close()
    }
  })

  it('caches a found customer for 5 minutes, and never caches "not found"', async () => {
    const client = await createStripeClient(loadBillingConfig(env()).stripe!)
    let now = 1_000_000
    const lookup = createCustomerLookup(client, { nowMs: () => now })
    const count = () => stripe.requests.filter((request) => request.url.startsWith('/v1/customers')).length
    expect(await lookup('grace@acme.test')).toBeUndefined()
    const afterMiss = count()
    expect(await lookup('grace@acme.test')).toBeUndefined()
    expect(count()).toBeGreaterThan(afterMiss)
    const { customerId } = await subscribed('grace@acme.test')
    expect(await lookup('grace@acme.test')).toBe(customerId)
    const afterHit = count()
    now += 4 * 60_000
    expect(await lookup('Grace@ACME.test')).toBe(customerId)
    expect(count()).toBe(afterHit)
    now += 2 * 60_000
    expect(await lookup('grace@acme.test')).toBe(customerId)
    expect(count()).toBeGreaterThan(afterHit)
  })
})

describe('allowedSubscription', () => {
  it('honours STRIPE_ALLOWED_STATUSES', async () => {
    const client = await createStripeClient(loadBillingConfig(env()).stripe!)
    const { customerId, subscriptionId } = await subscribed('heidi@acme.test')
    await stripe.setSubscriptionStatus(subscriptionId, 'past_due')
    expect(await allowedSubscription(client, customerId, ['active', 'trialing'])).toBeUndefined()
    expect(await allowedSubscription(client, customerId, ['active', 'past_due'])).toMatchObject({ subscriptionId, status: 'past_due' })
  })
})

describe('none mode', () => {
  it('keeps the ID token user and company, and calls nothing', async () => {
    const billing = await createBilling(loadBillingConfig({}))
    const holder = await billing.holderForNewKey({ userId: 'auth0|a', companyId: 'acme', email: undefined, emailVerified: undefined })
    expect(holder).toEqual({ owner: { userId: 'auth0|a', companyId: 'acme' }, portalUserId: 'auth0|a', email: undefined, plan: undefined })
    expect(await billing.companyOf({ userId: 'auth0|a', companyId: 'acme', email: undefined, emailVerified: undefined })).toBe('acme')
    expect(billing.stripe).toBeUndefined()
  })
})
