/** Webhook signatures, checked by the real SDK. */
import Stripe from 'stripe'
import { describe, expect, it } from 'vitest'
import { newEvent } from '../../../src/local/stripe/event'
import { deliverWebhook, stripeSignatureHeader, webhookPayload } from '../../../src/local/stripe/webhook'

const secret = 'whsec_test_secret'
const event = newEvent({
  type: 'customer.subscription.deleted',
  object: { id: 'sub_x', object: 'subscription' },
  apiVersion: Stripe.API_VERSION,
  created: 1_767_225_600,
  pendingWebhooks: 1
})

describe('stripeSignatureHeader', () => {
  it('signs as Stripe does: constructEvent accepts it within the tolerance and refuses it after', () => {
    const payload = webhookPayload(event)
    const header = stripeSignatureHeader(payload, secret)
    const stripe = new Stripe('sk_test_unused')

    expect(stripe.webhooks.constructEvent(payload, header, secret, 300).id).toBe(event.id)
    expect(header).toBe(stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Number(/^t=(\d+)/.exec(header)?.[1]) }))
    const old = stripeSignatureHeader(payload, secret, Math.floor(Date.now() / 1000) - 600)
    expect(() => stripe.webhooks.constructEvent(payload, old, secret, 300)).toThrow(/Timestamp outside the tolerance zone/)
    expect(() => stripe.webhooks.constructEvent(payload.replace('sub_x', 'sub_y'), header, secret, 300)).toThrow(
      Stripe.errors.StripeSignatureVerificationError
    )
  })
})

describe('deliverWebhook', () => {
  it('answers an unreachable endpoint as a value', async () => {
    const delivery = await deliverWebhook(event, { url: 'http://127.0.0.1:1/stripe/webhook', webhookSecret: secret, timeoutMs: 1_000 })
    expect(delivery).toMatchObject({ ok: false, eventId: event.id, status: undefined })
  })
})
