import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { loadApiKeyConfig, type ApiKeyConfig } from '../lib/api-key-config'
import { configMiddleware, type ContextWithConfig } from '../lib/config-middleware'
import { createKey } from '../lib/create-key'
import { httpErrorsMiddleware } from '../lib/http-errors-middleware'
import { Logger } from '../lib/logger'
import { loadPortalConfig } from '../lib/portal-config'
import { createPortalTokenVerifier, type PortalTokenVerifier } from '../lib/portal-identity'

const logger = new Logger({ service: 'create-key' })

interface CreateKeyConfig {
  apiKeys: ApiKeyConfig
  verifyPortalToken: PortalTokenVerifier
}

/** `POST /create-key`: the Moesif Developer Portal's Keys page calls this with the user's ID token. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, ContextWithConfig<CreateKeyConfig>>()
  .use(httpErrorsMiddleware(logger))
  .use(
    configMiddleware({
      load: (env) => ({ apiKeys: loadApiKeyConfig(env, 'sign'), verifyPortalToken: createPortalTokenVerifier(loadPortalConfig(env)) })
    })
  )
  .handler(async (event, context) => {
    logger.setPersistentKeys({ requestId: context.awsRequestId })
    const response = await createKey({ ...context.config, nowSeconds: () => Date.now() / 1000 }, event)
    logger.info('key issued', { status: response.statusCode })
    return response
  })
