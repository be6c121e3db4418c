import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { configFrom, configMiddleware } from '../lib/runtime/config-middleware'
import { createKey, createKeyDepsFromEnv, type CreateKeyDeps } from '../lib/portal/create-key'
import { httpErrorsMiddleware } from '../lib/http/http-errors-middleware'
import { Logger } from '../lib/runtime/logger'
import { envWithFetchedSecrets, secretSourcesMiddleware } from '../lib/keys/secret-sources'

const logger = new Logger({ service: 'create-key' })

/** `POST /create-key`: the Moesif Developer Portal's Keys page calls this with the user's ID token. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  .use(secretSourcesMiddleware(process.env, 'sign'))
  .use(configMiddleware({ load: (env, context) => createKeyDepsFromEnv(envWithFetchedSecrets(env, context), logger) }))
  .handler(async (event, context) => {
    logger.setPersistentKeys({ requestId: context.awsRequestId })
    return createKey(configFrom<CreateKeyDeps>(context), event)
  })
