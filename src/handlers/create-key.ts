import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { billingSecrets } from '../lib/billing/billing-config'
import { httpErrorsMiddleware } from '../lib/http/http-errors-middleware'
import { envWithSecrets } from '../lib/keys/secret-sources'
import { createKey, createKeyDepsFromEnv } from '../lib/portal/create-key'
import { configMiddleware } from '../lib/runtime/config-middleware'
import { Logger } from '../lib/runtime/logger'

const logger = new Logger({ service: 'create-key' })

/** `POST /create-key`: the Moesif Developer Portal's Keys page calls this with the user's ID token. */
const config = configMiddleware({
  load: async (env) => createKeyDepsFromEnv(await envWithSecrets(env, { keys: 'sign', services: billingSecrets(env) }), logger)
})

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  .use(config)
  .handler(async (event, context) => {
    logger.setPersistentKeys({ requestId: context.awsRequestId })
    return createKey(config.current(), event)
  })
