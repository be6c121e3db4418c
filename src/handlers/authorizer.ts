import middy from '@middy/core'
import { authorizeApiKey } from '../lib/authorizer/authorize-api-key'
import { allowResult, denyResult, readAuthorizerEvent, type AuthorizerEvent, type AuthorizerResult } from '../lib/authorizer/authorizer-event'
import { revocationCheckFromEnv } from '../lib/authorizer/revocation-check'
import { loadApiKeyConfig } from '../lib/keys/api-key-config'
import { envWithSecrets } from '../lib/keys/secret-sources'
import { configMiddleware } from '../lib/runtime/config-middleware'
import { Logger } from '../lib/runtime/logger'

const logger = new Logger({ service: 'authorizer' })

/**
 * API-key authorizer. HTTP API (payload 2.0, simple responses) is the main
 * mode; REST API TOKEN and REQUEST events get an IAM policy for the stage, so
 * it drops in for the reference authorizer too.
 */
// No early-timeout timer: a verification takes microseconds, and the timer would cost more than the work;
// the revocation lookup has its own bounds (src/lib/store/dynamodb-lite).
const config = configMiddleware({
  load: async (env) => ({
    apiKeys: loadApiKeyConfig(await envWithSecrets(env, 'verify'), 'verify'),
    isRevoked: revocationCheckFromEnv(env, logger)
  })
})

export const handler = middy<AuthorizerEvent, AuthorizerResult>({ timeoutEarlyInMillis: 0 })
  .use(config)
  .handler(async (event, context) => {
    const request = readAuthorizerEvent(event)
    logger.setPersistentKeys({ requestId: request.requestId ?? context.awsRequestId, api: request.kind })
    const { apiKeys, isRevoked } = config.current()
    const decision = await authorizeApiKey(request.token, { config: apiKeys, nowSeconds: Date.now() / 1000, isRevoked })
    if (!decision.valid) {
      logger.info('deny', {
        decision: 'deny',
        reason: decision.reason,
        ...('keyId' in decision ? { keyId: decision.keyId, orgId: decision.orgId } : {})
      })
      return denyResult(request)
    }
    logger.info('allow', { decision: 'allow', keyId: decision.identity.keyId, orgId: decision.identity.orgId })
    return allowResult(request, decision.identity)
  })
