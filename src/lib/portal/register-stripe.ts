import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import type Stripe from 'stripe'
import { stripeCall } from '../billing/stripe-client'
import { jsonResponse } from '../http/http-response'
import { HttpError } from '../runtime/errors'
import { requireStripe, type PortalApiDeps } from './portal-api-deps'
import { portalCaller } from './portal-caller'
import { notYourSession, stripeCustomerOf } from './portal-customer'

/** What `POST /register/stripe/{id}` answers: what the portal's Return page reads, and nothing secret (no `client_secret`). */
export interface CheckoutRegistration {
  readonly id: string
  /** Stripe's session status: `open`, `complete` or `expired`. */
  readonly status: string
  /** The address the receipt goes to: Stripe's, else the caller's. */
  readonly customer_email: string
}

const SESSION_ID = /^cs_(test|live)_[A-Za-z0-9]{1,255}$/

/** Stripe's 404 as a value: the session does not exist (in this account). */
const missingAsUndefined = (error: unknown): undefined => {
  if ((error as { statusCode?: unknown } | null)?.statusCode === 404) return undefined
  throw error
}

const idOf = (value: string | { id: string } | null | undefined): string | undefined => (typeof value === 'string' ? value : value?.id)

/**
 * `POST /register/stripe/{checkout_session_id}`: the portal's Return page
 * after Stripe Checkout. The session must belong to the caller's customer
 * (403 `ERR_SESSION_NOT_YOURS` otherwise, and when the caller has no customer
 * at all). When it is `complete` with a subscription, the Moesif company and
 * user are updated (both the customer id; the email in the user's metadata;
 * awaited, bounded by `MOESIF_MAX_WAIT_MS`) and the registration is recorded
 * in the key table, once: a second call changes nothing and answers the same.
 * An `open` or `expired` session is answered as is and recorded nowhere.
 * Answers 201 `{ id, status, customer_email }`.
 *
 * @example
 * const response = await registerStripeCheckout(deps, event) // 201 { id: 'cs_test_...', status: 'complete', customer_email: 'alice@acme.test' }
 */
export async function registerStripeCheckout(deps: PortalApiDeps, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const caller = await portalCaller(deps.verifyPortalToken, event)
  const stripe = requireStripe(deps)
  const sessionId = event.pathParameters?.checkout_session_id ?? ''
  if (!SESSION_ID.test(sessionId)) throw new HttpError(400, 'ERR_BAD_SESSION_ID', 'checkout_session_id must be a Stripe Checkout Session id (cs_...)')
  const customerId = await stripeCustomerOf(deps, caller)
  if (customerId === undefined) throw notYourSession()

  const registered = await deps.records?.stripeRegistration(sessionId)
  if (registered !== undefined) {
    if (registered.customerId !== customerId) throw notYourSession()
    return answer({ id: sessionId, status: registered.status, customer_email: registered.customerEmail })
  }

  const session = await stripeCall('checkout.sessions.retrieve', () =>
    stripe.checkout.sessions.retrieve(sessionId, { expand: ['subscription'] }).catch(missingAsUndefined)
  )
  if (session === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', 'No such checkout session')
  if (idOf(session.customer) !== customerId) throw notYourSession()
  const customerEmail = session.customer_email ?? session.customer_details?.email ?? caller.email
  const subscription = session.subscription
  if (session.status === 'complete' && subscription !== null) {
    await deps.updateProfiles({
      companyId: customerId,
      userId: customerId,
      email: customerEmail,
      portalUserId: caller.userId,
      plan: typeof subscription === 'string' ? { subscriptionId: subscription, priceIds: [], productIds: [] } : planOf(subscription)
    })
    if (deps.records !== undefined) {
      await deps.records.recordStripeRegistration({
        sessionId,
        customerId,
        subscriptionId: idOf(subscription) ?? '',
        status: session.status,
        customerEmail,
        registeredAt: new Date(deps.nowMs()).toISOString()
      })
    }
    deps.logger.info('checkout registered', { orgId: customerId, userId: caller.userId, sessionId, subscriptionId: idOf(subscription) })
  }
  return answer({ id: sessionId, status: session.status ?? 'open', customer_email: customerEmail })
}

function planOf(subscription: Stripe.Subscription): { subscriptionId: string; priceIds: string[]; productIds: string[] } {
  const prices = subscription.items.data.map((item) => item.price)
  return { subscriptionId: subscription.id, priceIds: prices.map((price) => price.id), productIds: prices.map((price) => idOf(price.product) ?? '') }
}

const answer = (registration: CheckoutRegistration): APIGatewayProxyStructuredResultV2 => jsonResponse(201, registration)
