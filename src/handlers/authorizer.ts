import middy from '@middy/core'
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda'
import { loadApiKeyConfig, type ApiKeyConfig } from '../lib/api-key-config'
import { authorizeApiKey } from '../lib/authorize-api-key'
import { headerValue, tokenFromAuthorization } from '../lib/bearer-token'
import { configMiddleware, type ContextWithConfig } from '../lib/config-middleware'
import { Logger } from '../lib/logger'

const logger = new Logger({ service: 'authorizer' })

type AuthorizerContext = { orgId: string; userId: string; keyId: string }
type Result = APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext> | { isAuthorized: false }

/** HTTP API (payload 2.0, simple responses) Lambda authorizer for API keys. */
export const handler = middy<APIGatewayRequestAuthorizerEventV2, Result, Error, ContextWithConfig<ApiKeyConfig>>()
  .use(configMiddleware({ load: (env) => loadApiKeyConfig(env, 'verify') }))
  .handler(async (event, context) => {
    logger.setPersistentKeys({ requestId: event.requestContext?.requestId ?? context.awsRequestId })
    const token = tokenFromAuthorization(headerValue(event.headers, 'authorization'))
    const decision = await authorizeApiKey(token, { config: context.config, nowSeconds: Date.now() / 1000 })
    if (!decision.valid) {
      logger.info('deny', { decision: 'deny', reason: decision.reason })
      return { isAuthorized: false }
    }
    const { orgId, userId, keyId } = decision.identity
    logger.info('allow', { decision: 'allow', keyId, orgId })
    return { isAuthorized: true, context: { orgId, userId, keyId } }
  })
