import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { envWithSecrets } from '../../lib/keys/secret-sources'
import { httpErrorsMiddleware } from '../../lib/http/http-errors-middleware'
import { portalRouteSecrets, type PortalRoute } from '../../lib/portal/portal-api-config'
import { loadPortalApiDeps, type PortalApiDeps } from '../../lib/portal/portal-api-deps'
import { configMiddleware } from '../../lib/runtime/config-middleware'
import { Logger } from '../../lib/runtime/logger'

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
  const logger = new Logger({ service: route })
  const config = configMiddleware({
    load: async (env) => loadPortalApiDeps(await envWithSecrets(env, { services: portalRouteSecrets(route, env) }), logger)
  })
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(httpErrorsMiddleware(logger))
    .use(config)
    .handler(async (event, context) => {
      logger.setPersistentKeys({ requestId: context.awsRequestId })
      return core(config.current(), event)
    })
}
