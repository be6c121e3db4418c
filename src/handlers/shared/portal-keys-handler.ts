import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { configFrom, configMiddleware } from '../../lib/runtime/config-middleware'
import { httpErrorsMiddleware } from '../../lib/http/http-errors-middleware'
import { Logger } from '../../lib/runtime/logger'
import { loadPortalKeysDeps, type PortalKeysDeps } from '../../lib/portal/portal-keys'

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
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(httpErrorsMiddleware(logger))
    .use(configMiddleware({ load: loadPortalKeysDeps }))
    .handler(async (event, context) => {
      logger.setPersistentKeys({ requestId: context.awsRequestId })
      return core(configFrom<PortalKeysDeps>(context), event)
    })
}
