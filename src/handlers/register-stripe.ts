import { registerStripeCheckout } from '../lib/portal/register-stripe'
import { portalApiHandler } from './shared/portal-api-handler'

/** `POST /register/stripe/{checkout_session_id}`: the Return page registers a completed checkout of its own (stripe mode). */
export const handler = portalApiHandler('registerStripe', registerStripeCheckout)
