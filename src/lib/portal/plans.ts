import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { jsonResponse } from '../http/http-response'
import { requireMoesif, type PlansDeps } from './portal-api-deps'

/**
 * `GET /plans` (open): Moesif's billing catalog as the portal's Home, Plans
 * and Subscription pages read it, `{ hits: [plan...] }`, each plan with its
 * active `prices` as Moesif sent them (`price_in_decimal` in cents, `tiers`,
 * `period_units`, `usage_aggregator`...). Cached per container for 60 s, and
 * by browsers for as long. Moesif failing is a 503 `ERR_MOESIF_UNAVAILABLE`;
 * without `MOESIF_MANAGEMENT_TOKEN`, a 404.
 *
 * @example
 * const response = await listPlans(deps) // 200 { hits: [...] }
 */
export async function listPlans(deps: PlansDeps): Promise<APIGatewayProxyStructuredResultV2> {
  const plans = await requireMoesif(deps.catalog).plans()
  return jsonResponse(200, { hits: plans }, { 'cache-control': 'public, max-age=60' })
}
