import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { stripeCall } from '../billing/stripe-client'
import { jsonResponse } from '../http/http-response'
import { HttpError } from '../runtime/errors'
import { requireStripe, type PortalApiDeps } from './portal-api-deps'
import { portalCaller } from './portal-caller'
import { stripeCustomerOf } from './portal-customer'

const noCustomer = (): HttpError => new HttpError(404, 'ERR_NO_CUSTOMER', 'No Stripe customer for this login yet: subscribe to a plan first')

/**
 * `GET /stripe/customer`: the caller's Stripe customer object, as Stripe
 * answers it (the portal hands it to Moesif's browser `identifyUser`), or
 * 404 `ERR_NO_CUSTOMER`. A `?email=` parameter is ignored.
 *
 * @example
 * const response = await getStripeCustomer(deps, event) // 200 { id: 'cus_...', object: 'customer', email, ... }
 */
export async function getStripeCustomer(deps: PortalApiDeps, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const caller = await portalCaller(deps.verifyPortalToken, event)
  const stripe = requireStripe(deps)
  const customerId = await stripeCustomerOf(deps, caller)
  if (customerId === undefined) throw noCustomer()
  const customer = await stripeCall('customers.retrieve', () =>
    stripe.customers.retrieve(customerId).catch((error: unknown) => {
      if ((error as { statusCode?: unknown } | null)?.statusCode === 404) return undefined
      throw error
    })
  )
  if (customer === undefined || customer.deleted === true) throw noCustomer()
  // The SDK's own additions (lastResponse) are not Stripe's answer.
  const { lastResponse: _lastResponse, ...body } = customer as typeof customer & { lastResponse?: unknown }
  return jsonResponse(200, body)
}
