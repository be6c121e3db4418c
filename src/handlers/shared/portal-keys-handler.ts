import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { billingSecrets } from '../../lib/billing/billing-config'
import { envWithSecrets } from '../../lib/keys/secret-sources'
import { httpErrorsMiddleware } from '../../lib/http/http-errors-middleware'
import { loadPortalKeysDeps, type PortalKeysDeps } from '../../lib/portal/portal-keys'
import { configMiddleware } from '../../lib/runtime/config-middleware'
import { Logger } from '../../lib/runtime/logger'

type PortalKeysCore = (deps: PortalKeysDeps, event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>

/**
 * Wrap one of the portal's key-management cores (`listKeys`, `revokeKey`,
 * `revokeAllKeys`) as a deployable handler: config once per cold start, then
 * JSON errors.
 *
 * @example
 * export const handler = portalKeysHandler('list-keys', listKeys)
 */
export function portalKeysHandler(service: string, core: PortalKeysCore) {
  const logger = new Logger({ service })
  const config = configMiddleware({ load: async (env) => loadPortalKeysDeps(await envWithSecrets(env, { services: billingSecrets(env) })) })
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(httpErrorsMiddleware(logger))
    .use(config)
    .handler(async (event, context) => {
      logger.setPersistentKeys({ requestId: context.awsRequestId })
      return core(config.current(), event)
    })
}
