import middy from '@middy/core'
import type { Context } from 'aws-lambda'
import { authorizeApiKey, type AuthorizationDecision } from '../lib/authorizer/authorize-api-key'
import {
  allowResult,
  denyResult,
  readAuthorizerEvent,
  type AuthorizerEvent,
  type AuthorizerRequest,
  type AuthorizerResult
} from '../lib/authorizer/authorizer-event'
import { readAllowSampleRate, sampled } from '../lib/authorizer/decision-log'
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
 *
 * Every deny is logged with its reason; allows are logged for a share
 * `LOG_ALLOW_SAMPLE_RATE` of calls (src/lib/authorizer/decision-log.ts).
 */
// No early-timeout timer: a verification takes microseconds, and the timer would cost more than the work;
// the revocation lookup has its own bounds (src/lib/store/dynamodb-lite).
const config = configMiddleware({
  load: async (env) => ({
    apiKeys: loadApiKeyConfig(await envWithSecrets(env, 'verify'), 'verify'),
    isRevoked: await revocationCheckFromEnv(env, logger),
    allowSampleRate: readAllowSampleRate(env)
  })
})

/** Every line about this request carries its id and API type; set just before anything may write one. */
function logRequest(request: AuthorizerRequest, context: Context): void {
  logger.setPersistentKeys({ requestId: request.requestId ?? context.awsRequestId, api: request.kind })
}

/** The answer for a decision, logged: every deny, a sampled share of allows. */
function answer(
  request: AuthorizerRequest,
  context: Context,
  decision: AuthorizationDecision,
  allowSampleRate: number,
  keysSet: boolean
): AuthorizerResult {
  if (!decision.valid) {
    if (!keysSet) logRequest(request, context)
    logger.info('deny', {
      decision: 'deny',
      reason: decision.reason,
      ...('keyId' in decision ? { keyId: decision.keyId, orgId: decision.orgId } : {})
    })
    return denyResult(request)
  }
  if (sampled(allowSampleRate)) {
    if (!keysSet) logRequest(request, context)
    logger.info('allow', { decision: 'allow', keyId: decision.identity.keyId, orgId: decision.identity.orgId })
  }
  return allowResult(request, decision.identity)
}

export const handler = middy<AuthorizerEvent, AuthorizerResult>({ timeoutEarlyInMillis: 0 })
  .use(config)
  .handler((event, context) => {
    const request = readAuthorizerEvent(event)
    const { apiKeys, isRevoked, allowSampleRate } = config.current()
    const decision = authorizeApiKey(request.token, { config: apiKeys, nowSeconds: Date.now() / 1000, isRevoked })
    if (decision instanceof Promise) {
      // The revocation check is asking the store. Whatever it logs (store trouble) comes after this
      // call has returned (revocation-check.ts), so it carries this request's id.
      logRequest(request, context)
      return decision.then((settled) => answer(request, context, settled, allowSampleRate, true))
    }
    // Decided without the store (no check, a denial before it, a cached answer): no promise of our own; middy awaits either.
    return answer(request, context, decision, allowSampleRate, false)
  })
