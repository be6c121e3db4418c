import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { httpErrorsMiddleware } from '../lib/http/http-errors-middleware'
import { envWithSecrets } from '../lib/keys/secret-sources'
import { portalRouteSecrets } from '../lib/portal/portal-api-config'
import { loadPlansDeps } from '../lib/portal/portal-api-deps'
import { listPlans } from '../lib/portal/plans'
import { configMiddleware } from '../lib/runtime/config-middleware'
import { Logger } from '../lib/runtime/logger'

const logger = new Logger({ service: 'plans' })

const config = configMiddleware({ load: async (env) => loadPlansDeps(await envWithSecrets(env, { services: portalRouteSecrets('plans', env) })) })

/** `GET /plans`: Moesif's billing catalog for the portal's Home, Plans and Subscription pages. Open. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  .use(config)
  .handler(async (_event, context) => {
    logger.setPersistentKeys({ requestId: context.awsRequestId })
    return listPlans(config.current())
  })
