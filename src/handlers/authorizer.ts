import middy from '@middy/core'
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda'
import { loadApiKeyConfig, type ApiKeyConfig } from '../lib/api-key-config'
import { authorizeApiKey, type RevocationCheck } from '../lib/authorize-api-key'
import { headerValue, tokenFromAuthorization } from '../lib/bearer-token'
import { configMiddleware, type ContextWithConfig } from '../lib/config-middleware'
import { Logger } from '../lib/logger'
import { revocationCheckFromEnv } from '../lib/revocation-check'

const logger = new Logger({ service: 'authorizer' })

type AuthorizerContext = { orgId: string; userId: string; keyId: string }
type Result = APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext> | { isAuthorized: false }
interface AuthorizerConfig {
  apiKeys: ApiKeyConfig
  isRevoked: RevocationCheck | undefined
}

/** HTTP API (payload 2.0, simple responses) Lambda authorizer for API keys. */
export const handler = middy<APIGatewayRequestAuthorizerEventV2, Result, Error, ContextWithConfig<AuthorizerConfig>>()
  .use(configMiddleware({ load: (env) => ({ apiKeys: loadApiKeyConfig(env, 'verify'), isRevoked: revocationCheckFromEnv(env, logger) }) }))
  .handler(async (event, context) => {
    logger.setPersistentKeys({ requestId: event.requestContext?.requestId ?? context.awsRequestId })
    const token = tokenFromAuthorization(headerValue(event.headers, 'authorization'))
    const { apiKeys, isRevoked } = context.config
    const decision = await authorizeApiKey(token, { config: apiKeys, nowSeconds: Date.now() / 1000, isRevoked })
    if (!decision.valid) {
      logger.info('deny', { decision: 'deny', reason: decision.reason, ...('keyId' in decision ? { keyId: decision.keyId, orgId: decision.orgId } : {}) })
      return { isAuthorized: false }
    }
    const { orgId, userId, keyId } = decision.identity
    logger.info('allow', { decision: 'allow', keyId, orgId })
    return { isAuthorized: true, context: { orgId, userId, keyId } }
  })
