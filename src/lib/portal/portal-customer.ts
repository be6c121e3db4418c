import { createHash } from 'node:crypto'
import { billingEmail } from '../billing/billing'
import { stripeCall, type StripeClient } from '../billing/stripe-client'
import { HttpError } from '../runtime/errors'
import type { PortalApiDeps } from './portal-api-deps'
import type { PortalCaller } from './portal-caller'

/**
 * The caller's Stripe customer: billing's resolver (Stripe's search, then
 * its list, then the customer the portal remembered making for this email
 * in the key table), or `undefined` when there is none. The email must not
 * be marked unverified (403), since it is what finds the customer.
 *
 * @example
 * const customerId = await stripeCustomerOf(deps, caller) // 'cus_...' or undefined
 */
export async function stripeCustomerOf(deps: Pick<PortalApiDeps, 'billing'>, caller: PortalCaller): Promise<string | undefined> {
  return deps.billing.companyOf(caller)
}

/**
 * Stripe's idempotency key for "the customer of this login, this hour": a
 * retry, or a concurrent first checkout, gets the same customer back. The
 * hour bounds how long a customer deleted in Stripe keeps being replayed
 * (Stripe keeps keys for 24 hours).
 */
function customerIdempotencyKey(caller: PortalCaller, nowMs: number): string {
  const hour = Math.floor(nowMs / 3_600_000)
  return `dev-portal-keys-customer-${createHash('sha256').update(`${caller.email}\n${caller.userId}\n${hour}`).digest('base64url')}`
}

/**
 * The caller's Stripe customer, made if there is none yet: `customers.create`
 * with the ID token's `email` and `metadata.authUserId` = `sub`, as the
 * reference portal does, but with an idempotency key (a retried or
 * concurrent request gets the same customer) and remembered in the key table
 * by email for an hour, so Stripe's search lag can never make a second one.
 * When two requests race past all that, the first remembered customer wins.
 *
 * @example
 * const customerId = await stripeCustomerForCheckout(deps, stripe, caller)
 */
export async function stripeCustomerForCheckout(
  deps: Pick<PortalApiDeps, 'billing' | 'records' | 'logger' | 'nowMs'>,
  stripe: StripeClient,
  caller: PortalCaller
): Promise<string> {
  const found = await stripeCustomerOf(deps, caller)
  if (found !== undefined) return found
  const email = billingEmail(caller)
  const created = await stripeCall('customers.create', () =>
    stripe.customers.create({ email, metadata: { authUserId: caller.userId } }, { idempotencyKey: customerIdempotencyKey(caller, deps.nowMs()) })
  )
  const kept = deps.records === undefined ? created.id : await deps.records.rememberCustomer(email, created.id)
  deps.logger.info('stripe customer created for a portal user', {
    orgId: kept,
    userId: caller.userId,
    ...(kept === created.id ? {} : { unused: created.id })
  })
  return kept
}

/**
 * The id the caller's analytics carry in Moesif (the user the dashboards
 * filter on and whose company holds the subscriptions): the Stripe customer
 * in stripe mode (`undefined` when there is none yet), the ID token's `sub`
 * otherwise, as the reference portal's `getUnifiedCustomerId`.
 *
 * @example
 * await moesifUserOf(deps, caller) // 'cus_...' in stripe mode, 'auth0|alice' otherwise
 */
export async function moesifUserOf(deps: Pick<PortalApiDeps, 'billing'>, caller: PortalCaller): Promise<string | undefined> {
  return deps.billing.provider === 'stripe' ? stripeCustomerOf(deps, caller) : caller.userId
}

/**
 * The 403 for a checkout session that is not the caller's (or a caller with no customer at all).
 *
 * @example
 * throw notYourSession()
 */
export function notYourSession(): HttpError {
  return new HttpError(403, 'ERR_SESSION_NOT_YOURS', 'This checkout session belongs to another customer')
}
