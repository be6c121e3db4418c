import middy from '@middy/core'
import type { APIGatewayProxyEventV2WithLambdaAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { httpErrorsMiddleware } from '../lib/http/http-errors-middleware'
import { Logger } from '../lib/runtime/logger'
import { moesifSettingsFromEnv } from '../lib/moesif/settings'
import { withMoesif } from '../lib/moesif/wrapper'
import { whoami } from '../lib/api/whoami'

const logger = new Logger({ service: 'whoami' })

/**
 * `GET /v1/whoami`: the sample protected API. Moesif is outermost, middy inside.
 * The MOESIF_* settings are read on the first request, so a bad value fails
 * that request (a generic 500, the variable logged) like any other handler's config.
 */
export const handler = withMoesif(
  middy<APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown>>, APIGatewayProxyStructuredResultV2>()
    .use(httpErrorsMiddleware(logger))
    .handler(async (event) => whoami(event)),
  () => moesifSettingsFromEnv(),
  logger
)
