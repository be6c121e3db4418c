import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { envWithSecrets } from '../../lib/keys/secret-sources'
import { portalRouteSecrets, type PortalRoute } from '../../lib/portal/portal-api-config'
import { loadPortalApiDeps, type PortalApiDeps } from '../../lib/portal/portal-api-deps'
import { httpHandler } from './http-handler'

type PortalApiCore = (deps: PortalApiDeps, event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>

/**
 * Wrap one of the Moesif portal's authenticated routes as a deployable
 * handler: the route's secrets and config once per cold start, then JSON
 * errors. The service name is the route's function name.
 *
 * @example
 * export const handler = portalApiHandler('subscriptions', listSubscriptions)
 */
export function portalApiHandler(route: PortalRoute, core: PortalApiCore) {
  return httpHandler(
    route,
    async (env, logger) => loadPortalApiDeps(await envWithSecrets(env, { services: portalRouteSecrets(route, env) }), logger),
    core
  )
}
