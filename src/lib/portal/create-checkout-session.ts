import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { stripeCall } from '../billing/stripe-client'
import { jsonResponse } from '../http/http-response'
import { HttpError } from '../runtime/errors'
import { isMeteredPrice } from './plan-catalog'
import { requireMoesif, requireStripe, type PortalApiDeps } from './portal-api-deps'
import { portalCaller } from './portal-caller'
import { stripeCustomerForCheckout } from './portal-customer'

/**
 * The Checkout `ui_mode` of an embedded form. The pinned SDK (stripe 23.1.0,
 * API version 2026-10-28.endive) calls it `embedded_page`: `embedded` was
 * renamed in 2026-03-25.dahlia. The portal frontend's
 * `EmbeddedCheckoutProvider` only needs the session's `client_secret`, which
 * either name gives.
 */
export const EMBEDDED_UI_MODE = 'embedded_page'

const PRICE_ID = /^[A-Za-z0-9_-]{1,255}$/

/** `price_id` and `quantity` from the query string (`email` is ignored: who pays comes from the ID token). */
function checkoutQuery(event: Pick<APIGatewayProxyEventV2, 'queryStringParameters'>): { priceId: string; quantity: number | undefined } {
  const query = event.queryStringParameters ?? {}
  const priceId = query.price_id ?? ''
  if (priceId === '') throw new HttpError(400, 'ERR_BAD_QUERY', 'price_id is required')
  if (!PRICE_ID.test(priceId)) throw new HttpError(400, 'ERR_BAD_PRICE', 'price_id must be the id of a price of GET /plans')
  const raw = query.quantity ?? ''
  if (raw === '') return { priceId, quantity: undefined }
  const quantity = /^\d{1,4}$/.test(raw) ? Number(raw) : 0
  if (quantity < 1) throw new HttpError(400, 'ERR_BAD_QUERY', 'quantity must be a whole number from 1 to 9999')
  return { priceId, quantity }
}

/**
 * `POST /create-stripe-checkout-session?price_id=&quantity=`: an embedded
 * Stripe Checkout subscription session for the caller. `price_id` must be an
 * active price of an active plan of `GET /plans` (400 `ERR_BAD_PRICE`). The
 * customer is the caller's (billing's resolver), made and remembered if
 * there is none. A metered price gets no quantity; a licensed one `quantity`
 * (default 1). Stripe sends the customer back to
 * `<PORTAL_URL>/return?session_id={CHECKOUT_SESSION_ID}&price_id=<price>`.
 * Answers 200 `{ clientSecret }`.
 *
 * @example
 * const response = await createCheckoutSession(deps, event) // 200 { clientSecret: 'cs_test_..._secret_...' }
 */
export async function createCheckoutSession(deps: PortalApiDeps, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const caller = await portalCaller(deps.verifyPortalToken, event)
  const stripe = requireStripe(deps)
  const { priceId, quantity } = checkoutQuery(event)
  const found = await requireMoesif(deps.catalog).activePrice(priceId)
  if (found === undefined) throw new HttpError(400, 'ERR_BAD_PRICE', `price_id ${priceId} is not an active price of the plans for sale (GET /plans)`)
  const customer = await stripeCustomerForCheckout(deps, stripe, caller)
  const lineQuantity = isMeteredPrice(found.price) ? undefined : (quantity ?? 1)
  const returnUrl = `${deps.config.portalUrl}/return?session_id={CHECKOUT_SESSION_ID}&price_id=${encodeURIComponent(priceId)}`
  const session = await stripeCall('checkout.sessions.create', () =>
    stripe.checkout.sessions.create({
      ui_mode: EMBEDDED_UI_MODE,
      mode: 'subscription',
      customer,
      line_items: [{ price: priceId, ...(lineQuantity === undefined ? {} : { quantity: lineQuantity }) }],
      return_url: returnUrl,
      metadata: { authUserId: caller.userId }
    })
  )
  if (typeof session.client_secret !== 'string') {
    throw new HttpError(500, 'ERR_INTERNAL', 'Internal Server Error', {
      cause: new Error('Stripe answered an embedded checkout session without client_secret')
    })
  }
  deps.logger.info('checkout session created', { orgId: customer, userId: caller.userId, sessionId: session.id, priceId })
  return jsonResponse(200, { clientSecret: session.client_secret })
}
