import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import type Stripe from 'stripe'
import { headerValue } from '../http/bearer-token'
import { jsonResponse } from '../http/http-response'
import { readEnv, type Env } from '../runtime/env'
import { ConfigError, HttpError } from '../runtime/errors'
import type { Logger } from '../runtime/logger'
import type { KeyStore } from '../store/key-store'
import { keyStoreFromEnv } from '../store/dynamo-key-store'
import { loadBillingConfig } from './billing-config'
import { createStripeClient, type StripeClient } from './stripe-client'
import { allowedSubscription } from './stripe-customers'

/** What `POST /webhooks/stripe` needs. */
export interface StripeWebhookDeps {
  readonly stripe: StripeClient
  readonly webhookSecret: string
  readonly allowedStatuses: readonly string[]
  readonly store: KeyStore
  readonly nowSeconds: () => number
  readonly logger: Logger
}

/** Stripe's tolerance for a signature's timestamp, and ours. */
export const WEBHOOK_TOLERANCE_SECONDS = 300

/** Stripe events are small; anything larger is not one. */
const MAX_WEBHOOK_BYTES = 512 * 1024

/**
 * Load the webhook's dependencies. Outside stripe mode it answers 404, so
 * nothing Stripe-related is required there.
 *
 * @example
 * const deps = await loadStripeWebhookDeps(await envWithSecrets(process.env, { services: ['STRIPE_WEBHOOK_SECRET', 'STRIPE_API_KEY'] }), logger)
 */
export async function loadStripeWebhookDeps(env: Env, logger: Logger): Promise<StripeWebhookDeps | undefined> {
  const billing = loadBillingConfig(env)
  if (billing.stripe === undefined) return undefined
  const webhookSecret = readEnv(env, 'STRIPE_WEBHOOK_SECRET')
  if (webhookSecret === undefined || !/^whsec_[A-Za-z0-9+/=_-]{8,}$/.test(webhookSecret)) {
    throw new ConfigError(
      'STRIPE_WEBHOOK_SECRET',
      "the endpoint's signing secret (whsec_...); deployments fetch it with STRIPE_WEBHOOK_SECRET_SSM_PARAMETER"
    )
  }
  const store = keyStoreFromEnv(env, logger)
  if (store === undefined) throw new ConfigError('KEYS_TABLE', 'set to the key table name (the webhook revokes keys there)')
  return {
    stripe: await createStripeClient(billing.stripe),
    webhookSecret,
    allowedStatuses: billing.stripe.allowedStatuses,
    store,
    nowSeconds: () => Date.now() / 1000,
    logger
  }
}

/** The customer id of a subscription object, expanded or not. */
function customerOf(subscription: Stripe.Subscription): string {
  return typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id
}

/**
 * `POST /webhooks/stripe`: Stripe tells us a subscription ended or changed.
 * The `Stripe-Signature` header is checked with the SDK's
 * `webhooks.constructEvent` (300 s tolerance); a bad or missing one is a 400
 * and the payload is never logged. On `customer.subscription.deleted`, or an
 * update to a status outside `STRIPE_ALLOWED_STATUSES`, the customer's
 * subscriptions are read fresh from Stripe; when none is allowed any more,
 * every key of that customer is revoked exactly as `DELETE /keys` does.
 * Redelivery is harmless (the revoke-all instant only moves forward); other
 * event types answer 200 and are ignored.
 *
 * @example
 * const response = await handleStripeWebhook(deps, event) // 200 { received: true }
 */
export async function handleStripeWebhook(
  deps: StripeWebhookDeps | undefined,
  event: APIGatewayProxyEventV2
): Promise<APIGatewayProxyStructuredResultV2> {
  if (deps === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', 'Stripe webhooks are not enabled here (APP_PAYMENT_PROVIDER is not stripe)')
  const signature = headerValue(event.headers, 'stripe-signature')
  if (signature === undefined) throw new HttpError(400, 'ERR_BAD_SIGNATURE', 'Missing Stripe-Signature header')
  const body = event.body ?? ''
  if (body.length > MAX_WEBHOOK_BYTES * 2) throw new HttpError(413, 'ERR_BODY_TOO_LARGE', 'Webhook payload too large')
  // The signature covers the exact bytes Stripe sent.
  const payload = event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8')
  let stripeEvent: Stripe.Event
  try {
    stripeEvent = deps.stripe.webhooks.constructEvent(payload, signature, deps.webhookSecret, WEBHOOK_TOLERANCE_SECONDS)
  } catch {
    throw new HttpError(400, 'ERR_BAD_SIGNATURE', 'Invalid Stripe-Signature: not signed with this endpoint secret, or too old')
  }
  const ends =
    stripeEvent.type === 'customer.subscription.deleted' ||
    (stripeEvent.type === 'customer.subscription.updated' && !deps.allowedStatuses.includes(stripeEvent.data.object.status))
  if (!ends) {
    deps.logger.info('stripe event ignored', { eventId: stripeEvent.id, type: stripeEvent.type })
    return jsonResponse(200, { received: true })
  }
  const subscription = stripeEvent.data.object as Stripe.Subscription
  const customerId = customerOf(subscription)
  const remaining = await allowedSubscription(deps.stripe, customerId, deps.allowedStatuses)
  if (remaining !== undefined) {
    deps.logger.info('subscription ended, another still entitles the customer', {
      eventId: stripeEvent.id,
      type: stripeEvent.type,
      orgId: customerId,
      subscriptionId: subscription.id,
      remaining: remaining.subscriptionId
    })
    return jsonResponse(200, { received: true })
  }
  await deps.store.revokeAllKeys(customerId, Math.floor(deps.nowSeconds()) + 1)
  deps.logger.info('keys revoked: no allowed subscription left', {
    eventId: stripeEvent.id,
    type: stripeEvent.type,
    orgId: customerId,
    subscriptionId: subscription.id,
    status: subscription.status
  })
  return jsonResponse(200, { received: true, revoked: true })
}
