import middy from '@middy/core'
import type { APIGatewayProxyEventV2WithLambdaAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { httpErrorsMiddleware } from '../lib/http/http-errors-middleware'
import { Logger } from '../lib/runtime/logger'
import { moesifSettingsFromEnv, withMoesif } from '../lib/moesif/moesif'
import { whoami } from '../lib/api/whoami'

const logger = new Logger({ service: 'whoami' })

/** `GET /v1/whoami`: the sample protected API. Moesif is outermost, middy inside. */
export const handler = withMoesif(
  middy<APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown>>, APIGatewayProxyStructuredResultV2>()
    .use(httpErrorsMiddleware(logger))
    .handler(async (event) => whoami(event)),
  moesifSettingsFromEnv(),
  logger
)
