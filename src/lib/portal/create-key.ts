import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { loadApiKeyConfig, type ApiKeyConfig } from '../keys/api-key-config'
import { headerValue, tokenFromAuthorization } from '../http/bearer-token'
import { parseCreateKeyRequest } from './create-key-request'
import { keyStoreFromEnv } from '../store/dynamo-key-store'
import type { Env } from '../runtime/env'
import { issueApiKey, type IssuedApiKey } from '../keys/issue-api-key'
import { jsonResponse } from '../http/http-response'
import { keyRecordFor } from '../store/key-store'
import type { Logger } from '../runtime/logger'
import { loadPortalConfig } from './portal-config'
import { createPortalTokenVerifier, type PortalIdentity, type PortalTokenVerifier } from './portal-identity'

/** What `createKey` needs; passed in so tests can hand it real parts on loopback. */
export interface CreateKeyDeps {
  readonly apiKeys: ApiKeyConfig
  readonly verifyPortalToken: PortalTokenVerifier
  readonly nowSeconds: () => number
  /** The company's "revoked before" instant, if any: new keys are issued no earlier. */
  readonly companyRevokedBefore?: (companyId: string) => Promise<number | undefined>
  /** Called after signing, before answering; a failure here fails the request so no untracked key is handed out. */
  readonly onIssued?: (key: IssuedApiKey, owner: PortalIdentity, name: string | undefined) => Promise<void>
}

/**
 * `POST /create-key`: authenticate the portal user, then sign an API key for
 * them and their company. Answers 201 `{ apikey, keyId, expiresAt }`.
 *
 * The portal token is checked before the body, so an anonymous caller learns
 * nothing about body validation.
 *
 * @example
 * const response = await createKey(deps, event)
 */
export async function createKey(deps: CreateKeyDeps, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const owner = await deps.verifyPortalToken(tokenFromAuthorization(headerValue(event.headers, 'authorization')))
  const request = parseCreateKeyRequest(event)
  const notIssuedBefore = await deps.companyRevokedBefore?.(owner.companyId)
  const issued = await issueApiKey(deps.apiKeys, owner, { nowSeconds: deps.nowSeconds(), lifetimeSeconds: request.expiresInSeconds, notIssuedBefore })
  await deps.onIssued?.(issued, owner, request.name)
  return jsonResponse(201, {
    apikey: issued.apikey,
    keyId: issued.keyId,
    expiresAt: new Date(issued.expiresAt * 1000).toISOString()
  })
}

/**
 * The dependencies `POST /create-key` runs with, from the environment (with
 * any fetched secrets laid over it): the signing key, the portal token
 * verifier and, with `KEYS_TABLE`, the key store that records each key.
 *
 * @example
 * const deps = createKeyDepsFromEnv(await envWithSecrets(process.env, 'sign'), logger)
 */
export function createKeyDepsFromEnv(env: Env, logger: Logger): CreateKeyDeps {
  const store = keyStoreFromEnv(env)
  if (store === undefined) logger.warn('key records disabled: KEYS_TABLE is not set, so keys cannot be listed or revoked one by one')
  return {
    apiKeys: loadApiKeyConfig(env, 'sign'),
    verifyPortalToken: createPortalTokenVerifier(loadPortalConfig(env)),
    nowSeconds: () => Date.now() / 1000,
    companyRevokedBefore: store === undefined ? undefined : (companyId) => store.companyRevokedBefore(companyId),
    onIssued: async (issued, owner, name) => {
      await store?.putKey(keyRecordFor(issued, owner, name))
      logger.info('key issued', { keyId: issued.keyId, orgId: owner.companyId, userId: owner.userId })
    }
  }
}
