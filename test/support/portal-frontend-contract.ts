/**
 * What the unchanged Moesif Developer Portal frontend reads from each of its
 * backend's answers (../shared/moesif-portal-contract.md, section 2): every
 * field it reads must be present and of the type it uses. The OpenAPI check
 * (openapi-contract.ts) says an answer matches our document; these say it
 * works for that frontend.
 */
import { expect } from 'vitest'

type Json = Record<string, unknown>

const decimal = expect.toSatisfy((value: unknown) => typeof value === 'string' || typeof value === 'number', 'a decimal')

/**
 * `GET /plans` (usePlans.js, MoesifPlans.jsx, PriceTile.jsx): `hits[]`, each plan's `id`, `name`, `status`
 * and `prices[]`; each price's `id`, `price_in_decimal` (cents), `period_units`, `pricing_model`, and for a
 * tiered one `tiers[]` with `up_to`, `unit_price_in_decimal`, `flat_price_in_decimal`.
 *
 * @example
 * expectPlansForFrontend(await response.json())
 */
export function expectPlansForFrontend(body: unknown): Json[] {
  expect(body).toEqual({ hits: expect.any(Array) })
  const plans = (body as { hits: Json[] }).hits
  for (const plan of plans) {
    expect(plan).toEqual(
      expect.objectContaining({ id: expect.any(String), name: expect.any(String), status: expect.any(String), prices: expect.any(Array) })
    )
    for (const price of plan.prices as Json[]) {
      expect(price).toEqual(
        expect.objectContaining({
          id: expect.any(String),
          price_in_decimal: decimal,
          period_units: expect.any(String),
          pricing_model: expect.any(String)
        })
      )
      if (price.tiers !== undefined) {
        for (const tier of price.tiers as Json[]) {
          expect(tier).toEqual({
            up_to: expect.toSatisfy((value: unknown) => typeof value === 'number' || value === 'inf', 'a number or "inf"'),
            unit_price_in_decimal: decimal,
            flat_price_in_decimal: decimal
          })
        }
      }
    }
  }
  return plans
}

/**
 * Whether the frontend treats a price as metered (MoesifPlans.jsx:19-30): it then sends no `quantity`.
 *
 * @example
 * frontendSeesMetered(price) // true for a price with usage_aggregator
 */
export function frontendSeesMetered(price: Json): boolean {
  return price.usage_type === 'metered' || Boolean(price.price_meter) || Boolean(price.usage_aggregator)
}

/**
 * `POST /create-stripe-checkout-session` (StripeCheckoutForm.jsx): `clientSecret`, a Checkout client secret.
 *
 * @example
 * expectCheckoutForFrontend(await response.json())
 */
export function expectCheckoutForFrontend(body: unknown): string {
  expect(body).toEqual({ clientSecret: expect.stringMatching(/^cs_(test|live)_[A-Za-z0-9]+_secret_[A-Za-z0-9]+$/) })
  return (body as { clientSecret: string }).clientSecret
}

/**
 * `POST /register/stripe/{id}` (Return.jsx): `status` (`open`, `complete`, `expired`) and `customer_email`, and
 * never the session's `client_secret`.
 *
 * @example
 * expectRegistrationForFrontend(await response.json())
 */
export function expectRegistrationForFrontend(body: unknown): { status: string; customer_email: string } {
  expect(body).toEqual(expect.objectContaining({ status: expect.stringMatching(/^(open|complete|expired)$/), customer_email: expect.any(String) }))
  expect(JSON.stringify(body)).not.toMatch(/_secret_/)
  return body as { status: string; customer_email: string }
}

/**
 * `GET /subscriptions` (Subscription.jsx, SubDisplay.jsx): an array; each `subscription_id`, `status`,
 * `current_period_start`, `current_period_end` (dates) and `items[]` with `plan_id` and `price_id`.
 *
 * @example
 * expectSubscriptionsForFrontend(await response.json())
 */
export function expectSubscriptionsForFrontend(body: unknown): Json[] {
  expect(body).toEqual(expect.any(Array))
  for (const subscription of body as Json[]) {
    expect(subscription).toEqual(
      expect.objectContaining({
        subscription_id: expect.any(String),
        status: expect.any(String),
        current_period_start: expect.toSatisfy((value: unknown) => typeof value === 'string' && !Number.isNaN(Date.parse(value)), 'a date'),
        current_period_end: expect.toSatisfy((value: unknown) => typeof value === 'string' && !Number.isNaN(Date.parse(value)), 'a date'),
        items: expect.any(Array)
      })
    )
    for (const item of subscription.items as Json[])
      expect(item).toEqual(expect.objectContaining({ plan_id: expect.any(String), price_id: expect.any(String) }))
  }
  return body as Json[]
}

/**
 * `GET /embed-charts/{id}` (fetchEmbedChartUrls.jsx): exactly two elements, each `_id` and `token` (strings).
 *
 * @example
 * expectEmbedTokensForFrontend(await response.json())
 */
export function expectEmbedTokensForFrontend(body: unknown): Array<{ _id: string; token: string }> {
  expect(body).toEqual([
    expect.objectContaining({ _id: expect.any(String), token: expect.any(String) }),
    expect.objectContaining({ _id: expect.any(String), token: expect.any(String) })
  ])
  return body as Array<{ _id: string; token: string }>
}

/**
 * `GET /stripe/customer` (common/utils.js): the customer's `id`, then the whole object.
 *
 * @example
 * expectStripeCustomerForFrontend(await response.json())
 */
export function expectStripeCustomerForFrontend(body: unknown): Json {
  expect(body).toEqual(expect.objectContaining({ id: expect.stringMatching(/^cus_/), object: 'customer' }))
  return body as Json
}

/**
 * Every error the frontend may read: JSON `{ message, code, requestId }` (Return.jsx parses error bodies as JSON).
 *
 * @example
 * expectJsonError(await response.json(), 'ERR_SESSION_NOT_YOURS')
 */
export function expectJsonError(body: unknown, code?: string): void {
  expect(body).toEqual({ message: expect.any(String), code: code ?? expect.stringMatching(/^ERR_/), requestId: expect.any(String) })
}
