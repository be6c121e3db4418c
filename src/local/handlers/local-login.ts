import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { configMiddleware } from '../../lib/runtime/config-middleware'
import { httpErrorsMiddleware } from '../../lib/http/http-errors-middleware'
import { Logger } from '../../lib/runtime/logger'
import { localOnly } from '../loopback-guard'
import { loadLocalLoginDeps, localLogin } from '../local-login'

const logger = new Logger({ service: 'local-login' })

/** Local stage only (config/local-functions.cjs): `POST /local/login` mints a dev user's ID token with the local identity provider. */
const config = configMiddleware({ load: loadLocalLoginDeps })

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  // Only this machine's own page and programs: see src/local/loopback-guard.ts.
  .use(localOnly())
  .use(config)
  .handler(async (event, context) => {
    logger.setPersistentKeys({ requestId: context.awsRequestId })
    return localLogin(config.current(), event)
  })
