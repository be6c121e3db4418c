import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { httpErrorsMiddleware } from '../lib/http/http-errors-middleware'
import { oktaRegister } from '../lib/portal/okta-register'
import { Logger } from '../lib/runtime/logger'

const logger = new Logger({ service: 'okta-register' })

/** `POST /okta/register`: the portal's Okta sign-up form. Not offered here: always 501 JSON. Open. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  .handler(async (_event, context) => {
    logger.setPersistentKeys({ requestId: context.awsRequestId })
    return oktaRegister()
  })
