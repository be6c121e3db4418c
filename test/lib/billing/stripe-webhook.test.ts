/**
 * POST /webhooks/stripe against the local Stripe stand-in (real SDK) and the
 * key table on dynalite: events are the stand-in's, signed as Stripe signs them.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadBillingConfig } from '../../../src/lib/billing/billing-config'
import { createStripeClient } from '../../../src/lib/billing/stripe-client'
import { handleStripeWebhook, type StripeWebhookDeps } from '../../../src/lib/billing/stripe-webhook'
import { Logger, setLogSink } from '../../../src/lib/runtime/logger'
import type { DynamoKeyStore } from '../../../src/lib/store/dynamo-key-store'
import { startStripeStandIn, stripeSignatureHeader, webhookPayload, type StripeStandIn } from '../../../src/local/stripe/stand-in'
import { startKeyDatabase, type KeyDatabase } from '../../support/dynalite'
import { httpApiEvent } from '../../support/events'

const NOW = Math.floor(Date.now() / 1000)
let stripe: StripeStandIn
let db: KeyDatabase
let store: DynamoKeyStore
let deps: StripeWebhookDeps
const lines: string[] = []

beforeAll(async () => {
  ;[stripe, db] = await Promise.all([startStripeStandIn(), startKeyDatabase()])
}, 60_000)
afterAll(async () => {
  await Promise.all([stripe?.close(), db?.close()])
})
beforeEach(async () => {
  stripe.reset()
  await stripe.setFault({ mode: 'none' })
  ;({ store } = await db.newStore())
  lines.length = 0
  const settings = loadBillingConfig({ APP_PAYMENT_PROVIDER: 'stripe', STRIPE_API_KEY: stripe.apiKey, STRIPE_API_BASE: stripe.url }).stripe!
  deps = {
    stripe: await createStripeClient(settings),
    webhookSecret: stripe.webhookSecret,
    allowedStatuses: settings.allowedStatuses,
    store,
    nowSeconds: () => NOW,
    logger: new Logger({ service: 'stripe-webhook' })
  }
})

/** The request Stripe would send for `event`, signed at `timestamp` with `secret`. */
function delivery(event: unknown, options: { secret?: string; timestamp?: number; signature?: string | null } = {}): APIGatewayProxyEventV2 {
  const payload = webhookPayload(event as Parameters<typeof webhookPayload>[0])
  const signature =
    options.signature === undefined ? stripeSignatureHeader(payload, options.secret ?? stripe.webhookSecret, options.timestamp) : options.signature
  return httpApiEvent({
    method: 'POST',
    path: '/webhooks/stripe',
    headers: signature === null ? {} : { 'stripe-signature': signature },
    body: payload
  })
}

async function handle(event: APIGatewayProxyEventV2) {
  const restore = setLogSink((line) => lines.push(line))
  try {
    return await handleStripeWebhook(deps, event)
  } finally {
    restore()
  }
}

async function subscribe(email: string, priceId = 'price_basic') {
  const outcome = await stripe.subscribe({ email, priceId })
  if (!outcome.ok) throw new Error('subscribe failed')
  return outcome.value
}

async function cancelEvent(email: string) {
  const outcome = await stripe.cancel({ email })
  if (!outcome.ok) throw new Error('cancel failed')
  const event = outcome.value.events.find((e) => e.type === 'customer.subscription.deleted')
  if (event === undefined) throw new Error('no deleted event')
  return event
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('expected a refusal'),
    (error: unknown) => error
  )

describe('handleStripeWebhook', () => {
  it('revokes every key of a customer whose last allowed subscription was deleted, as DELETE /keys does', async () => {
    const { customer } = await subscribe('alice@acme.test')
    const response = await handle(delivery(await cancelEvent('alice@acme.test')))
    expect(response.statusCode).toBe(200)
    expect(JSON.parse(response.body as string)).toEqual({ received: true, revoked: true })
    expect(await store.companyRevokedBefore(customer.id)).toBe(NOW + 1)
  })

  it('is idempotent: a redelivery answers the same and moves nothing', async () => {
    await subscribe('bob@acme.test')
    const event = await cancelEvent('bob@acme.test')
    const first = await handle(delivery(event))
    const second = await handle(delivery(event))
    expect(second.statusCode).toBe(first.statusCode)
    expect(second.body).toBe(first.body)
  })

  it('keeps the keys while another allowed subscription remains', async () => {
    const { customer } = await subscribe('carol@acme.test')
    const second = await stripe.subscribe({ email: 'carol@acme.test', priceId: 'price_metered' })
    if (!second.ok) throw new Error('subscribe failed')
    await deps.stripe.subscriptions.cancel(second.value.subscription.id)
    const event = stripe.events.find(
      (e) => e.type === 'customer.subscription.deleted' && (e.data.object as { id?: string }).id === second.value.subscription.id
    )!
    const response = await handle(delivery(event))
    expect(JSON.parse(response.body as string)).toEqual({ received: true })
    expect(await store.companyRevokedBefore(customer.id)).toBeUndefined()
  })

  it('revokes on an update to a status outside STRIPE_ALLOWED_STATUSES, and ignores an update to an allowed one', async () => {
    const { customer, subscription } = await subscribe('dave@acme.test')
    const pastDue = await stripe.setSubscriptionStatus(subscription.id, 'past_due')
    if (!pastDue.ok) throw new Error('status failed')
    expect(JSON.parse((await handle(delivery(pastDue.value.events[0]!))).body as string)).toEqual({ received: true, revoked: true })
    expect(await store.companyRevokedBefore(customer.id)).toBe(NOW + 1)

    const { customer: other, subscription: trialing } = await subscribe('erin@acme.test')
    const toTrial = await stripe.setSubscriptionStatus(trialing.id, 'trialing')
    if (!toTrial.ok) throw new Error('status failed')
    expect(JSON.parse((await handle(delivery(toTrial.value.events[0]!))).body as string)).toEqual({ received: true })
    expect(await store.companyRevokedBefore(other.id)).toBeUndefined()
  })

  it('acknowledges and ignores other event types', async () => {
    const { events } = await subscribe('frank@acme.test')
    for (const event of events) {
      const response = await handle(delivery(event))
      expect([event.type, response.statusCode, response.body]).toEqual([event.type, 200, '{"received":true}'])
    }
  })

  it.each([
    ['no Stripe-Signature header', { signature: null }],
    ['another endpoint secret', { secret: 'whsec_someoneelsesendpointsecret' }],
    ['a signature older than 300 s', { timestamp: Math.floor(Date.now() / 1000) - 301 }],
    ['a garbled header', { signature: 't=1,v1=deadbeef' }]
  ])('answers 400 ERR_BAD_SIGNATURE for %s, revokes nothing and never logs the payload', async (_name, options) => {
    const { customer } = await subscribe('grace@acme.test')
    const event = await cancelEvent('grace@acme.test')
    expect(await failure(handle(delivery(event, options)))).toMatchObject({ statusCode: 400, code: 'ERR_BAD_SIGNATURE' })
    expect(await store.companyRevokedBefore(customer.id)).toBeUndefined()
    expect(lines.join('\n')).not.toContain('grace@acme.test')
  })

  it('refuses a tampered payload', async () => {
    await subscribe('heidi@acme.test')
    const event = await cancelEvent('heidi@acme.test')
    const signed = delivery(event)
    const tampered = { ...signed, body: (signed.body as string).replace('customer.subscription.deleted', 'customer.subscription.deletes') }
    expect(await failure(handle(tampered))).toMatchObject({ statusCode: 400, code: 'ERR_BAD_SIGNATURE' })
  })

  it('accepts a base64-encoded body, as API Gateway may deliver it', async () => {
    const { customer } = await subscribe('ivan@acme.test')
    const signed = delivery(await cancelEvent('ivan@acme.test'))
    const encoded = { ...signed, isBase64Encoded: true, body: Buffer.from(signed.body as string, 'utf8').toString('base64') }
    expect((await handle(encoded)).statusCode).toBe(200)
    expect(await store.companyRevokedBefore(customer.id)).toBe(NOW + 1)
  })

  it('answers 503 when Stripe cannot be asked about the remaining subscriptions, so Stripe retries', async () => {
    await subscribe('judy@acme.test')
    const event = await cancelEvent('judy@acme.test')
    await stripe.setFault({ mode: 'error', status: 503 })
    expect(await failure(handle(delivery(event)))).toMatchObject({ statusCode: 503, code: 'ERR_BILLING_UNAVAILABLE' })
  })

  it('answers 404 outside stripe mode', async () => {
    expect(await failure(handleStripeWebhook(undefined, httpApiEvent({ method: 'POST', path: '/webhooks/stripe' })))).toMatchObject({
      statusCode: 404,
      code: 'ERR_NOT_FOUND'
    })
  })
})
