import { createCheckoutSession } from '../lib/portal/create-checkout-session'
import { portalApiHandler } from './shared/portal-api-handler'

/** `POST /create-stripe-checkout-session?price_id=&quantity=`: an embedded Stripe Checkout session for the caller (stripe mode). */
export const handler = portalApiHandler('createCheckoutSession', createCheckoutSession)
