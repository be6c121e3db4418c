import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { jsonResponse } from '../http/http-response'
import type { MoesifObject } from './moesif-management'
import { requireMoesif, type PortalApiDeps } from './portal-api-deps'
import { portalCaller } from './portal-caller'
import { moesifUserOf } from './portal-customer'

/** One item of a subscription: the Moesif plan and price it is for (joined with `GET /plans` by the portal). */
export interface PortalSubscriptionItem extends MoesifObject {
  readonly plan_id: string
  readonly price_id: string
}

/** A subscription as the portal's Subscription page reads it; Moesif's other fields pass through. */
export interface PortalSubscription extends MoesifObject {
  readonly subscription_id: string
  readonly status: string | null
  readonly current_period_start: string | null
  readonly current_period_end: string | null
  readonly items: readonly PortalSubscriptionItem[]
}

const isObject = (value: unknown): value is MoesifObject => typeof value === 'object' && value !== null && !Array.isArray(value)
const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null)

/**
 * The subscriptions of a Moesif user's company (`company.subscriptions`),
 * each with the fields the portal reads present and typed: entries without a
 * `subscription_id`, and items without `plan_id` and `price_id`, are left
 * out. No user, no company or no subscriptions is `[]`.
 *
 * @example
 * portalSubscriptions({ company: { subscriptions: [{ subscription_id: 'sub_1', status: 'active', items: [{ plan_id: 'prod_basic', price_id: 'price_basic' }] }] } })
 */
export function portalSubscriptions(user: MoesifObject | undefined): PortalSubscription[] {
  const company = user?.company
  const subscriptions = isObject(company) && Array.isArray(company.subscriptions) ? company.subscriptions : []
  return subscriptions.flatMap((subscription): PortalSubscription[] => {
    if (!isObject(subscription) || typeof subscription.subscription_id !== 'string') return []
    const items = (Array.isArray(subscription.items) ? subscription.items : []).filter(
      (item): item is PortalSubscriptionItem => isObject(item) && typeof item.plan_id === 'string' && typeof item.price_id === 'string'
    )
    return [
      {
        ...subscription,
        subscription_id: subscription.subscription_id,
        status: stringOrNull(subscription.status),
        current_period_start: stringOrNull(subscription.current_period_start),
        current_period_end: stringOrNull(subscription.current_period_end),
        items
      }
    ]
  })
}

/**
 * `GET /subscriptions?email=`: the caller's company's subscriptions, from
 * Moesif (`GET /v1/search/~/users/<id>`, the user being the Stripe customer
 * in stripe mode and the ID token's `sub` otherwise). `[]` when the caller
 * has no customer yet or Moesif knows no such user. The `email` parameter is
 * optional and ignored: who asks comes from the ID token.
 *
 * @example
 * const response = await listSubscriptions(deps, event) // 200 [{ subscription_id, status, current_period_start, current_period_end, items }]
 */
export async function listSubscriptions(deps: PortalApiDeps, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const caller = await portalCaller(deps.verifyPortalToken, event)
  const moesif = requireMoesif(deps.moesif)
  const userId = await moesifUserOf(deps, caller)
  if (userId === undefined) return jsonResponse(200, [])
  return jsonResponse(200, portalSubscriptions(await moesif.user(userId)))
}
