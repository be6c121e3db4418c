import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import { loadApiKeyConfig, type ApiKeyConfig } from '../lib/api-key-config'
import { configFrom, configMiddleware } from '../lib/config-middleware'
import { createKey } from '../lib/create-key'
import { keyStoreFromEnv } from '../lib/dynamo-key-store'
import type { Env } from '../lib/env'
import { httpErrorsMiddleware } from '../lib/http-errors-middleware'
import { keyRecordFor } from '../lib/key-record'
import type { KeyStore } from '../lib/key-store'
import { Logger } from '../lib/logger'
import { loadPortalConfig } from '../lib/portal-config'
import { createPortalTokenVerifier, type PortalTokenVerifier } from '../lib/portal-identity'
import { envWithFetchedSecrets, secretSourcesMiddleware } from '../lib/secret-sources'

const logger = new Logger({ service: 'create-key' })

interface CreateKeyConfig {
  apiKeys: ApiKeyConfig
  verifyPortalToken: PortalTokenVerifier
  store: KeyStore | undefined
}

function load(env: Env, context: Context): CreateKeyConfig {
  const store = keyStoreFromEnv(env)
  if (store === undefined) logger.warn('key records disabled: KEYS_TABLE is not set, so keys cannot be listed or revoked one by one')
  return { apiKeys: loadApiKeyConfig(envWithFetchedSecrets(env, context), 'sign'), verifyPortalToken: createPortalTokenVerifier(loadPortalConfig(env)), store }
}

/** `POST /create-key`: the Moesif Developer Portal's Keys page calls this with the user's ID token. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  .use(secretSourcesMiddleware(process.env, 'sign'))
  .use(configMiddleware({ load }))
  .handler(async (event, context) => {
    logger.setPersistentKeys({ requestId: context.awsRequestId })
    const { apiKeys, verifyPortalToken, store } = configFrom<CreateKeyConfig>(context)
    return createKey(
      {
        apiKeys,
        verifyPortalToken,
        nowSeconds: () => Date.now() / 1000,
        companyRevokedBefore: store === undefined ? undefined : (companyId) => store.companyRevokedBefore(companyId),
        onIssued: async (issued, owner, name) => {
          await store?.putKey(keyRecordFor(issued, owner, name))
          logger.info('key issued', { keyId: issued.keyId, orgId: owner.companyId, userId: owner.userId })
        }
      },
      event
    )
  })
