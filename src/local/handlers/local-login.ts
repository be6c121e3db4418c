import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { configFrom, configMiddleware } from '../../lib/runtime/config-middleware'
import { httpErrorsMiddleware } from '../../lib/http/http-errors-middleware'
import { Logger } from '../../lib/runtime/logger'
import { loadLocalLoginDeps, localLogin, type LocalLoginDeps } from '../local-login'

const logger = new Logger({ service: 'local-login' })

/** Local stage only (config/local-functions.cjs): `POST /local/login` mints a dev user's ID token with the local identity provider. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  .use(configMiddleware({ load: loadLocalLoginDeps }))
  .handler(async (event, context) => {
    logger.setPersistentKeys({ requestId: context.awsRequestId })
    return localLogin(configFrom<LocalLoginDeps>(context), event)
  })
