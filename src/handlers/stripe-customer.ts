import { getStripeCustomer } from '../lib/portal/stripe-customer'
import { portalApiHandler } from './shared/portal-api-handler'

/** `GET /stripe/customer`: the caller's Stripe customer (stripe mode). */
export const handler = portalApiHandler('stripeCustomer', getStripeCustomer)
